"""A failover you can trust: run identity, re-planning, retries, validation, locking, interrupts.

Everything runs against the ADLA emulator through the real SDK over HTTP, and the CLI in real
processes where signals and concurrency matter.
"""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time


from usqlrw.failover import apply_plan, load_plan, load_state
from usqlrw.jobs.client import make_clients
from usqlrw.jobs.emulator import Emulator
from usqlrw.lock import FolderLock
from failover_support import DR, emu, fast, project, run  # noqa: F401  (fixtures by name)


def plan(project, *extra, out="plan"):
    code, out_, err = run("failover", "plan", "-c", project / "dr.toml", "--out", project / out, *extra,
                          project / "project")
    assert code == 0, err
    return project / out


def apply(plan_dir, emu, **kw):
    return apply_plan(plan_dir, endpoint=emu.url, poll_interval=0.01, retry=fast(), **kw)


def usqlrw(*args, **kw):
    return subprocess.Popen([sys.executable, "-m", "usqlrw", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


# -- 1. run identity, re-planning -----------------------------------------------------------------

def test_a_new_plan_runs_every_job_again_and_a_rerun_none(project, emu):
    drill = plan(project, out="drill")
    ok, _ = apply(drill, emu)
    n = len(load_plan(drill).steps)
    assert ok and len(emu.created) == n
    assert "127.0.0.1" not in (drill / "state.json").read_text()   # no link to a port that will not last
    ok, rep = apply(drill, emu)                      # the same plan again: nothing new
    assert ok and len(emu.created) == n and not [s for s in rep["steps"] if s["ran"]]
    real = plan(project, out="real")                 # unchanged scripts, a new plan: every job again
    assert load_plan(real).run_id != load_plan(drill).run_id
    ok, rep = apply(real, emu)
    assert ok and len(emu.created) == 2 * n and len(set(emu.created)) == 2 * n
    assert all(s["ran"] for s in rep["steps"])


def test_replanning_needs_force_and_never_touches_user_files(project):
    out = plan(project)
    before = (out / "plan.json").read_bytes()
    code, _, err = run("failover", "plan", "-c", project / "dr.toml", "--out", out, project / "project")
    assert code == 2 and "holds a plan already" in err and "--force" in err
    assert (out / "plan.json").read_bytes() == before
    # a user's file among the plan's scripts survives --force; the plan's own files are replaced
    (out / "scripts" / "mine.usql").write_text("// mine\n")
    (out / "notes.txt").write_text("mine\n")
    code, _, err = run("failover", "plan", "-c", project / "dr.toml", "--out", out, "--force", project / "project")
    assert code == 0, err
    assert (out / "scripts" / "mine.usql").read_text() == "// mine\n" and (out / "notes.txt").read_text() == "mine\n"
    assert json.loads((out / "plan.json").read_bytes())["run_id"] != json.loads(before)["run_id"]
    # a folder with user files and no plan: exit 2, every file intact
    other = project / "mine"
    (other / "scripts").mkdir(parents=True)
    (other / "scripts" / "keep.usql").write_text("// keep\n")
    (other / "readme.txt").write_text("keep\n")
    for extra in ((), ("--force",)):
        code, _, err = run("failover", "plan", "-c", project / "dr.toml", "--out", other, *extra, project / "project")
        assert code == 2 and "holds no plan" in err and "Traceback" not in err
        assert sorted(p.name for p in other.rglob("*")) == ["keep.usql", "readme.txt", "scripts"]


def test_replan_after_a_ddl_change_reaches_the_secondary(project, emu):
    out = plan(project)
    ok, _ = apply(out, emu)
    assert ok
    ddl = project / "project" / "ddl.usql"
    text = ddl.read_text()
    assert "Reading double?," in text
    ddl.write_text(text.replace("Reading double?,", "Reading double?,\n    Unit string,", 1))
    code, _, err = run("failover", "plan", "-c", project / "dr.toml", "--out", out, "--force", project / "project")
    assert code == 0, err
    p = load_plan(out)
    assert load_state(out, p)["steps"] == {}            # the old state did not carry over
    sync = [p.files[s["script"]].decode() for s in p.steps if s["kind"] == "catalog"]
    assert any("ADD COLUMN" in t and "Unit" in t for t in sync)
    # only the changes: refused against another service than the one the old plan ran against
    code, _, err = run("failover", "apply", "--endpoint", "emulator", out)
    assert code == 2 and "holds only the changes since a plan applied to an emulator" in err
    assert not (out / "state.json").exists()
    ok, rep = apply(out, emu)
    assert ok and all(s["ran"] for s in rep["steps"])
    cat = make_clients(emu.url).catalog.catalog
    cols = [c.name for c in cat.get_table(DR, "TelemetryDR", "ingest", "DeviceEvents").column_list]
    assert "Unit" in cols


# -- 2. retries ---------------------------------------------------------------------------------

def test_a_cancelled_job_is_retried_as_a_new_job_and_succeeds(project, emu):
    out = plan(project)
    first = load_plan(out).steps[0]["id"]
    emu.inject(cancel=True, method="PUT", path=r"/jobs/", times=1)
    ok, rep = apply(out, emu)
    assert ok and rep["complete"]
    s = load_state(out)["steps"][first]
    assert s["attempt"] == 2 and [h["result"] for h in s["history"]] == ["Cancelled", "Succeeded"]
    assert s["history"][0]["job_id"] != s["history"][1]["job_id"] == s["job_id"]
    code, text, _ = run("failover", "status", out)
    assert code == 0
    header, row = text.splitlines()[0], text.splitlines()[1]
    assert row[header.index("attempts"):].split()[0] == "2"
    assert row[header.index("job id"):].split()[0] == s["job_id"]


def test_no_retry_leaves_a_cancelled_step_failed_until_retried(project, emu):
    out = plan(project)
    first = load_plan(out).steps[0]["id"]
    emu.inject(cancel=True, method="PUT", path=r"/jobs/", times=1)
    ok, _ = apply(out, emu, retry_failed=False)
    assert not ok and len(emu.created) == 1
    s = load_state(out)["steps"][first]
    assert (s["state"], s["result"], s["attempt"]) == ("failed", "Cancelled", 1)
    code, _, _ = run("failover", "apply", "--no-retry", "--endpoint", emu.url, out)
    assert code == 1 and len(emu.created) == 1        # nothing resubmitted
    ok, rep = apply(out, emu)                         # a plain rerun resubmits it
    assert ok and load_state(out)["steps"][first]["attempt"] == 2
    assert len(emu.created) == len(load_plan(out).steps) + 1


def test_a_job_failing_with_errors_is_not_resubmitted_in_the_same_run(project, emu):
    out = plan(project)
    ok, _ = apply(out, emu)
    assert ok
    ddl = project / "project" / "ddl.usql"
    ddl.write_text(ddl.read_text().replace("Reading double?,", "Reading double?,\n    Unit string,", 1))
    code, _, err = run("failover", "plan", "-c", project / "dr.toml", "--out", out, "--force", project / "project")
    assert code == 0, err
    fresh = Emulator(accounts={DR: "contosodr"}, execute=False).start()   # a secondary that lost its catalog
    try:
        ok, _ = apply(out, fresh, attempts=3)
        first = load_plan(out).steps[0]["id"]
        s = load_state(out)["steps"][first]
        assert not ok and (s["state"], s["result"], s["attempt"]) == ("failed", "Failed", 1)
        assert "does not exist" in s["error"] and len(fresh.created) == 1
        code, text, _ = run("failover", "status", out)
        assert code == 1 and "does not exist" in text
    finally:
        fresh.stop()


# -- 3. validation before trust -----------------------------------------------------------------

def _edit_plan(out, fn):
    data = json.loads((out / "plan.json").read_text())
    fn(data)
    (out / "plan.json").write_text(json.dumps(data))


def test_a_tampered_account_or_script_path_sends_nothing(project, emu):
    thief = Emulator(execute=False).start()
    try:
        out = plan(project)
        pristine = (out / "plan.json").read_text()
        target = project / "outside.usql"
        target.write_text("@x = SELECT * FROM (VALUES (1)) AS T(a);\nOUTPUT @x TO \"/x.csv\" USING Outputters.Csv();\n")
        import hashlib
        sha = hashlib.sha256(target.read_bytes()).hexdigest()
        tamper = [
            lambda d: d["steps"][0].update(account=f"127.0.0.1:{thief.port}/steal?x="),
            lambda d: d["steps"][0].update(account="contosoother-adla"),
            lambda d: d["secondary"].update(analytics_account="contosoother-adla"),
            lambda d: d["steps"][0].update(script="../outside.usql", sha256=sha),
            lambda d: d["steps"][0].update(script="/etc/hostname"),
            lambda d: d["steps"][0].update(order="1"),
            lambda d: d["steps"][0].pop("sha256"),
            lambda d: d.update(steps={}),
            lambda d: d["steps"][0]["parameters"].append({"name": "day", "type": "DateTime", "value": "x"}),
            lambda d: d["steps"][0]["parameters"].append({"name": "day", "type": "SQL.MAP", "value": "1"}),
        ]
        for fn in tamper:
            (out / "plan.json").write_text(pristine)
            _edit_plan(out, fn)
            code, stdout, err = run("failover", "apply", "--endpoint", emu.url, out)
            assert code == 2, err
            assert len(err.strip().splitlines()) == 1 and err.startswith("error: ") and "Traceback" not in err
            assert emu.requests == [] and thief.requests == []
        # a symlinked script that leads out of the plan folder
        (out / "plan.json").write_text(pristine)
        step = load_plan(out).steps[0]
        link = out / step["script"]
        link.unlink()
        link.symlink_to(target)
        _edit_plan(out, lambda d: d["steps"][0].update(sha256=sha))
        code, _, err = run("failover", "apply", "--endpoint", emu.url, out)
        assert code == 2 and "outside the plan folder" in err
        assert emu.requests == [] and thief.requests == []
    finally:
        thief.stop()


def test_a_plan_begun_against_one_service_is_not_resumed_against_another(project, emu):
    out = plan(project)
    ok, _ = apply(out, emu, until=load_plan(out).steps[0]["id"])
    assert ok and load_state(out)["service"] == "an emulator"
    code, _, err = run("failover", "apply", "--endpoint", "emulator", out)   # e.g. a drill's plan, for real
    assert code == 2 and "state.json records steps run against an emulator" in err
    assert len(emu.created) == 1


def test_a_broken_state_file_is_refused_not_read_as_nothing_done(project, emu):
    out = plan(project)
    ok, _ = apply(out, emu, until=load_plan(out).steps[0]["id"])
    assert ok
    n = len(emu.requests)
    good = (out / "state.json").read_text()
    for bad in ("{not json", json.dumps({"steps": {}}), good.replace('"attempt": 1', '"attempt": "1"'),
                good.replace(load_plan(out).run_id, "0" * 32)):
        (out / "state.json").write_text(bad)
        for cmd in ("apply", "status"):
            code, _, err = run("failover", cmd, *(("--endpoint", emu.url) if cmd == "apply" else ()), out)
            assert code == 2 and len(err.strip().splitlines()) == 1 and "state.json" in err
    assert len(emu.requests) == n


def test_the_config_is_found_relative_to_the_plan_and_sources_are_checked(project, tmp_path, emu):
    out = plan(project)
    assert not os.path.isabs(json.loads((out / "plan.json").read_text())["config"])
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    for name in ("plan", "dr.toml", "project"):      # the plan, its config and sources, moved together
        shutil.move(str(project / name), str(moved / name))
    out = moved / "plan"
    agg = moved / "project" / "aggregate.usql"
    agg.write_text(agg.read_text() + "\n// changed\n")
    code, _, err = run("failover", "apply", "--endpoint", emu.url, out)
    assert code == 2 and "aggregate.usql: changed since the plan was made" in err and emu.requests == []
    shutil.move(str(moved / "dr.toml"), str(tmp_path / "dr-moved.toml"))   # the config alone moved
    code, _, err = run("failover", "apply", "--endpoint", emu.url, "--allow-changed-sources", out)
    assert code == 2 and "give it with --config" in err and emu.requests == []
    code, _, err = run("failover", "apply", "--endpoint", emu.url, "--allow-changed-sources",
                       "--config", tmp_path / "dr-moved.toml", out)
    assert code == 0, err


def test_a_tampered_bundle_account_sends_nothing(project, emu):
    code, _, err = run("replicate", "-c", project / "dr.toml", "-o", project / "bundle", project / "project")
    assert code in (0, 1), err
    man = project / "bundle" / "manifest.json"
    data = json.loads(man.read_text())
    data["steps"][0]["account_name"] = "127.0.0.1:1/steal?x="
    man.write_text(json.dumps(data))
    code, _, err = run("submit", "--bundle", project / "bundle", "--endpoint", emu.url, "--no-ledger")
    assert code == 2 and "not an ADLA account name" in err and emu.requests == []


def test_bundle_manifests_are_checked_before_anything_is_sent(project, emu):
    import hashlib
    code, _, err = run("replicate", "-c", project / "dr.toml", "-o", project / "bundle", project / "project")
    assert code == 0, err
    man = project / "bundle" / "manifest.json"
    good = man.read_text()
    for edit in (lambda d: d["steps"][0].update(order="1"), lambda d: d["steps"][0].pop("account_name"),
                 lambda d: d.update(steps={"a": 1})):
        data = json.loads(good)
        edit(data)
        man.write_text(json.dumps(data))
        code, _, err = run("submit", "--bundle", project / "bundle", "--endpoint", emu.url, "--no-ledger")
        assert code == 2 and "manifest.json" in err and "Traceback" not in err
    # a dr-copy bundle records each script's hash: a changed script is refused
    jb = project / "jobs-bundle"
    (jb / "scripts").mkdir(parents=True)
    script = b'@x = SELECT * FROM (VALUES (1)) AS T(a);\nOUTPUT @x TO "/a.csv" USING Outputters.Csv();\n'
    (jb / "scripts" / "a.usql").write_bytes(script + b"// edited\n")
    (jb / "manifest.json").write_text(json.dumps({"format": "usqlrw-job-bundle/1", "jobs": [
        {"script": "scripts/a.usql", "account": DR, "name": "a", "scriptSha256": hashlib.sha256(script).hexdigest()}]}))
    code, _, err = run("submit", "--bundle", jb, "--endpoint", emu.url, "--no-ledger")
    assert code == 2 and "changed since the bundle was made" in err
    assert emu.requests == []
    (jb / "scripts" / "a.usql").write_bytes(script)
    code, _, err = run("submit", "--bundle", jb, "--endpoint", emu.url, "--no-ledger")
    assert code == 0, err


# -- 4. lock, interrupts, job identity ------------------------------------------------------------

def test_a_second_apply_is_refused_at_once_naming_the_holder(project, emu):
    out = plan(project)
    with FolderLock(out, "a test"):
        code, _, err = run("failover", "apply", "--endpoint", emu.url, out)
    assert code == 2 and f"pid {os.getpid()}" in err and "a test" in err and emu.requests == []


def test_two_concurrent_applies_leave_exactly_one_job_per_step(project):
    out = plan(project)
    n = len(load_plan(out).steps)
    e = Emulator(accounts={DR: "contosodr"}, running_reads=3, execute=False).start()
    try:
        procs = [usqlrw("failover", "apply", "--endpoint", e.url, out) for _ in range(2)]
        results = [(p.wait(60), p.stderr.read()) for p in procs]
        codes = sorted(c for c, _ in results)
        assert codes in ([0, 0], [0, 2]), results
        if codes == [0, 2]:
            assert "in use by usqlrw failover apply" in [err for c, err in results if c == 2][0]
        assert len(e.created) == len(set(e.created)) == n
        jobs = make_clients(e.url).job.job
        assert {jobs.get(a, j).result.value for a, j in e.created} == {"Succeeded"}
    finally:
        e.stop()


def _wait_for(cond, what, timeout=30):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = cond()
        if v:
            return v
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def _state(out):
    try:
        return json.loads((out / "state.json").read_text())["steps"]
    except (OSError, ValueError):
        return {}


def test_sigint_exits_130_and_status_shows_the_submitted_job(project, tmp_path):
    out = plan(project)
    db = str(tmp_path / "svc.sqlite")
    e = Emulator(db, accounts={DR: "contosodr"}, running_reads=10 ** 6, execute=False).start()   # the first job never ends
    try:
        p = usqlrw("failover", "apply", "--endpoint", e.url, out)
        first = load_plan(out).steps[0]["id"]
        _wait_for(lambda: _state(out).get(first, {}).get("state") == "running", "the first job to run")
        p.send_signal(signal.SIGINT)
        assert p.wait(30) == 130
        assert "Traceback" not in p.stderr.read()
        s = load_state(out)["steps"][first]
        assert s["state"] == "interrupted" and e.created == [(DR, s["job_id"])]
        code, text, _ = run("failover", "status", out)
        assert code == 1 and s["job_id"] in text and "interrupted" in text
    finally:
        e.stop()
    # resumed on the same service: the interrupted job is waited for, not submitted again
    e2 = Emulator(db, running_reads=1, execute=False).start()
    try:
        ok, _ = apply(out, e2)
        assert ok and len(e2.created) == len(load_plan(out).steps) - 1
        assert (DR, s["job_id"]) not in e2.created and load_state(out)["steps"][first]["job_id"] == s["job_id"]
    finally:
        e2.stop()


def test_kill_9_at_random_points_resumes_with_no_duplicate_and_no_lost_step(project, tmp_path):
    out = plan(project)
    n = len(load_plan(out).steps)
    e = Emulator(str(tmp_path / "svc.sqlite"), accounts={DR: "contosodr"}, running_reads=2, execute=False).start()
    rng = random.Random(13)
    try:
        for _ in range(6):
            p = usqlrw("failover", "apply", "--endpoint", e.url, out)
            time.sleep(rng.uniform(0.3, 2.0))
            p.send_signal(signal.SIGKILL)
            p.wait(30)
        code = usqlrw("failover", "apply", "--endpoint", e.url, out).wait(120)
        assert code == 0
        state = load_state(out)["steps"]
        assert all(s["state"] == "succeeded" and s["attempt"] == 1 for s in state.values()) and len(state) == n
        assert len(e.created) == len(set(e.created)) == n
        assert {j for _, j in e.created} == {s["job_id"] for s in state.values()}
    finally:
        e.stop()


def test_submit_refuses_an_existing_job_id_with_another_script(tmp_path, emu):
    a, b = tmp_path / "a.usql", tmp_path / "b.usql"
    a.write_text('@x = SELECT * FROM (VALUES (1)) AS T(a);\nOUTPUT @x TO "/a.csv" USING Outputters.Csv();\n')
    b.write_text('@x = SELECT * FROM (VALUES (2)) AS T(a);\nOUTPUT @x TO "/b.csv" USING Outputters.Csv();\n')
    jid = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
    args = ("submit", "--endpoint", emu.url, "-a", DR, "--job-id", jid, "--ledger", tmp_path / "l.jsonl")
    code, _, err = run(*args, a)
    assert code == 0, err
    code, out, err = run(*args, b)                    # the ledger knows job X ran another script
    assert code == 1 and "different script" in out + err
    code, out, err = run(*args[:-2], "--no-ledger", b)   # no ledger: the service's job is compared
    assert code == 1 and "different script" in out + err
    code, out, err = run(*args, a)                    # the same script again: already submitted
    assert code == 0
    assert emu.created == [(DR, jid)]


def test_ctrl_c_in_any_command_exits_130(tmp_path):
    script = tmp_path / "a.usql"
    script.write_text('@x = SELECT * FROM (VALUES (1)) AS T(a);\nOUTPUT @x TO "/a.csv" USING Outputters.Csv();\n')
    e = Emulator(running_reads=10 ** 6, execute=False).start()   # the job never ends: submit --wait waits
    try:
        p = usqlrw("submit", "--endpoint", e.url, "-a", DR, "--wait", "--no-ledger", "--poll-interval", "0.05", script)
        _wait_for(lambda: e.created, "the job to be created")
        p.send_signal(signal.SIGINT)
        assert p.wait(30) == 130
        err = p.stderr.read()
        assert "Interrupted." in err and "Aborted." not in err and "Traceback" not in err
    finally:
        e.stop()


def test_the_emulator_applies_column_changes_and_fails_impossible_ones(tmp_path, emu):
    steps = ["CREATE DATABASE IF NOT EXISTS D; USE DATABASE D; CREATE SCHEMA IF NOT EXISTS s;\n"
             "CREATE TABLE s.T (a int, b string, INDEX ix CLUSTERED (a) DISTRIBUTED BY HASH (a));",
             "USE DATABASE D;\nALTER TABLE s.T ADD COLUMN c int?, d string;",
             "ALTER TABLE D.s.T DROP COLUMN b, d;"]
    for i, text in enumerate(steps):
        f = tmp_path / f"{i}.usql"
        f.write_text(text + "\n")
        code, _, err = run("submit", "--endpoint", emu.url, "-a", DR, "--wait", "--no-ledger",
                           "--poll-interval", "0.01", f)
        assert code == 0, err
    cat = make_clients(emu.url).catalog.catalog
    assert [c.name for c in cat.get_table(DR, "D", "s", "T").column_list] == ["a", "c"]
    f = tmp_path / "bad.usql"
    f.write_text("ALTER TABLE D.s.T DROP COLUMN nope;\n")
    code, out, err = run("submit", "--endpoint", emu.url, "-a", DR, "--wait", "--no-ledger", "--poll-interval", "0.01", f)
    assert code == 1 and "nope" in out + err
    assert [c.name for c in cat.get_table(DR, "D", "s", "T").column_list] == ["a", "c"]
