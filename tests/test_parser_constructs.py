"""Every construct of the language parses into the expected statements.

The inputs are the titled scripts of tests/fixtures/parse/valid/*.usql: a ``// title:`` line
starts a script and a ``// expect:`` line lists the kinds of its top-level statements.
"""
from __future__ import annotations

from pathlib import Path

import pytest

import usqlrw
from usqlrw import ast as A

from parse_helpers import check_spans

VALID = Path(__file__).parent / "fixtures" / "parse" / "valid"


def load_titled(path: Path) -> list[tuple[str, list[str], str]]:
    """(title, expected kinds, script text) for each titled section of a fixture file.

    The script text keeps its position in the file (earlier lines blanked), so errors point at
    the fixture's own line numbers.
    """
    cases, title, expect, start = [], None, [], 0
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)

    def close(end):
        if title is not None:
            text = "".join("\n" if i < start else lines[i] for i in range(end))
            cases.append((title, expect, text))

    for i, line in enumerate(lines):
        if line.startswith("// title:"):
            close(i)
            title, expect, start = line[len("// title:"):].strip(), [], i
        elif line.startswith("// expect:"):
            expect = [k.strip() for k in line[len("// expect:"):].split(",") if k.strip()]
    close(len(lines))
    return cases


CASES = [pytest.param(text, expect, id=f"{p.stem}: {title}")
         for p in sorted(VALID.glob("*.usql")) for title, expect, text in load_titled(p)]


@pytest.mark.parametrize("text, expect", CASES)
def test_construct_parses(text, expect):
    script = usqlrw.parse(text)
    assert [s.kind for s in script.statements] == expect
    check_spans(script)
    for node in A.walk(script):  # every catalog name has a role
        if isinstance(node, A.ObjectName):
            assert node.object_kind and node.action, node
    A.to_dict(script)


def test_fixture_files_parse_whole():
    for p in sorted(VALID.glob("*.usql")):
        usqlrw.parse(p.read_bytes(), path=str(p))
