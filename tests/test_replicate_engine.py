"""The replication scripts run end to end on the engine, for every column type the staging format
carries and for partitioned tables: the DR copy on a primary, the import on a secondary, then the
secondary holds exactly the primary's rows (compared by value with -0.0, NaN, scale and unicode
kept), and a second import adds nothing. Rows routed by ON INTEGRITY VIOLATION land on the
secondary where they landed on the primary, even when the secondary's partitions differ."""
from __future__ import annotations

import collections
import datetime
import decimal
import sys
import uuid
from pathlib import Path

import pytest

import usqlrw
from usqlrw.config import load_config
from usqlrw.replicate import build_bundle, staging as S

sys.path.insert(0, str(Path(__file__).parent))
from replication_drill import _canon, drill, units_of_bundle  # noqa: E402

CONFIG = load_config(Path(__file__).parent / "fixtures" / "replicate" / "dr.toml")
D = S.DotNetDateTime

# every type the staging format carries, nullable where U-SQL allows it
TYPES = ["string", "byte[]", "bool", "bool?", "char", "char?", "byte", "sbyte?", "short", "ushort?", "int", "uint?",
         "long", "ulong?", "float", "float?", "double", "double?", "decimal", "decimal?", "DateTime", "DateTime?",
         "Guid", "Guid?", "SQL.ARRAY<string>", "SQL.ARRAY<int?>", "SQL.ARRAY<byte[]>", "SQL.MAP<string, double?>",
         "SQL.MAP<Guid, DateTime?>"]
COLS = [("Id", "int")] + [(f"c{i}", t) for i, t in enumerate(TYPES)]
G1, G2 = uuid.UUID("0123456789abcdef0123456789abcdef"), uuid.UUID(int=2 ** 128 - 1)
ROWS = [
    [1, "h\u00e9llo\ttab\nnew\u4e16\U0001F600", b"\x00\xff\x10", True, None, "\u00e9", None, 255, -128, 32767, 65535,
     -2 ** 31, 2 ** 32 - 1, -2 ** 63, 2 ** 64 - 1, -0.0, None, float("nan"), -0.0, decimal.Decimal("1.5"),
     decimal.Decimal("-7922816251426433759354395033.5"), D(638000000000000000, 1), D(0, 0), G1, None,
     ["a", None, ""], [1, None, -3], [b"", b"\x01", None], {"k": 1.5, "": None, "\u00e9": float("-inf")},
     {G2: D(10, 2), G1: None}],
    [2, "", b"", False, False, "\t", "z", 0, None, -1, None, 0, None, 0, None, 1.0, 3.5, 5e-324, None,
     decimal.Decimal("0.0000000001"), None, D(3155378975999999990, 2), None, uuid.UUID(int=0), G2, [], [], [], {}, {}],
    [3, None, None, True, True, "\u0000", "\uffff", 1, 1, 1, 1, 1, 1, 1, 1, float("inf"), float("-inf"),
     -1.7976931348623157e308, 2.2250738585072014e-308, decimal.Decimal("123456789012345678.0123456789"),
     decimal.Decimal("-0.5"), D(10, 0), D(630822816000000000, 0), uuid.UUID(int=1), None, None, None, None, None, None],
]


def _ddl(table_cols: str, extra: str = "") -> str:
    return (f"CREATE DATABASE IF NOT EXISTS Sales;\nUSE DATABASE Sales;\n"
            f"CREATE TABLE IF NOT EXISTS dbo.AllTypes (Id int, {table_cols},\n"
            f"    INDEX ix CLUSTERED (Id) DISTRIBUTED BY HASH (Id));\n{extra}")


def _loading_job() -> str:
    """A job that reads rows (written in the staging format by the Python codec, the format's
    specification) and inserts them: its DR copy and import are what is tested."""
    ext = ", ".join(f"{S.quote_ident(c)} string" for c, _ in COLS)
    dec = ", ".join(f"{S.decode_expr(t, S.quote_ident(c))} AS {S.quote_ident(c)}" for c, t in COLS)
    return (f'@s = EXTRACT {ext} FROM "/in/rows.tsv" USING {S.EXTRACTOR};\n'
            f"@d = SELECT {dec} FROM @s;\nINSERT INTO Sales.dbo.AllTypes SELECT * FROM @d;\n")


def _python(t: str, v):
    """A Python codec value as the engine's table holds it (DuckDB's Python values)."""
    if v is None:
        return None
    base = S.parse_type(t)
    if base.base == "SQL.ARRAY":
        return [_python(base.args[0].text, x) for x in v]
    if base.base == "SQL.MAP":
        return {_python(base.args[0].text, k): _python(base.args[1].text, x) for k, x in v.items()}
    if base.base == "DateTime":      # the engine's DateTime has no Kind
        return datetime.datetime(1, 1, 1) + datetime.timedelta(microseconds=v.ticks // 10)
    if base.base == "float":
        import struct
        return struct.unpack("<f", struct.pack("<f", v))[0]
    return v


def test_every_column_type_replicates_exactly_and_a_rerun_adds_nothing():
    cols = ", ".join(f"{S.quote_ident(c)} {t}" for c, t in COLS[1:])
    scripts = [("ddl.usql", usqlrw.parse(_ddl(cols))), ("load.usql", usqlrw.parse(_loading_job()))]
    b = build_bundle(scripts, CONFIG)
    assert not b.problems, b.problems
    rep = drill(b.model, CONFIG, units_of_bundle(scripts, b), files={"in/rows.tsv": S.write_rows(COLS, ROWS)})
    assert rep.compared == {"Sales.dbo.AllTypes": 3}
    expected = collections.Counter(tuple(_canon(_python(t, v)) for (_, t), v in zip(COLS, r)) for r in ROWS)
    assert rep.rows["Sales.dbo.AllTypes"] == expected


def test_the_engine_writes_the_staged_bytes_the_python_codec_reads_back():
    """The engine's encoding of each type is what the format's Python specification decodes."""
    import shutil
    import tempfile
    from usqlrw.engine import run_text
    d = tempfile.mkdtemp()
    try:
        Path(d, "in").mkdir()
        Path(d, "in", "rows.tsv").write_bytes(S.write_rows(COLS, ROWS))
        enc = ", ".join(f"{S.encode_expr(t, S.quote_ident(c))} AS {S.quote_ident(c)}" for c, t in COLS)
        job = _loading_job().split("INSERT")[0] + f"@e = SELECT {enc} FROM @d;\nOUTPUT @e TO \"/out.tsv\" USING {S.OUTPUTTER};\n"
        run_text(job, d)
        back = S.read_rows(COLS, Path(d, "out.tsv").read_bytes())
    finally:
        shutil.rmtree(d, ignore_errors=True)
    for want, got in zip(sorted(ROWS, key=lambda r: r[0]), sorted(back, key=lambda r: r[0])):
        for (c, t), a, b in zip(COLS, want, got):
            if S.parse_type(t).base == "DateTime" and a is not None:
                a = D(a.ticks, 0)            # Kind: the engine's DateTime is Unspecified
            assert _canon(_python(t, a)) == _canon(_python(t, b)), (c, t, a, b)
            if S.parse_type(t).base == "decimal" and a is not None:
                assert b.as_tuple() == a.normalize(decimal.Context(prec=60)).as_tuple() or b == a == 0   # smallest scale


PART_DDL = """CREATE DATABASE IF NOT EXISTS Sales;
USE DATABASE Sales;
CREATE TABLE IF NOT EXISTS dbo.Events (Id int, Day int, Note string,
    INDEX ix CLUSTERED (Id) PARTITIONED BY (Day) DISTRIBUTED BY HASH (Id));
ALTER TABLE dbo.Events ADD IF NOT EXISTS PARTITION (1), PARTITION (2), PARTITION (9);
"""
ROUTED = "(1, 1, \"one\"), (2, 3, \"three\"), (3, 2, \"two\"), (4, 5, \"five\")"


@pytest.mark.parametrize("clause,landed", [
    ("ON INTEGRITY VIOLATION MOVE TO PARTITION (9)", {(1, 1), (2, 9), (3, 2), (4, 9)}),
    ("ON INTEGRITY VIOLATION IGNORE", {(1, 1), (3, 2)}),
])
def test_rows_routed_by_integrity_violation_land_where_they_landed_on_the_primary(clause, landed):
    job = (f"DECLARE EXTERNAL @batch int = 1;\n@r = SELECT * FROM (VALUES {ROUTED}) AS T(Id, Day, Note);\n"
           f"INSERT INTO Sales.dbo.Events {clause}\nSELECT Id, Day, Note FROM @r;\n")
    scripts = [("ddl.usql", usqlrw.parse(PART_DDL)), ("job.usql", usqlrw.parse(job))]
    b = build_bundle(scripts, CONFIG)
    # the secondary has partitions the primary did not have when the job ran: replaying the routing
    # there would put rows 2 and 4 in them
    rep = drill(b.model, CONFIG, units_of_bundle(scripts, b),
                secondary_setup="ALTER TABLE SalesDR.dbo.Events ADD PARTITION (3), PARTITION (5);")
    rows = rep.rows["Sales.dbo.Events"]
    assert {(r[0], r[1]) for r in rows} == landed and sum(rows.values()) == len(landed)


def test_partitioned_table_by_label_replicates_and_a_rerun_adds_nothing():
    job = ("DECLARE EXTERNAL @day int = 2;\nUSE DATABASE Sales;\nALTER TABLE dbo.Events ADD IF NOT EXISTS PARTITION (@day);\n"
           "@r = SELECT * FROM (VALUES (1, \"a\"), (2, \"b\")) AS T(Id, Note);\n"
           "INSERT INTO dbo.Events (Id, Note) PARTITION (@day) SELECT Id, Note FROM @r;\n")
    scripts = [("ddl.usql", usqlrw.parse(PART_DDL)), ("job.usql", usqlrw.parse(job))]
    b = build_bundle(scripts, CONFIG)
    rep = drill(b.model, CONFIG, units_of_bundle(scripts, b))
    assert {(r[0], r[1], r[2]) for r in rep.rows["Sales.dbo.Events"]} == {(1, 2, "a"), (2, 2, "b")}


def test_a_table_the_job_rebuilds_keeps_its_rows_through_runs_and_reruns():
    """DROP + CREATE TABLE AS + INSERT in a job without parameters: each import rebuilds the table,
    so the INSERT's rows (the latest run's) are replayed by every import, never lost or doubled."""
    ddl = ("CREATE DATABASE IF NOT EXISTS Sales;\nUSE DATABASE Sales;\n"
           "CREATE TABLE IF NOT EXISTS dbo.Src (Id int, Name string, INDEX ix CLUSTERED (Id) DISTRIBUTED BY HASH (Id));\n"
           "INSERT INTO dbo.Src VALUES (1, \"a\"), (2, \"b\");\n")
    job = ("USE DATABASE Sales;\nDROP TABLE IF EXISTS dbo.Top;\n"
           "CREATE TABLE dbo.Top (INDEX ix CLUSTERED (Id) DISTRIBUTED BY HASH (Id)) AS SELECT Id, Name FROM dbo.Src;\n"
           "INSERT INTO dbo.Top VALUES (99, \"extra\");\n")
    scripts = [("ddl.usql", usqlrw.parse(ddl)), ("job.usql", usqlrw.parse(job))]
    b = build_bundle(scripts, CONFIG)
    seed, run = units_of_bundle(scripts, b)
    assert (seed.name, run.name) == ("ddl.usql", "job.usql") and run.dr_copy and run.import_script
    rep = drill(b.model, CONFIG, [seed, run, run])       # two runs, each imported; then every import again
    assert {(r[0], r[1]) for r in rep.rows["Sales.dbo.Top"]} == {(1, "a"), (2, "b"), (99, "extra")}
    assert sum(rep.rows["Sales.dbo.Top"].values()) == 3


def test_the_pipeline_fixture_replicates_every_table_it_writes():
    """The replicate tests' own pipeline (ingest into a partition, aggregate with a column list and
    Guid.NewGuid(), rebuild with CREATE TABLE AS): every table it writes is equal on both sides."""
    folder = Path(__file__).parent / "fixtures" / "replicate" / "pipeline"
    scripts = [(p.name, usqlrw.parse(p.read_bytes())) for p in sorted(folder.glob("*.usql"))]
    b = build_bundle(scripts, CONFIG)
    rep = drill(b.model, CONFIG, units_of_bundle(scripts, b))
    assert rep.skipped is None
    assert rep.compared == {"Sales.dbo.Orders": 3, "Sales.dbo.DailyTotals": 3, "Sales.reporting.TopCustomers": 1}
