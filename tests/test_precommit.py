"""The real pre-commit tool runs this repository's `usqlrw-check` hook (pre-commit try-repo).

pre-commit installs usqlrw from this repository's HEAD commit into an environment of its own (in a
temporary PRE_COMMIT_HOME, so nothing stale is reused), then runs the hook on a good and a bad
script in a fresh git repository: the bad one is rejected with its file:line:col, the good one
passes.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent

GOOD = '''@orders =
    EXTRACT Region string, Amount decimal
    FROM "/sales/orders.csv"
    USING Extractors.Csv();
OUTPUT @orders TO "/out/orders.csv" USING Outputters.Csv();
'''
BAD = '''@orders =
    EXTRACT Region string, Amount decimal
    FROM "adl://contosoprod.azuredatalakestore.net/sales/orders.csv"
    USING Extractors.Csv();
OUTPUT @order TO "/out/orders.csv" USING Outputters.Csv();
'''


def _git(*args, cwd):
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture(scope="module")
def head():
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    pytest.importorskip("pre_commit")
    try:
        sha = _git("rev-parse", "HEAD", cwd=ROOT)
        listed = _git("ls-tree", "--name-only", sha, ".pre-commit-hooks.yaml", cwd=ROOT)
    except subprocess.CalledProcessError:
        pytest.skip("not a git checkout of usqlrw")
    assert listed == ".pre-commit-hooks.yaml", "the hook definition must be committed"
    return sha


def test_pre_commit_try_repo_rejects_the_bad_script_and_passes_the_good(tmp_path, head):
    work = tmp_path / "team-repo"
    work.mkdir()
    _git("init", "-q", cwd=work)
    (work / "jobs").mkdir()
    (work / "jobs" / "good.usql").write_text(GOOD)
    (work / "jobs" / "bad.usql").write_text(BAD)
    (work / "notes.txt").write_text("not a script\n")
    _git("add", ".", cwd=work)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PRE_COMMIT", "GIT_"))}
    env.update(PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"), NO_COLOR="1",
               USQLRW_CACHE_DIR=str(tmp_path / "usqlrw-cache"))

    def try_repo(*files):
        cmd = [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "usqlrw-check", "--ref", head,
               "--color", "never", "--verbose", "--files", *files]
        return subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=600)

    p = try_repo("jobs/good.usql", "jobs/bad.usql", "notes.txt")
    out = p.stdout + p.stderr
    assert p.returncode == 1, out
    assert "usqlrw check" in out and "Failed" in out and "hook id: usqlrw-check" in out
    assert ("jobs/bad.usql:3:10: DR001 absolute path to contosoprod.azuredatalakestore.net; "
            "make it relative or a DECLARE EXTERNAL parameter") in out
    assert "jobs/bad.usql:5:8: SEM005 OUTPUT of rowset @order, which is never assigned" in out
    assert "good.usql:" not in out and "notes.txt:" not in out

    p = try_repo("jobs/good.usql", "notes.txt")
    out = p.stdout + p.stderr
    assert p.returncode == 0, out
    assert "Passed" in out
