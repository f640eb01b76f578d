import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from usqlrw.cli import cli

HERE = Path(__file__).parent / "fixtures" / "rewrite"
CONFIG = str(HERE / "dr.toml")


def run(*args, input=None):
    r = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
    # CliRunner's .stdout folds CRLF to LF; the bytes show what a user gets.
    return r.exit_code, r.stdout_bytes.decode(), r.stderr


@pytest.fixture
def repo(tmp_path):
    """A folder of scripts: two to change, one clean, one broken, one in a subfolder."""
    (tmp_path / "jobs" / "sub").mkdir(parents=True)
    (tmp_path / "jobs" / "a.usql").write_bytes((HERE / "endpoints.in.usql").read_bytes())
    (tmp_path / "jobs" / "sub" / "b.usql").write_bytes(b"\xef\xbb\xbfUSE DATABASE Sales;\r\n@x = SELECT * FROM Orders;\r\n")
    (tmp_path / "jobs" / "clean.usql").write_bytes(b"@x = SELECT * FROM @y;\n")
    (tmp_path / "jobs" / "broken.usql").write_bytes(b"USE DATABASE Sales;\n@x = SELECT * FROM\n")
    return tmp_path


def test_out_dir_keeps_relative_layout(repo):
    code, out, err = run("rewrite", "-c", CONFIG, "--out", str(repo / "dr"), str(repo / "jobs"))
    assert code == 1                                  # the broken script fails the batch...
    assert f"{repo / 'jobs' / 'broken.usql'}:2:19: PRS" in err
    assert (repo / "dr" / "a.usql").read_bytes() == (HERE / "endpoints.out.usql").read_bytes()
    assert (repo / "dr" / "sub" / "b.usql").read_bytes() == \
        b"\xef\xbb\xbfUSE DATABASE SalesDR;\r\n@x = SELECT * FROM OrdersDR;\r\n"
    assert (repo / "dr" / "clean.usql").read_bytes() == b"@x = SELECT * FROM @y;\n"
    assert not (repo / "dr" / "broken.usql").exists()  # ...and is never written
    assert "4 scripts: 2 changed, 1 failed, 0 warnings" in err


def test_in_place_is_atomic_and_keeps_mode(repo):
    a = repo / "jobs" / "a.usql"
    os.chmod(a, 0o640)
    before_clean = (repo / "jobs" / "clean.usql").stat().st_mtime_ns
    code, out, err = run("rewrite", "-c", CONFIG, "--in-place", str(repo / "jobs"))
    assert code == 1
    assert a.read_bytes() == (HERE / "endpoints.out.usql").read_bytes()
    assert stat.S_IMODE(a.stat().st_mode) == 0o640
    assert (repo / "jobs" / "clean.usql").stat().st_mtime_ns == before_clean   # unchanged: not rewritten
    assert (repo / "jobs" / "broken.usql").read_bytes() == b"USE DATABASE Sales;\n@x = SELECT * FROM\n"
    assert not [p for p in (repo / "jobs").rglob(".*.tmp")]


def test_check_and_diff(repo):
    (repo / "jobs" / "broken.usql").unlink()
    code, out, err = run("rewrite", "-c", CONFIG, "--check", "--diff", str(repo / "jobs"))
    assert code == 1
    assert "-USE DATABASE Sales;\r\n-@x = SELECT * FROM Orders;\r\n+USE DATABASE SalesDR;\r\n" in out
    assert "would change" in err
    assert (repo / "jobs" / "a.usql").read_bytes() == (HERE / "endpoints.in.usql").read_bytes()
    code, out, err = run("rewrite", "-c", CONFIG, "--check", str(repo / "jobs" / "clean.usql"))
    assert code == 0


def test_stdin_to_stdout_and_json():
    code, out, err = run("rewrite", "-c", CONFIG, "-", input="USE DATABASE Sales;\n")
    assert code == 0 and out == "USE DATABASE SalesDR;\n"
    code, out, err = run("rewrite", "-c", CONFIG, "--check", "--format", "json", "-",
                         input="USE DATABASE Sales;\n")
    rep = json.loads(out)
    assert code == 1 and rep["changed"] == 1 and rep["files"][0]["edits"] == 1


def test_usage_errors_exit_2(repo):
    assert run("rewrite", "-c", CONFIG, str(repo / "jobs"))[0] == 2            # no action
    assert run("rewrite", "-c", CONFIG, "--out", "x", "--in-place", "y.usql")[0] == 2
    bad = repo / "bad.toml"
    bad.write_text('[primary]\nanalytics_account = "p-adla"\n[secondary]\nanalytics_account = "s-adla"\n'
                   'store_account = "s"\n')
    code, out, err = run("rewrite", "-c", str(bad), "--check", str(repo / "jobs"))
    assert code == 2 and "primary.store_account" in err


def test_refs_lists_resolved_names_and_locations():
    code, out, err = run("refs", "-c", CONFIG, "--format", "json", str(HERE / "catalog.in.usql"))
    rows = json.loads(out)
    first = rows[0]
    assert (first["line"], first["column"], first["role"]) == (1, 14, "database use")
    assert first["primary"] == "fabrikam-adla.Sales" and first["secondary"] == "fabrikamdr-adla.SalesDR"
    ins = next(r for r in rows if r["role"] == "table write")
    assert ins["primary"] == "fabrikam-adla.Sales.dbo.Orders"
    assert ins["secondary"] == "fabrikamdr-adla.SalesDR.dbo.OrdersDR"
    code, out, err = run("refs", str(HERE / "endpoints.in.usql"))
    assert code == 0 and "input" in out and "adl://fabrikamlake.azuredatalakestore.net/clicks/{date:yyyy}" in out


def test_parallel_batch_in_a_new_process(tmp_path):
    src = (HERE / "catalog.in.usql").read_bytes()
    for i in range(80):
        (tmp_path / f"s{i:03}.usql").write_bytes(src)
    out = tmp_path / "out"
    p = subprocess.run([sys.executable, "-m", "usqlrw", "rewrite", "-c", CONFIG, "-j", "2", "--out", str(out),
                        str(tmp_path)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    want = (HERE / "catalog.out.usql").read_bytes()
    assert sorted(x.name for x in out.iterdir()) == [f"s{i:03}.usql" for i in range(80)]
    assert all(x.read_bytes() == want for x in out.iterdir())
