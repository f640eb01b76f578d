"""The tree's API: traversal with pruning, finding nodes by class, parent lookup, structural
equality without spans, names with every part as written, types as trees, metadata on classes."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

import usqlrw
from usqlrw import ast as A
from usqlrw.resolve import Context, qualify, qualify_text

SRC = ("USE DATABASE Sales;\n"
       "@a = SELECT a, CASE WHEN a > 1 THEN 1 ELSE 0 END AS b FROM [acct].Sales.dbo.Orders AS o JOIN Sales..Lines AS l ON o.id == l.id;\n"
       "IF 1 == 1 THEN @b = SELECT * FROM @a; END;\n")


def test_walk_prunes_and_find_all_finds():
    s = usqlrw.parse(SRC)
    every = list(A.walk(s))
    pruned = list(A.walk(s, prune=lambda n: isinstance(n, A.If)))
    assert any(isinstance(n, A.IfBranch) for n in every)
    assert not any(isinstance(n, A.IfBranch) for n in pruned) and any(isinstance(n, A.If) for n in pruned)
    assert [n.ident.name for n in A.find_all(s, A.Name)] == ["a", "a", "o", "l"]
    assert [type(n).__name__ for n in A.find_all(s, A.Case, A.RowsetRef)] == ["Case", "RowsetRef"]


def test_parents_and_same_tree():
    s = usqlrw.parse(SRC)
    par = A.parents(s)
    case = next(A.find_all(s, A.Case))
    assert isinstance(par[id(case)], A.AliasedItem) and isinstance(par[id(par[id(case)])], A.Select)
    moved = usqlrw.parse("\n\n" + SRC.replace(" THEN 1 ", "   THEN   1 "))   # other spans, same tree
    assert A.same_tree(s, moved) is None
    other = usqlrw.parse(SRC.replace("ELSE 0", "ELSE 2"))
    diff = A.same_tree(s, other)
    assert isinstance(diff, A.NumberLiteral) and diff.text == "0"
    dropped = usqlrw.parse(SRC.replace(" ELSE 0", ""))
    assert isinstance(A.same_tree(s, dropped), A.Case)


def test_names_keep_every_part_as_written():
    s = usqlrw.parse(SRC)
    n, m = (t.table for t in A.find_all(s, A.TableRef))
    assert (n.account.name, n.account.quoted, n.database.name, n.schema.name, n.object.name) == \
        ("acct", True, "Sales", "dbo", "Orders")
    assert n.written == "[acct].Sales.dbo.Orders"
    assert (m.database.name, m.schema, m.object.name, m.empty_schema, m.written) == \
        ("Sales", None, "Lines", True, "Sales..Lines")
    q = qualify(n, Context("Other", "sch"))
    assert (q.account, q.database, q.schema, q.name, q.kind) == ("acct", "Sales", "dbo", "Orders", "rowset")
    q = qualify(m, Context("Other", "sch"))
    assert (q.account, q.database, q.schema, q.name) == (None, "Sales", "dbo", "Lines")
    assert qualify_text("table", "[Web Logs]..T").parts == ("Web Logs", "dbo", "T")
    assert qualify_text("schema", "db.s").parts == ("db", "s")
    assert qualify_text("credential", "db.c").parts == ("db", "c")


def test_types_are_trees():
    t = usqlrw.parse("DECLARE @m SQL.MAP<string, SQL.ARRAY<int?>> = null;").statements[0].type
    assert (t.name, t.nullable, [a.name for a in t.args]) == ("SQL.MAP", False, ["string", "SQL.ARRAY"])
    inner = t.args[1].args[0]
    assert (inner.name, inner.nullable, inner.text) == ("int", True, "int?")
    text = "DECLARE @m SQL.MAP<string, SQL.ARRAY<int?>> = null;"
    assert text[inner.span.start:inner.span.end] == "int?"
    b = usqlrw.parse("DECLARE @b byte[] = null;").statements[0].type
    assert (b.name, b.array_rank) == ("byte", 1)


def test_metadata_lives_on_the_classes():
    assert A.CreateTable.is_ddl and not A.Insert.is_ddl
    assert dict((f, (k, a)) for f, k, a in A.Insert.name_roles) == {"table": (A.ObjectKind.TABLE, A.Action.WRITE)}
    s = usqlrw.parse("DROP VIEW IF EXISTS v; REFERENCE SYSTEM ASSEMBLY [System.Xml];")
    assert s.statements[0].object.object_kind is A.ObjectKind.VIEW
    assert s.statements[1].assembly.object_kind is A.ObjectKind.SYSTEM_ASSEMBLY


CORPUS = Path(os.environ.get("CORPUS") or os.path.join(os.environ.get("TMPDIR", "/tmp"), "usqlrw-corpus"))


@pytest.mark.skipif(not (CORPUS / "azure_usql").is_dir(), reason="corpus not built")
def test_no_generic_node_over_the_public_corpora():
    """No node of any real script has a positional items+keywords pair, and every ObjectName
    has its kind and action."""
    files = list((CORPUS / "azure_usql").rglob("*.usql")) + list((CORPUS / "refblocks").glob("*.sql"))
    seen = 0
    for p in files:
        try:
            s = usqlrw.parse(p.read_bytes())
        except usqlrw.USqlSyntaxError:
            continue
        for n in A.walk(s):
            names = {f for f in getattr(type(n), "__dataclass_fields__", {})}
            assert not {"items", "keywords"} <= names, (p, n.kind)
            if isinstance(n, A.ObjectName):
                assert n.object_kind is not None and n.action is not None, (p, n)
            seen += 1
    assert seen > 40000


@pytest.mark.parametrize("src, written", [
    ("CREATE TABLE IF NOT EXISTS Sales..T (a int, INDEX i CLUSTERED (a) DISTRIBUTED BY HASH (a));", "Sales..T"),
    ("CREATE VIEW V AS SELECT * FROM T;", "V"),
    ("CREATE FUNCTION db.s.F() RETURNS @r AS BEGIN @r = SELECT * FROM T; END;", "db.s.F"),
    ("DROP PROCEDURE IF EXISTS db.s.P;", "db.s.P"),
    ("ALTER TABLE T ADD COLUMN c int;", "T"),
    ("CREATE STATISTICS st ON T (a) WITH FULLSCAN;", "T"),
    ("CREATE DATABASE D;", "D"),
    ("CREATE SCHEMA D.s;", "D.s"),
    ("CREATE CREDENTIAL C WITH USER_NAME = \"u\";", "C"),
    ("RENAME TABLE A TO B;", "A"),
    ("TRUNCATE TABLE T;", None),
])
def test_every_ddl_statement_names_its_target_the_same_way(src, written):
    stmt = usqlrw.parse(src).statements[0]
    if written is None:     # TRUNCATE writes rows: not DDL of the object
        assert stmt.target is None
    else:
        assert stmt.is_ddl and stmt.target.written == written
