"""Rewriting many files: one result per file, never an exception, both cores for large batches.

Like LibCST's codemod runner, every file ends in exactly one :class:`FileResult` (changed,
unchanged, or failed with a one-line reason); a failure never stops the batch.
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


_worker_config = None


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


def _init_worker(config, parent=None):
    global _worker_config
    _worker_config = config
    if parent is not None:
        _die_with_parent(parent)


def _work(inp: Input) -> FileResult:
    return rewrite_input(inp, _worker_config)


def rewrite_many(inputs, config, jobs: int | None = None, on_result=None):
    """Rewrite inputs in order, in ``jobs`` processes (default: all cores when there are many).

    Yields FileResults in input order. ``on_result(done, total)`` is called for progress.
    """
    inputs = list(inputs)
    total = len(inputs)
    if jobs is None:
        jobs = min(os.cpu_count() or 1, 8) if total >= 64 else 1
    if jobs <= 1 or total < 2:
        for i, inp in enumerate(inputs, 1):
            r = rewrite_input(inp, config)
            if on_result:
                on_result(i, total)
            yield r
        return
    from concurrent.futures import ProcessPoolExecutor
    import multiprocessing as mp
    ctx = mp.get_context("fork") if hasattr(os, "fork") else None
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_init_worker,
                             initargs=(config, os.getpid())) as ex:
        for i, r in enumerate(ex.map(_work, inputs, chunksize=max(1, min(64, total // (jobs * 8) or 1))), 1):
            if on_result:
                on_result(i, total)
            yield r
