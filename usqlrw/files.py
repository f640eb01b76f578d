"""Finding scripts on disk and writing them back safely."""
from __future__ import annotations

import os
import re
import stat
import sys
from collections.abc import Iterator

# tempfile and pathlib load only when a file is written (check reads, and starts without them)

SCRIPT_SUFFIXES = (".usql",)
_SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".tox"}


class Input:
    """One script to process: where it came from and its bytes (None if it could not be read).

    Immutable, compared and hashed by its fields, picklable: what ``@dataclass(frozen=True)``
    made it before, written out because `usqlrw check` makes this class at every start."""
    __slots__ = ("path", "root", "data", "error")
    path: str                 # as shown to the user ("-" is shown as the stdin filename)
    root: str | None          # the folder argument it was found under, if any
    data: bytes | None
    error: str | None         # why it could not be read (default None)

    def __init__(self, path: str, root: str | None, data: bytes | None, error: str | None = None):
        for k, v in (("path", path), ("root", root), ("data", data), ("error", error)):
            object.__setattr__(self, k, v)

    def _fields(self) -> tuple:
        return (self.path, self.root, self.data, self.error)

    def __repr__(self) -> str:
        return "Input(path=%r, root=%r, data=%r, error=%r)" % self._fields()

    def __eq__(self, other):
        return self._fields() == other._fields() if other.__class__ is self.__class__ else NotImplemented

    def __hash__(self) -> int:
        return hash(self._fields())

    def __setattr__(self, name, value):
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name):
        raise AttributeError(f"cannot delete field {name!r}")

    def __reduce__(self):
        return (Input, self._fields())

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


#: Every temporary file usqlrw writes is named ``.NAME.usqlrw-PID-RANDOM.tmp`` next to its target,
#: so a later run can recognise (and remove) the strays of a run that was killed.
TEMP_MARK = ".usqlrw-"
_STRAY = re.compile(r"^\..+\.usqlrw-(\d+)-[A-Za-z0-9_]+\.tmp$")


class WriteRefused(Exception):
    """An in-place write that usqlrw refuses to make; the message says why, in one line."""


def _temp_file(folder: Path, name: str) -> tuple[int, str]:
    import tempfile
    return tempfile.mkstemp(prefix=f".{name}{TEMP_MARK}{os.getpid()}-", suffix=".tmp", dir=folder)


def _pid_alive(pid: int) -> bool:
    if os.name == "nt":   # os.kill would end the process there: keep every temp file
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OverflowError, ValueError):   # no process can have that number
        return False
    except OSError:       # it exists but belongs to someone else
        pass
    # A zombie has ended (only its exit status is left to collect): the worker of a killed run
    # whose orphan nobody has reaped yet still answers kill(pid, 0).
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


def clean_strays(folder) -> list[str]:
    """Remove the temporary files that usqlrw runs which no longer exist left in ``folder``.

    Only files named like usqlrw's own temp files (``.NAME.usqlrw-PID-RANDOM.tmp``) whose PID is
    not a live process are removed; anything else, and the temp files of live runs, stay.
    """
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for n in names:
        m = _STRAY.match(n)
        if m is None or _pid_alive(int(m.group(1))):
            continue
        p = os.path.join(folder, n)
        try:
            if stat.S_ISREG(os.lstat(p).st_mode):
                os.unlink(p)
                removed.append(p)
        except OSError:
            pass
    return removed


def _write_temp(folder: Path, name: str, data: bytes, mode: int, owner: tuple[int, int] | None) -> str:
    """A fully written, fsynced temp file in ``folder`` with ``mode`` (and ``owner``); its path."""
    try:
        fd, tmp = _temp_file(folder, name)
    except PermissionError:
        raise WriteRefused(f"cannot create a file in its folder {folder}: permission denied") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            st = os.fstat(f.fileno())
            if owner is not None and hasattr(os, "fchown") and (st.st_uid, st.st_gid) != owner:
                try:
                    os.fchown(f.fileno(), *owner)
                except PermissionError:
                    raise WriteRefused("its owner or group cannot be kept by this user; not rewritten") from None
            if hasattr(os, "fchmod"):
                os.fchmod(f.fileno(), mode)   # after fchown, which may clear set-id bits
            else:
                os.chmod(tmp, mode)
            os.fsync(f.fileno())
    except BaseException:
        _unlink_quietly(tmp)
        raise
    return tmp


def _unlink_quietly(p: str) -> None:
    try:
        os.unlink(p)
    except OSError:
        pass


def write_atomic(path: str | os.PathLike, data: bytes, sync_dir: bool = True) -> None:
    """Write ``data`` to ``path`` atomically: temp file in the same folder, fsync, rename.

    The file's permission bits are kept; a reader sees the old or the new content, never a mix.
    """
    from pathlib import Path
    path = Path(path)
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    tmp = _write_temp(path.parent, path.name, data, mode, None)
    try:
        os.replace(tmp, path)
    except BaseException:
        _unlink_quietly(tmp)
        raise
    if sync_dir:
        fsync_dir(path.parent)


def _read_bytes(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def write_in_place(path: str | os.PathLike, data: bytes, original: bytes, sync_dir: bool = True) -> str:
    """Replace a script's bytes as an editor would; returns the real path written.

    - A symbolic link is written through: its target gets the new bytes and the link stays.
    - The file keeps its permission bits, owner and group (a file whose owner cannot be kept, as
      when a user rewrites another user's file, is refused rather than taken over).
    - A read-only file (no write bit for anyone) is refused, and so is a file with several hard
      links (replacing it would split the links; write it with ``--out`` instead).
    - If the file's bytes are no longer ``original`` (someone edited it since it was read), nothing
      is written. The check is made again just before the atomic rename.

    Raises :class:`WriteRefused` (a one-line reason) or ``OSError`` (the system's reason).
    """
    from pathlib import Path
    real = Path(os.path.realpath(path))
    st = os.stat(real)
    if not stat.S_ISREG(st.st_mode):
        raise WriteRefused("not a regular file")
    if st.st_nlink > 1:
        raise WriteRefused(f"has {st.st_nlink} hard links; rewriting it in place would break them "
                           "(use --out, or remove the other links)")
    mode = stat.S_IMODE(st.st_mode)
    if not mode & 0o222:
        raise WriteRefused("is read-only; not rewritten (make it writable to rewrite it)")
    if not os.access(real, os.W_OK):
        raise WriteRefused("permission denied (the file is not writable by this user)")
    if _read_bytes(real) != original:
        raise WriteRefused("changed on disk since it was read; not written (run again)")
    owner = (st.st_uid, st.st_gid)
    tmp = _write_temp(real.parent, real.name, data, mode, owner)
    try:
        now = os.stat(real)
        if (now.st_ino, now.st_dev) != (st.st_ino, st.st_dev) or _read_bytes(real) != original:
            raise WriteRefused("changed on disk since it was read; not written (run again)")
        os.replace(tmp, real)
    except BaseException:
        _unlink_quietly(tmp)
        raise
    if sync_dir:
        fsync_dir(real.parent)
    return str(real)


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
