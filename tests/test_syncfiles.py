"""sync-files: what the jobs read, copied from the primary's stores to the secondary's through the
real azure-datalake-store client against the emulator's stores; incremental, never deleting."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from usqlrw.cli import cli
from usqlrw.config import parse_config
from usqlrw.datalake import open_store
from usqlrw.emulator import Emulator
from usqlrw.syncfiles import RECORD_DIR, inputs_of_scripts, sync_files

CONFIG = """[primary]
analytics_account = "shop-adla"
store_account = "shoplake"

[secondary]
analytics_account = "shopdr-adla"
store_account = "shoplakedr"

[stores]
reflake = "reflakedr"

[[locations]]
from = "adl://shoplake.azuredatalakestore.net/shared/"
to = "adl://shoplakedr.azuredatalakestore.net/dr/shared/"
"""
JOB = """DECLARE @root string = "/in/";
DEPLOY RESOURCE @"/res/lookup.txt";
@o = EXTRACT Id int, Item string FROM "/in/orders.csv" USING Extractors.Csv();
@d = EXTRACT Item string, day DateTime FROM "/in/days/{day:yyyy}/{day:MM}/{*}.csv" USING Extractors.Csv();
@r = EXTRACT Item string FROM "adl://reflake.azuredatalakestore.net/items.csv" USING Extractors.Csv();
@s = EXTRACT Item string, n int FROM "adl://shoplake.azuredatalakestore.net/shared/{n}.csv" USING Extractors.Csv();
@x = EXTRACT Item string FROM @root + DateTime.Now.ToString("yyyy") + ".csv" USING Extractors.Csv();
@w = EXTRACT Item string FROM "wasbs://c@shopblob.blob.core.windows.net/w.csv" USING Extractors.Csv();
OUTPUT @o TO "/out/o.csv" USING Outputters.Csv();
"""


@pytest.fixture
def setup(tmp_path):
    (tmp_path / "dr.toml").write_text(CONFIG)
    (tmp_path / "job.usql").write_text(JOB)
    emu = Emulator(accounts={"shop-adla": "shoplake", "shopdr-adla": "shoplakedr"},
                   data_dir=str(tmp_path / "data")).start()
    try:
        yield tmp_path, emu
    finally:
        emu.close()


def config():
    import tomllib
    return parse_config(tomllib.loads(CONFIG))


def primary_files(emu):
    p, ref = open_store("shoplake", emu.url), open_store("reflake", emu.url)
    p.write("/res/lookup.txt", b"k\n")
    p.write("/in/orders.csv", b"1,apple\n2,pear\n")
    p.write("/in/days/2024/01/a.csv", b"apple,2024-01-02\n")
    p.write("/in/days/2024/02/b.csv", b"pear,2024-02-03\n")
    p.write("/in/days/2024/02/skip.txt", b"not in the file set\n")
    p.write("/shared/1.csv", b"fig,1\n")
    ref.write("/items.csv", b"apple\npear\nfig\n")
    return p


def stores(emu):
    cache = {}

    def opener(name):
        return cache.setdefault(name, open_store(name, emu.url))
    return opener


def test_inputs_as_read_on_each_side(setup):
    tmp, _ = setup
    ins = inputs_of_scripts([tmp / "job.usql"], config())
    got = [(i.line, i.source, i.target, i.reason and i.reason.split(" (")[0]) for i in ins]
    assert got == [
        (2, ("shoplake", "/res/lookup.txt"), ("shoplakedr", "/res/lookup.txt"), None),
        (3, ("shoplake", "/in/orders.csv"), ("shoplakedr", "/in/orders.csv"), None),
        (4, ("shoplake", "/in/days/*/*/*.csv"), ("shoplakedr", "/in/days/*/*/*.csv"), None),
        (5, ("reflake", "/items.csv"), ("reflakedr", "/items.csv"), None),
        (6, ("shoplake", "/shared/*.csv"), ("shoplakedr", "/dr/shared/*.csv"), None),
        (7, None, None, "computed at run time"),
        (8, None, None, "on Blob storage, not a Data Lake Store"),
    ]


def test_copies_what_the_jobs_read_then_nothing_then_what_changed(setup):
    tmp, emu = setup
    primary_files(emu)
    ins = inputs_of_scripts([tmp / "job.usql"], config())
    sec = Path(emu.store_path("shoplakedr"))
    (sec / "keep").mkdir(parents=True)
    (sec / "keep" / "only-here.csv").write_bytes(b"the secondary's own file\n")

    r = sync_files(ins, stores(emu), stores(emu))
    assert r.ok and (r.copied, r.skipped, r.failed) == (6, 2, 0), [str(i) for i in r.items]
    assert r.bytes_copied == 2 + 15 + 17 + 16 + 6 + 15
    assert (sec / "in" / "days" / "2024" / "02" / "b.csv").read_bytes() == b"pear,2024-02-03\n"
    assert not (sec / "in" / "days" / "2024" / "02" / "skip.txt").exists()       # not in the file set
    assert (sec / "dr" / "shared" / "1.csv").read_bytes() == b"fig,1\n"           # the mapped prefix
    assert (Path(emu.store_path("reflakedr")) / "items.csv").exists()            # another store pair
    skipped = {i.reason.split(" (")[0] for i in r.items if i.status == "skipped"}
    assert skipped == {"computed at run time", "on Blob storage, not a Data Lake Store"}

    again = sync_files(ins, stores(emu), stores(emu))              # incremental: nothing to copy
    assert (again.copied, again.failed, again.bytes_copied) == (0, 0, 0)
    assert sum(1 for i in again.items if i.reason.startswith("unchanged since the last copy")) == 6

    open_store("shoplake", emu.url).write("/in/orders.csv", b"1,apple\n2,peas\n")   # same length, new bytes
    third = sync_files(ins, stores(emu), stores(emu))
    assert [i.source for i in third.items if i.status == "copied"] == ["shoplake:/in/orders.csv"]
    assert (sec / "in" / "orders.csv").read_bytes() == b"1,apple\n2,peas\n"
    assert (sec / "keep" / "only-here.csv").read_bytes() == b"the secondary's own file\n"   # never deleted


def test_dry_run_writes_nothing(setup):
    tmp, emu = setup
    primary_files(emu)
    ins = inputs_of_scripts([tmp / "job.usql"], config())
    r = sync_files(ins, stores(emu), stores(emu), dry_run=True)
    assert r.copied == 6 and r.count("copied") == 0 and "would copy" in r.summary()
    sec = Path(emu.store_path("shoplakedr"))
    assert not any(p.is_file() for p in sec.rglob("*"))


def test_equal_files_without_a_record_are_compared_by_content(setup):
    tmp, emu = setup
    p = open_store("shoplake", emu.url)
    p.write("/in/orders.csv", b"1,apple\n")
    sec = Path(emu.store_path("shoplakedr"))
    (sec / "in").mkdir(parents=True)
    (sec / "in" / "orders.csv").write_bytes(b"1,apple\n")       # already there, copied by other means
    ins = [i for i in inputs_of_scripts([tmp / "job.usql"], config()) if i.line == 3]
    r = sync_files(ins, stores(emu), stores(emu))
    assert r.items[0].status == "skipped" and r.items[0].reason.startswith("same content")
    (sec / "in" / "orders.csv").write_bytes(b"1,APPLE\n")       # same length, other bytes: copied
    (sec / "usqlrw" / "sync" / "from-shoplake.json").write_text("{not json")     # a broken record
    r = sync_files(ins, stores(emu), stores(emu))
    assert r.items[0].status == "copied" and (sec / "in" / "orders.csv").read_bytes() == b"1,apple\n"
    assert any("not a valid record" in n for n in r.notes)
    record = json.loads((sec / RECORD_DIR.strip("/") / "from-shoplake.json").read_text())
    assert record["files"]["/in/orders.csv"]["target_path"] == "/in/orders.csv"   # written again, valid


def test_a_file_changed_on_the_secondary_is_copied_again(setup):
    tmp, emu = setup
    open_store("shoplake", emu.url).write("/in/orders.csv", b"1,apple\n")
    ins = [i for i in inputs_of_scripts([tmp / "job.usql"], config()) if i.line == 3]
    assert sync_files(ins, stores(emu), stores(emu)).copied == 1
    open_store("shoplakedr", emu.url).write("/in/orders.csv", b"tampered\n")
    r = sync_files(ins, stores(emu), stores(emu))
    assert r.copied == 1
    assert open_store("shoplakedr", emu.url).read("/in/orders.csv") == b"1,apple\n"


def run(*args):
    r = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


def test_cli_exit_codes_and_summary(setup):
    tmp, emu = setup
    primary_files(emu)
    code, out, err = run("sync-files", "-c", tmp / "dr.toml", "--endpoint", emu.url, "--dry-run", tmp / "job.usql")
    assert code == 0 and "would copy: shoplake:/in/orders.csv -> shoplakedr:/in/orders.csv (15 bytes)" in out
    assert "dry run: 6 file(s) would copy (71 bytes), 2 skipped, 0 failed" in err
    assert "job.usql:7:" in out and "computed at run time" in out
    code, out, err = run("sync-files", "-c", tmp / "dr.toml", "--endpoint", emu.url, tmp / "job.usql")
    assert code == 0 and "6 file(s) copied (71 bytes), 2 skipped, 0 failed" in err
    code, out, err = run("sync-files", "-c", tmp / "dr.toml", "--endpoint", emu.url, "--format", "json",
                         tmp / "job.usql")
    doc = json.loads(out)
    assert code == 0 and (doc["copied"], doc["skipped"], doc["failed"]) == (0, 8, 0)
    # an input missing on the primary fails (exit 1); a script that does not parse is one line, the rest go on
    (Path(emu.store_path("reflake")) / "items.csv").unlink()
    (tmp / "bad.usql").write_text("@a = EXTRACT FROM;\n")
    code, out, err = run("sync-files", "-c", tmp / "dr.toml", "--endpoint", emu.url, tmp / "job.usql",
                         tmp / "bad.usql")
    assert code == 1 and "FAILED: reflake:/items.csv" in out and "no such file on the primary store" in out
    assert "bad.usql:1:" in err and "Traceback" not in err and "1 script(s) not read" in err


def test_cli_usage_errors_exit_2(setup):
    tmp, emu = setup
    assert run("sync-files", "-c", tmp / "dr.toml")[0] == 2
    assert run("sync-files", tmp / "job.usql")[0] == 2
    (tmp / "bad.toml").write_text("[primary]\n")
    code, _, err = run("sync-files", "-c", tmp / "bad.toml", tmp / "job.usql")
    assert code == 2 and "bad.toml" in err and "Traceback" not in err
    assert run("sync-files", "-c", tmp / "dr.toml", "--endpoint", "ftp://x", tmp / "job.usql")[0] == 2


def test_a_refused_token_is_one_line_and_never_shown(tmp_path, monkeypatch):
    (tmp_path / "dr.toml").write_text(CONFIG)
    (tmp_path / "job.usql").write_text(JOB)
    with Emulator(expected_token="the-right-token", data_dir=str(tmp_path / "data")) as emu:
        monkeypatch.setenv("USQLRW_ADLA_TOKEN", "a-wrong-secret-token")
        code, out, err = run("sync-files", "-c", tmp_path / "dr.toml", "--endpoint", emu.url, tmp_path / "job.usql")
    assert code == 1 and "token was refused" in out and "Traceback" not in err
    assert "a-wrong-secret-token" not in out + err and "the-right-token" not in out + err


def test_azure_stores_are_reached_by_their_own_host(monkeypatch):
    """No emulator: the store's Azure host, the token from the environment; nothing is sent yet."""
    monkeypatch.setenv("USQLRW_ADLA_TOKEN", "azure-token-for-test")
    s = open_store("ContosoDR", None)
    assert s.where == "https://contosodr.azuredatalakestore.net/" and s.rest.url == s.where
    assert s.rest.local.session.trust_env is True           # Azure: the environment's proxy applies
    monkeypatch.delenv("USQLRW_ADLA_TOKEN")
    import importlib.util
    if importlib.util.find_spec("azure.identity") is None:
        with pytest.raises(Exception, match="azure-identity is not installed"):
            open_store("contosodr", None)
