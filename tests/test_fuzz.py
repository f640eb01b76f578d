"""Property tests: whatever the input, parsing gives a Script or raises USqlSyntaxError.

Inputs: the fixture scripts mutated and truncated, random bytes, random Unicode text, and
5,000-deep nesting. Walking a parsed tree (ast.walk, ast.to_dict) never fails either.
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import usqlrw
from usqlrw import ast as A

from parse_helpers import check_spans, fixture_scripts

SCRIPTS = fixture_scripts()
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Pieces of U-SQL that mutations insert, so they reach deep into the grammar and the lexer.
PIECES = ['"', "'", "@\"", "[", "]", "(", ")", "{", "}", "<", ">", "=>", ";", ",", ".", "?", "*",
          "/*", "*/", "//", "\n", "\r\n", "\t", "@", "@@", "SELECT", "FROM", "WHERE", "AND", "NOT",
          "BETWEEN", "IN", "IS", "NULL", "END", "IF", "THEN", "CASE", "WHEN", "new", "from", "select",
          "int?", "(int)", "SQL.MAP<string, int>", "x => ", "(a) => {", "0x", "1e", "\u201c", "\ufeff",
          "\u00e9", "\x00"]


@st.composite
def mutated_script(draw):
    text = draw(st.sampled_from(SCRIPTS))
    for _ in range(draw(st.integers(1, 4))):
        n = len(text)
        i = draw(st.integers(0, n))
        j = draw(st.integers(i, min(n, i + 20)))
        op = draw(st.sampled_from(["truncate", "delete", "insert", "duplicate", "replace"]))
        if op == "truncate":
            text = text[:i]
        elif op == "delete":
            text = text[:i] + text[j:]
        elif op == "insert":
            text = text[:i] + draw(st.sampled_from(PIECES)) + text[i:]
        elif op == "duplicate":
            text = text[:j] + text[i:j] + text[j:]
        else:
            text = text[:i] + draw(st.text(max_size=3)) + text[j:]
    return text


def parses_or_syntax_error(data):
    try:
        script = usqlrw.parse(data)
    except usqlrw.USqlSyntaxError as e:
        assert e.line >= 1 and e.column >= 1 and e.message
        str(e)
        return None
    check_spans(script)
    A.to_dict(script)
    return script


@SETTINGS
@given(mutated_script())
def test_mutated_fixtures(text):
    parses_or_syntax_error(text)


@SETTINGS
@given(st.binary(max_size=300))
def test_random_bytes(data):
    parses_or_syntax_error(data)


@SETTINGS
@given(st.text(max_size=300))
def test_random_unicode(text):
    parses_or_syntax_error(text)


@SETTINGS
@given(st.lists(st.sampled_from(PIECES + ["a", "1", " ", "@x", "=", "+"]), max_size=60))
def test_random_token_soup(pieces):
    parses_or_syntax_error("".join(pieces))


DEPTH = 5000


@pytest.mark.parametrize("text", [
    "DECLARE @x = " + "(" * DEPTH + "1" + ")" * DEPTH + ";",
    "DECLARE @x = " + "-" * DEPTH + "1;",
    "DECLARE @x = " + "- " * DEPTH + "1;",
    "DECLARE @x = " + "!" * DEPTH + "true;",
    "DECLARE @x = " + " + ".join(["a"] * DEPTH) + ";",
    "DECLARE @x = " + " ?? ".join(["a"] * DEPTH) + ";",
    "DECLARE @x = " + " AND ".join(["a == 1"] * DEPTH) + ";",
    "DECLARE @x = a" + ".b" * DEPTH + ";",
    "DECLARE @x = f" + "(1)" * DEPTH + ";",
    "IF true THEN " * DEPTH + "END;" * DEPTH,
    "@r = SELECT * FROM " + "(SELECT * FROM " * DEPTH + "@t" + ") AS t" * DEPTH + ";",
    "DECLARE @x = " + "(" * DEPTH + "1;",            # unbalanced: an error, not a crash
    "IF true THEN " * DEPTH,
])
def test_deep_nesting(text):
    script = parses_or_syntax_error(text)
    # "--" is C#'s decrement (or a T-SQL comment), never U-SQL: an error, not a crash
    if not text.endswith(("(1;", "THEN ")) and "--" not in text:
        assert script is not None
