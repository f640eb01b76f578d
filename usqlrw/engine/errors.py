"""Errors of the engine: one line, ``path:line:col: message``, never a traceback."""
from __future__ import annotations

__all__ = ["EngineError", "CannotRun", "JobFailed"]


class EngineError(Exception):
    """A job that cannot run or failed: ``node`` (or ``span``) says where in the script."""

    def __init__(self, message: str, node=None, path: str | None = None, span=None):
        self.message = message
        self.span = span if span is not None else getattr(node, "span", None)
        self.path = path
        super().__init__(message)

    @property
    def line(self) -> int:
        return self.span.line if self.span is not None else 1

    @property
    def column(self) -> int:
        return self.span.column if self.span is not None else 1

    def with_path(self, path: str) -> "EngineError":
        if self.path is None:
            self.path = path
        return self

    def __str__(self) -> str:
        return f"{self.path or '<script>'}:{self.line}:{self.column}: {self.message}"


class CannotRun(EngineError):
    """A construct the engine does not run (user code, an extension, a C# member outside the
    subset): raised before the job starts, naming the construct."""

    @property
    def construct(self) -> str:
        """The construct, for counting blockers: the message up to its reason."""
        m = self.message
        for sep in (" is not supported", ": "):
            if sep in m:
                m = m.split(sep)[0]
                break
        return m


class JobFailed(EngineError):
    """The job started and failed (bad input data, a missing file or table, a runtime error)."""
