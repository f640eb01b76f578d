"""usqlrw dr-copy: the primary's recurring jobs, rewritten into a bundle that runs on the secondary."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "jobs"))
from jobsupport import (PRIMARY, PRIMARY_STORE, SECONDARY, SECONDARY_STORE, create_params, emulator,  # noqa: E402,F401
                        new_id, run_to_end, sdk_clients)

import usqlrw  # noqa: E402
from usqlrw.cli import cli  # noqa: E402

JOBS = Path(__file__).parent / "fixtures" / "jobs"
INGEST = (JOBS / "recurring_ingest.usql").read_text(encoding="utf-8")
EXPORT = (JOBS / "recurring_export.usql").read_text(encoding="utf-8")


def run(*args):
    r = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


def seed_inputs(root: Path):
    """The files the recurring jobs read, in a store's folder."""
    (root / "telemetry" / "raw").mkdir(parents=True, exist_ok=True)
    (root / "telemetry" / "raw" / "events.csv").write_text("DeviceId,Reading\nd1,1.5\nd1,2.5\nd2,\nd2,4\n")
    (root / "telemetry" / "latest.tsv").write_text("d1\t2024-03-01T10:00:00\nd2\t2024-03-02T11:30:00\n")


def seed(job, emu):
    """Two recurrences on the primary (three and two runs), one in a pipeline, plus a one-off job;
    every job runs on the primary's store and succeeds."""
    seed_inputs(Path(emu.store_path(PRIMARY_STORE)))
    ingest, export, pipe = new_id(), new_id(), new_id()
    made = {}
    for day in (1, 2, 3):
        jid = new_id()
        script = f"DECLARE @day DateTime = new DateTime(2024, 3, {day});\n" + INGEST
        job.job.create(PRIMARY, jid, create_params(script, f"ingest-2024-03-0{day}", degree_of_parallelism=4,
                                                   priority=200, related=dict(recurrence_id=ingest,
                                                                              recurrence_name="daily ingest")))
        assert run_to_end(job, PRIMARY, jid)[1].result.value == "Succeeded"
        made.setdefault("ingest", []).append(jid)
    for run_no in (1, 2):
        jid = new_id()
        job.job.create(PRIMARY, jid, create_params(EXPORT, f"export-{run_no}", degree_of_parallelism=2, related=dict(
            recurrence_id=export, recurrence_name="hourly export", pipeline_id=pipe, pipeline_name="etl",
            pipeline_uri="https://adf.example/pipelines/etl", run_id=new_id())))
        assert run_to_end(job, PRIMARY, jid)[1].result.value == "Succeeded"
        made.setdefault("export", []).append(jid)
    job.job.create(PRIMARY, new_id(), create_params("@a = SELECT * FROM (VALUES (1)) AS T(x);", "one-off"))
    return ingest, export, pipe, made


def test_dr_copy_without_rewrite_copies_the_latest_run_of_each_recurrence(emulator, tmp_path):
    job, _, _ = sdk_clients(emulator)
    ingest, export, pipe, made = seed(job, emulator)
    out = tmp_path / "bundle"
    code, stdout, err = run("dr-copy", "--endpoint", emulator.url, "--from", PRIMARY, "--to", SECONDARY,
                            "--no-rewrite", "-o", out)
    assert code == 0, err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["format"] == "usqlrw-job-bundle/1"
    by_rec = {j["related"]["recurrenceId"]: j for j in manifest["jobs"]}
    assert set(by_rec) == {ingest, export}
    i, e = by_rec[ingest], by_rec[export]
    assert i["sourceJobId"] == made["ingest"][-1] and e["sourceJobId"] == made["export"][-1]
    assert (i["name"], i["analyticsUnits"], i["priority"], i["account"]) == ("ingest-2024-03-03", 4, 200, SECONDARY)
    assert e["related"]["pipelineId"] == pipe and e["related"]["pipelineName"] == "etl"
    assert i["related"]["recurrenceName"] == "daily ingest"
    # unchanged: byte for byte the script of the latest run
    assert (out / i["script"]).read_text() == job.job.get(PRIMARY, made["ingest"][-1]).properties.script
    assert {r["recurrenceName"] for r in manifest["recurrences"]} == {"daily ingest", "hourly export"}
    assert [p["pipelineName"] for p in manifest["pipelines"]] == ["etl"]
    assert "2 job(s)" in stdout
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(manifest, json.loads((JOBS / "job-bundle.schema.json").read_text()))
    for j in manifest["jobs"]:
        import hashlib
        assert hashlib.sha256((out / j["script"]).read_bytes()).hexdigest() == j["scriptSha256"]


def test_dr_copy_rewrites_for_the_secondary_and_the_bundle_runs_there(emulator, tmp_path):
    pytest.importorskip("usqlrw.rewrite", reason="the rewrite engine (usqlrw/rewrite.py) is not there yet")
    job, _, _ = sdk_clients(emulator)
    ingest, export, pipe, made = seed(job, emulator)
    out = tmp_path / "bundle"
    code, stdout, err = run("dr-copy", "--endpoint", emulator.url, "-c", JOBS / "dr.toml", "-o", out)
    assert code == 0, err
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["jobs"]) == 2
    for j in manifest["jobs"]:
        text = (out / j["script"]).read_text(encoding="utf-8")
        usqlrw.parse(text)                                   # every script still parses
        assert f"{SECONDARY_STORE}.azuredatalakestore.net" in text
        assert PRIMARY_STORE not in text
        assert j["account"] == SECONDARY
    # submitting the bundle on the secondary (its inputs there, as replicated): every job runs on the
    # secondary's store and succeeds, linked to the same recurrences
    secondary = Path(emulator.store_path(SECONDARY_STORE))
    seed_inputs(secondary)
    code, stdout, err = run("submit", "--endpoint", emulator.url, "--bundle", out, "--wait", "--poll-interval", 0)
    assert code == 0, stdout + err
    assert stdout.count("Succeeded") == 2
    primary = Path(emulator.store_path(PRIMARY_STORE))
    for out_file in ("telemetry/daily/means.csv", "exports/latest.csv"):   # the same rows, on each store
        assert (secondary / out_file).read_text() == (primary / out_file).read_text() != ""
    recs = {str(r.recurrence_id): r for r in job.recurrence.list(SECONDARY)}
    assert set(recs) == {ingest, export} and all(r.num_jobs_succeeded == 1 for r in recs.values())
    assert [p.pipeline_name for p in job.pipeline.list(SECONDARY)] == ["etl"]
    # and a second submission of the same bundle starts nothing
    code, stdout, err = run("submit", "--endpoint", emulator.url, "--bundle", out / "manifest.json")
    assert code == 0 and stdout.count("already-submitted") == 2
    assert (out / "usqlrw-submissions.jsonl").exists()    # the bundle keeps its own ledger
    assert len([a for a, _ in emulator.created if a == SECONDARY]) == 2


def test_dr_copy_through_an_embedded_emulator_named_in_the_config(tmp_path):
    """endpoint = "emulator": usqlrw starts one itself, its state in usqlrw's state folder (one file per
    DR config, shared by the commands run with it), never in the working tree."""
    pytest.importorskip("usqlrw.config", reason="the DR config (usqlrw/config.py) is not there yet")
    from usqlrw.jobs.emulator import Emulator
    cfg = tmp_path / "dr.toml"
    cfg.write_text((JOBS / "dr.toml").read_text() + '\n[options]\nemulator = true\n')
    from usqlrw.dirs import emulator_state
    state = Path(emulator_state(cfg))
    assert os.environ["USQLRW_STATE_DIR"] in str(state)
    with Emulator(str(state), accounts={PRIMARY: PRIMARY_STORE}, max_lifetime=60) as emu:
        job, _, _ = sdk_clients(emu)
        seed(job, emu)
    code, stdout, err = run("dr-copy", "-c", cfg, "--no-rewrite", "-o", tmp_path / "b")
    assert code == 0, err
    assert len(json.loads((tmp_path / "b" / "manifest.json").read_text())["jobs"]) == 2
    pytest.importorskip("usqlrw.rewrite", reason="the rewrite engine (usqlrw/rewrite.py) is not there yet")
    code, stdout, err = run("submit", "-c", cfg, "--bundle", tmp_path / "b", "--no-ledger")
    assert code == 0, stdout + err
    assert not list(tmp_path.glob("*.sqlite"))
    with Emulator(str(state), max_lifetime=60) as emu:
        job, _, _ = sdk_clients(emu)
        jobs = list(job.job.list(SECONDARY))
        assert len(jobs) == 2
        for j in jobs:
            assert PRIMARY_STORE not in job.job.get(SECONDARY, j.job_id).properties.script


def test_dr_copy_takes_the_endpoint_from_the_config(emulator, tmp_path):
    pytest.importorskip("usqlrw.config", reason="the DR config (usqlrw/config.py) is not there yet")
    job, _, _ = sdk_clients(emulator)
    seed(job, emulator)
    text = (JOBS / "dr.toml").read_text().replace('store_account = "primaryadls"',
                                                  f'store_account = "primaryadls"\nendpoint = "{emulator.url}"')
    cfg = tmp_path / "dr.toml"
    cfg.write_text(text)
    code, stdout, err = run("dr-copy", "-c", cfg, "--no-rewrite", "-o", tmp_path / "b")
    assert code == 0, err
    assert len(json.loads((tmp_path / "b" / "manifest.json").read_text())["jobs"]) == 2


def test_dr_copy_reports_an_unreachable_primary(tmp_path):
    code, stdout, err = run("dr-copy", "--endpoint", "http://127.0.0.1:9", "--from", PRIMARY, "--to", SECONDARY,
                            "--no-rewrite", "--retries", 0, "-o", tmp_path / "b")
    assert code == 1 and "network error: connection refused" in err


def test_a_script_that_cannot_be_rewritten_is_left_out_and_fails_the_command(emulator, tmp_path):
    pytest.importorskip("usqlrw.rewrite", reason="the rewrite engine (usqlrw/rewrite.py) is not there yet")
    job, _, _ = sdk_clients(emulator)
    ingest, export, pipe, made = seed(job, emulator)
    broken = new_id()
    job.job.create(PRIMARY, broken, create_params((JOBS / "syntax_error.usql").read_text(), "broken",
                                                  related=dict(recurrence_id=new_id(), recurrence_name="broken")))
    out = tmp_path / "bundle"
    code, stdout, err = run("dr-copy", "--endpoint", emulator.url, "-c", JOBS / "dr.toml", "-o", out)
    assert code == 1 and "2 job(s) for secondaryadla, 1 skipped" in stdout
    assert "broken: warning: skipped: cannot be rewritten" in err
    manifest = json.loads((out / "manifest.json").read_text())
    assert [j["name"] for j in manifest["skipped"]] == ["broken"] and len(manifest["jobs"]) == 2
    assert sorted(p.name for p in (out / "scripts").iterdir()) == ["daily_ingest.usql", "hourly_export.usql"]
