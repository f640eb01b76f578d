"""Files first: a failover checks that every input its jobs read is on the secondary's store before
it submits anything, and names the step and line of each missing one."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from usqlrw.cli import cli
from usqlrw.emulator import Emulator
from usqlrw.failover import PlanError, apply_plan
from usqlrw.failover.preflight import store_path
from usqlrw.jobs.submit import RetryPolicy

PRIM, PSTORE, SEC, SSTORE = "shop-adla", "shoplake", "shopdr-adla", "shoplakedr"
CONFIG = f"""[primary]
analytics_account = "{PRIM}"
store_account = "{PSTORE}"

[secondary]
analytics_account = "{SEC}"
store_account = "{SSTORE}"
"""
JOB = """// totals per item
@o = EXTRACT Id int, Item string, Qty int FROM "/in/orders.csv" USING Extractors.Csv();
@d = EXTRACT Item string, day DateTime FROM "/in/days/{day:yyyy}/{day:MM}/{*}.csv" USING Extractors.Csv();
@t = SELECT o.Item, SUM(o.Qty) AS Total FROM @o AS o GROUP BY o.Item;
OUTPUT @t TO "/out/totals.csv" USING Outputters.Csv();
OUTPUT @d TO "/out/days.csv" USING Outputters.Csv();
"""


@pytest.fixture
def drill(tmp_path):
    (tmp_path / "dr.toml").write_text(CONFIG)
    (tmp_path / "totals.usql").write_text(JOB)
    r = CliRunner().invoke(cli, ["failover", "plan", "-c", str(tmp_path / "dr.toml"), "--out", str(tmp_path / "plan"),
                                 str(tmp_path / "totals.usql")], catch_exceptions=False)
    assert r.exit_code == 0, r.stderr
    emu = Emulator(accounts={PRIM: PSTORE, SEC: SSTORE}, max_lifetime=300).start()
    try:
        yield tmp_path, emu
    finally:
        emu.close()


def inputs(root: Path):
    (root / "in" / "days" / "2024" / "01").mkdir(parents=True, exist_ok=True)
    (root / "in" / "orders.csv").write_text("1,apple,3\n2,pear,5\n3,apple,4\n")
    (root / "in" / "days" / "2024" / "01" / "a.csv").write_text("apple\n")


def apply(tmp, emu):
    return apply_plan(tmp / "plan", endpoint=emu.url, poll_interval=0.01,    # its stores through the client
                      retry=RetryPolicy(attempts=2, base=0.01, cap=0.02))


def test_store_paths_of_locations():
    assert store_path("/in/x.csv", "DrLake") == ("drlake", "/in/x.csv")
    assert store_path("adl://other.azuredatalakestore.net/a/{d:yyyy}/{*}.csv", "x") == ("other", "/a/*/*.csv")
    assert store_path("wasbs://c@blobacct.blob.core.windows.net/p/f.tsv", "x") == ("blobacct", "/c/p/f.tsv")
    assert store_path("https://example.com/x", "x") == ("example", "/x")


def test_a_missing_input_stops_the_failover_before_any_job_is_submitted(drill):
    tmp, emu = drill
    secondary = Path(emu.store_path(SSTORE))
    inputs(Path(emu.store_path(PSTORE)))
    inputs(secondary)
    (secondary / "in" / "orders.csv").unlink()            # lost on the secondary
    shutil.rmtree(secondary / "in" / "days")              # and the whole file set
    with pytest.raises(PlanError) as e:
        apply(tmp, emu)
    msg = str(e.value)
    assert e.value.code == 1 and "2 input(s)" in msg and "nothing was submitted" in msg
    assert "-totals.usql:2:" in msg and "/in/orders.csv" in msg and "-totals.usql:3:" in msg and "/in/days/{day:yyyy}" in msg
    assert emu.created == []                                # nothing submitted
    # once the files are there, the failover runs the job on the secondary's files
    inputs(secondary)
    ok, report = apply(tmp, emu)
    assert ok, [(s["id"], s.get("error")) for s in report["steps"]]
    assert sorted((secondary / "out" / "totals.csv").read_text().splitlines()) == ['"apple",7', '"pear",5']


def test_cli_reports_the_missing_inputs_with_exit_1(drill):
    tmp, emu = drill
    r = CliRunner().invoke(cli, ["failover", "apply", str(tmp / "plan"), "--endpoint", emu.url],
                           catch_exceptions=False)      # its stores asked through the client
    assert r.exit_code == 1 and "/in/orders.csv" in r.stderr and "Traceback" not in r.stderr
    assert emu.created == []
    assert any(p.startswith(f"/_adls/{SSTORE}/webhdfs/v1/") for _, p, _ in emu.requests)


def test_the_check_asks_an_emulators_stores_through_the_store_client(drill):
    """No store_exists given: an emulator at a URL that runs jobs is asked over WebHDFS by the
    azure-datalake-store client; sync-files --plan then copies the inputs, and the failover runs."""
    tmp, emu = drill
    inputs(Path(emu.store_path(PSTORE)))
    with pytest.raises(PlanError) as e:
        apply(tmp, emu)
    msg = str(e.value)
    assert e.value.code == 1 and "2 input(s)" in msg and "-totals.usql:2:" in msg and "-totals.usql:3:" in msg
    assert emu.created == []
    assert any(p.startswith(f"/_adls/{SSTORE}/webhdfs/v1/") for _, p, _ in emu.requests)   # over the wire
    r = CliRunner().invoke(cli, ["sync-files", "--plan", str(tmp / "plan"), "--endpoint", emu.url],
                           catch_exceptions=False)
    assert r.exit_code == 0 and "2 file(s) copied" in r.stderr, r.stderr
    ok, report = apply(tmp, emu)
    assert ok, [(s["id"], s.get("error")) for s in report["steps"]]
    secondary = Path(emu.store_path(SSTORE))
    assert sorted((secondary / "out" / "totals.csv").read_text().splitlines()) == ['"apple",7', '"pear",5']


def test_an_emulator_that_only_accepts_jobs_is_not_checked(tmp_path):
    from usqlrw.failover.preflight import endpoint_exists
    from usqlrw.jobs.client import resolve_endpoint
    with Emulator(execute=False, max_lifetime=60) as quiet, Emulator(max_lifetime=60) as runs:
        assert endpoint_exists(resolve_endpoint(quiet.url)) is None
        exists = endpoint_exists(resolve_endpoint(runs.url))
        Path(runs.store_path("somelake"), "a").mkdir()
        Path(runs.store_path("somelake"), "a", "x.csv").write_text("1\n")
        assert exists("somelake", "/a/x.csv") and exists("somelake", "/a/*.csv") and not exists("somelake", "/b/*")


def test_an_unreachable_store_stops_the_failover(drill, monkeypatch):
    from usqlrw.datalake import StoreError

    def broken(store, pattern):
        raise StoreError(f"{store}:{pattern}: cannot reach the store")
    tmp, emu = drill
    with pytest.raises(PlanError) as e:
        apply_plan(tmp / "plan", endpoint=emu.url, poll_interval=0.01, store_exists=broken)
    assert e.value.code == 1 and "could not be checked" in str(e.value) and emu.created == []


def test_inputs_are_taken_with_the_plans_parameters(tmp_path):
    """A path built from a DECLARE EXTERNAL: checked and copied with the value the plan's -p gives."""
    (tmp_path / "dr.toml").write_text(CONFIG)
    (tmp_path / "daily.usql").write_text(
        'DECLARE EXTERNAL @day string = "2020-01-01";\n'
        '@o = EXTRACT Id int, Item string, Qty int FROM "/in/" + @day + "/orders.csv" USING Extractors.Csv();\n'
        'OUTPUT @o TO "/out/daily.csv" USING Outputters.Csv();\n')
    r = CliRunner().invoke(cli, ["failover", "plan", "-c", str(tmp_path / "dr.toml"), "--out", str(tmp_path / "plan"),
                                 "-p", "day=2024-05-06", str(tmp_path / "daily.usql")], catch_exceptions=False)
    assert r.exit_code == 0, r.stderr
    with Emulator(accounts={PRIM: PSTORE, SEC: SSTORE}, max_lifetime=300) as emu:
        day = Path(emu.store_path(PSTORE)) / "in" / "2024-05-06"
        day.mkdir(parents=True)
        (day / "orders.csv").write_text("1,apple,3\n")
        with pytest.raises(PlanError) as e:
            apply_plan(tmp_path / "plan", endpoint=emu.url, poll_interval=0.01)
        assert "-daily.usql:2:" in str(e.value) and "/in/2024-05-06/orders.csv" in str(e.value)
        r = CliRunner().invoke(cli, ["sync-files", "--plan", str(tmp_path / "plan"), "--endpoint", emu.url],
                               catch_exceptions=False)
        assert r.exit_code == 0 and "shoplake:/in/2024-05-06/orders.csv -> shoplakedr:" in r.stdout, r.output
        ok, report = apply_plan(tmp_path / "plan", endpoint=emu.url, poll_interval=0.01)
        assert ok, [(s["id"], s.get("error")) for s in report["steps"]]
        assert (Path(emu.store_path(SSTORE)) / "out" / "daily.csv").read_text() == "1,\"apple\",3\n"


def test_a_deployed_resource_is_an_input_too(tmp_path):
    (tmp_path / "dr.toml").write_text(CONFIG)
    (tmp_path / "res.usql").write_text('DEPLOY RESOURCE @"/res/lookup.txt";\n' + JOB)
    r = CliRunner().invoke(cli, ["failover", "plan", "-c", str(tmp_path / "dr.toml"), "--out", str(tmp_path / "plan"),
                                 str(tmp_path / "res.usql")], catch_exceptions=False)
    assert r.exit_code == 0, r.stderr
    with Emulator(accounts={PRIM: PSTORE, SEC: SSTORE}, max_lifetime=300) as emu:
        inputs(Path(emu.store_path(SSTORE)))
        with pytest.raises(PlanError) as e:
            apply_plan(tmp_path / "plan", endpoint=emu.url, poll_interval=0.01)
        assert "1 input(s)" in str(e.value) and "-res.usql:1:" in str(e.value) and "/res/lookup.txt" in str(e.value)
        assert emu.created == []


def test_the_check_uses_the_token_the_jobs_are_sent_with(tmp_path):
    from usqlrw.jobs.client import token_credentials
    (tmp_path / "dr.toml").write_text(CONFIG)
    (tmp_path / "totals.usql").write_text(JOB)
    r = CliRunner().invoke(cli, ["failover", "plan", "-c", str(tmp_path / "dr.toml"), "--out", str(tmp_path / "plan"),
                                 str(tmp_path / "totals.usql")], catch_exceptions=False)
    assert r.exit_code == 0, r.stderr
    with Emulator(accounts={PRIM: PSTORE, SEC: SSTORE}, expected_token="only-this-one", max_lifetime=300) as emu:
        with pytest.raises(PlanError) as e:
            apply_plan(tmp_path / "plan", endpoint=emu.url, poll_interval=0.01,
                       credentials=token_credentials("only-this-one"))
        assert "2 input(s)" in str(e.value) and emu.created == []
        asked = [s for _, p, s in emu.requests if p.startswith("/_adls/")]
        assert asked and 401 not in asked                     # asked with the jobs' token, answered
