"""`rewrite --diff` output that `git apply` takes from where usqlrw ran, colour, and honest status words."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
CONFIG = str(ROOT / "examples" / "dr.toml")
EXAMPLE = ROOT / "examples" / "project"

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def usqlrw(*args, cwd, input=None):
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    return subprocess.run([sys.executable, "-m", "usqlrw", *args], cwd=cwd, input=input, capture_output=True,
                          timeout=120, env=env)


def git(*args, cwd, input=None):
    return subprocess.run(["git", *args], cwd=cwd, input=input, capture_output=True, timeout=60)


@pytest.fixture
def repo(tmp_path):
    r = tmp_path / "team"
    shutil.copytree(EXAMPLE, r / "pipelines" / "telemetry")
    git("init", "-q", cwd=r)
    return r


def _expected(repo, tmp_path):
    out = tmp_path / "expected"
    p = usqlrw("rewrite", "-c", CONFIG, "-q", "--out", str(out), "pipelines", cwd=repo)
    assert p.returncode == 0, p.stderr
    return {f.name: f.read_bytes() for f in out.rglob("*.usql")}


def _scripts(repo):
    return {f.name: f.read_bytes() for f in (repo / "pipelines").rglob("*.usql")}


@pytest.mark.parametrize("where,arg", [(".", "pipelines"), ("pipelines", "telemetry"),
                                       ("pipelines/telemetry", "."), (".", "ABS")])
def test_git_apply_takes_the_diff_where_usqlrw_ran(repo, tmp_path, where, arg):
    expected = _expected(repo, tmp_path)
    before = _scripts(repo)
    assert expected != before
    arg = str(repo / "pipelines") if arg == "ABS" else arg
    p = usqlrw("rewrite", "-c", CONFIG, "--diff", arg, cwd=repo / where)
    assert p.returncode == 0, p.stderr
    diff = p.stdout
    assert b"\x1b[" not in diff                      # piped: no colour
    assert b"--- a/" in diff and b"/.." not in diff and b"--- a//" not in diff
    assert _scripts(repo) == before                  # --diff writes nothing...
    err = p.stderr.decode()
    assert "would change" in err and "rewritten" not in err      # ...and says so
    a = git("apply", "-v", "-", cwd=repo / where, input=diff)
    assert a.returncode == 0, a.stderr
    assert _scripts(repo) == expected


def test_stdin_diff_names_the_stdin_filename_path(repo, tmp_path):
    expected = _expected(repo, tmp_path)
    src = repo / "pipelines" / "telemetry" / "ddl.usql"
    p = usqlrw("rewrite", "-c", CONFIG, "--diff", "-", "--stdin-filename", "pipelines/telemetry/ddl.usql",
               cwd=repo, input=src.read_bytes())
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith(b"--- a/pipelines/telemetry/ddl.usql\n+++ b/pipelines/telemetry/ddl.usql\n")
    assert git("apply", "-", cwd=repo, input=p.stdout).returncode == 0
    assert src.read_bytes() == expected["ddl.usql"]


def test_color_always_colours_the_diff_even_when_piped(repo):
    p = usqlrw("rewrite", "-c", CONFIG, "--diff", "--color", "always", "pipelines", cwd=repo)
    assert p.returncode == 0
    assert b"\x1b[32m+" in p.stdout and b"\x1b[31m-" in p.stdout and b"\x1b[36m@@" in p.stdout
    p = usqlrw("rewrite", "-c", CONFIG, "--diff", "--color", "never", "pipelines", cwd=repo)
    assert b"\x1b[" not in p.stdout


def test_status_words_say_what_each_mode_did(repo, tmp_path):
    p = usqlrw("rewrite", "-c", CONFIG, "--check", "pipelines", cwd=repo)
    err = p.stderr.decode()
    assert p.returncode == 1 and "ddl.usql: would change" in err and "would change, 0 failed" in err
    p = usqlrw("rewrite", "-c", CONFIG, "--out", str(tmp_path / "dr"), "pipelines", cwd=repo)
    err = p.stderr.decode()
    assert p.returncode == 0 and f"ddl.usql: rewritten to {tmp_path / 'dr'}" in err
    assert f"written to {tmp_path / 'dr'}" in err.splitlines()[-1]
    p = usqlrw("rewrite", "-c", CONFIG, "--in-place", "pipelines", cwd=repo)
    err = p.stderr.decode()
    assert p.returncode == 0 and "ddl.usql: rewritten, " in err and "would" not in err
    assert " rewritten, 0 failed" in err.splitlines()[-1]
    p = usqlrw("rewrite", "-c", CONFIG, "-v", "--check", "pipelines", cwd=repo)   # all moved now
    err = p.stderr.decode()
    assert p.returncode == 0 and "ddl.usql: unchanged" in err
