"""Exact spans: offsets, lines and columns of the nodes transforms edit.

Each expectation gives the exact source text a node covers; the helper also checks the line and
column of both ends against the text, so an off-by-one anywhere fails.
"""
from __future__ import annotations

import pytest

import usqlrw
from usqlrw import ast as A
from usqlrw.source import line_col


def nodes(script, cls):
    return [n for n in A.walk(script) if isinstance(n, cls)]


def check_span(text, node, expected_text):
    sp = node.span
    assert text[sp.start:sp.end] == expected_text
    assert (sp.line, sp.column) == line_col(text, sp.start)
    assert (sp.end_line, sp.end_column) == line_col(text, sp.end)


def test_string_literals_regular_and_verbatim():
    text = 'DECLARE @a string = "adl://x.azuredatalakestore.net/in/";\r\n' \
           'DECLARE @b = @"wasb://c@acct.blob.core.windows.net/""q""";\n' \
           '@r = EXTRACT a int FROM "/p/{*}.csv", @b + "/tail" USING Extractors.Csv();'
    s = usqlrw.parse(text)
    lits = nodes(s, A.StringLiteral)
    assert [l.value for l in lits] == ["adl://x.azuredatalakestore.net/in/",
                                       'wasb://c@acct.blob.core.windows.net/"q"', "/p/{*}.csv", "/tail"]
    assert [l.verbatim for l in lits] == [False, True, False, False]
    check_span(text, lits[0], '"adl://x.azuredatalakestore.net/in/"')
    check_span(text, lits[1], '@"wasb://c@acct.blob.core.windows.net/""q"""')
    assert (lits[1].span.line, lits[1].span.column) == (2, 14)
    check_span(text, lits[2], '"/p/{*}.csv"')
    check_span(text, lits[3], '"/tail"')
    plus = nodes(s, A.BinaryOp)[0]
    check_span(text, plus, '@b + "/tail"')


def test_string_with_escapes_and_non_ascii():
    text = 'DECLARE @a = "tab\\t\\"q\\" caf\u00e9 \u201cx\u201d";'
    s = usqlrw.parse(text)
    (lit,) = nodes(s, A.StringLiteral)
    assert lit.value == 'tab\t"q" caf\u00e9 \u201cx\u201d'
    check_span(text, lit, text[13:-1])


@pytest.mark.parametrize("name, parts, quoted", [
    ("Orders", ("Orders",), (False,)),
    ("dbo.Orders", ("dbo", "Orders"), (False, False)),
    ("Sales.dbo.Orders", ("Sales", "dbo", "Orders"), (False, False, False)),
    ("[Sales DB].[dbo].[Order]]s]", ("Sales DB", "dbo", "Order]s"), (True, True, True)),
    ("Sales.[my schema].Orders", ("Sales", "my schema", "Orders"), (False, True, False)),
])
def test_object_names_of_one_two_three_parts(name, parts, quoted):
    text = f"@r =\n    SELECT * FROM {name} AS o;\nINSERT INTO {name} SELECT * FROM @r;"
    s = usqlrw.parse(text)
    read, write = nodes(s, A.ObjectName)
    for n in (read, write):
        assert n.names == parts
        assert tuple(p.quoted for p in n.parts) == quoted
        check_span(text, n, name)
    assert (read.span.line, read.span.column) == (2, 19)
    assert (read.object_kind, read.action) == ("rowset", "read")
    assert (write.object_kind, write.action) == ("table", "write")
    for part, want in zip(read.parts, name.replace("]]", "\0").split(".")):
        check_span(text, part, want.replace("\0", "]]"))


def test_object_name_with_empty_schema():
    text = "DROP TABLE IF EXISTS Sales..Orders;"
    s = usqlrw.parse(text)
    (n,) = nodes(s, A.ObjectName)
    assert n.names == ("Sales", "Orders")
    check_span(text, n, "Sales..Orders")


def test_variables():
    text = "DECLARE @in string = @@Job + @root;\n@rows = SELECT * FROM @in2;"
    s = usqlrw.parse(text)
    vs = nodes(s, A.Variable)
    assert [v.name for v in vs] == ["@in", "@@Job", "@root", "@rows", "@in2"]
    assert [v.system for v in vs] == [False, True, False, False, False]
    for v in vs:
        check_span(text, v, v.name)
    assert (vs[3].span.line, vs[3].span.column) == (2, 1)


def test_use_statements():
    text = "  USE DATABASE [Sales];\nUSE SCHEMA Sales.dbo ;\nUSE master;"
    s = usqlrw.parse(text)
    db, schema, plain = s.statements
    check_span(text, db, "USE DATABASE [Sales]")
    check_span(text, db.database, "[Sales]")
    assert db.database.names == ("Sales",) and db.database.object_kind == "database"
    check_span(text, schema, "USE SCHEMA Sales.dbo")
    check_span(text, schema.schema, "Sales.dbo")
    assert (schema.schema.object_kind, schema.schema.action) == ("schema", "use")
    check_span(text, plain.database, "master")


def test_declare():
    text = "DECLARE EXTERNAL @p string = \"/x\"; // default\nDECLARE CONST @n int? = (int?) 3;\nDECLARE @g = new SQL.MAP<string, int>();"
    s = usqlrw.parse(text)
    d1, d2, d3 = s.statements
    check_span(text, d1, 'DECLARE EXTERNAL @p string = "/x"')
    check_span(text, d1.variable, "@p")
    check_span(text, d1.type, "string")
    check_span(text, d1.value, '"/x"')
    assert d1.external and not d1.const
    check_span(text, d2, "DECLARE CONST @n int? = (int?) 3")
    check_span(text, d2.type, "int?")
    assert d2.type.nullable and d2.const
    check_span(text, d2.value, "(int?) 3")
    assert isinstance(d2.value, A.Cast) and d2.value.type.text == "int?"
    check_span(text, d3.value, "new SQL.MAP<string, int>()")
    assert d3.type is None
    assert s.comments[0].text == "// default"
    check_span(text, s.comments[0], "// default")


def test_statement_and_expression_spans():
    text = "@r =\n  SELECT a + b * c AS x,\n         NOT a IS NULL AS y\n  FROM @t ;\n"
    s = usqlrw.parse(text)
    (stmt,) = s.statements
    check_span(text, stmt, "@r =\n  SELECT a + b * c AS x,\n         NOT a IS NULL AS y\n  FROM @t")
    plus = nodes(s, A.BinaryOp)[0]
    assert plus.op == "+" and plus.right.op == "*"
    check_span(text, plus, "a + b * c")
    check_span(text, plus.right, "b * c")
    (neg,) = nodes(s, A.UnaryOp)
    check_span(text, neg, "NOT a IS NULL")
    check_span(text, neg.operand, "a IS NULL")


def test_script_bound_and_catalog_roles():
    text = ("DECLARE ASSEMBLY @asm FROM \"/a.dll\";\nREFERENCE ASSEMBLY @asm;\nREFERENCE ASSEMBLY db.Lib;\n"
            "RENAME TABLE a.b.c TO a.b.d;\n@e = EXTRACT db.dbo.T.*, c int FROM \"/x\" USING E();")
    s = usqlrw.parse(text)
    roles = [(n.names, n.object_kind, n.action) for n in nodes(s, A.ObjectName)]
    assert roles == [(("@asm",), "script_assembly", "reference"), (("db", "Lib"), "assembly", "reference"),
                     (("a", "b", "c"), "table", "alter"), (("a", "b", "d"), "table", "create"),
                     (("db", "dbo", "T"), "type", "reference")]
    check_span(text, nodes(s, A.TableTypeColumns)[0], "db.dbo.T.*")


def test_empty_script_and_bom():
    s = usqlrw.parse("\ufeff")
    assert s.statements == () and s.source.bom
    s = usqlrw.parse(b"\xef\xbb\xbfUSE DATABASE x;")
    check_span(s.source.text, s.statements[0], "USE DATABASE x")
    assert s.statements[0].span.column == 1   # columns count from after the BOM
