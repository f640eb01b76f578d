"""The grammar is LALR(1) apart from a known, recorded set of shift/reduce conflicts.

Lark resolves a shift/reduce conflict as a shift and only logs it. Each one below was checked to
be the reading U-SQL (C#) wants; a new conflict makes this test fail, so it is never silent.
"""
from __future__ import annotations

import io
import logging
import re

import lark

from usqlrw.parser import grammar_path

#: (terminal, rule that could be reduced instead of shifting it)
KNOWN_CONFLICTS = {
    # `new T(...)`: the parenthesis is the constructor's argument list, not a call on `new T`.
    ("LPAR", "primary : NEW type"),
    # `x is A.B`: a dotted type name continues rather than ending at `A` (the parts of a type may be
    # quoted, for a catalog table type: [Sales].[dbo].[Rows]).
    ("DOT", "type : NAME"),
    ("DOT", "type : NAME __type_star_N"),
    ("DOT", "type : QUOTED_ID"),
    ("DOT", "type : QUOTED_ID __type_star_N"),
    # `x is int ? a : b` reads `int?` as a nullable type (as C# does); parenthesise to test.
    ("QMARK", "type : NAME"),
    ("QMARK", "type : NAME TYPEARGS"),
    ("QMARK", "type : NAME __type_star_N"),
    ("QMARK", "type : NAME __type_star_N TYPEARGS"),
    ("QMARK", "type : QUOTED_ID"),
    ("QMARK", "type : QUOTED_ID TYPEARGS"),
    ("QMARK", "type : QUOTED_ID __type_star_N"),
    ("QMARK", "type : QUOTED_ID __type_star_N TYPEARGS"),
}
# The same two readings for a type written with C#'s global alias: global::System.Int32?
KNOWN_CONFLICTS |= {(t, r.replace("type : ", "type : GLOBAL_ALIAS ")) for t, r in KNOWN_CONFLICTS
                    if r.startswith("type : ")}


def grammar_conflicts() -> set[tuple[str, str]]:
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    lark.logger.addHandler(handler)
    old = lark.logger.level
    lark.logger.setLevel(logging.DEBUG)
    try:
        lark.Lark(grammar_path().read_text(encoding="utf-8"), parser="lalr", lexer="contextual",
                  start="script", keep_all_tokens=True, debug=True)
    finally:
        lark.logger.removeHandler(handler)
        lark.logger.setLevel(old)
    found = set()
    terminal = None
    for line in buf.getvalue().splitlines():
        m = re.match(r"Shift/Reduce conflict for terminal (\w+)", line)
        if m:
            terminal = m.group(1)
            continue
        m = re.match(r"\s*\* <(.*)>", line)
        if m and terminal:
            found.add((terminal, re.sub(r"_star_\d+", "_star_N", m.group(1))))
        assert "Reduce/Reduce" not in line, line
    return found


def test_only_the_known_conflicts():
    assert grammar_conflicts() == KNOWN_CONFLICTS
