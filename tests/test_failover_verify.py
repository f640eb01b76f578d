"""``failover verify``: the replicated tables compared row for row on both accounts, on an emulator
that runs the jobs. The primary runs its DDL and the job's DR copy (staging the rows on the
secondary's store); the failover applies the catalog sync and the import; verify finds every table
equal, and a row changed on one side is reported with counts and a sample."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "jobs"))
from jobsupport import create_params, new_id, run_to_end, sdk_clients  # noqa: E402

import usqlrw  # noqa: E402
from usqlrw.cli import cli  # noqa: E402
from usqlrw.config import load_config  # noqa: E402
from usqlrw.emulator import Emulator  # noqa: E402
from usqlrw.failover import apply_plan  # noqa: E402
from usqlrw.failover.verify import compare_rows, verify_plan  # noqa: E402
from usqlrw.jobs.submit import RetryPolicy  # noqa: E402
from usqlrw.replicate import build_bundle  # noqa: E402

PRIM, PSTORE, SEC, SSTORE = "shop-adla", "shoplake", "shopdr-adla", "shoplakedr"
CONFIG = f"""[primary]
analytics_account = "{PRIM}"
store_account = "{PSTORE}"

[secondary]
analytics_account = "{SEC}"
store_account = "{SSTORE}"

[catalog.databases]
Sales = "SalesDR"
"""
DDL = """CREATE DATABASE IF NOT EXISTS Sales;
USE DATABASE Sales;
CREATE TABLE IF NOT EXISTS dbo.Counts (Id int, N long?, Ok bool, INDEX ix CLUSTERED (Id) DISTRIBUTED BY HASH (Id));
"""
JOB = """@a = SELECT * FROM (VALUES (1, 10L, true), (2, (long?) null, false), (2, (long?) null, false)) AS T(Id, N, Ok);
INSERT INTO Sales.dbo.Counts SELECT * FROM @a;
"""


@pytest.fixture
def drill(tmp_path):
    (tmp_path / "dr.toml").write_text(CONFIG)
    paths = []
    for name, text in (("ddl.usql", DDL), ("job.usql", JOB)):
        (tmp_path / name).write_text(text)
        paths.append(str(tmp_path / name))
    emu = Emulator(accounts={PRIM: PSTORE, SEC: SSTORE}, max_lifetime=300).start()
    try:
        yield tmp_path, paths, emu
    finally:
        emu.close()


def run_job(emu, account, script):
    job, _, _ = sdk_clients(emu)
    jid = new_id()
    job.job.create(account, jid, create_params(script, "j"))
    info = run_to_end(job, account, jid)[1]
    assert info.result.value == "Succeeded", [e.message for e in info.error_message or []]


def reader(emu):
    def read(store, path):
        f = Path(emu.store_path(store)) / path.lstrip("/")
        return f.read_bytes() if f.is_file() else None
    return read


def replicate_and_fail_over(tmp, paths, emu):
    """The primary as it runs before the failover (the DDL, then the job's DR copy, which stages the
    rows), then the plan applied on the secondary up to its last import."""
    cfg = load_config(tmp / "dr.toml")
    bundle = build_bundle([(p, usqlrw.parse(Path(p).read_text())) for p in paths], cfg)
    run_job(emu, PRIM, DDL)
    run_job(emu, PRIM, next(v for n, v in bundle.files.items() if n.startswith("primary/jobs/")).decode())
    r = CliRunner().invoke(cli, ["failover", "plan", "-c", str(tmp / "dr.toml"), "--out", str(tmp / "plan"), *paths],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.stderr
    steps = json.loads((tmp / "plan" / "plan.json").read_text())["steps"]
    last_import = [s["id"] for s in steps if s["kind"] in ("catalog", "import")][-1]
    apply_plan(tmp / "plan", endpoint=emu.url, poll_interval=0.01, until=last_import,
               retry=RetryPolicy(attempts=2, base=0.01, cap=0.02))


def test_compare_rows_is_a_multiset_comparison():
    assert compare_rows(["a", "b", "b"], ["b", "a", "b"]) == ([], [])
    assert compare_rows(["a", "b", "b"], ["a", "b"]) == ([("b", 1)], [])
    assert compare_rows(["x"] * 3, ["y"], sample=1) == ([("x", 3)], [("y", 1)])


def test_a_drill_that_ran_ends_with_every_table_equal_and_a_difference_is_an_error(drill):
    tmp, paths, emu = drill
    replicate_and_fail_over(tmp, paths, emu)
    result = verify_plan(tmp / "plan", endpoint=emu.url, read_store=reader(emu))
    assert [(c.primary, c.secondary, c.equal, c.primary_rows, c.secondary_rows) for c in result] == [
        ("Sales.dbo.Counts", "SalesDR.dbo.Counts", True, 3, 3)]
    # one duplicate row gone on the secondary: a difference, with the counts and the row
    run_job(emu, SEC, "INSERT INTO SalesDR.dbo.Counts SELECT * FROM (VALUES (7, 70L, true)) AS T(Id, N, Ok);")
    result = verify_plan(tmp / "plan", endpoint=emu.url, read_store=reader(emu))
    c = result[0]
    assert not c.equal and (c.primary_rows, c.secondary_rows) == (3, 4)
    assert c.only_primary == [] and c.only_secondary == [('7,70,True', 1)]
    assert "DIFFERENT (3 rows on the primary, 4 on the secondary)" in c.line()


def test_a_table_missing_on_the_secondary_is_an_error_not_a_pass(drill):
    tmp, paths, emu = drill
    run_job(emu, PRIM, DDL)
    r = CliRunner().invoke(cli, ["failover", "plan", "-c", str(tmp / "dr.toml"), "--out", str(tmp / "plan"), *paths],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.stderr
    result = verify_plan(tmp / "plan", endpoint=emu.url, read_store=reader(emu))   # nothing applied yet
    assert len(result) == 1 and not result[0].equal
    assert SEC in result[0].error and "does not exist" in result[0].error


def test_cli_verify_reads_an_emulators_stores_through_the_store_client(drill):
    """No reader given: verify reads the export files over the emulator's WebHDFS stores with the real
    azure-datalake-store client; exit 0 when equal, 1 when a row differs."""
    tmp, paths, emu = drill
    replicate_and_fail_over(tmp, paths, emu)
    r = CliRunner().invoke(cli, ["failover", "verify", str(tmp / "plan"), "--endpoint", emu.url, "--no-outputs"],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output + r.stderr
    assert "Sales.dbo.Counts -> SalesDR.dbo.Counts: equal (3 rows)" in r.output
    run_job(emu, SEC, "INSERT INTO SalesDR.dbo.Counts SELECT * FROM (VALUES (7, 70L, true)) AS T(Id, N, Ok);")
    r = CliRunner().invoke(cli, ["failover", "verify", str(tmp / "plan"), "--endpoint", emu.url, "--no-outputs"],
                           catch_exceptions=False)
    assert r.exit_code == 1 and "DIFFERENT (3 rows on the primary, 4 on the secondary)" in r.output
    assert "Traceback" not in r.stderr
