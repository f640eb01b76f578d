"""The errors usqlrw raises for what it reads: its own module, so every layer can raise them
without importing the parser."""
from __future__ import annotations

__all__ = ["USqlSyntaxError"]


class USqlSyntaxError(Exception):
    """A script that is not valid U-SQL (or not readable text). ``str()`` is ``path:line:col: message``."""

    def __init__(self, message: str, line: int = 1, column: int = 1, path: str | None = None,
                 offset: int | None = None, source_line: str | None = None):
        self.message, self.line, self.column, self.path = message, line, column, path
        self.offset, self.source_line = offset, source_line
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.path or '<string>'}:{self.line}:{self.column}: {self.message}"

    def with_path(self, path):
        self.path = path
        self.args = (str(self),)
        return self
