"""The real pre-commit tool runs this repository's `usqlrw-check` hook as the README tells a team to.

The README's snippet goes into a fresh team repository, pointed at a local copy of usqlrw (this
repository's HEAD commit on a `main` branch, no tags); `pre-commit autoupdate` pins it,
`pre-commit install` installs the hook (usqlrw in an environment of its own, in a temporary
PRE_COMMIT_HOME so nothing stale is reused), and a real `git commit` of a bad script is stopped
with its file:line:col while the good one passes.
"""
import os
import re
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


def _readme_config(hook_repo: str) -> str:
    """The README's .pre-commit-config.yaml snippet, pointed at a local copy of usqlrw."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### pre-commit"):]
    snippet = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
    assert "rev: main" in snippet and "id: usqlrw-check" in snippet
    url = re.search(r"repo: (\S+)", snippet).group(1)
    commands = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    assert f"pre-commit autoupdate --repo {url}" in commands and "pre-commit install" in commands
    return snippet.replace(url, hook_repo)


def test_the_readme_snippet_autoupdate_install_and_a_blocked_commit(tmp_path, head):
    """As the README says: the snippet, `pre-commit autoupdate`, `pre-commit install`, then commits."""
    hook_repo = tmp_path / "usqlrw.git"      # usqlrw as hosted: this commit on main, no tags yet
    _git("init", "-q", "--bare", str(hook_repo), cwd=tmp_path)
    _git("fetch", "-q", str(ROOT), f"HEAD:refs/heads/main", cwd=hook_repo)
    _git("symbolic-ref", "HEAD", "refs/heads/main", cwd=hook_repo)
    assert _git("rev-parse", "main", cwd=hook_repo) == head

    work = tmp_path / "team-repo"
    work.mkdir()
    _git("init", "-q", cwd=work)
    (work / ".pre-commit-config.yaml").write_text(_readme_config(str(hook_repo)))
    (work / "jobs").mkdir()
    (work / "jobs" / "good.usql").write_text(GOOD)
    (work / "jobs" / "bad.usql").write_text(BAD)
    (work / "legacy").mkdir()
    (work / "legacy" / "old.usql").write_text(BAD)        # excluded: the hook must not block on it
    (work / "pyproject.toml").write_text('[tool.usqlrw]\nextend-exclude = ["legacy/"]\n')
    (work / "notes.txt").write_text("not a script\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PRE_COMMIT", "GIT_"))}
    env.update(PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"), NO_COLOR="1",
               USQLRW_CACHE_DIR=str(tmp_path / "usqlrw-cache"), GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com")

    def pc(*args):
        return subprocess.run([sys.executable, "-m", "pre_commit", *args], cwd=work, env=env, capture_output=True,
                              text=True, timeout=600)

    p = pc("autoupdate", "--repo", str(hook_repo))
    assert p.returncode == 0, p.stdout + p.stderr
    assert f"rev: {head}" in (work / ".pre-commit-config.yaml").read_text()     # pinned to the commit
    p = pc("install")
    assert p.returncode == 0, p.stdout + p.stderr

    _git("add", ".", cwd=work)
    p = subprocess.run(["git", "commit", "-m", "add jobs"], cwd=work, env=env, capture_output=True, text=True,
                       timeout=600)
    out = p.stdout + p.stderr
    assert p.returncode == 1, out
    assert "usqlrw check" in out and "Failed" in out
    assert ("jobs/bad.usql:3:10: DR001 absolute path to contosoprod.azuredatalakestore.net; "
            "make it relative or a DECLARE EXTERNAL parameter") in out
    assert "jobs/bad.usql:5:8: SEM005 OUTPUT of rowset @order, which is never assigned" in out
    assert "good.usql:" not in out and "notes.txt:" not in out and "legacy/old.usql:" not in out

    _git("rm", "-q", "--cached", "jobs/bad.usql", cwd=work)
    p = subprocess.run(["git", "commit", "-m", "add jobs"], cwd=work, env=env, capture_output=True, text=True,
                       timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Passed" in p.stdout + p.stderr

    # The release step: a tag. autoupdate then moves rev to it.
    _git("tag", "v0.1.0", "main", cwd=hook_repo)
    p = pc("autoupdate", "--repo", str(hook_repo))
    assert p.returncode == 0, p.stdout + p.stderr
    assert "rev: v0.1.0" in (work / ".pre-commit-config.yaml").read_text()
