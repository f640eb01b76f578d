"""File discovery: .gitignore as git reads it, exclude/extend-exclude, generated folders, state outside the tree."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from usqlrw.cli import cli
from usqlrw.discovery import Discovery
from usqlrw.files import iter_inputs

ROOT = Path(__file__).parent.parent
GOOD = '@r = EXTRACT a int FROM "/x.csv" USING Extractors.Csv();\nOUTPUT @r TO "/o.csv" USING Outputters.Csv();\n'
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def run(*args):
    r = CliRunner().invoke(cli, list(args))
    return r.exit_code, r.stdout, r.stderr


def _tree(base: Path, files):
    for f in files:
        p = base / f
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(GOOD)


def _found(paths, **kw):
    return sorted(os.path.relpath(i.path) for i in iter_inputs(paths, discovery=Discovery.from_settings(None, **kw)))


FILES = ["a.usql", "keep.tmp.usql", "x.tmp.usql", "generated/g.usql", "sub/local.usql", "sub/deep/local.usql",
         "sub/b.usql", "scratch/s.usql", "logs/2024/run.usql", "logs/keep/run.usql", "build/out/o.usql",
         "docs/[draft].usql", "docs/ok.usql", "a/b/c/d.usql", "a/x/d.usql", "space .usql", "dir.usql/inner.usql"]
GITIGNORE = """# comment
generated/
*.tmp.usql
!keep.tmp.usql
/build
logs/**
!logs/keep/
docs/\\[draft\\].usql
a/**/d.usql
space\\ .usql
dir.usql/
"""


@needs_git
def test_gitignore_is_read_as_git_reads_it(tmp_path, monkeypatch):
    """Our verdict on every file is git's own (`git ls-files --others --exclude-standard`)."""
    repo = tmp_path / "repo"
    _tree(repo, FILES)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    (repo / ".gitignore").write_text(GITIGNORE)
    (repo / "sub" / ".gitignore").write_text("/local.usql\n")
    (repo / ".git" / "info").mkdir(exist_ok=True)
    (repo / ".git" / "info" / "exclude").write_text("scratch/\n")
    git = subprocess.run(["git", "ls-files", "--others", "--exclude-standard", "--", "*.usql"], cwd=repo,
                         capture_output=True, text=True, check=True).stdout.split()
    monkeypatch.chdir(repo)
    ours = _found(["."])
    assert ours == sorted(git)
    assert "sub/deep/local.usql" in ours and "keep.tmp.usql" in ours and "a.usql" in ours
    assert "x.tmp.usql" not in ours and "generated/g.usql" not in ours and "scratch/s.usql" not in ours
    assert len(_found(["."], respect_gitignore=False)) == len(FILES)


def test_gitignore_outside_a_git_work_tree_means_nothing(tmp_path, monkeypatch):
    _tree(tmp_path, ["a.usql", "generated/g.usql"])
    (tmp_path / ".gitignore").write_text("generated/\n")
    monkeypatch.chdir(tmp_path)
    assert _found(["."]) == ["a.usql", "generated/g.usql"]


@needs_git
def test_check_honours_gitignore_and_exclude_settings(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    _tree(repo, ["jobs/a.usql", "jobs/legacy/old.usql", "jobs/out/gen.usql", "jobs/scratch_1.usql",
                 ".venv/lib/x.usql", "vendor/v.usql"])
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    (repo / ".gitignore").write_text("out/\n")
    (repo / "usqlrw.toml").write_text('extend-exclude = ["jobs/legacy", "scratch_*.usql"]\n')
    for f in ["jobs/legacy/old.usql", "jobs/out/gen.usql", "jobs/scratch_1.usql", ".venv/lib/x.usql"]:
        (repo / f).write_text("@x = SELECT * FROM\n")        # would be a PRS finding
    monkeypatch.chdir(repo)
    code, out, err = run("check", "-v", ".")
    assert code == 0, out + err
    assert "2 scripts checked, all clean" in err            # jobs/a.usql and vendor/v.usql
    assert "jobs/legacy: skipped, excluded by 'jobs/legacy'" in err
    assert "jobs/scratch_1.usql: skipped, excluded by 'scratch_*.usql'" in err
    assert "jobs/out: skipped, ignored by git" in err and ".venv: skipped, excluded by '.venv'" in err
    code, out, err = run("check", "--extend-exclude", "vendor", ".")
    assert code == 0 and "1 script checked" in err
    code, out, err = run("check", "--exclude", "nothing-at-all", "--no-respect-gitignore", ".")
    assert code == 1 and "out/gen.usql" in out and ".venv/lib/x.usql" in out
    # a file named as an argument is checked, unless --force-exclude (what the pre-commit hook uses)
    code, out, err = run("check", "jobs/legacy/old.usql", "jobs/out/gen.usql")
    assert code == 1 and "old.usql:1:19: PRS" in out and "gen.usql" in out
    code, out, err = run("check", "--force-exclude", "jobs/legacy/old.usql", "jobs/out/gen.usql", "jobs/a.usql")
    assert code == 0 and "1 script checked, all clean" in err
    code, out, err = run("check", "--force-exclude", "jobs/legacy/old.usql")
    assert code == 0 and "no U-SQL scripts found" in err
    code, out, err = run("check", "--show-settings", "jobs/a.usql")
    assert "folder search skips: .git, " in out and "jobs/legacy, scratch_*.usql; what .gitignore ignores" in out
    # standard input named as an excluded file: check skips it, rewrite still gives it back
    r = CliRunner().invoke(cli, ["check", "--force-exclude", "-", "--stdin-filename", "jobs/legacy/old.usql"],
                           input="@x = SELECT * FROM\n")
    assert r.exit_code == 0 and "no U-SQL scripts found" in r.stderr
    r = CliRunner().invoke(cli, ["rewrite", "-c", str(ROOT / "examples" / "dr.toml"), "--force-exclude", "-",
                                 "--stdin-filename", "jobs/legacy/x.usql"], input=GOOD)
    assert r.exit_code == 0 and r.stdout == GOOD
    # rewrite searches folders the same way
    code, out, err = run("rewrite", "-c", str(ROOT / "examples" / "dr.toml"), "--check", ".")
    assert code == 0 and "2 scripts:" in err


def test_folders_usqlrw_wrote_are_not_searched(tmp_path, monkeypatch):
    proj = tmp_path / "proj"
    shutil.copytree(ROOT / "examples" / "project", proj / "jobs")
    shutil.copy(ROOT / "examples" / "dr.toml", proj / "dr.toml")
    monkeypatch.chdir(proj)
    n = len(list((proj / "jobs").glob("*.usql")))
    usqlrw = [sys.executable, "-m", "usqlrw"]
    assert subprocess.run(usqlrw + ["failover", "plan", "-q", "-c", "dr.toml", "-o", "plan", "jobs"],
                          capture_output=True, timeout=120).returncode == 0
    assert subprocess.run(usqlrw + ["replicate", "-q", "-c", "dr.toml", "-o", "bundle", "jobs"],
                          capture_output=True, timeout=120).returncode == 0
    assert list((proj / "plan").rglob("*.usql")) and list((proj / "bundle").rglob("*.usql"))
    code, out, err = run("check", "-v", "--select", "SEM", ".")
    assert f"{n} scripts checked" in err, err
    assert "plan: skipped, a failover plan written by usqlrw" in err
    assert "bundle: skipped, a bundle written by usqlrw" in err
    code, out, err = run("check", "--select", "SEM", "plan")        # named: searched
    assert f"{n} scripts checked" not in err and "scripts checked" in err


def test_emulator_state_is_not_written_into_the_working_folder(tmp_path):
    state_home = Path(os.environ["USQLRW_STATE_DIR"])
    work = tmp_path / "work"
    work.mkdir()
    p = subprocess.Popen([sys.executable, "-m", "usqlrw", "emulator", "--port", "0"], cwd=work,
                         stderr=subprocess.PIPE, text=True)
    try:
        line = ""
        while "ADLA emulator on" not in line:
            line = p.stderr.readline()
            assert line, "the emulator ended early"
    finally:
        p.terminate()
        p.wait(timeout=30)
    assert f"(state: {state_home / 'emulator.sqlite'})" in line
    assert (state_home / "emulator.sqlite").exists() and list(work.iterdir()) == []


@needs_git
def test_refs_replicate_and_submit_search_folders_the_same_way(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    (repo / "jobs").mkdir(parents=True)
    shutil.copy(ROOT / "examples" / "project" / "aggregate.usql", repo / "jobs" / "aggregate.usql")
    (repo / "jobs" / "tmp").mkdir()
    shutil.copy(ROOT / "examples" / "project" / "ddl.usql", repo / "jobs" / "tmp" / "ddl.usql")
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    (repo / ".gitignore").write_text("tmp/\n")
    monkeypatch.chdir(repo)
    cfg = str(ROOT / "examples" / "dr.toml")
    code, out, err = run("refs", "--format", "json", ".")
    assert code == 0 and "aggregate.usql" in out and "ddl.usql" not in out
    code, out, err = run("refs", "--format", "json", "--no-respect-gitignore", ".")
    assert "ddl.usql" in out
    code, out, err = run("submit", "-a", "acct", "--dry-run", "--no-ledger", "--format", "json", ".")
    assert code == 0 and "aggregate.usql" in out and "ddl.usql" not in out
    code, out, err = run("replicate", "-v", "-c", cfg, "-o", str(tmp_path / "bundle"), ".")
    assert "jobs/tmp: skipped, ignored by git" in err
