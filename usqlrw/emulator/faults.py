"""Injected faults: an HTTP status, a slow answer, a dropped connection, for matching requests."""
from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass
class Fault:
    """One injected fault: for requests matching ``method``/``path`` (a regex searched in the path),
    answer ``status``, or wait ``delay`` seconds first, or ``drop`` the connection unanswered, or
    ``drop_after`` carrying the request out and then dropping the answer (a lost response);
    ``times`` requests."""
    status: int | None = None
    delay: float = 0.0
    drop: bool = False
    drop_after: bool = False
    times: int = 1
    method: str | None = None
    path: str | None = None
    retry_after: float | None = None
    hits: int = field(default=0)
    cancel: bool = False       # a job created by the matching PUT is cancelled at once (as by its owner)

    def __post_init__(self):
        def number(name, lo, hi, none_ok=False):
            v = getattr(self, name)
            if v is None and none_ok:
                return
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
                raise ValueError(f"{name} must be a number from {lo} to {hi}, not {v!r}")
        if self.status is not None and (isinstance(self.status, bool) or not isinstance(self.status, int)
                                        or not 100 <= self.status <= 599):
            raise ValueError(f"status must be an HTTP status (100-599), not {self.status!r}")
        number("delay", 0, 300)
        number("retry_after", 0, 3600, none_ok=True)
        if isinstance(self.times, bool) or not isinstance(self.times, int) or not 1 <= self.times <= 1_000_000:
            raise ValueError(f"times must be a whole number from 1 to 1000000, not {self.times!r}")
        for name in ("drop", "drop_after"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false, not {getattr(self, name)!r}")
        if self.method is not None and (not isinstance(self.method, str) or not self.method.isalpha()):
            raise ValueError(f"method must be an HTTP method name, not {self.method!r}")
        if self.path is not None:
            if not isinstance(self.path, str) or len(self.path) > 1000:
                raise ValueError("path must be a regular expression (a string of at most 1000 characters)")
            try:
                re.compile(self.path)
            except re.error as e:
                raise ValueError(f"path is not a valid regular expression: {e}") from None

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        return not self.path or re.search(self.path, path, re.I) is not None


def delay_or_drop(fault: Fault, handler, emu, path: str) -> bool:
    """The part of a fault every route applies the same way: wait ``delay`` seconds, then, for
    ``drop``, close the connection unanswered (recorded as a request answered with 0). True when
    dropped: the request ends there."""
    import socket
    import time
    if fault.delay:
        time.sleep(fault.delay)
    if not fault.drop:
        return False
    handler.close_connection = True
    try:
        handler.connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    emu.requests.append((handler.command, path, 0))
    return True
