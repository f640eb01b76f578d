"""usqlrw submit: typed parameters, deterministic ids, the ledger, retries, concurrency, against the emulator."""
from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "jobs"))
from jobsupport import PRIMARY, SECONDARY, accepting_emulator, create_params, sdk_clients  # noqa: E402,F401

import usqlrw  # noqa: E402
from usqlrw import ast as A  # noqa: E402
from usqlrw.cli import cli  # noqa: E402
from usqlrw.jobs.submit import (Ledger, ParamError, derive_job_id, parse_param,  # noqa: E402
                                prepare_request)

ROOT = Path(__file__).parent.parent
EXAMPLES = ROOT / "examples" / "project"
JOBS = Path(__file__).parent / "fixtures" / "jobs"


@pytest.fixture
def emulator(accepting_emulator):
    """Submission is what these tests check (ids, retries, ledger, waiting): the jobs are accepted,
    not run; running them is proven in test_emulator_exec.py."""
    return accepting_emulator


def run(*args, env=None):
    r = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False, env=env)
    return r.exit_code, r.stdout, r.stderr


def _declared_value(decl: str):
    """The value node of the one DECLARE in ``decl``, as our parser reads it."""
    [st_] = usqlrw.parse(decl).statements
    assert isinstance(st_, A.Declare)
    return st_


# -- parameters -------------------------------------------------------------------------------

@pytest.mark.parametrize("text, typ, literal", [
    ("n=5", "int", "5"),
    ("big=5000000000", "long", "5000000000L"),
    ("x=-1.5", "double", "-1.5"),
    ("ok=TRUE", "bool", "true"),
    ("day=2024-01-15", "DateTime", "new DateTime(2024, 1, 15, 0, 0, 0)"),
    ("at=2024-01-15T10:20:30.250", "DateTime", "new DateTime(2024, 1, 15, 10, 20, 30, 250)"),
    ("s=hello", "string", '"hello"'),
    ("zip:string=01234", "string", '"01234"'),
    ("r:double=3", "double", "3.0"),
    ("m:decimal=1.10", "decimal", "1.10m"),
    ("g:guid=0F5C8D2A-0B7E-4C1F-9A53-6D2E8B4A7C90", "Guid", 'new Guid("0f5c8d2a-0b7e-4c1f-9a53-6d2e8b4a7c90")'),
    ("@opt:int?=7", "int?", "7"),
])
def test_parameters_are_typed(text, typ, literal):
    p = parse_param(text)
    assert (p.type, p.literal) == (typ, literal)
    d = _declared_value(p.declaration)
    assert d.variable.name == "@" + p.name and d.type.text == typ


@pytest.mark.parametrize("text", ["novalue", "1bad=2", "n:int=abc", "n:int=99999999999", "d:DateTime=2024-02-30",
                                  "b:bool=yes", "x:widget=1", "c:char=ab"])
def test_bad_parameters_are_refused(text):
    with pytest.raises(ParamError):
        parse_param(text)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_any_string_parameter_round_trips_through_the_parser(value):
    d = _declared_value(parse_param(f"s:string={value}").declaration)
    assert isinstance(d.value, A.StringLiteral) and d.value.value == value


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=-2**63, max_value=2**63 - 1))
def test_integer_parameters_keep_their_value(n):
    p = parse_param(f"n={n}")
    assert p.type == ("int" if -2**31 <= n < 2**31 else "long")
    v = _declared_value(p.declaration).value
    sign = 1
    if isinstance(v, A.UnaryOp):
        assert v.op == "-"
        sign, v = -1, v.operand
    assert sign * int(v.text.rstrip("L")) == n


def test_parameters_are_prepended_and_only_external_declares_can_be_overridden():
    data = (EXAMPLES / "daily_ingest.usql").read_bytes()
    req = prepare_request(PRIMARY, data, source="daily_ingest.usql", params=[parse_param("day=2024-02-01")])
    assert req.script.startswith("DECLARE @day DateTime = new DateTime(2024, 2, 1, 0, 0, 0);\n// Daily ingest")
    usqlrw.parse(req.script)
    assert req.name == "daily_ingest" and req.warnings == []
    with pytest.raises(ParamError, match="@root is declared with DECLARE"):
        prepare_request(PRIMARY, data, source="daily_ingest.usql", params=[parse_param("root=/x/")])
    other = prepare_request(PRIMARY, data, params=[parse_param("nothere=1")])
    assert other.warnings == ["parameter @nothere is not declared in the script"]


def test_job_ids_are_deterministic_and_depend_on_every_input():
    p = [parse_param("day=2024-02-01")]
    base = derive_job_id(PRIMARY, b"@a = SELECT 1;", p, "n")
    assert base == derive_job_id(PRIMARY.upper(), b"@a = SELECT 1;", [parse_param("day=2024-02-01")], "n")
    others = {derive_job_id(SECONDARY, b"@a = SELECT 1;", p, "n"), derive_job_id(PRIMARY, b"@a = SELECT 2;", p, "n"),
              derive_job_id(PRIMARY, b"@a = SELECT 1;", [parse_param("day=2024-02-02")], "n"),
              derive_job_id(PRIMARY, b"@a = SELECT 1;", p, "m"), derive_job_id(PRIMARY, b"@a = SELECT 1;", p, "n", "r2")}
    assert base not in others and len(others) == 5


# -- the command against the emulator ----------------------------------------------------------

def test_submit_and_wait_with_parameters(emulator, tmp_path):
    ledger = tmp_path / "ledger.jsonl"
    code, out, err = run("submit", "--endpoint", emulator.url, "-a", PRIMARY, "--param", "day=2024-02-01",
                         "--au", 3, "--priority", 20, "--runtime", "release_20190318", "--wait",
                         "--poll-interval", 0, "--ledger", ledger, EXAMPLES / "daily_ingest.usql")
    assert code == 0, err
    for state in ("Compiling", "Queued", "Running", "Ended"):
        assert state in err
    assert "Succeeded" in out
    [(account, jid)] = emulator.created
    job, _, _ = sdk_clients(emulator)
    info = job.job.get(PRIMARY, jid)
    assert info.name == "daily_ingest" and info.degree_of_parallelism == 3 and info.priority == 20
    assert info.properties.runtime_version == "release_20190318"
    assert info.properties.script.startswith("DECLARE @day DateTime = new DateTime(2024, 2, 1, 0, 0, 0);")
    events = [json.loads(line)["event"] for line in ledger.read_text().splitlines()]
    assert events == ["intent", "submitted", "ended"]
    assert "DECLARE" not in ledger.read_text()   # the ledger holds no script text


def test_a_failing_job_fails_the_command(emulator, tmp_path):
    code, out, err = run("submit", "--endpoint", emulator.url, "-a", PRIMARY, "--wait", "--poll-interval", 0,
                         "-p", "x=1", "-p", "y=2", "--ledger", tmp_path / "l.jsonl", JOBS / "syntax_error.usql")
    assert code == 1
    # the service counts the two DECLARE lines put in front; the report gives the file's own line
    assert "Failed" in out and "syntax_error.usql: line 4:" in out
    assert f"warning: does not parse with usqlrw ({JOBS / 'syntax_error.usql'}:4:10:" in err


def test_build_only_compiles_on_the_service_and_submits_nothing(emulator, tmp_path):
    code, out, err = run("submit", "--endpoint", emulator.url, "-a", PRIMARY, "--build-only",
                         "--ledger", tmp_path / "l.jsonl", EXAMPLES / "aggregate.usql", EXAMPLES / "ddl.usql")
    assert code == 0, out + err
    assert out.count("built") == 2
    code, out, err = run("submit", "--endpoint", emulator.url, "-a", PRIMARY, "--build-only",
                         "--ledger", tmp_path / "l.jsonl", JOBS / "syntax_error.usql")
    assert code == 1 and "build-failed" in out and "line 4" in out
    assert emulator.created == []
    assert [m for m, p, s in emulator.requests] == ["POST"] * 3
    assert not (tmp_path / "l.jsonl").exists()


def test_dry_run_contacts_nothing_and_loads_no_sdk(tmp_path):
    ledger = tmp_path / "l.jsonl"
    code = ("import sys; from usqlrw.cli import main\n"
            f"rc = main(['submit', '--dry-run', '--endpoint', 'http://127.0.0.1:9', '-a', 'acct', '-p', 'day=2024-02-01',"
            f" '--ledger', {str(ledger)!r}, {str(EXAMPLES / 'daily_ingest.usql')!r}])\n"
            "print('SDK', sorted(m for m in sys.modules if m.startswith(('azure', 'msrest'))))\n"
            "sys.exit(rc)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "SDK []" in p.stdout
    jid = derive_job_id("acct", (EXAMPLES / "daily_ingest.usql").read_bytes(), [parse_param("day=2024-02-01")],
                        "daily_ingest")
    assert f"would submit: {EXAMPLES / 'daily_ingest.usql'} -> acct job {jid}" in p.stdout
    assert "DECLARE @day DateTime = new DateTime(2024, 2, 1, 0, 0, 0);" in p.stdout
    assert "EXTRACT" not in p.stdout          # the script itself is not printed
    assert not ledger.exists()


def _batch(tmp_path, n=4):
    d = tmp_path / "batch"
    d.mkdir()
    for i in range(n):
        (d / f"job{i}.usql").write_text(f"@a = SELECT * FROM @t{i};\nOUTPUT @a TO \"/out{i}.csv\" USING Outputters.Csv();\n")
    return d


def test_rerun_of_a_half_finished_batch_submits_each_job_exactly_once(emulator, tmp_path):
    batch, ledger = _batch(tmp_path), tmp_path / "ledger.jsonl"
    args = ["submit", "--endpoint", emulator.url, "-a", SECONDARY, "--max-parallel", 1, "--ledger", ledger,
            "--retries", 0, batch]
    # the answer to job2's PUT is lost after the service created the job: the run cannot know
    emulator.inject(drop_after=True, method="PUT", path=derive_job_id(
        SECONDARY, (batch / "job2.usql").read_bytes(), (), "job2"))
    code, out, err = run(*args)
    assert code == 1 and out.count("submitted") == 3 and "failed" in out
    assert len(emulator.created) == 4          # job2 was created even though the answer was lost
    # a torn line from a crash mid-write does not stop the next run
    with open(ledger, "ab") as f:
        f.write(b'{"event": "intent", "jobId": "5')
    puts_before = len([1 for r in emulator.requests if r[0] == "PUT"])
    code, out, err = run(*args)
    assert code == 0, out + err
    assert out.count("already-submitted") == 4
    assert "ignored 1 unreadable line" in err
    assert len([1 for r in emulator.requests if r[0] == "PUT"]) == puts_before   # nothing sent again
    ids = [j for _, j in emulator.created]
    assert len(ids) == len(set(ids)) == 4
    # without the ledger, the derived ids still address the same jobs: nothing is doubled
    code, out, err = run(*args[:-3], "--no-ledger", "--retries", 0, batch)
    assert code == 0 and len(emulator.created) == 4
    job, _, _ = sdk_clients(emulator)
    assert len(list(job.job.list(SECONDARY))) == 4


def test_an_intent_without_an_outcome_is_checked_on_the_service(emulator, tmp_path):
    from usqlrw.jobs.client import make_clients, token_credentials
    from usqlrw.jobs.submit import RetryPolicy, Submitter
    batch, ledger_path = _batch(tmp_path, 2), tmp_path / "ledger.jsonl"
    reqs = [prepare_request(PRIMARY, p.read_bytes(), source=str(p)) for p in sorted(batch.iterdir())]
    led = Ledger(ledger_path)
    led.record("intent", reqs[0])      # a crash right after this: did the PUT go out? here it did not
    led.record("intent", reqs[1])      # and here it did
    job, _, _ = sdk_clients(emulator)
    job.job.create(PRIMARY, reqs[1].job_id, reqs[1].create_parameters())
    sub = Submitter(lambda: make_clients(emulator.url, token_credentials("t0ken")), Ledger(ledger_path),
                    RetryPolicy(attempts=1))
    outs = sub.submit_all(reqs)
    assert [o.status for o in outs] == ["submitted", "already-submitted"]
    assert sorted(j for _, j in emulator.created) == sorted(r.job_id for r in reqs)


def test_429_and_5xx_are_retried_including_posts(emulator, tmp_path):
    emulator.inject(503, method="PUT", times=2)
    emulator.inject(429, method="GET", times=1, retry_after=0)
    emulator.inject(drop=True, method="GET", times=1)
    code, out, err = run("submit", "--endpoint", emulator.url, "-a", PRIMARY, "--wait", "--poll-interval", 0,
                         "--retry-backoff", 0.01, "--ledger", tmp_path / "l.jsonl", EXAMPLES / "aggregate.usql")
    assert code == 0, out + err
    assert err.count("; retry ") == 4 and "HTTP 503 ServiceUnavailable" in err and "HTTP 429" in err
    assert len(emulator.created) == 1
    emulator.inject(500, method="POST", path="/buildJob", times=2)
    code, out, err = run("submit", "--endpoint", emulator.url, "-a", PRIMARY, "--build-only", "--retry-backoff", 0.01,
                         EXAMPLES / "aggregate.usql")
    assert code == 0 and err.count("; retry ") == 2
    assert [s for m, p, s in emulator.requests if m == "POST"] == [500, 500, 200]
    emulator.inject(500, method="POST", path="/buildJob", times=3)
    code, out, err = run("submit", "--endpoint", emulator.url, "-a", PRIMARY, "--build-only", "--retry-backoff", 0.01,
                         "--retries", 2, EXAMPLES / "aggregate.usql")
    assert code == 1 and "HTTP 500 InternalServerError: Injected fault" in out


def test_concurrency_is_bounded(emulator, tmp_path):
    batch = _batch(tmp_path, 6)
    emulator.inject(delay=0.15, method="PUT", times=6)
    code, out, err = run("submit", "--endpoint", emulator.url, "-a", PRIMARY, "--max-parallel", 2, "--no-ledger", batch)
    assert code == 0 and out.count("submitted") == 6
    assert 1 <= emulator.max_inflight <= 2


def test_bundle_jobs_are_submitted_in_manifest_order(emulator, tmp_path):
    b = tmp_path / "bundle"
    (b / "scripts").mkdir(parents=True)
    names = ["zeta", "alpha", "mid"]
    for n in names:
        (b / "scripts" / f"{n}.usql").write_text(f"@a = SELECT * FROM @{n};\n")
    (b / "manifest.json").write_text(json.dumps({"format": "usqlrw-job-bundle/1", "jobs": [
        {"script": f"scripts/{n}.usql", "account": SECONDARY, "name": n, "analyticsUnits": 2} for n in names]}))
    code, out, err = run("submit", "--endpoint", emulator.url, "--bundle", b, "--max-parallel", 1, "--no-ledger")
    assert code == 0, err
    job, _, _ = sdk_clients(emulator)
    assert [job.job.get(a, j).name for a, j in emulator.created] == names
    (b / "manifest.json").write_text(json.dumps({"jobs": [{"script": "../../etc/passwd"}]}))
    code, out, err = run("submit", "--endpoint", emulator.url, "--bundle", b, "--no-ledger")
    assert code == 2 and "leaves the bundle folder" in err


def test_rewrite_on_the_way(emulator, tmp_path):
    pytest.importorskip("usqlrw.rewrite", reason="the rewrite engine (usqlrw/rewrite.py) is not there yet")
    pytest.importorskip("usqlrw.config", reason="the DR config (usqlrw/config.py) is not there yet")
    script = tmp_path / "ingest.usql"
    script.write_text('@a = EXTRACT a string FROM "adl://primaryadls.azuredatalakestore.net/in/a.csv" '
                      'USING Extractors.Csv();\nOUTPUT @a TO "/out/a.csv" USING Outputters.Csv();\n')
    code, out, err = run("submit", "--endpoint", emulator.url, "--rewrite", JOBS / "dr.toml", "--no-ledger",
                         "--wait", "--poll-interval", 0, script)
    assert code == 0, err
    [(account, jid)] = emulator.created
    assert account == SECONDARY                        # the config's secondary account by default
    job, _, _ = sdk_clients(emulator)
    sent = job.job.get(SECONDARY, jid).properties.script
    assert "adl://secondaryadls.azuredatalakestore.net/in/a.csv" in sent and "primaryadls" not in sent


def test_no_secret_reaches_output_logs_or_the_ledger(emulator, tmp_path, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    token, url_password, conn_password = "tok-SECRET-8d1f0c", "hunter2urlpw", "Pa55w0rd!xyz"
    env = {"USQLRW_ADLA_TOKEN": token}
    endpoint = emulator.url.replace("http://", f"http://admin:{url_password}@")
    conn = f"Server=tcp:crm.example.net;User ID=etl;Password={conn_password};"
    ledger = tmp_path / "l.jsonl"
    common = ["--endpoint", endpoint, "-a", PRIMARY, "-p", f"conn={conn}", "--ledger", ledger]
    outputs = []
    outputs.append(run("submit", *common, "--dry-run", EXAMPLES / "aggregate.usql", env=env))
    outputs.append(run("submit", *common, "--dry-run", "--format", "json", EXAMPLES / "aggregate.usql", env=env))
    emulator.inject(503, method="PUT", times=2)
    outputs.append(run("submit", *common, "--retries", 1, "--retry-backoff", 0.01, EXAMPLES / "aggregate.usql", env=env))
    outputs.append(run("submit", *common, "--wait", "--poll-interval", 0, "--retry-backoff", 0.01,
                       EXAMPLES / "aggregate.usql", env=env))
    outputs.append(run("submit", *common, "--wait", "--poll-interval", 0, "--format", "json", JOBS / "syntax_error.usql",
                       env=env))
    outputs.append(run("submit", "--endpoint", endpoint.replace(str(emulator.port), "9"), "-a", PRIMARY,
                       "--retries", 0, "--no-ledger", EXAMPLES / "aggregate.usql", env=env))
    job, _, _ = sdk_clients(emulator)
    job.job.create(PRIMARY, str(__import__("uuid").uuid4()), create_params(
        f'DECLARE @conn string = "{conn}";\n@a = SELECT * FROM @t;\n', "recurring",
        related={"recurrence_id": str(__import__("uuid").uuid4()), "recurrence_name": "daily"}))
    outputs.append(run("dr-copy", "--endpoint", endpoint, "--from", PRIMARY, "--to", SECONDARY, "--no-rewrite",
                       "-o", tmp_path / "bundle", env=env))
    outputs.append(run("submit", "--endpoint", endpoint, "--bundle", tmp_path / "bundle", "--no-ledger", env=env))
    assert [o[0] for o in outputs] == [0, 0, 1, 0, 1, 1, 0, 0]
    assert "network error: connection refused" in outputs[5][1]
    # the job really was sent with the token and the connection string
    job, _, _ = sdk_clients(emulator)
    assert any(conn_password in job.job.get(a, j).properties.script for a, j in emulator.created)
    everything = "\n".join(o[1] + "\n" + o[2] for o in outputs) + caplog.text + ledger.read_text()
    assert everything.strip()
    for secret in (token, url_password, conn_password):
        assert secret not in everything


def _replication_bundle(root: Path, steps):
    """A bundle in the shape `usqlrw replicate` writes: ordered steps, each naming its account."""
    for i, (account, script, text, run_, params) in enumerate(steps, 1):
        (root / script).parent.mkdir(parents=True, exist_ok=True)
        (root / script).write_text(text)
    (root / "manifest.json").write_text(json.dumps({"format": "usqlrw-replication-bundle/1", "steps": [
        {"order": i, "account": "primary" if a == PRIMARY else "secondary", "account_name": a, "script": s,
         "purpose": "test", "source": "t.usql", "moves": [], "run": r, "parameters": p}
        for i, (a, s, _, r, p) in reversed(list(enumerate(steps, 1)))]}))   # order comes from "order"


def test_replication_bundle_runs_its_steps_in_order_each_after_the_last(emulator, tmp_path):
    b = tmp_path / "rb"
    copy = 'DECLARE EXTERNAL @day DateTime = new DateTime(2024, 1, 1);\n@a = SELECT * FROM @t;\n'
    _replication_bundle(b, [
        (SECONDARY, "catalog/sync.usql", "CREATE DATABASE IF NOT EXISTS Sales;\n", "always", []),
        (PRIMARY, "primary/jobs/ingest.usql", copy, "always", ["@day"]),
        (SECONDARY, "secondary/jobs/ingest.import.usql", copy, "always", ["@day"]),
        (PRIMARY, "primary/snapshots/T.export.usql", "@a = SELECT * FROM @t;\n", "on_demand", []),
    ])
    code, out, err = run("submit", "--endpoint", emulator.url, "--bundle", b, "--poll-interval", 0,
                         "-p", "day=2024-05-06", "--ledger", tmp_path / "l.jsonl")
    assert code == 0, out + err
    job, _, _ = sdk_clients(emulator)
    got = [(a, job.job.get(a, j)) for a, j in emulator.created]
    assert [(a, i.name) for a, i in got] == [(SECONDARY, "001-sync"), (PRIMARY, "002-ingest"),
                                             (SECONDARY, "003-ingest.import")]
    assert all(i.result.value == "Succeeded" for _, i in got)
    # each step was submitted only after the one before had ended
    for (_, before), (_, after) in zip(got, got[1:]):
        assert before.end_time <= after.submit_time
    assert got[0][1].properties.script.startswith("CREATE DATABASE")      # takes no parameters
    assert got[1][1].properties.script.startswith("DECLARE @day DateTime = new DateTime(2024, 5, 6, 0, 0, 0);")
    code, out, err = run("submit", "--endpoint", emulator.url, "--bundle", b, "--on-demand", "--poll-interval", 0,
                         "-p", "day=2024-05-06", "--ledger", tmp_path / "l.jsonl")
    assert code == 0 and out.count("already-submitted") == 3 and len(emulator.created) == 4


def test_replication_bundle_stops_at_a_failed_step(emulator, tmp_path):
    b = tmp_path / "rb"
    _replication_bundle(b, [
        (SECONDARY, "catalog/sync.usql", "CREATE TABLE Missing.dbo.T(a int, INDEX i CLUSTERED(a) "
                                         "DISTRIBUTED BY HASH(a));\n", "always", []),
        (PRIMARY, "primary/jobs/x.usql", "@a = SELECT * FROM @t;\n", "always", ["@day"]),
    ])
    code, out, err = run("submit", "--endpoint", emulator.url, "--bundle", b, "--poll-interval", 0, "--no-ledger")
    assert code == 1
    assert "not-started" in out and "waits for 001-sync" in out
    assert "runs with its own default for @day" in err
    assert len(emulator.created) == 1
    code, out, err = run("submit", "--endpoint", emulator.url, "--bundle", b, "-a", PRIMARY, "--no-ledger")
    assert code == 2 and "names each step's account" in err


def test_endpoint_from_the_environment(emulator, tmp_path):
    script = tmp_path / "a.usql"
    script.write_text("@a = SELECT * FROM (VALUES (1)) AS T(x);\n")
    code, out, err = run("submit", "-a", PRIMARY, "--no-ledger", script,
                         env={"USQLRW_ADLA_ENDPOINT": emulator.url})
    assert code == 0, err
    assert f"on {emulator.url}" in err and len(emulator.created) == 1


def test_dry_run_hides_the_values_of_secret_looking_parameters(tmp_path):
    script = tmp_path / "a.usql"
    script.write_text("@a = SELECT * FROM (VALUES (1)) AS T(x);\n")
    code, out, err = run("submit", "--dry-run", "-a", PRIMARY, "-p", "apiKey=abc123xyz", "-p", "region=westeurope",
                         "--no-ledger", script)
    assert code == 0
    assert "DECLARE @apiKey string = ***;" in out and "abc123xyz" not in out
    assert 'DECLARE @region string = "westeurope";' in out


def test_wait_submits_everything_first_then_watches_all(emulator, tmp_path):
    batch = _batch(tmp_path, 3)
    code, out, err = run("submit", "--endpoint", emulator.url, "-a", PRIMARY, "--max-parallel", 1, "--wait",
                         "--poll-interval", 0, "--no-ledger", batch)
    assert code == 0, err
    job, _, _ = sdk_clients(emulator)
    infos = [job.job.get(PRIMARY, j) for _, j in emulator.created]
    assert all(i.result.value == "Succeeded" for i in infos)
    assert max(i.submit_time for i in infos) <= min(i.end_time for i in infos)


def test_wait_timeout_gives_up_with_exit_1(emulator, tmp_path):
    emulator.running_reads = 10 ** 6            # the job stays Running
    code, out, err = run("submit", "--endpoint", emulator.url, "-a", PRIMARY, "--wait", "--poll-interval", 0,
                         "--timeout", 0, "--no-ledger", EXAMPLES / "aggregate.usql")
    assert code == 1 and "still " in out


def test_a_lost_answer_is_retried_safely_and_a_resubmission_is_recognised(emulator, tmp_path):
    emulator.inject(drop_after=True, method="PUT")   # the job is created, the answer never arrives
    code, out, err = run("submit", "--endpoint", emulator.url, "-a", PRIMARY, "--retry-backoff", 0.01, "--no-ledger",
                         EXAMPLES / "aggregate.usql")
    assert code == 0, out + err
    assert "network error: the connection was dropped" in err and len(emulator.created) == 1
    # the same script with other settings: same derived id, the service says it exists
    code, out, err = run("submit", "--endpoint", emulator.url, "-a", PRIMARY, "--au", 7, "--no-ledger",
                         EXAMPLES / "aggregate.usql")
    assert code == 0 and "already-submitted" in out and "the service already has this job" in err
    assert len(emulator.created) == 1


def test_prelude_keeps_the_scripts_line_endings_and_the_id_follows_the_text_sent():
    crlf = "\ufeff@a = SELECT * FROM @t;\r\nOUTPUT @a TO \"/o.csv\" USING Outputters.Csv();\r\n".encode("utf-8")
    req = prepare_request(PRIMARY, crlf, source="c.usql", params=[parse_param("n=1")])
    assert req.script.startswith("DECLARE @n int = 1;\r\n@a = SELECT")
    lf = crlf.replace(b"\r\n", b"\n")
    utf16 = crlf.decode("utf-8-sig").encode("utf-16")   # same text, other bytes: the same job
    assert prepare_request(PRIMARY, utf16, source="c.usql", params=[parse_param("n=1")]).job_id == req.job_id
    assert prepare_request(PRIMARY, lf, source="c.usql", params=[parse_param("n=1")]).job_id != req.job_id


def test_json_output_and_standard_input(emulator):
    r = CliRunner().invoke(cli, ["submit", "--endpoint", emulator.url, "-a", PRIMARY, "--no-ledger", "--wait",
                                 "--poll-interval", "0", "--format", "json", "-", str(JOBS / "syntax_error.usql")],
                           input="@a = SELECT * FROM (VALUES (1)) AS T(x);\n", catch_exceptions=False)
    assert r.exit_code == 1
    rows = json.loads(r.stdout)
    assert [(x["source"], x["name"], x["status"], x["result"]) for x in rows] == [
        ("<stdin>", "usqlrw-job", "submitted", "Succeeded"),
        (str(JOBS / "syntax_error.usql"), "syntax_error", "submitted", "Failed")]
    assert rows[1]["errors"][0].startswith("line 4: syntax error.")
    assert sorted(x["jobId"] for x in rows) == sorted(j for _, j in emulator.created)
