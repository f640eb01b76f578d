"""Suppression comments: ``// usqlrw: ignore[CODE, ...]``.

* at the end of a line of code: silences those codes on that line;
* on a line of its own: silences them on every line of the next statement;
* ``// usqlrw: ignore-file[CODE, ...]`` anywhere: silences them in the whole file.

Without ``[...]`` every rule is silenced. Codes may be rule names or prefixes (``DR``). Block
comments (``/* usqlrw: ignore[DR001] */``) work the same way. A code that names no rule is reported
as SUP001, so a typo does not silently silence nothing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..diagnostics import Diagnostic

_DIRECTIVE = re.compile(r"usqlrw\s*:\s*ignore(?P<file>-file)?\b(?:\s*\[(?P<codes>[^\]]*)\])?")


@dataclass
class Suppressions:
    file_wide: list = field(default_factory=list)      # [codes or None]
    by_line: dict = field(default_factory=dict)         # line -> [codes or None]
    bad: list = field(default_factory=list)            # (span, code) of unknown codes

    @classmethod
    def of(cls, ctx) -> "Suppressions":
        from .registry import get_rule
        self = cls()
        comments = ctx.script.comments
        if not comments:
            return self
        stmts = None
        text = ctx.text
        for span, body in comments:
            for m in _DIRECTIVE.finditer(body):
                codes = None
                if m.group("codes") is not None:
                    codes = [c.strip() for c in m.group("codes").split(",") if c.strip()]
                    for c in codes:
                        if get_rule(c) is None and not _is_prefix(c):
                            self.bad.append((span, c))
                if m.group("file"):
                    self.file_wide.append(codes)
                    continue
                line_start = max(text.rfind("\n", 0, span.start), text.rfind("\r", 0, span.start)) + 1
                if text[line_start:span.start].strip():
                    lines = range(span.line, span.line + 1)
                else:
                    if stmts is None:
                        stmts = sorted(ctx.statements(), key=lambda s: s.span.start)
                    nxt = next((s for s in stmts if s.span.start >= span.end), None)
                    if nxt is None:
                        continue
                    lines = range(nxt.span.line, nxt.span.end_line + 1)
                for ln in lines:
                    self.by_line.setdefault(ln, []).append(codes)
        return self

    def suppressed(self, code: str, line: int) -> bool:
        for codes in self.file_wide + self.by_line.get(line, []):
            if codes is None or any(_covers(c, code) for c in codes):
                return True
        return False

    def problems(self, ctx, active_codes) -> list[Diagnostic]:
        if "SUP001" not in active_codes:
            return []
        return [ctx.diag(sp, "SUP001", f"'{c}' in this suppression comment is not a rule code; it silences nothing")
                for sp, c in self.bad]


def _is_prefix(c: str) -> bool:
    from .registry import all_rules
    return c.upper() == "ALL" or any(r.code.startswith(c.upper()) for r in all_rules()) and c.isalpha()


def _covers(entry: str, code: str) -> bool:
    from .registry import matches
    return matches(entry, code)
