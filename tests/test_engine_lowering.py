"""The lowering is engine-neutral sqlglot: each semantics trap is one named lowering, and the same
tree generates DuckDB and Spark SQL (the second engine to come)."""
from __future__ import annotations

import pytest

import usqlrw
from usqlrw.engine import CannotRun, EngineError, runnable
from usqlrw.engine.lower import Lowerer
from usqlrw.engine.sqlbuild import exp


class _Job:
    now = None

    def __init__(self):
        self.rowsets = {}

    def rowset(self, name, node):
        return self.rowsets[name]


def lower(query: str):
    lw = Lowerer(_Job())
    return lw.query(usqlrw.parse(f"@r = {query};").statements[0].query)


def test_two_valued_equality_is_null_safe():
    rs = lower("SELECT a == b AS e, a != b AS n FROM (VALUES ((int?)1, (int?)null)) AS T(a, b)")
    assert rs.expr.find(exp.NullSafeEQ) is not None
    assert "IS NOT DISTINCT FROM" in rs.expr.sql("duckdb")
    assert "<=>" in rs.expr.sql("spark") or "IS NOT DISTINCT FROM" in rs.expr.sql("spark")


def test_integer_division_and_string_plus():
    rs = lower('SELECT a / b AS q, s + null AS t FROM (VALUES (7, 2, "x")) AS T(a, b, s)')
    assert rs.expr.find(exp.IntDiv) is not None
    duck, spark = rs.expr.sql("duckdb"), rs.expr.sql("spark")
    assert "//" in duck and "DIV" in spark
    assert [t.name for _, t in rs.columns] == ["int", "string"]


def test_nulls_last_in_order_by():
    rs = lower("SELECT a FROM (VALUES (1)) AS T(a) ORDER BY a DESC FETCH 1 ROWS")
    o = rs.expr.find(exp.Ordered)
    assert o.args.get("desc") and o.args.get("nulls_first") is False
    rs = lower("SELECT a FROM (VALUES (1)) AS T(a) ORDER BY a FETCH 1 ROWS")
    assert "NULLS LAST" in rs.expr.sql("spark")       # Spark sorts nulls first ascending by default


def test_types_are_inferred():
    rs = lower('SELECT 1 + 2L AS a, 1.5 * 2 AS b, "a".Length AS c, (int?)null ?? 3 AS d, '
               'COUNT(*) AS e, SUM(1) AS f, AVG(2.0) AS g FROM (VALUES (1)) AS T(x) GROUP BY x')
    assert [str(t) for _, t in rs.columns] == ["long", "double", "int", "int", "long", "long?", "double?"]


@pytest.mark.parametrize("q, what", [
    ("SELECT a.Foo() AS x FROM (VALUES (1)) AS T(a)", "the C# method Foo of int"),
    ("SELECT Math.Cbrt(1.0) AS x FROM (VALUES (1)) AS T(a)", "Math.Cbrt"),
    ("SELECT a.ToString(\"qq\") AS x FROM (VALUES (1.5)) AS T(a)", "number format string 'qq'"),
])
def test_outside_the_subset_is_named(q, what):
    with pytest.raises(CannotRun) as ei:
        lower(q)
    assert what in ei.value.message
    assert ei.value.line == 1 and ei.value.column > 1


def test_type_errors_are_engine_errors():
    with pytest.raises(EngineError, match="operator - cannot be applied to string and int"):
        lower('SELECT "a" - 1 AS x FROM (VALUES (1)) AS T(a)')
    with pytest.raises(EngineError, match="needs a column name"):
        lower("SELECT a + 1 FROM (VALUES (1)) AS T(a)")


def test_runnable_names_each_blocker_with_its_place():
    text = ("REFERENCE ASSEMBLY [ExtR];\n"
            "@a = EXTRACT s string FROM \"/x\" USING Extractors.Csv();\n"
            "@b = SELECT Lib.Udf.Do(s) AS t FROM @a;\n"
            "@c = PROCESS @a PRODUCE s string USING new Lib.P();\n"
            "OUTPUT @b TO \"/y\" USING Outputters.Csv(encoding: System.Text.Encoding.Unicode);\n")
    found = runnable(text, "j.usql")
    where = [(e.line, e.column) for e in found]
    assert where == sorted(where)
    msgs = [str(e) for e in found]
    assert msgs[0] == "j.usql:1:1: REFERENCE ASSEMBLY [ExtR]: a Python/R/Cognitive extension is not supported by the engine"
    assert any(m.startswith("j.usql:3:13: the C# member Lib.Udf.Do") for m in msgs)
    assert any(m.startswith("j.usql:4:6: PROCESS") for m in msgs)
    assert any("4:34: USING new Lib.P" in m for m in msgs)
    assert not any(":5:" in m for m in msgs)      # Encoding.Unicode and Outputters.Csv are fine
    assert runnable('@a = SELECT * FROM (VALUES (1)) AS T(n);\nOUTPUT @a TO "/o" USING Outputters.Csv();\n') == []
