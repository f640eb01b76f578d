"""Finding scripts on disk and writing them back safely."""
from __future__ import annotations

import os
import stat
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

SCRIPT_SUFFIXES = (".usql",)
_SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".tox"}


@dataclass(frozen=True)
class Input:
    """One script to process: where it came from and its bytes (None if it could not be read)."""
    path: str                 # as shown to the user ("-" is shown as the stdin filename)
    root: str | None          # the folder argument it was found under, if any
    data: bytes | None
    error: str | None = None  # why it could not be read

    @property
    def relative(self) -> str:
        if self.root is None:
            return os.path.basename(self.path)
        return os.path.relpath(self.path, self.root)


def iter_inputs(paths, stdin_filename: str = "<stdin>", suffixes=SCRIPT_SUFFIXES,
                discovery=None) -> Iterator[Input]:
    """Files as given, folders searched recursively for scripts (sorted), ``-`` for standard input.

    ``discovery`` (a usqlrw.discovery.Discovery) decides what a folder search skips (.gitignore,
    exclude settings, folders usqlrw generated); without one, only the usual tool folders are.
    """
    for p in paths:
        if p == "-":
            if discovery is not None and stdin_filename != "<stdin>" and discovery.skip_file(stdin_filename, True):
                continue
            yield Input(stdin_filename, None, sys.stdin.buffer.read())
            continue
        if os.path.isdir(p):
            found = []
            for root, dirs, names in os.walk(p):
                if discovery is None:
                    dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
                else:
                    dirs[:] = sorted(d for d in dirs if not discovery.skip_dir(os.path.join(root, d)))
                found += [os.path.join(root, n) for n in names if n.lower().endswith(suffixes)
                          and (discovery is None or not discovery.skip_file(os.path.join(root, n), False))]
            for f in sorted(found):
                yield _read(f, p)
        elif discovery is not None and discovery.skip_file(p, True):
            continue
        else:
            yield _read(p, None)


def _read(path: str, root: str | None) -> Input:
    try:
        with open(path, "rb") as f:
            return Input(path, root, f.read())
    except FileNotFoundError:
        return Input(path, root, None, "no such file")
    except IsADirectoryError:
        return Input(path, root, None, "is a directory")
    except PermissionError:
        return Input(path, root, None, "permission denied")
    except OSError as e:
        return Input(path, root, None, e.strerror or str(e))


def write_atomic(path: str | os.PathLike, data: bytes, sync_dir: bool = True) -> None:
    """Write ``data`` to ``path`` atomically: temp file in the same folder, fsync, rename.

    The file's permission bits are kept; a reader sees the old or the new content, never a mix.
    """
    path = Path(path)
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if sync_dir:
        fsync_dir(path.parent)


def fsync_dir(folder) -> None:
    """Make renames in ``folder`` durable (batch writers call this once per folder)."""
    try:
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass
