"""Failover plans with parameters, parallel apply, outage mode and failback, against the emulator."""
import json


from usqlrw.failover import apply_plan, load_plan
from usqlrw.jobs.client import make_clients
from usqlrw.jobs.emulator import Emulator
from failover_support import DR, PROD, emu, fast, project, run  # noqa: F401  (fixtures by name)


def step(plan, name):
    return next(s for s in plan.steps if name in s["id"])


# -- 5. parameters --------------------------------------------------------------------------------

def test_parameters_are_typed_by_the_scripts_declare_external(project, emu):
    code, _, err = run("failover", "plan", "-c", project / "dr.toml", "-o", project / "plan", "-p", "day=2024-02-01",
                       project / "project")
    assert code == 0, err
    plan = load_plan(project / "plan")
    for name in ("job-daily_ingest", "import-"):
        assert step(plan, name)["parameters"] == [{"name": "day", "type": "DateTime", "value": "2024-02-01"}]
    assert step(plan, "job-aggregate")["parameters"] == []
    ok, _ = apply_plan(project / "plan", endpoint=emu.url, poll_interval=0.01, retry=fast())
    assert ok
    jobs = make_clients(emu.url).job.job
    by_name = {jobs.get(a, j).name: jobs.get(a, j).properties.script for a, j in emu.created}
    sent = by_name[step(plan, "job-daily_ingest")["id"]]
    assert sent.startswith("DECLARE @day DateTime = new DateTime(2024, 2, 1, 0, 0, 0);\n")
    assert "DECLARE @day" not in by_name[step(plan, "job-aggregate")["id"]]


def test_per_job_parameters_from_the_config_and_bad_values_block(project):
    cfg = project / "dr.toml"
    for bad, msg in (("day=tomorrow", "is not a date"), ("nope=1", "no step declares it")):
        code, _, err = run("failover", "plan", "-c", cfg, "-o", project / "p2", "--force", "-p", bad,
                           project / "project")
        assert code == 1 and msg in err and "Traceback" not in err
    cfg.write_text(cfg.read_text() + "\n[jobs.daily_ingest.parameters]\nday = 2024-03-01\n")
    code, _, err = run("failover", "plan", "-c", cfg, "-o", project / "plan", "-p", "day=2024-01-31",
                       project / "project")
    assert code == 0, err
    plan = load_plan(project / "plan")   # the job's own value wins over -p
    assert step(plan, "job-daily_ingest")["parameters"][0]["value"] == "2024-03-01"
    cfg.write_text(cfg.read_text() + "\n[jobs.aggregate.parameters]\nday = 2024-03-01\n")
    code, _, err = run("failover", "plan", "-c", cfg, "-o", project / "p3", project / "project")
    assert code == 1 and "[jobs.aggregate.parameters] day: the script has no DECLARE EXTERNAL @day" in err


def test_a_malformed_jobs_table_blocks_the_plan(project):
    cfg = project / "dr.toml"
    cfg.write_text(cfg.read_text() + "\n[jobs.daily_ingest]\nparameters = 5\n")
    code, _, err = run("failover", "plan", "-c", cfg, "-o", project / "plan", project / "project")
    assert code == 1 and "[jobs.daily_ingest]: expected only a [jobs.daily_ingest.parameters] table" in err


# -- 6. parallel apply ----------------------------------------------------------------------------

def test_independent_steps_run_together_and_dependencies_are_kept(project):
    code, _, err = run("failover", "plan", "-c", project / "dr.toml", "-o", project / "plan", project / "project")
    assert code == 0, err
    plan = load_plan(project / "plan")
    agg, ingest, export = step(plan, "job-aggregate"), step(plan, "job-daily_ingest"), step(plan, "job-export")
    assert ingest["id"] in export["needs"] and ingest["id"] not in agg["needs"]   # export reads what ingest writes
    e = Emulator(accounts={DR: "contosodr"}, running_reads=30, execute=False).start()
    try:
        code, _, err = run("failover", "apply", "--endpoint", e.url, "--max-parallel", "3", project / "plan")
        assert code == 0, err
        jobs = make_clients(e.url).job.job
        info = {jobs.get(a, j).name: jobs.get(a, j) for a, j in e.created}
        assert len(info) == len(plan.steps)
        for s in plan.steps:   # nothing started before what it needs had ended
            for n in s["needs"]:
                assert info[s["id"]].submit_time >= info[n].end_time
        # aggregate and daily_ingest need the same steps and not each other: both were under way at once
        a, b = info[agg["id"]], info[ingest["id"]]
        assert a.submit_time < b.end_time and b.submit_time < a.end_time
    finally:
        e.stop()


# -- 7. outage mode and failback ------------------------------------------------------------------

def test_outage_plan_needs_nothing_from_the_primary_and_states_the_rpo(project, emu):
    bundle = project / "bundle"
    code, _, err = run("replicate", "-c", project / "dr.toml", "-o", bundle, project / "project")
    assert code == 0, err
    code, _, err = run("submit", "--bundle", bundle, "--endpoint", emu.url, "--wait",   # replication ran
                       "--poll-interval", "0.01")
    assert code == 0, err
    ended = [json.loads(x) for x in (bundle / "usqlrw-submissions.jsonl").read_text().splitlines()]
    imported = max(r["time"] for r in ended if r["event"] == "ended" and r["source"].startswith("secondary/jobs/"))

    code, text, err = run("failover", "plan", "-c", project / "dr.toml", "-o", project / "plan", "--primary-down",
                          "--replication", bundle, project / "project")
    assert code == 0, err
    plan = load_plan(project / "plan")
    assert plan.data["mode"] == "outage"
    assert {s["account"] for s in plan.steps} == {DR}
    assert not [m for m in plan.data["manual"] if m.get("before") == "primary"]
    assert plan.data["rpo"] == [{"table": "Telemetry.ingest.DeviceEvents", "last_replicated": imported,
                                 "by": "secondary/jobs/daily_ingest.import.usql", "partition": "PARTITION (@day)",
                                 "text": plan.data["rpo"][0]["text"]}]
    assert f"Telemetry.ingest.DeviceEvents: last replicated {imported}" in text
    assert "What the secondary has (RPO)" in (project / "plan" / "plan.md").read_text()

    emu.inject(503, path=r"^/contosoprod-adla/", times=10 ** 6)   # the primary is down
    before = len(emu.requests)
    code, _, err = run("failover", "apply", "--endpoint", emu.url, project / "plan")
    assert code == 0, err
    assert not [p for _, p, _ in emu.requests[before:] if "contosoprod" in p]

    # no records: said so, per table; broken records: refused
    code, text, _ = run("failover", "plan", "-c", project / "dr.toml", "-o", project / "p2", "--primary-down",
                        project / "project")
    assert code == 0 and "no replication records given" in text
    (bundle / "manifest.json").write_text(json.dumps({"format": "usqlrw-replication-bundle/1", "steps": {}}))
    code, _, err = run("failover", "plan", "-c", project / "dr.toml", "-o", project / "p3", "--primary-down",
                       "--replication", bundle, project / "project")
    assert code == 2 and "manifest.json" in err and len(err.strip().splitlines()) == 1


def test_failback_copies_back_what_the_failover_wrote(project, emu):
    code, _, err = run("failover", "plan", "-c", project / "dr.toml", "-o", project / "plan", "-p", "day=2024-02-01",
                       project / "project")
    assert code == 0, err
    ok, _ = apply_plan(project / "plan", endpoint=emu.url, poll_interval=0.01, retry=fast())
    assert ok
    code, text, err = run("failback", "-c", project / "dr.toml", "--from", project / "plan", "-o", project / "back")
    assert code == 0, err
    back = load_plan(project / "back")
    kinds = [(s["kind"], s["account"]) for s in back.steps]
    assert kinds[-2:] == [("export", DR), ("import", PROD)] and {k for k, _ in kinds[:-2]} == {"catalog"}
    assert {a for _, a in kinds[:-2]} == {PROD}
    exp, imp = (back.files[s["script"]].decode() for s in back.steps[-2:])
    assert "FROM TelemetryDR.ingest.DeviceEvents" in exp and "new DateTime(2024, 2, 1, 0, 0, 0)" in exp
    assert "INSERT INTO Telemetry.ingest.DeviceEvents PARTITION (new DateTime(2024, 2, 1, 0, 0, 0))" in imp
    assert "TelemetryDR" not in imp.replace("/staging/TelemetryDR/", "")
    assert "point the job schedules" in text
    n = len(emu.created)
    ok, _ = apply_plan(project / "back", endpoint=emu.url, poll_interval=0.01, retry=fast())
    assert ok and [a for a, _ in emu.created[n:]] == [a for _, a in kinds]
    cat = make_clients(emu.url).catalog.catalog
    assert [t.name for t in cat.list_tables(PROD, "Telemetry", "ingest")] == ["DeviceEvents"]
    # a failback plan is not a failover to fail back from; a changed config is refused
    code, _, err = run("failback", "-c", project / "dr.toml", "--from", project / "back", "-o", project / "b2")
    assert code == 2 and "a failback plan" in err
    (project / "dr.toml").write_text((project / "dr.toml").read_text() + "\n# edited\n")
    code, _, err = run("failback", "-c", project / "dr.toml", "--from", project / "plan", "-o", project / "b3")
    assert code == 2 and "changed since the plan was made" in err
