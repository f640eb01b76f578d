"""Rewriting many files: one result per file, never an exception, both cores for large batches.

Like LibCST's codemod runner, every file ends in exactly one :class:`FileResult` (changed,
unchanged, or failed with a one-line reason); a failure never stops the batch.

With a :class:`Sink`, the worker that rewrites a script also writes it (atomically: temp file,
fsync, rename), so the parent only collects results: parsing, rewriting and writing all run on
every core. A worker killed mid-write leaves at most a temp file named for its pid, which the
next run removes (files.clean_strays); a reader sees a script's old bytes or its new ones.
"""
from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field

from .diagnostics import Diagnostic
from .files import Input


@dataclass
class FileResult:
    path: str
    relative: str
    status: str                      # changed | unchanged | failed
    data: bytes | None = None        # the rewritten bytes (changed) or the input (unchanged)
    original: bytes | None = None
    edits: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    error: Diagnostic | None = None
    written: str | None = None       # where a Sink wrote it
    write_error: str | None = None   # why a Sink could not write it (one line)
    same_as: str | None = None       # in place: an earlier path of the same file, written there


    def diff(self, name: str | None = None) -> str:
        """A unified diff, ``a/NAME`` to ``b/NAME`` (default: the path below its folder argument)."""
        if self.status != "changed":
            return ""
        from .source import decode
        a = decode(self.original).text.splitlines(keepends=True)
        b = decode(self.data).text.splitlines(keepends=True)
        from .secrets import mask   # shown, not written: no password reaches a terminal or a CI log
        name = name or self.relative
        lines = difflib.unified_diff(a, b, f"a/{name}", f"b/{name}")
        return mask("".join(l if l.endswith(("\n", "\r")) else l + "\n\\ No newline at end of file\n"
                            for l in lines))


def rewrite_input(inp: Input, config) -> FileResult:
    """Rewrite one input; every outcome is a FileResult."""
    from .diagnostics import from_syntax_error
    from .parser import USqlSyntaxError
    from .rewrite import RewriteError, rewrite_text
    if inp.data is None:
        return FileResult(inp.path, inp.relative, "failed",
                          error=Diagnostic(inp.path, 1, 1, "IO", f"cannot read: {inp.error}"))
    try:
        r = rewrite_text(inp.data, config, inp.path)
    except USqlSyntaxError as e:
        return FileResult(inp.path, inp.relative, "failed", original=inp.data, error=from_syntax_error(e))
    except RewriteError as e:
        return FileResult(inp.path, inp.relative, "failed", original=inp.data,
                          error=Diagnostic(inp.path, 1, 1, "RW900", str(e)))
    except Exception as e:  # a bug: one line, and the batch goes on
        return FileResult(inp.path, inp.relative, "failed", original=inp.data,
                          error=Diagnostic(inp.path, 1, 1, "INT",
                                           f"internal error ({type(e).__name__}: {e}); please report it"))
    if r.changed:
        return FileResult(inp.path, inp.relative, "changed", r.data, inp.data, r.edits, r.warnings)
    return FileResult(inp.path, inp.relative, "unchanged", inp.data, inp.data, [], r.warnings)


@dataclass(frozen=True)
class Sink:
    """Where the workers write what they rewrite: every script under ``out_dir`` (at its path
    relative to its folder argument), or, with no ``out_dir``, the changed scripts in place
    (files.write_in_place). ``keep_data``: results keep their bytes after writing (for a diff);
    else they are dropped, so the parent is not sent what it does not use."""
    out_dir: str | None = None
    keep_data: bool = False

    def destination(self, inp: Input) -> str | None:
        """The folder a script is written into (for cleaning strays and syncing), or None."""
        if inp.data is None:
            return None
        if self.out_dir:
            return os.path.dirname(os.path.abspath(os.path.join(self.out_dir, inp.relative)))
        return os.path.dirname(os.path.realpath(inp.path))


def deliver(r: FileResult, sink: Sink | None, same_as: str | None = None) -> FileResult:
    """Write a result where ``sink`` says (nothing for a failed script, or an unchanged one in
    place); a write that fails or is refused sets ``write_error``, never raises."""
    from .files import WriteRefused, write_atomic, write_in_place
    if sink is None or r.status == "failed" or (not sink.out_dir and r.status != "changed"):
        return r
    if same_as is not None:          # in place, the same file as an earlier path: written once
        r.same_as = same_as
    else:
        try:
            if sink.out_dir:
                dest = os.path.join(sink.out_dir, r.relative)
                os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
                write_atomic(dest, r.data, sync_dir=False)
                r.written = dest
            else:
                r.written = write_in_place(r.path, r.data, r.original, sync_dir=False)
        except WriteRefused as e:
            r.write_error = str(e)
        except OSError as e:
            r.write_error = f"cannot write: {e.strerror or e}"
        except Exception as e:   # a bug: one line, and the batch goes on
            r.write_error = f"internal error ({type(e).__name__}: {e}); please report it"
    if not sink.keep_data:
        r.data = r.original = None
    return r


def _same_files(inputs, sink: Sink | None) -> list:
    """For each input, in place: the earlier input path of the same real file, else None."""
    if sink is None or sink.out_dir:
        return [None] * len(inputs)
    first: dict = {}
    out = []
    for inp in inputs:
        if inp.data is None:
            out.append(None)
            continue
        real = os.path.realpath(inp.path)
        out.append(first.get(real))
        first.setdefault(real, inp.path)
    return out


_worker_config = None
_worker_sink = None


def _die_with_parent(parent: int) -> None:
    """Make this worker end when ``parent`` does, even if it is killed with SIGKILL.

    On Linux the kernel sends SIGKILL when the parent goes (PR_SET_PDEATHSIG); everywhere a
    daemon thread also watches the parent's pid, so no worker outlives its parent by more than a
    moment, holding the parent's stdout or burning a core.
    """
    import signal
    import sys
    import threading
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)   # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:      # the parent died before the line above took effect
        os._exit(1)

    def watch():
        import time
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)
    threading.Thread(target=watch, name="usqlrw-parent-watch", daemon=True).start()


def _init_worker(config, parent=None, sink=None):
    global _worker_config, _worker_sink
    _worker_config, _worker_sink = config, sink
    if parent is not None:
        _die_with_parent(parent)


def _work(item) -> FileResult:
    inp, same_as = item
    return deliver(rewrite_input(inp, _worker_config), _worker_sink, same_as)


def rewrite_many(inputs, config, jobs: int | None = None, on_result=None, sink: Sink | None = None):
    """Rewrite inputs in order, in ``jobs`` processes (default: all cores when there are many).

    Yields FileResults in input order. ``on_result(done, total)`` is called for progress. With a
    ``sink``, each script is written by the process that rewrote it (see :func:`deliver`); the
    caller cleans strays from, and syncs, the folders (:meth:`Sink.destination`).
    """
    inputs = list(inputs)
    total = len(inputs)
    same = _same_files(inputs, sink)
    if jobs is None:
        jobs = min(os.cpu_count() or 1, 8) if total >= 64 else 1
    if jobs <= 1 or total < 2:
        for i, (inp, same_as) in enumerate(zip(inputs, same), 1):
            r = deliver(rewrite_input(inp, config), sink, same_as)
            if on_result:
                on_result(i, total)
            yield r
        return
    from concurrent.futures import ProcessPoolExecutor
    import multiprocessing as mp
    ctx = mp.get_context("fork") if hasattr(os, "fork") else None
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_init_worker,
                             initargs=(config, os.getpid(), sink)) as ex:
        for i, r in enumerate(ex.map(_work, zip(inputs, same), chunksize=max(1, min(64, total // (jobs * 8) or 1))), 1):
            if on_result:
                on_result(i, total)
            yield r
