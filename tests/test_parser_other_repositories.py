"""Inputs found while parsing U-SQL from other repositories (docs, samples, personal projects) and
mutating it: each failed with a traceback or ran for minutes before. Bad input of any kind is a
one-line syntax error at its place."""
from __future__ import annotations

import pytest

import usqlrw


def _error(text: str) -> usqlrw.USqlSyntaxError:
    with pytest.raises(usqlrw.USqlSyntaxError) as e:
        usqlrw.parse(text)
    return e.value


def test_an_unclosed_lambda_body_with_comments_is_a_syntax_error():
    # Each // comment inside an unclosed { could end anywhere on its line, to the old terminal's
    # regex: a dozen of them made the lexer backtrack for minutes.
    text = "@a = SELECT s.Where(c => {\n" + "".join(
        f"    // step {i}: keep the letters\n    n = n + {i};\n" for i in range(12)) + \
        "    return n > 0;\n    AS b FROM @t;\n"
    e = _error(text)
    assert (e.line, e.column) == (1, 26)
    assert e.message.startswith("unclosed { ... } lambda body")


def test_lambda_bodies_still_nest_four_deep_with_strings_and_comments():
    body = '{ if (x) { foreach (var y in z) { if (y == "}") { n++; } } } /* } */ // }\n return n; }'
    s = usqlrw.parse(f"@a = SELECT s.Count(x => {body}) AS n FROM @t;")
    lam = s.statements[0].query.items[0].expr.args[0]
    assert isinstance(lam, usqlrw.ast.Lambda) and isinstance(lam.body, usqlrw.ast.CSharpBlock)
    assert lam.body.text == body
    e = _error("@a = SELECT s.Count(x => { { { { { n++; } } } } }) AS n FROM @t;")
    assert e.message.startswith("unclosed { ... } lambda body")


@pytest.mark.parametrize("text, line, col, message", [
    ("@a = SELECT (SQL.ARRAY<>) null AS x FROM @t;", 1, 24, "expected a type name between < and >"),
    ("@a = SELECT (SQL.ARRAY<SQL.ARRAY<string>) null AS x FROM @t;", 1, 41, "expected > to close the type arguments"),
    ('@a = EXTRACT Acct.Db.dbo.Rows.Old.* FROM "/x.csv" USING Extractors.Csv();', 1, 14,
     "a table type's name has at most 4 parts (account.database.schema.type): Db.dbo.RowType.*"),
    ("@a = SELECT new SQL.ARRAY<string>{\"a\"} AS x, (SQL.MAP<>) null AS m FROM @t;", 1, 55,
     "expected a type name between < and >"),
])
def test_malformed_type_names_are_syntax_errors(text, line, col, message):
    e = _error(text)
    assert (e.line, e.column, e.message) == (line, col, message)
