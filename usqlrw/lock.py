"""An exclusive, non-blocking lock on a folder, released when its holder exits (even by kill -9).

    with FolderLock(plan_dir, "failover apply"):
        ...

A second holder gets :class:`Locked` at once, naming the first (pid, host, command, since when).
The lock is ``fcntl.flock`` on ``DIR/.usqlrw.lock``; the file's text only describes the holder.
"""
from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

__all__ = ["FolderLock", "Locked", "LOCK_NAME"]

LOCK_NAME = ".usqlrw.lock"


class Locked(Exception):
    pass


class FolderLock:
    def __init__(self, folder, what: str):
        self.path = Path(folder) / LOCK_NAME
        self.what = what
        self.fd = None

    def acquire(self):
        import fcntl
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise Locked(f"{self.path.parent}: {self._holder()}; wait for it to end") from None
        info = {"pid": os.getpid(), "host": socket.gethostname(), "command": self.what,
                "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(info, sort_keys=True) + "\n").encode(), 0)
        self.fd = fd
        return self

    def _holder(self) -> str:
        for _ in range(40):   # the holder writes who it is just after taking the lock
            try:
                info = json.loads(self.path.read_text(encoding="utf-8"))
                pid = int(info["pid"])
                if info.get("host") == socket.gethostname() and not _alive(pid):
                    raise ValueError("an earlier holder's description: the new one is on its way")
                return (f"in use by {str(info.get('command'))[:40]} (pid {pid} on "
                        f"{str(info.get('host'))[:64]}, since {str(info.get('since'))[:20]})")
            except (OSError, ValueError, KeyError, TypeError):
                time.sleep(0.025)
        return "in use by another process"

    def release(self):
        if self.fd is not None:
            import fcntl
            os.ftruncate(self.fd, 0)     # the description holds only while the lock is held
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie counts as ended)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return f.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True
