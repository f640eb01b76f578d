"""Syntax errors: the exact line and column, and a message in U-SQL terms (no grammar names)."""
from __future__ import annotations

import re

import pytest

import usqlrw
from usqlrw.parser import caret_lines

CASES = [
    # (title, script, line, column, message start)
    ("missing ; at the end of the script",
     'DECLARE @in string = "/in/a.csv"', 1, 33, "missing ';' at the end of the statement"),
    ("missing ; between statements",
     '@a = SELECT x FROM @t\n@b = SELECT x FROM @a;', 1, 22, "missing ';' at the end of the statement"),
    ("unterminated string",
     '@a = SELECT x FROM @t\nWHERE x == "open;\n', 2, 12, "unterminated string literal"),
    ("unterminated verbatim string",
     'DECLARE @p = @"c:\\dir;', 1, 14, "unterminated string literal"),
    ("unterminated block comment",
     "USE DATABASE db;\n  /* not closed\n", 2, 3, "unterminated /* comment"),
    ("unterminated quoted identifier",
     "@a = SELECT [Name FROM @t;", 1, 13, "unterminated [quoted identifier]"),
    ("lowercase keyword at the start",
     "@a = select x FROM @t;", 1, 6, "keywords are upper-case in U-SQL: write SELECT, not select"),
    ("lowercase keyword inside a condition",
     "@a = SELECT x FROM @t\n    WHERE x > 1 and x < 5;", 2, 17,
     "keywords are upper-case in U-SQL: write AND, not and"),
    ("misspelled keyword",
     "@a = SELECT x FORM @t;", 1, 15, "unexpected identifier 'FORM'"),
    ("clauses in the wrong order",
     "@a = SELECT x FROM @t GROUP BY x WHERE x > 1;", 1, 34, "WHERE must come before GROUP BY"),
    ("OUTPUT without TO",
     "@a = SELECT x FROM @t;\nOUTPUT @a USING Outputters.Csv();", 2, 11, "unexpected keyword USING; expected '(', TO"),
    ("truncated script",
     "@a = SELECT x FROM @t;\nOUTPUT @a TO \"/o.csv\"\n", 2, 22, "unexpected end of script"),
    ("truncated expression",
     "DECLARE @n int = 1 +", 1, 21, "unexpected end of script; expected an expression"),
    ("single = in a comparison",
     "@a = SELECT x FROM @t WHERE x = 1;", 1, 31, "unexpected '=': U-SQL compares with =="),
    ("unbalanced parenthesis",
     "@a = SELECT (x + 1 AS y FROM @t;", 1, 20, "unexpected keyword AS; expected ')'"),
    ("character literal with two characters",
     "@a = SELECT 'ab' AS c FROM @t;", 1, 13, "invalid character literal"),
    ("stray character",
     "@a = SELECT x # 2 AS y FROM @t;", 1, 15, "unexpected character '#'"),
    ("BETWEEN without AND",
     "@a = SELECT x FROM @t WHERE x BETWEEN 1 OR x > 5;", 1, 41, "BETWEEN needs AND"),
    ("tab before the error counts as one column",
     "@a = SELECT x FROM @t\n\tWHERE x == ;", 2, 13, "unexpected ';'; expected an expression"),
    ("CRLF line endings",
     "USE DATABASE db;\r\n@a = SELECT x FROM @t\r\n@b = SELECT x FROM @a;\r\n", 2, 22,
     "missing ';' at the end of the statement"),
    ("a join the reference does not have",
     "@a = SELECT * FROM @t AS t\n  FULL SEMIJOIN @u AS u ON t.x == u.x;", 2, 3,
     "FULL SEMIJOIN is not a join U-SQL has"),
    ("INNER OUTER JOIN",
     "@a = SELECT * FROM @t AS t INNER OUTER JOIN @u AS u ON t.x == u.x;", 1, 28, "INNER OUTER JOIN is not a join"),
    ("unclosed statement lambda",
     "DECLARE @f Func<int, int> = x => { return x;\n", 1, 34, "unclosed { ... } lambda body"),
    ("an upper-case word that is no keyword",
     "@a = SELECT x ROM @t;", 1, 15, "unexpected identifier 'ROM'; expected ',', '(', FROM"),
    ("a statement keyword followed by a typo is not called a bad start",
     "CREATE TABEL t (a int);", 1, 8, "unexpected identifier 'TABEL'; expected ASSEMBLY"),
    ("lower-case C# literals are not keyword typos",
     "DECLARE @x = true true;", 1, 19, "unexpected 'true'; expected ';', '(', an operator"),
    ("lower-case clause keyword read by the C# query syntax",
     "@a = SELECT x FROM @t\nwhere x > 1;", 2, 1, "keywords are upper-case in U-SQL: write WHERE, not where"),
    ("mixed-case names are not keyword typos",
     "@a = SELECT Name FRM @t;", 1, 18, "unexpected identifier 'FRM'"),
    ("a query that is not assigned",
     "USE DATABASE db;\nSELECT x FROM @t;", 2, 1, "a statement cannot start with SELECT (assign"),
]


@pytest.mark.parametrize("text, line, column, message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_error_position_and_message(text, line, column, message):
    with pytest.raises(usqlrw.USqlSyntaxError) as info:
        usqlrw.parse(text, path="job.usql")
    e = info.value
    assert (e.line, e.column) == (line, column), e.message
    assert e.message.startswith(message), e.message
    assert e.path == "job.usql"
    assert str(e) == f"job.usql:{line}:{column}: {e.message}"
    # Worded for U-SQL authors: no grammar rule or anonymous terminal names.
    assert not re.search(r"__ANON|_star|[a-z]+_[a-z]+\b|\bRULE\b|\$END", e.message), e.message


def test_bytes_errors_have_positions_too():
    with pytest.raises(usqlrw.USqlSyntaxError) as info:
        usqlrw.parse("\ufeffUSE DATABASE db\n".encode("utf-8"))
    assert (info.value.line, info.value.column) == (1, 16)


def test_caret_points_at_the_column_with_tabs_expanded():
    with pytest.raises(usqlrw.USqlSyntaxError) as info:
        usqlrw.parse("@a = SELECT x FROM @t\n\tWHERE x == ;")
    shown, caret = caret_lines(info.value)
    assert shown == "    WHERE x == ;"
    assert caret == " " * 15 + "^"
