"""The syntax fixture set: invalid scripts (one error each) and valid near-misses, by reference page.

``tests/fixtures/syntax/<page>.usql`` holds cases written from the U-SQL language reference
(refdocs/u-sql/*.md, named in each file's ``//// page:`` line). A case is a title line
``//// <title>``, then ``//// error <line>:<col>: <message start>`` or ``//// valid``, then its
script up to the next title. Lines and columns count from the script's first line.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import usqlrw

FIXTURES = Path(__file__).parent / "fixtures" / "syntax"
_EXPECT = re.compile(r"//// (?:error (\d+):(\d+): (.*)|(valid))$")


@dataclass(frozen=True)
class Case:
    file: str
    title: str
    script: str
    line: int | None = None      # None: valid
    column: int | None = None
    message: str = ""

    @property
    def valid(self) -> bool:
        return self.line is None


def load_cases() -> list[Case]:
    cases = []
    for f in sorted(FIXTURES.glob("*.usql")):
        lines = f.read_text(encoding="utf-8").split("\n")
        i = 0
        while i < len(lines):
            l = lines[i]
            if l.startswith("//// ") and not l.startswith("//// page:"):
                m = _EXPECT.match(lines[i + 1])
                if m is None:
                    raise ValueError(f"{f.name}:{i + 2}: expected '//// error L:C: message' or '//// valid'")
                j = i + 2
                while j < len(lines) and not (lines[j].startswith("//// ") and _EXPECT.match(lines[j + 1] if j + 1 < len(lines) else "")):
                    j += 1
                script = "\n".join(lines[i + 2:j]).rstrip("\n") + "\n"
                if m.group(4):
                    cases.append(Case(f.stem, l[5:], script))
                else:
                    cases.append(Case(f.stem, l[5:], script, int(m.group(1)), int(m.group(2)), m.group(3)))
                i = j
            else:
                i += 1
    return cases


def outcome(case: Case):
    """(accepted, line, column, message) of usqlrw on the case."""
    try:
        usqlrw.parse(case.script)
        return True, None, None, ""
    except usqlrw.USqlSyntaxError as e:
        return False, e.line, e.column, e.message


def figures(cases) -> dict:
    invalid = [c for c in cases if not c.valid]
    valid = [c for c in cases if c.valid]
    rejected = exact = worded = 0
    for c in invalid:
        ok, line, col, msg = outcome(c)
        if not ok:
            rejected += 1
            if (line, col) == (c.line, c.column):
                exact += 1
                worded += msg.startswith(c.message)
    accepted = sum(outcome(c)[0] for c in valid)
    return {"invalid": len(invalid), "rejected": rejected, "exact": exact, "worded": worded,
            "valid": len(valid), "accepted": accepted}
