"""A progress bar on standard error for long batches: only on a terminal, never when piped or with -q."""
from __future__ import annotations

import os
import shutil
import sys
import time

from .output import level

MIN_TOTAL = 20        # smaller batches end before a bar would help


class Progress:
    """``update(done)`` redraws ``label [#####     ] done/total``; ``clear()`` before other output."""

    def __init__(self, total: int, label: str, stream=None, min_total: int = MIN_TOTAL):
        self.stream = stream or sys.stderr
        self.total, self.label = total, label
        tty = getattr(self.stream, "isatty", lambda: False)()
        self.on = bool(tty) and total >= min_total and level() >= 0 and os.environ.get("TERM") != "dumb"
        self.done = 0
        self._shown = False
        self._last = 0.0

    def update(self, done: int) -> None:
        self.done = done
        if not self.on:
            return
        now = time.monotonic()
        if done < self.total and now - self._last < 0.05:
            return
        self._last = now
        width = max(10, min(40, shutil.get_terminal_size((80, 24)).columns - len(self.label) - 24))
        filled = width * done // max(1, self.total)
        self.stream.write(f"\r{self.label} [{'#' * filled}{' ' * (width - filled)}] {done}/{self.total}")
        self.stream.flush()
        self._shown = True

    def clear(self) -> None:
        if self._shown:
            cols = shutil.get_terminal_size((80, 24)).columns
            self.stream.write("\r" + " " * (cols - 1) + "\r")
            self.stream.flush()
            self._shown = False

    def redraw(self) -> None:
        if self.on and self.done:
            self._last = 0.0
            self.update(self.done)
