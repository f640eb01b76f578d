"""The example project (examples/project) transpiled whole to PySpark: its catalog (a partitioned
table, a TVF, a view) and its file set lowered, compiled in order against one catalog model. The
programs run (one of them with plain `python`, as spark-submit would; the others in the test
run's shared session) and give the same outputs as `usqlrw run --engine spark` and DuckDB on the
same input (written here)."""
from __future__ import annotations

import os
import runpy
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from usqlrw.cli import cli
from usqlrw.engine import run_file
from usqlrw.engine.transpile import CatalogModel, transpile

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "examples", "project")
# the example inserts into a partition the drill's catalog sync adds: this job adds it here
ADD_PARTITION = "ALTER TABLE Telemetry.ingest.DeviceEvents ADD PARTITION (new DateTime(2024, 1, 15));\n"
ORDER = ["ddl", "add_partition", "daily_ingest", "aggregate", "export_to_blob"]
OUTPUTS = ["telemetry/reports/daily_stats.csv", "accounts/contosoreports/reports/telemetry/latest.tsv"]


def _scripts(tmp_path):
    (tmp_path / "add_partition.usql").write_text(ADD_PARTITION)
    return [str(tmp_path / "add_partition.usql") if n == "add_partition" else os.path.join(EXAMPLES, n + ".usql")
            for n in ORDER]


def _store(root):
    """Two days of device events (a header line each, as skipFirstNRows: 1 expects), one day read."""
    raw = root / "telemetry" / "raw" / "2024"
    (raw / "01" / "15").mkdir(parents=True)
    (raw / "01" / "16").mkdir(parents=True)
    (raw / "01" / "15" / "a.csv").write_text("DeviceId,EventTime,Reading,RawTags\n"
                                             "dev1,2024-01-15T01:00:00,1.5,x\ndev2,2024-01-15T02:00:00,,y\n"
                                             "dev3,2024-01-15T02:30:00,4,v\n")
    (raw / "01" / "15" / "b.csv").write_text("DeviceId,EventTime,Reading,RawTags\n"
                                             "dev1,2024-01-15T03:30:00,2.25,z\ndev3,2024-01-15 04:00:00,7,w\n"
                                             "dev1,2024-01-15T05:00:00,3,u\n")
    (raw / "01" / "16" / "a.csv").write_text("DeviceId,EventTime,Reading,RawTags\ndev9,2024-01-16T01:00:00,9,q\n")
    return root


def test_the_example_project_transpiles_whole(tmp_path):
    model = CatalogModel()
    try:
        results = [transpile(open(p).read(), "pyspark", p, None, model) for p in _scripts(tmp_path)]
    finally:
        model.close()
    assert [r.todos for r in results] == [[]] * len(ORDER)
    ddl, _, ingest, aggregate, export = (r.text for r in results)
    assert "catalog.create('Telemetry.ingest', 'DeviceEvents'" in ddl and "partition=['EventDate']" in ddl
    assert "store_files(STORE, 'telemetry/raw/*/*/*/*.csv')" in ingest and "catalog.append(" in ingest
    assert "catalog.frame('Telemetry.ingest', 'DeviceEvents')" in aggregate      # the TVF, compiled in
    assert "catalog.frame('Telemetry.ingest', 'DeviceEvents')" in export         # the view, compiled in
    for r in results:
        compile(r.text, "p.py", "exec")
    # alone (no catalog model of the DDL before it), the same script cannot be compiled: a marked TODO
    alone = transpile(open(os.path.join(EXAMPLES, "aggregate.usql")).read(), "pyspark", "aggregate.usql")
    assert [(t.line, t.column) for t in alone.todos] == [(1, 1), (8, 10), (11, 8)]    # USE, the TVF, @stats
    assert "the database Telemetry does not exist" in alone.todos[0].message
    assert "TODO(usqlrw)" in alone.text and "#   | USE DATABASE Telemetry" in alone.text
    # the Spark SQL form leaves the catalog's tables and file sets as marked TODOs
    sql = transpile(open(os.path.join(EXAMPLES, "ddl.usql")).read(), "spark-sql", "ddl.usql")
    assert [t.line for t in sql.todos] == [6, 30] and sql.todos[0].message == "the catalog is transpiled --to pyspark only"
    assert "-- TODO(usqlrw): the catalog is transpiled --to pyspark only (ddl.usql:6:1)" in sql.text


def test_cli_compiles_scripts_in_order_against_one_catalog(tmp_path):
    scripts = _scripts(tmp_path)
    res = CliRunner().invoke(cli, ["transpile", "--to", "pyspark", "-o", str(tmp_path / "out"), *scripts])
    assert res.exit_code == 0, res.output
    assert sorted(os.listdir(tmp_path / "out")) == sorted(n + ".py" for n in ORDER)
    res = CliRunner().invoke(cli, ["transpile", "--to", "pyspark", "-o", str(tmp_path / "out2"), scripts[3], scripts[0]])
    assert res.exit_code == 1
    assert f"{scripts[3]}:1:1: TODO: the database Telemetry does not exist" in res.stderr


def _lines(p):
    return sorted(open(p, "rb").read().split(b"\r\n"))


@pytest.mark.spark
def test_transpiled_project_gives_the_outputs_of_run(tmp_path, spark_session):
    from usqlrw.engine.spark_engine import session
    scripts = _scripts(tmp_path)
    model = CatalogModel()
    try:
        programs = []
        for name, p in zip(ORDER, scripts):
            prog = tmp_path / "programs" / (name + ".py")
            prog.parent.mkdir(exist_ok=True)
            prog.write_text(transpile(open(p).read(), "pyspark", p, None, model).text)
            programs.append(prog)
    finally:
        model.close()
    stores = {k: _store(tmp_path / k) for k in ("duckdb", "spark", "program")}
    for p in scripts:
        run_file(p, str(stores["duckdb"]))
        run_file(p, str(stores["spark"]), engine="spark", master=spark_session)
    for prog in programs[:-1]:      # spark-submit's way: main(spark, STORE) in the shared session
        runpy.run_path(str(prog))["main"](session(spark_session), str(stores["program"]))
    # the last one as its own process: `python export_to_blob.py STORE` reads the tables on disk
    env = dict(os.environ, PYSPARK_PYTHON=sys.executable)
    r = subprocess.run([sys.executable, str(programs[-1]), str(stores["program"])], capture_output=True, text=True,
                       timeout=600, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    want = open(stores["duckdb"] / OUTPUTS[0], "rb").read()
    assert want == (b'"DeviceId","Events","MeanReading","Rank"\r\n"dev1",3,2.25,1\r\n"dev3",2,5.5,2\r\n'
                           b'"dev2",1,,3\r\n')
    for k in ("spark", "program"):
        # ORDER BY Rank: the same bytes; the export has no ORDER BY: the same rows
        assert open(stores[k] / OUTPUTS[0], "rb").read() == want, k
        assert _lines(stores[k] / OUTPUTS[1]) == _lines(stores["duckdb"] / OUTPUTS[1]), k
    assert len(_lines(stores["duckdb"] / OUTPUTS[1])) == 4       # three devices of the 15th, and the end
    wh = stores["program"] / "catalog" / "spark" / "warehouse" / "Telemetry.ingest" / "DeviceEvents"
    assert any(d.startswith("EventDate=2024-01-15") for seg in os.listdir(wh) for d in os.listdir(wh / seg))
    shutil.rmtree(tmp_path / "programs")
