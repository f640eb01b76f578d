"""Suppression comments: ``// usqlrw: ignore[CODE, ...]``.

* at the end of a line of code: silences those codes on that line;
* on a line of its own: silences them on every line of the next statement;
* ``// usqlrw: ignore-file[CODE, ...]`` anywhere: silences them in the whole file.

Without ``[...]`` every rule is silenced. Codes may be rule names or prefixes (``DR``). Block
comments (``/* usqlrw: ignore[DR001] */``) work the same way. A code that names no rule is reported
as SUP001, and a suppression that silenced nothing (its rules ran and found nothing there) as
SUP002, so stale and mistyped suppressions do not pile up.
"""
from __future__ import annotations

import re
from ..diagnostics import Diagnostic

_DIRECTIVE = re.compile(r"usqlrw\s*:\s*ignore(?P<file>-file)?\b(?:\s*\[(?P<codes>[^\]]*)\])?")


# Plain classes, not dataclasses: made at every start of `usqlrw check`, where each dataclass
# costs about 4 M instructions to make; neither is compared or copied.

class Directive:
    __slots__ = ("span", "codes", "used")

    def __init__(self, span, codes, used=None):
        self.span = span            # the comment's span
        self.codes = codes          # None: every rule
        self.used = set() if used is None else used   # codes it silenced

    def __repr__(self):
        return f"Directive(span={self.span!r}, codes={self.codes!r}, used={self.used!r})"


class Suppressions:
    __slots__ = ("file_wide", "by_line", "directives", "bad")

    def __init__(self):
        self.file_wide: list = []       # [Directive]
        self.by_line: dict = {}         # line -> [Directive]
        self.directives: list = []
        self.bad: list = []             # (span, code) of unknown codes

    @classmethod
    def of(cls, ctx) -> "Suppressions":
        from .registry import get_rule
        self = cls()
        comments = ctx.script.comments
        if not comments:
            return self
        stmts = None
        text = ctx.text
        for comment in comments:
            span, body = comment.span, comment.text
            for m in _DIRECTIVE.finditer(body):
                codes = None
                if m.group("codes") is not None:
                    codes = [c.strip() for c in m.group("codes").split(",") if c.strip()]
                    for c in codes:
                        if get_rule(c) is None and not _is_prefix(c):
                            self.bad.append((span, c))
                d = Directive(span, codes)
                self.directives.append(d)
                if m.group("file"):
                    self.file_wide.append(d)
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
                    self.by_line.setdefault(ln, []).append(d)
        return self

    def suppressed(self, code: str, line: int) -> bool:
        for d in self.by_line.get(line, []) + self.file_wide:
            if d.codes is None or any(_covers(c, code) for c in d.codes):
                d.used.add(code)
                return True
        return False

    def problems(self, ctx, active_codes, ran_codes) -> list[Diagnostic]:
        """SUP001 for unknown codes; SUP002 for suppressions whose rules all ran and found nothing."""
        out = []
        if "SUP001" in active_codes:
            out += [ctx.diag(sp, "SUP001", f"'{c}' in this suppression comment is not a rule code; it silences nothing")
                    for sp, c in self.bad]
        if "SUP002" in active_codes:
            ran: dict = {}
            for d in self.directives:
                if d.used or d.codes is None:
                    continue
                named = [c for c in d.codes if not any(sp is d.span and c == b for sp, b in self.bad)]
                if named and all(ran[c] if c in ran else ran.setdefault(c, _ran(c, ran_codes)) for c in named):
                    out.append(ctx.diag(d.span, "SUP002", f"unused suppression: {', '.join(named)} "
                                        "found nothing here; remove it"))
        return out


def _ran(entry: str, ran_codes) -> bool:
    """Whether every rule an entry names ran (a deselected or skipped rule could have fired)."""
    from .registry import all_rules, matches
    covered = [r.code for r in all_rules() if r.check is not None and matches(entry, r.code)]
    return bool(covered) and all(c in ran_codes for c in covered)


def _is_prefix(c: str) -> bool:
    from .registry import all_rules
    return c.upper() == "ALL" or (c.isalpha() and any(r.code.startswith(c.upper()) for r in all_rules()))


def _covers(entry: str, code: str) -> bool:
    from .registry import matches
    return matches(entry, code)
