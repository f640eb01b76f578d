"""Reject what the U-SQL compiler rejects, at the first wrong token, in U-SQL words: every case of
tests/fixtures/syntax (see tests/syntax_cases.py), and the set's figures."""
from __future__ import annotations

import re

import pytest

from syntax_cases import figures, load_cases, outcome

CASES = load_cases()


def test_the_set_is_large_and_organised_by_reference_page():
    invalid = [c for c in CASES if not c.valid]
    assert len(invalid) >= 150
    assert len([c for c in CASES if c.valid]) >= 30
    assert len({c.file for c in CASES}) >= 15


@pytest.mark.parametrize("case", [c for c in CASES if not c.valid], ids=lambda c: f"{c.file}: {c.title}")
def test_invalid_script_is_rejected_at_the_first_wrong_token(case):
    ok, line, col, msg = outcome(case)
    assert not ok, "accepted"
    assert (line, col) == (case.line, case.column), msg
    assert msg.startswith(case.message), msg
    # U-SQL words, not the grammar's
    assert not re.search(r"__ANON|_star|\b[a-z]+_[a-z]+\b|\bRULE\b|\$END", msg), msg


@pytest.mark.parametrize("case", [c for c in CASES if c.valid], ids=lambda c: f"{c.file}: {c.title}")
def test_valid_near_miss_is_accepted(case):
    ok, line, col, msg = outcome(case)
    assert ok, f"{line}:{col}: {msg}"


def test_figures():
    f = figures(CASES)
    assert f["rejected"] == f["invalid"] and f["exact"] == f["invalid"] and f["accepted"] == f["valid"], f
