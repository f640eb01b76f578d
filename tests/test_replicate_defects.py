"""Defects of the generated DR copies, found by trying them as a user would: the export must read
columns that the bound rows have (a UNION source is named by its left side), a non-nullable value
written into a nullable column is converted before ``.Value``, keyword columns stay quoted.

The rows a DR copy binds are run on the engine, so the names the export reads are checked against
what the engine says the rowset has, not against what the generator believes."""
from __future__ import annotations

import re
from pathlib import Path

import sys

import usqlrw
from usqlrw import ast as A
from usqlrw.config import load_config
from usqlrw.replicate import build_bundle

sys.path.insert(0, str(Path(__file__).parent))
from replication_drill import recording  # noqa: E402,F401  (every bundle built here is drilled)

HERE = Path(__file__).parent / "fixtures" / "replicate"
CONFIG = load_config(HERE / "dr.toml")

DDL = """CREATE DATABASE IF NOT EXISTS Sales;
USE DATABASE Sales;
CREATE TABLE IF NOT EXISTS dbo.Items (Id int, [class] string, Price decimal?,
    INDEX ix CLUSTERED (Id) DISTRIBUTED BY HASH (Id));
"""
JOB = """@a = SELECT * FROM (VALUES (1, "x", 2.5m)) AS T(Id, [class], Price);
@b = SELECT * FROM (VALUES (2, "y", 3.5m)) AS T(Key, Kind, Cost);
INSERT INTO Sales.dbo.Items (Id, [class], Price)
SELECT Key, Kind, Cost FROM @b UNION ALL SELECT Id, [class], Price FROM @a;
"""


def dr_copy():
    scripts = [("ddl.usql", usqlrw.parse(DDL)), ("job.usql", usqlrw.parse(JOB))]
    b = build_bundle(scripts, CONFIG)
    return b, b.files["primary/jobs/job.usql"].decode()


def staged_select(text):
    s = usqlrw.parse(text)
    st = next(x for x in s.statements if isinstance(x, A.RowsetAssignment)
              and x.targets[0].name == "@usqlrw_staged_1")
    return text, st.query


def test_a_union_source_is_exported_by_the_names_its_rows_have(tmp_path):
    b, text = dr_copy()
    assert not [w for w in b.warnings if "could not be told" in w]
    # run what the DR copy binds, on the engine, and read the names of its columns
    bound = text[:text.index("INSERT INTO")]
    probe = bound + 'OUTPUT @usqlrw_rows_1 TO "/rows.csv" USING Outputters.Csv(outputHeader: true);\n'
    from usqlrw.engine import run_text
    run_text(probe, str(tmp_path))
    header = (tmp_path / "rows.csv").read_text().splitlines()[0]
    names = [h.strip('"') for h in header.split(",")]
    assert names == ["Key", "Kind", "Cost"]
    src, q = staged_select(text)
    read = {n.ident.name for n in A.walk(q) if isinstance(n, A.Name)}
    assert read & {"Id", "class", "Price"} == set()           # no name the rows do not have
    assert {"Key", "Kind", "Cost"} <= read


def test_a_non_nullable_value_into_a_nullable_column_is_converted_before_value():
    _, text = dr_copy()
    # Cost is decimal (2.5m), the column decimal?: .Value applies to the converted value only
    assert "Cost.Value" not in text
    assert re.search(r"\(\(decimal\?\) Cost\)\.Value", text)
    usqlrw.parse(text)


def test_keyword_columns_stay_quoted_in_the_export_and_the_import():
    b, text = dr_copy()
    assert "AS [class]" in text
    imp = b.files["secondary/jobs/job.import.usql"].decode()
    assert re.search(r"\[class\] string", imp) and "AS [class]" in imp
    assert not re.search(r"[^\[]\bclass\b[^\]]", imp.split("\n", 3)[3].replace("[class]", ""))
    usqlrw.parse(imp)


COUNTS_DDL = """CREATE DATABASE IF NOT EXISTS Sales;
USE DATABASE Sales;
CREATE TABLE IF NOT EXISTS dbo.Counts (Id int, N long?, Ok bool, INDEX ix CLUSTERED (Id) DISTRIBUTED BY HASH (Id));
"""
COUNTS_JOB = """DECLARE EXTERNAL @batch int = 1;
@a = SELECT * FROM (VALUES (1, 10L, true), (2, 20L, false)) AS T(Id, N, Ok);
INSERT INTO Sales.dbo.Counts SELECT * FROM @a;
"""


def test_a_dr_copy_and_its_import_run_end_to_end_and_a_rerun_adds_nothing():
    """On an executing emulator: the primary runs the DDL and the job's DR copy (which stages its
    rows on the secondary's store, in the bytes the format's Python specification writes); the
    secondary runs the catalog sync and the import. Rerunning the import adds nothing; the next
    batch is imported in its turn; then both accounts hold the same rows."""
    import sys
    sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "jobs"))
    from jobsupport import create_params, new_id, run_to_end, sdk_clients
    from usqlrw.emulator import Emulator
    from usqlrw.replicate.staging import write_rows
    scripts = [("ddl.usql", usqlrw.parse(COUNTS_DDL)), ("job.usql", usqlrw.parse(COUNTS_JOB))]
    b = build_bundle(scripts, CONFIG)
    files = {k: v.decode() for k, v in b.files.items() if k.endswith(".usql")}
    prim, sec = "fabrikam-adla", "fabrikamdr-adla"
    with Emulator(accounts={prim: "fabrikamlake", sec: "fabrikamlakedr"}, max_lifetime=120) as emu:
        job, _, _ = sdk_clients(emu)

        def run(account, script, **params):
            for k, v in params.items():     # as a submission sets a DECLARE EXTERNAL parameter
                script = f"DECLARE @{k} int = {v};\n" + script
            jid = new_id()
            job.job.create(account, jid, create_params(script, "j"))
            info = run_to_end(job, account, jid)[1]
            assert info.result.value == "Succeeded", [e.message for e in info.error_message or []]

        def rows(account, db, store):
            run(account, f'@r = SELECT Id, N, Ok FROM {db}.dbo.Counts;\n'
                         'OUTPUT @r TO "/check.csv" USING Outputters.Csv();')
            return sorted((Path(emu.store_path(store)) / "check.csv").read_text().splitlines())

        run(prim, COUNTS_DDL)
        run(sec, files["catalog/sync.usql"])
        run(prim, files["primary/jobs/job.usql"], batch=1)
        staged = Path(emu.store_path("fabrikamlakedr")) / "dr/staging/Sales/dbo/Counts/job/batch=1/insert1.tsv"
        assert staged.read_bytes() == write_rows([("Id", "int"), ("N", "long?"), ("Ok", "bool")],
                                                 [(1, 10, True), (2, 20, False)])
        imp = files["secondary/jobs/job.import.usql"]
        run(sec, imp, batch=1)
        assert rows(sec, "SalesDR", "fabrikamlakedr") == ["1,10,True", "2,20,False"]
        run(sec, imp, batch=1)                       # a rerun adds nothing
        assert rows(sec, "SalesDR", "fabrikamlakedr") == ["1,10,True", "2,20,False"]
        run(prim, files["primary/jobs/job.usql"], batch=2)
        run(sec, imp, batch=2)                       # the next batch is imported, once
        run(sec, imp, batch=2)
        assert rows(sec, "SalesDR", "fabrikamlakedr") == rows(prim, "Sales", "fabrikamlake") == sorted(
            ["1,10,True", "2,20,False"] * 2)


def test_a_parameterless_jobs_runs_each_stage_their_own_rows_until_imported():
    """A job without parameters: each run of its DR copy stages its own file (run=TIMESTAMP), so a
    second run before the import overwrites nothing; the import takes every run once."""
    import sys
    sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "jobs"))
    from jobsupport import create_params, new_id, run_to_end, sdk_clients
    from usqlrw.emulator import Emulator
    job_text = COUNTS_JOB.replace("DECLARE EXTERNAL @batch int = 1;\n", "")
    b = build_bundle([("ddl.usql", usqlrw.parse(COUNTS_DDL)), ("job.usql", usqlrw.parse(job_text))], CONFIG)
    files = {k: v.decode() for k, v in b.files.items() if k.endswith(".usql")}
    prim, sec = "fabrikam-adla", "fabrikamdr-adla"
    with Emulator(accounts={prim: "fabrikamlake", sec: "fabrikamlakedr"}, max_lifetime=120) as emu:
        job, _, _ = sdk_clients(emu)

        def run(account, script):
            jid = new_id()
            job.job.create(account, jid, create_params(script, "j"))
            info = run_to_end(job, account, jid)[1]
            assert info.result.value == "Succeeded", [e.message for e in info.error_message or []]

        def count(account, db, store):
            run(account, f'@r = SELECT COUNT(*) AS n FROM {db}.dbo.Counts;\nOUTPUT @r TO "/n.csv" USING Outputters.Csv();')
            return int((Path(emu.store_path(store)) / "n.csv").read_text())

        run(prim, COUNTS_DDL)
        run(sec, files["catalog/sync.usql"])
        run(prim, files["primary/jobs/job.usql"])
        run(prim, files["primary/jobs/job.usql"])      # the next run, before any import
        staged = sorted((Path(emu.store_path("fabrikamlakedr")) / "dr/staging/Sales/dbo/Counts/job").iterdir())
        assert len(staged) == 2 and all(p.name.startswith("run=") for p in staged)
        run(sec, files["secondary/jobs/job.import.usql"])
        run(sec, files["secondary/jobs/job.import.usql"])
        assert count(sec, "SalesDR", "fabrikamlakedr") == count(prim, "Sales", "fabrikamlake") == 4
        run(prim, files["primary/jobs/job.usql"])
        run(sec, files["secondary/jobs/job.import.usql"])
        assert count(sec, "SalesDR", "fabrikamlakedr") == count(prim, "Sales", "fabrikamlake") == 6
