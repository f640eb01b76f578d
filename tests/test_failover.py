"""End to end: plan and apply the bundled example against the ADLA emulator, through the real SDK."""
import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from usqlrw.cli import cli
from usqlrw.failover import PlanError, apply_plan, load_plan, load_state
from usqlrw.jobs.client import make_clients
from usqlrw.jobs.emulator import Emulator
from usqlrw.jobs.submit import RetryPolicy

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "examples"


@pytest.fixture
def project(tmp_path):
    shutil.copytree(EXAMPLE / "project", tmp_path / "project")
    shutil.copy(EXAMPLE / "dr.toml", tmp_path / "dr.toml")
    return tmp_path


def run(*args):
    r = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


def make_plan(project):
    code, out, err = run("failover", "plan", "-c", str(project / "dr.toml"), "--out", str(project / "plan"),
                         str(project / "project"))
    assert code == 0, err
    return project / "plan"


def fast():
    return RetryPolicy(attempts=2, base=0.01, cap=0.02)


def test_plan_lists_every_step_in_order(project):
    plan_dir = make_plan(project)
    plan = load_plan(plan_dir)
    kinds = [s["kind"] for s in plan.steps]
    assert kinds == sorted(kinds, key=["catalog", "import", "job"].index)
    jobs = {Path(s["source"]).name for s in plan.steps if s["kind"] == "job"}
    assert jobs == {"aggregate.usql", "daily_ingest.usql", "export_to_blob.usql"}   # ddl.usql: catalog sync
    assert all(s["account"] == "contosodr-adla" for s in plan.steps)
    assert plan.blockers == []


def test_apply_against_the_emulator_then_again(project):
    plan_dir = make_plan(project)
    emu = Emulator(accounts={"contosodr-adla": "contosodr", "contosoprod-adla": "contosoprod"}, execute=False).start()
    try:
        ok, report = apply_plan(plan_dir, endpoint=emu.url, poll_interval=0.01, retry=fast())
        assert ok and report["complete"]
        n_jobs = len(emu.created)
        assert n_jobs == len(load_plan(plan_dir).steps)
        # The secondary's catalog holds every object of the example.
        cat = make_clients(emu.url).catalog.catalog
        assert "TelemetryDR" in [d.name for d in cat.list_databases("contosodr-adla")]
        assert [s.name for s in cat.list_schemas("contosodr-adla", "TelemetryDR") if s.name == "ingest"] == ["ingest"]
        tables = [t.name for t in cat.list_tables("contosodr-adla", "TelemetryDR", "ingest")]
        assert tables == ["DeviceEvents"]
        assert [f.name for f in cat.list_table_valued_functions("contosodr-adla", "TelemetryDR", "ingest")] == ["EventsOn"]
        assert [v.name for v in cat.list_views("contosodr-adla", "TelemetryDR", "ingest")] == ["LatestReadings"]
        # Every submitted job points only at the secondary.
        jobs = make_clients(emu.url).job.job
        for acct, jid in emu.created:
            assert acct == "contosodr-adla"
            script = jobs.get(acct, jid).properties.script
            assert "contosoprod" not in script and "contosoreports." not in script
            assert not re.search(r"\bTelemetry\b(?!DR)", re.sub(r"//[^\n]*", "", script))
        # A second apply does nothing.
        ok, report = apply_plan(plan_dir, endpoint=emu.url, poll_interval=0.01, retry=fast())
        assert ok and not [s for s in report["steps"] if s["ran"]]
        assert len(emu.created) == n_jobs
    finally:
        emu.stop()


def test_interrupted_apply_resumes_without_duplicates(project):
    plan_dir = make_plan(project)
    steps = load_plan(plan_dir).steps
    emu = Emulator(accounts={"contosodr-adla": "contosodr"}, execute=False).start()
    try:
        ok1, rep1 = apply_plan(plan_dir, endpoint=emu.url, poll_interval=0.01, retry=fast(), until=steps[1]["id"])
        assert ok1 and rep1["succeeded_steps"] == 2 and not rep1["complete"]
        # The third step's submission is carried out but its answer is lost, then the service fails.
        emu.inject(drop_after=True, method="PUT", path=r"/jobs/", times=1)
        emu.inject(500, method="PUT", path=r"/jobs/", times=10)
        ok2, rep2 = apply_plan(plan_dir, endpoint=emu.url, poll_interval=0.01, retry=fast())
        assert not ok2
        state = load_state(plan_dir)["steps"]
        # The retries ran out, but the job was created: it is found, waited for, and not "failed".
        assert state[steps[2]["id"]]["state"] == "succeeded"
        assert state[steps[3]["id"]]["state"] == "failed" and "500" in state[steps[3]["id"]]["error"]
        emu.clear_faults()
        ok3, rep3 = apply_plan(plan_dir, endpoint=emu.url, poll_interval=0.01, retry=fast())
        assert ok3 and rep3["complete"]
        ran = [s["id"] for s in rep3["steps"] if s["ran"]]
        assert ran == [s["id"] for s in steps[3:]]
        ids = [jid for _, jid in emu.created]
        assert len(ids) == len(set(ids)) == len(steps)
    finally:
        emu.stop()


def test_status_json_and_stale_plans(project):
    plan_dir = make_plan(project)
    code, out, err = run("failover", "status", "--format", "json", str(plan_dir))
    rep = json.loads(out)
    assert code == 1 and not rep["complete"] and {r["state"] for r in rep["steps"]} == {"pending"}
    (project / "dr.toml").write_text((project / "dr.toml").read_text() + "\n# edited\n")
    with pytest.raises(PlanError, match="changed since the plan"):
        apply_plan(plan_dir, endpoint="http://127.0.0.1:9")
    script = next((plan_dir / "scripts").glob("*.usql"))
    script.write_bytes(script.read_bytes() + b"\n")
    with pytest.raises(PlanError, match="changed since the plan"):
        load_plan(plan_dir)


def test_blockers_fail_the_plan_with_positions(project):
    (project / "project" / "broken.usql").write_text("USE DATABASE Telemetry;\n@x = SELECT * FROM\n")
    (project / "project" / "other_db.usql").write_text("@x = SELECT * FROM Finance.dbo.Ledger;\n"
                                                       "OUTPUT @x TO \"/x.csv\" USING Outputters.Csv();\n")
    code, out, err = run("failover", "plan", "-c", str(project / "dr.toml"), "--out", str(project / "plan"),
                         str(project / "project"))
    assert code == 1
    assert f"{project / 'project' / 'broken.usql'}:2:19: does not parse" in err
    assert f"{project / 'project' / 'other_db.usql'}:1:20: database Finance is not in the DR config" in err
    with pytest.raises(PlanError, match="blocker"):
        apply_plan(project / "plan", endpoint="http://127.0.0.1:9")
