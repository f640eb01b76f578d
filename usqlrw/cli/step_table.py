"""A live table of a failover's steps on standard error: only on a terminal, never when piped or with -q.

Each step shows its state (waiting, running, succeeded, failed, done earlier), how long it has run
and its job; a bar above counts the steps done. Steps may run in parallel and report from worker
threads: every update takes a lock, and a ticker thread redraws the running times. Whether to draw
at all is decided when the table is made (in the main thread, where the -q/-v level is known).
"""
from __future__ import annotations

import os
import re
import shutil
import sys
import threading
import time

from .options import level

_COLORS = {"succeeded": "32", "done earlier": "32", "failed": "31", "running": "34", "waiting": "90"}


class StepTable:
    """``event(step, what, detail)`` with ``what`` in start, done, failed, skip (the apply's progress
    callback); ``close()`` erases the table before other output. A context manager."""

    TICK = 0.25

    def __init__(self, steps: list, stream=None, *, enabled: bool = True, color: bool | None = None):
        self.stream = stream or sys.stderr
        tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.on = enabled and tty and level() >= 0 and os.environ.get("TERM") != "dumb"
        if color is None:
            color = not os.environ.get("NO_COLOR")
        self.color = color
        self.rows = [{"order": s["order"], "id": s["id"], "state": "waiting", "detail": "",
                      "needs": [n.split("-", 1)[0] for n in s.get("needs", [])], "t0": None, "took": None}
                     for s in steps]
        self._by_id = {r["id"]: r for r in self.rows}
        self._lock = threading.Lock()
        self._drawn = 0            # lines on screen from the last frame
        self._start = time.monotonic()
        self._stop = threading.Event()
        self._ticker = None

    # -- the apply's callback -------------------------------------------------------------------
    def event(self, step: dict, what: str, detail: str = "") -> None:
        with self._lock:
            r = self._by_id.get(step["id"])
            if r is None:
                return
            if what == "start":   # "job 3f25…(36) on ACCOUNT (attempt 2)": the job's first 8 digits say enough
                short = re.sub(r"\b([0-9a-f]{8})-[0-9a-f-]{27}\b", r"\1", detail or "")
                r.update(state="running", t0=time.monotonic(), took=None, detail=short)
            elif what == "done":
                r.update(state="succeeded", took=self._elapsed(r), detail="")
            elif what == "failed":
                r.update(state="failed", took=self._elapsed(r) if r["t0"] else None,
                         detail=(detail or "").splitlines()[0] if detail else "")
            elif what == "skip":
                r.update(state="done earlier", detail="")
            self._draw()

    # -- drawing --------------------------------------------------------------------------------
    def __enter__(self):
        if self.on:
            with self._lock:
                self._draw()
            self._ticker = threading.Thread(target=self._tick, name="usqlrw-step-table", daemon=True)
            self._ticker.start()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self) -> None:
        self._stop.set()
        if self._ticker is not None and self._ticker is not threading.current_thread():
            self._ticker.join(timeout=2)
            self._ticker = None
        with self._lock:
            self._erase()
            self.stream.flush()

    def _tick(self):
        while not self._stop.wait(self.TICK):
            with self._lock:
                if any(r["state"] == "running" for r in self.rows):
                    self._draw()

    def _elapsed(self, r) -> float | None:
        return time.monotonic() - r["t0"] if r["t0"] else None

    def _paint(self, text: str, state: str) -> str:
        code = _COLORS.get(state)
        return f"\x1b[{code}m{text}\x1b[0m" if self.color and code else text

    def frame(self) -> list[str]:
        """The lines of the table now (without colour codes when ``color`` is off)."""
        cols, rows = self._size()
        width = max(20, cols - 1)        # never wrap: the redraw counts lines
        n = len(self.rows)
        done = sum(r["state"] in ("succeeded", "done earlier") for r in self.rows)
        running = sum(r["state"] == "running" for r in self.rows)
        failed = sum(r["state"] == "failed" for r in self.rows)
        bar_w = max(10, min(30, width - 60))
        filled = bar_w * done // max(1, n)
        head = (f"failover apply [{'#' * filled}{'.' * (bar_w - filled)}] {done}/{n} done, {running} running"
                + (f", {failed} failed" if failed else "") + f", {time.monotonic() - self._start:.1f}s")
        shown = self._window(max(3, rows - 3))
        idw = max(12, min(44, width - 34, max(len(r["id"]) for r in self.rows))) if self.rows else 12
        lines = [head[:width]]
        for r in shown:
            if r is None:
                continue
            if r["state"] == "running":
                t = self._elapsed(r)
            else:
                t = r["took"]
            when = f"{t:6.1f}s" if t is not None else "       "
            what = r["detail"] or (f"after {','.join(r['needs'])}" if r["state"] == "waiting" and r["needs"] else "")
            head_part = f"  {r['order']:>3}. {r['id'][:idw]:<{idw}}  "
            state = f"{r['state']:<12}"
            line = (head_part + state + f" {when}  {what}").rstrip()[:width]
            h = len(head_part)
            if line[h:h + len(state)].strip():   # colour the state (what of it fits)
                line = line[:h] + self._paint(line[h:h + len(state)], r["state"]) + line[h + len(state):]
            lines.append(line)
        hidden = n - len([r for r in shown if r is not None])
        if hidden:
            lines.append(f"  ... {hidden} more step{'s' if hidden != 1 else ''}"[:width])
        return lines

    def _size(self) -> tuple[int, int]:
        """The terminal's size, asked of the stream drawn on (standard output may be a pipe)."""
        try:
            size = os.get_terminal_size(self.stream.fileno())
            if size.columns > 0 and size.lines > 0:
                return size.columns, size.lines
        except (AttributeError, OSError, ValueError):
            pass
        return shutil.get_terminal_size((100, 24))

    def _window(self, room: int) -> list:
        """The rows to show when they do not all fit: failed and running first, then the latest
        finished and the next waiting, in plan order."""
        if len(self.rows) <= room:
            return list(self.rows)
        room -= 1   # the "... more" line
        rank = {"failed": 0, "running": 1}
        pick = sorted(self.rows, key=lambda r: (rank.get(r["state"], 2), r["order"]))
        chosen = {r["id"] for r in pick if r["state"] in rank}
        waiting = [r for r in self.rows if r["state"] == "waiting"]
        finished = [r for r in self.rows if r["state"] in ("succeeded", "done earlier")]
        for r in [x for pair in zip(reversed(finished), waiting) for x in pair] + finished[::-1] + waiting:
            if len(chosen) >= room:
                break
            chosen.add(r["id"])
        return [r for r in self.rows if r["id"] in chosen][:room]

    def _erase(self) -> None:
        if self._drawn:
            up = f"\x1b[{self._drawn - 1}A" if self._drawn > 1 else ""
            self.stream.write(f"\r{up}\x1b[J")
            self._drawn = 0

    def _draw(self) -> None:
        if not self.on or self._stop.is_set():
            return
        lines = self.frame()
        self._erase()
        self.stream.write("\n".join(lines))
        self.stream.flush()
        self._drawn = len(lines)
