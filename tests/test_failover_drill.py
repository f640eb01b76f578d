"""``usqlrw failover drill``: a failover rehearsed end to end on an emulator that runs the jobs, ending
with ``failover verify`` comparing every replicated table and every job output on both sides.

The drill fixture (tests/fixtures/drill) is a small sensor pipeline: a partitioned table of ints, a
long? and a bool (types whose staging codec the engine runs), a parameterised ingest job over a
file set, an ordered report that joins a reference file, and an export to a blob container; its
input files are seeded on the primary store from the DR config's ``options.emulator_data``."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "jobs"))
from jobsupport import create_params, new_id, run_to_end, sdk_clients  # noqa: E402

from usqlrw.cli import cli  # noqa: E402
from usqlrw.config import load_config  # noqa: E402
from usqlrw.emulator import Emulator  # noqa: E402
from usqlrw.failover import load_plan  # noqa: E402
from usqlrw.failover.drill import run_drill, seed_stores  # noqa: E402
from usqlrw.failover.stores import store_sync  # noqa: E402
from usqlrw.jobs.client import resolve_endpoint  # noqa: E402
from usqlrw.jobs.submit import RetryPolicy, parse_param, prepare_request  # noqa: E402

ROOT = Path(__file__).parent.parent
FIXTURE = Path(__file__).parent / "fixtures" / "drill"
PRIM, PSTORE, SEC, SSTORE = "shop-adla", "shoplake", "shopdr-adla", "shoplakedr"


def run(*args):
    r = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


@pytest.fixture
def project(tmp_path):
    shutil.copytree(FIXTURE, tmp_path / "drill")
    return tmp_path / "drill"


@pytest.fixture
def emu(tmp_path):
    e = Emulator(accounts={PRIM: PSTORE, SEC: SSTORE}, data_dir=str(tmp_path / "emu"), max_lifetime=300).start()
    yield e
    e.close()


def stores(emu):
    """The drill's own seams (the store client over the emulator's WebHDFS stores), fast retries."""
    return dict(retry=RetryPolicy(attempts=2, base=0.01, cap=0.02), poll_interval=0.01)


def secondary_jobs(emu):
    return [j for a, j in emu.created if a.lower() == SEC]


# -- the whole drill ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def drilled(tmp_path_factory):
    """The drill fixture drilled once with the CLI on the embedded emulator (state in its folder)."""
    d = tmp_path_factory.mktemp("drilled")
    shutil.copytree(FIXTURE, d / "drill")
    code, out, err = run("failover", "drill", "-c", d / "drill" / "dr.toml", "--out", d / "out", d / "drill" / "project")
    return d, code, out, err


def test_the_drill_ends_with_every_table_and_output_equal(drilled):
    d, code, out, err = drilled
    assert code == 0, out + err
    phases = [line.split("]", 1)[0] + "]" for line in out.splitlines() if line.split("] ", 1)[-1].startswith("done")]
    assert phases == ["[plan]", "[seed]", "[primary]", "[sync]", "[apply]", "[primary-jobs]", "[verify]"]
    assert "[seed] done: 4 file(s) put on the primary's stores" in out
    # production ran the DR copy of the ingest job, not the job itself
    assert "DR copy of" in out and "ingest.usql: succeeded" in out
    # each side: the rows imported (or staged by production) plus the drill's own run of the ingest job
    assert "Sensors.dbo.Readings -> SensorsDR.dbo.Readings: equal (14 rows)" in out
    assert ("report.usql:11: shoplake:/sensors/reports/stats.csv -> shoplakedr:/sensors/reports/stats.csv: "
            "equal in order (4 rows)") in out
    assert ("export.usql:3: wasbs://out@shopreports.blob.core.windows.net/latest/latest.tsv -> "
            "wasbs://out@shopreportsdr.blob.core.windows.net/latest/latest.tsv: equal (3 rows)") in out
    assert "drill complete: 1 of 1 tables equal; 2 of 2 job outputs equal" in err
    # the files compared are real: each side's report was computed from the rows and the reference file
    data = d / "out" / "emulator-data" / "stores"
    for store in (PSTORE, SSTORE):
        rows = (data / store / "sensors" / "reports" / "stats.csv").read_text().splitlines()
        assert rows[0] == '"Device","Name","N","Total"' and rows[1] == '1,"boiler room",6,34'
    # the inputs came to the secondary by the sync (the seed writes only the primary's store)
    assert "[sync] done: 4 file(s) copied for 2 input(s) the jobs read" in out
    assert (data / SSTORE / "sensors" / "ref" / "devices.csv").read_bytes() == (
        FIXTURE / "data" / PSTORE / "sensors" / "ref" / "devices.csv").read_bytes()


def test_the_standalone_commands_read_the_drills_folder(drilled):
    d, code, _, _ = drilled
    assert code == 0
    code, out, err = run("failover", "status", d / "out")
    assert code == 0 and "6/6 steps succeeded" in out
    code, out, err = run("failover", "verify", d / "out", "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["equal"] and [t["secondary"] for t in doc["tables"]] == ["SensorsDR.dbo.Readings"]
    assert [(o["step"].split("-", 1)[1], o["ordered"], o["primary_rows"]) for o in doc["outputs"]] == [
        ("job-export", False, 3), ("job-report", True, 4)]


def test_rerunning_any_import_changes_nothing(drilled):
    d, code, _, _ = drilled
    assert code == 0
    plan = load_plan(d / "out")
    imports = [s for s in plan.steps if s["kind"] == "import"]
    assert imports
    emu = Emulator(str(d / "out" / "emulator.sqlite")).start()
    try:
        job, _, _ = sdk_clients(emu)
        for st in imports:
            params = [parse_param(f"{p['name']}:{p['type']}={p['value']}") for p in st["parameters"]]
            req = prepare_request(SEC, plan.files[st["script"]], source=st["script"], params=params)
            jid = new_id()
            job.job.create(SEC, jid, create_params(req.script, "rerun import"))
            info = run_to_end(job, SEC, jid)[1]
            assert info.result.value == "Succeeded", [e.message for e in info.error_message or []]
    finally:
        emu.close()
    code, out, err = run("failover", "verify", d / "out")
    assert code == 0, out + err
    assert "SensorsDR.dbo.Readings: equal (14 rows)" in out


def test_verify_reports_an_output_that_differs_or_is_missing(drilled, tmp_path):
    d, code, _, _ = drilled
    assert code == 0
    copy = tmp_path / "out"
    shutil.copytree(d / "out", copy)
    shutil.copytree(d / "drill", tmp_path / "drill")      # the plan names its sources relative to itself
    data = copy / "emulator-data" / "stores"
    stats = data / SSTORE / "sensors" / "reports" / "stats.csv"
    rows = stats.read_text().splitlines()
    stats.write_text("\n".join([rows[0], rows[2], rows[1]] + rows[3:]))   # same rows, another order
    (data / "shopreports" / "out" / "latest" / "latest.tsv").unlink()   # the primary's export is gone
    code, out, err = run("failover", "verify", copy, "--no-tables")
    assert code == 1
    assert "stats.csv: DIFFERENT in order (4 rows on the primary, 4 on the secondary)" in out
    assert f"first difference at row 2: primary {rows[1]!r}, secondary {rows[2]!r}" in out
    assert "latest.tsv: error: missing on the primary: no /out/latest/latest.tsv on the store shopreports" in out
    assert "0 of 2 job outputs equal, 2 not" in err
    # a row changed: the multiset difference names it on each side
    stats.write_text("\n".join(rows[:-1] + ["3,\"cellar\",4,11"]))
    code, out, _ = run("failover", "verify", copy, "--no-tables", "--format", "json")
    report = next(o for o in json.loads(out)["outputs"] if o["ordered"])
    assert code == 1 and report["only_primary"] == [[rows[-1], 1]] and report["only_secondary"] == [['3,"cellar",4,11', 1]]


# -- what a drill must catch ----------------------------------------------------------------------

def test_a_job_inserting_into_a_missing_table_fails_as_adla_would(project, emu):
    (project / "project" / "late.usql").write_text(
        "@a = SELECT * FROM (VALUES (1, 2)) AS T(Device, Hour);\n"
        "INSERT INTO Sensors.dbo.Missing SELECT * FROM @a;\n")
    cfg = load_config(project / "dr.toml")
    seed_stores(cfg, emu)
    result = run_drill(project / "dr.toml", [project / "project"], project / "out", endpoint=emu.url, **stores(emu))
    assert not result.ok and result.failed_phase == "primary"
    assert "late.usql on shop-adla" in result.error
    assert "E_CSC_USER_DDLENTITYDOESNOTEXIST at line 2" in result.error and "Missing" in result.error
    assert secondary_jobs(emu) == []     # the failover never started


def test_an_input_deleted_on_the_secondary_is_reported_before_any_job_is_submitted(project, emu):
    cfg = load_config(project / "dr.toml")
    seed_stores(cfg, emu)
    copy = store_sync(resolve_endpoint(emu.url))

    def sync_then_lose_one(copies):
        copied = copy(copies)
        (Path(emu.store_path(SSTORE)) / "sensors" / "ref" / "devices.csv").unlink()
        return copied
    kw = stores(emu)
    kw["sync"] = sync_then_lose_one
    result = run_drill(project / "dr.toml", [project / "project"], project / "out", endpoint=emu.url, **kw)
    assert not result.ok and result.failed_phase == "apply"
    assert "nothing was submitted" in result.error
    assert "step 06-job-report reads /sensors/ref/devices.csv, which is not on the store shoplakedr" in result.error
    assert "scripts/06-job-report.usql:4:10" in result.error
    assert secondary_jobs(emu) == []
    assert not (project / "out" / "state.json").exists() or all(
        s["state"] == "pending" for s in json.loads((project / "out" / "state.json").read_text())["steps"].values())


def test_a_drill_against_azure_is_refused_unless_asked(project):
    text = (project / "dr.toml").read_text().replace("emulator = true", "emulator = false").replace(
        'emulator_data = "data"\n', "")
    (project / "dr.toml").write_text(text)
    code, out, err = run("failover", "drill", "-c", project / "dr.toml", "--out", project / "out", project / "project")
    assert code == 2 and "runs jobs on the primary account shop-adla" in err and "--run-on-primary" in err
    assert not (project / "out").exists()     # refused before anything was written or sent
    code, _, err = run("failover", "drill", "-c", project / "dr.toml", "--out", project / "out", "--run-on-primary",
                       "--endpoint", "https://{account}.azuredatalakeanalytics.net", project / "project")
    assert code == 2 and "azure-identity is not installed" in err and "Traceback" not in err
    assert not (project / "out").exists()


def test_emulator_data_seeds_only_the_primarys_stores(project, emu):
    (project / "data" / SSTORE).mkdir()
    with pytest.raises(Exception) as e:
        seed_stores(load_config(project / "dr.toml"), emu)
    assert "only folders named for the primary's store accounts" in str(e.value)
    code, _, err = run("failover", "drill", "-c", project / "dr.toml", "--out", project / "out", project / "project")
    assert code == 2 and f"data/{SSTORE}: options.emulator_data holds only folders named for" in err
    assert "Traceback" not in err and emu.created == []


# -- the bundled example --------------------------------------------------------------------------

def test_the_bundled_example_drill(tmp_path):
    """The README's first command, in a copy of the examples: every phase runs (the example's table
    has string, DateTime, double? and SQL.MAP columns, all through the staging codec's C# on the
    engine), and verify finds the table and both job outputs equal."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    p = subprocess.run([sys.executable, "-m", "usqlrw", "failover", "drill", "-c", "examples/dr.toml",
                        "--out", "failover-drill", "examples/project"], cwd=tmp_path, capture_output=True,
                       text=True, timeout=600)
    assert "Traceback" not in p.stderr
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Telemetry.ingest.DeviceEvents -> TelemetryDR.ingest.DeviceEvents: equal" in p.stdout
    assert "drill complete: 1 of 1 tables equal; 2 of 2 job outputs equal" in p.stderr


def test_a_folder_named_like_a_column_is_only_a_folder(tmp_path):
    """Staged rows live under /NAME=VALUE/ folders (a job's parameters): the engine must not read
    them as DuckDB hive partitions, which would add a BIGINT column clashing with an extracted one."""
    (tmp_path / "in" / "day=15").mkdir(parents=True)
    (tmp_path / "in" / "day=15" / "rows.tsv").write_text("=7\tx\n")
    (tmp_path / "job.usql").write_text(
        '@r = EXTRACT Day string, Name string FROM "/in/day=15/rows.tsv" USING Extractors.Tsv();\n'
        '@o = SELECT Day.Substring(1) AS D, Name FROM @r;\n'
        'OUTPUT @o TO "/out.csv" USING Outputters.Csv();\n')
    code, _, err = run("run", "--store", tmp_path, tmp_path / "job.usql")
    assert code == 0, err
    assert (tmp_path / "out.csv").read_text().splitlines() == ['"7","x"']


def test_a_script_that_does_not_parse_stops_the_drill_at_its_plan(project):
    (project / "project" / "broken.usql").write_text("@a = SELECT 1 AS x FROM;\n")
    code, out, err = run("failover", "drill", "-c", project / "dr.toml", "--out", project / "out", "--format", "json",
                         project / "project")
    assert code == 1 and "Traceback" not in err
    doc = json.loads(out)
    assert doc["failed_phase"] == "plan" and doc["verify"] is None
    assert [p["phase"] for p in doc["phases"]] == ["plan"]
    assert any(b.startswith(str(project / "project" / "broken.usql") + ":1:") for b in doc["blockers"])
    assert "the drill failed in its plan phase" in err


def test_the_sync_puts_each_file_where_the_rewritten_job_reads_it(project, emu):
    """A location the DR config maps to another folder: the sync follows the mapping (a file set's
    files keep their own names under the mapped prefix), and the drill still ends all equal."""
    from usqlrw.failover.drill import _map
    assert _map("/raw/x/day=1/f.csv", "/raw/x/day=*/*.csv", "/dr/day=*/*.csv") == "/dr/day=1/f.csv"
    report = project / "project" / "report.usql"
    report.write_text(report.read_text().replace(
        '"/sensors/ref/devices.csv"', '"adl://shoplake.azuredatalakestore.net/sensors/ref/devices.csv"'))
    with open(project / "dr.toml", "a") as f:
        f.write('\n[[locations]]\nfrom = "adl://shoplake.azuredatalakestore.net/sensors/ref/"\n'
                'to = "adl://shoplakedr.azuredatalakestore.net/reference/sensors/"\n')
    seed_stores(load_config(project / "dr.toml"), emu)
    result = run_drill(project / "dr.toml", [project / "project"], project / "out", endpoint=emu.url, **stores(emu))
    assert result.ok, result.error
    assert "shoplakedr:/reference/sensors/devices.csv" in result.copied
    assert not (Path(emu.store_path(SSTORE)) / "sensors" / "ref").exists()
    assert result.verification.equal and len(result.verification.outputs) == 2
