"""The catalog on Spark (usqlrw/engine/spark_catalog.py): tables stored as Parquet segments in the
store's warehouse folder, partitioned as declared, kept between jobs; a failed job changes no
table and leaves no file behind. (The catalog's semantics are the conformance cases, run on both
engines.)"""
from __future__ import annotations

import os

import pytest

from usqlrw.engine import JobFailed, run_text

pytestmark = pytest.mark.spark


def _files(root):
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)


def _run(text, store, master):
    run_text(text, str(store), engine="spark", master=master)


def test_tables_are_partitioned_parquet_kept_between_jobs(tmp_path, spark_session):
    store = tmp_path / "store"
    store.mkdir()
    _run("CREATE DATABASE D;\n"
         "CREATE TABLE D.dbo.P (k string, v int, INDEX i CLUSTERED (v) PARTITIONED BY (k) DISTRIBUTED BY HASH (v));\n"
         "ALTER TABLE D.dbo.P ADD PARTITION (\"a\"), PARTITION (\"b\");\n"
         "INSERT INTO D.dbo.P PARTITION (\"a\") SELECT * FROM (VALUES (1), (2)) AS T(v);\n"
         "INSERT INTO D.dbo.P PARTITION (\"b\") SELECT * FROM (VALUES (3)) AS T(v);\n", store, spark_session)
    wh = store / "catalog" / "spark" / "warehouse" / "D.dbo" / "P"
    parquet = [f for f in _files(wh) if f.endswith(".parquet")]
    assert parquet and {f.split(os.sep)[1] for f in parquet} == {"k=a", "k=b"}
    assert (store / "catalog" / "spark" / "catalog.duckdb").is_file()
    # a second job reads them, changes them; a third fails and changes nothing
    _run("ALTER TABLE D.dbo.P DROP PARTITION (\"b\");\n"
         "@r = SELECT k, v FROM D.dbo.P;\nOUTPUT @r TO \"/r.csv\" ORDER BY v USING Outputters.Csv();\n",
         store, spark_session)
    assert (store / "r.csv").read_bytes() == b"\"a\",1\r\n\"a\",2\r\n"
    before = _files(store / "catalog" / "spark" / "warehouse")
    assert not any("k=b" in f for f in before)          # the replaced segments are gone
    with pytest.raises(JobFailed) as ei:
        _run("INSERT INTO D.dbo.P PARTITION (\"a\") SELECT * FROM (VALUES (9)) AS T(v);\n"
             "TRUNCATE TABLE D.dbo.P;\n"
             "@z = SELECT 1 / (v - v) AS z FROM D.dbo.P;\nOUTPUT @z TO \"/z.csv\" USING Outputters.Csv();\n"
             "@e = SELECT v / (v - 1) AS z FROM (VALUES (1)) AS T(v);\nOUTPUT @e TO \"/e.csv\" USING Outputters.Csv();\n",
             store, spark_session)
    assert "DivideByZeroException" in str(ei.value)
    assert _files(store / "catalog" / "spark" / "warehouse") == before
    assert not (store / "z.csv").exists() and not (store / "e.csv").exists()
    _run("@r = SELECT k, v FROM D.dbo.P;\nOUTPUT @r TO \"/r2.csv\" ORDER BY v USING Outputters.Csv();\n"
         "DROP DATABASE D;\n", store, spark_session)
    assert (store / "r2.csv").read_bytes() == b"\"a\",1\r\n\"a\",2\r\n"
    assert not (store / "catalog" / "spark" / "warehouse" / "D.dbo").exists()


def test_alter_and_ctas_rewrite_the_rows(tmp_path, spark_session):
    store = tmp_path / "store"
    store.mkdir()
    _run("CREATE TABLE T (INDEX i CLUSTERED (a) DISTRIBUTED BY HASH (a)) AS "
         "SELECT * FROM (VALUES (1, \"x\"), (2, \"y\")) AS V(a, s);\n"
         "ALTER TABLE T ADD COLUMN n long, d DateTime;\n"
         "ALTER TABLE T DROP COLUMN s;\n"
         "INSERT INTO T (a, n, d) VALUES (3, 30L, new DateTime(2020, 1, 2));\n"
         "@r = SELECT a, n, d FROM T;\nOUTPUT @r TO \"/r.csv\" ORDER BY a USING Outputters.Csv();\n",
         store, spark_session)
    assert (store / "r.csv").read_bytes() == (b"1,0,0001-01-01T00:00:00.0000000\r\n"
                                              b"2,0,0001-01-01T00:00:00.0000000\r\n"
                                              b"3,30,2020-01-02T00:00:00.0000000\r\n")


def test_a_damaged_registry_is_refused_and_nothing_outside_is_touched(tmp_path, spark_session):
    import duckdb
    store = tmp_path / "store"
    store.mkdir()
    keep = tmp_path / "keep"
    keep.mkdir()
    (keep / "f").write_text("x")
    _run("CREATE TABLE T (a int, INDEX i CLUSTERED (a) DISTRIBUTED BY HASH (a));\n"
         "INSERT INTO T VALUES (1);\n", store, spark_session)
    con = duckdb.connect(str(store / "catalog" / "spark" / "catalog.duckdb"))
    con.execute("UPDATE usqlrw_meta.spark_tables SET segments = '[\"../../../keep\"]'")
    con.close()
    with pytest.raises(JobFailed) as ei:
        _run("DROP TABLE T;\n", store, spark_session)
    assert "the Spark catalog's entry of the table master.dbo.T is damaged" in str(ei.value)
    assert "\n" not in str(ei.value) and (keep / "f").read_text() == "x"
