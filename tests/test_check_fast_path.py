"""The pre-commit hook's `usqlrw check` runs without click (usqlrw.cli.fast) and says exactly what
click's way says: every command line below runs in real processes both ways (the fast path, and
click with USQLRW_NO_FAST_PATH=1), and stdout, stderr and the exit status must be byte-identical.
Command lines the fast path does not take go to click either way; they are in the table too."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from usqlrw.cli.fast import parse

ROOT = Path(__file__).parent.parent

CLEAN = ('DECLARE @out string = "/o/clean.csv";\n'
         '@x = SELECT * FROM (VALUES (1)) AS T(a);\nOUTPUT @x TO @out USING Outputters.Csv();\n')
WARNS = ('DECLARE @unused int = 1;\n'
         '@x = SELECT * FROM (VALUES (1)) AS T(a);\n@y = SELECT a FROM @x;\n'
         'OUTPUT @x TO "adl://primaryacct.azuredatalakestore.net/o/x.csv" USING Outputters.Csv();\n')
BROKEN = "@x = SELECT * FROM;\n"
# an escape sequence inside the script's text: click strips it from output that is not a terminal
ANSI = '@x = SELECT "\x1b[31mred\x1b[0m" AS c FROM;\n'


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    t = tmp_path_factory.mktemp("fastpath")
    (t / "clean.usql").write_text(CLEAN)
    (t / "warns.usql").write_text(WARNS)
    (t / "broken.usql").write_text(BROKEN)
    (t / "ansi.usql").write_text(ANSI)
    (t / "bom.usql").write_bytes(b"\xef\xbb\xbf" + CLEAN.encode())
    (t / "latin1.usql").write_bytes('// caf\xe9\n'.encode("latin-1") + BROKEN.encode())
    (t / "empty").mkdir()
    (t / "empty" / "notes.txt").write_text("no scripts here\n")
    # settings found by walking up: ignore a rule, exclude a file (force-exclude), an unknown key
    (t / "proj" / "gen").mkdir(parents=True)
    (t / "proj" / "pyproject.toml").write_text(
        '[tool.usqlrw]\nignore = ["SEM008"]\nextend-exclude = ["gen/**"]\nfavourite-colour = "blue"\n')
    (t / "proj" / "warns.usql").write_text(WARNS)
    (t / "proj" / "gen" / "made.usql").write_text(BROKEN)
    # usqlrw.toml wins over pyproject.toml in the same folder
    (t / "both").mkdir()
    (t / "both" / "pyproject.toml").write_text('[tool.usqlrw]\nselect = ["SEM"]\n')
    (t / "both" / "usqlrw.toml").write_text('select = ["DR001"]\n')
    (t / "both" / "warns.usql").write_text(WARNS)
    # a settings file that is a usage error (exit 2, click's usage lines)
    (t / "badcfg").mkdir()
    (t / "badcfg" / "usqlrw.toml").write_text('select = ["NOPE"]\n')
    (t / "badcfg" / "clean.usql").write_text(CLEAN)
    (t / "badtoml").mkdir()
    (t / "badtoml" / "usqlrw.toml").write_text('select = [\n')
    (t / "badtoml" / "clean.usql").write_text(CLEAN)
    return t


FAST = [
    ["check", "clean.usql"],
    ["check", "-q", "clean.usql"],
    ["check", "--quiet", "warns.usql"],
    ["check", "warns.usql", "-q"],                       # options after the files, as click allows
    ["check", "broken.usql", "clean.usql", "warns.usql"],
    ["check", "--force-exclude", "broken.usql"],
    ["check", "ansi.usql"],
    ["check", "bom.usql", "latin1.usql"],
    ["check", "missing.usql"],
    ["check", ""],
    ["check", "empty"],
    ["check", "."],                                      # a folder, searched
    ["check", "--format", "json", "broken.usql", "warns.usql"],
    ["check", "--format=sarif", "warns.usql"],
    ["check", "--format", "github", "-q", "broken.usql"],
    ["check", "--format", "json", "clean.usql"],
    ["check", "--format", "text", "--format", "json", "warns.usql"],   # the last one wins
    ["check", "proj/warns.usql"],
    ["check", "--force-exclude", "proj/warns.usql", "proj/gen/made.usql"],
    ["check", "proj/gen/made.usql"],
    ["check", "proj"],
    ["check", "both/warns.usql"],
    ["check", "badcfg/clean.usql"],
    ["check", "-q", "badtoml/clean.usql"],
    ["check", "clean.usql", "badcfg/clean.usql"],
]
CLICK = [
    ["check", "--format", "yaml", "clean.usql"],
    ["check", "--format"],
    ["check"],
    ["check", "-qv", "clean.usql"],
    ["check", "-v", "warns.usql"],
    ["check", "--", "-q"],
    ["check", "--help"],
    ["check", "--no-such-option", "clean.usql"],
    ["check", "--output-format", "json", "clean.usql"],
    ["check", "--select", "SEM", "warns.usql"],
    ["-q", "check", "warns.usql"],
    ["chek", "clean.usql"],
]


def _run(tree, argv, *, fast: bool, stdin=b""):
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "USQLRW_NO_FAST_PATH")}
    if not fast:
        env["USQLRW_NO_FAST_PATH"] = "1"
    p = subprocess.run([sys.executable, "-m", "usqlrw", *argv], cwd=tree, env=env, input=stdin,
                       capture_output=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


@pytest.mark.parametrize("argv", FAST, ids=" ".join)
def test_the_fast_path_says_what_click_says(tree, argv):
    assert parse(argv) is not None, "the fast path should take this command line"
    fast = _run(tree, argv, fast=True)
    assert fast == _run(tree, argv, fast=False)
    assert fast[0] in (0, 1, 2)


@pytest.mark.parametrize("argv", CLICK, ids=" ".join)
def test_what_the_fast_path_does_not_take_goes_to_click(tree, argv):
    assert parse(argv) is None
    assert _run(tree, argv, fast=True) == _run(tree, argv, fast=False)


def test_the_table_covers_every_outcome(tree):
    """The comparisons above are worth something only if the cases differ: clean, findings,
    usage errors, warnings from the settings, excluded files, every format."""
    results = {" ".join(a): _run(tree, a, fast=True) for a in FAST}
    assert {rc for rc, _, _ in results.values()} == {0, 1, 2}
    assert b"1 script checked, all clean" in results["check clean.usql"][2]
    assert results["check -q clean.usql"][2] == b""
    assert b"SEM008" in results["check warns.usql -q"][1]
    assert b"SEM008" not in results["check proj/warns.usql"][1]                  # its settings ignore it
    assert b"unknown key [tool.usqlrw] favourite-colour" in results["check proj/warns.usql"][2]
    assert b"made.usql" not in results["check --force-exclude proj/warns.usql proj/gen/made.usql"][1]
    assert b"made.usql:1:" in results["check proj/gen/made.usql"][1]             # named: checked
    assert b"DR001" in results["check both/warns.usql"][1] and b"SEM" not in results["check both/warns.usql"][1]
    assert results["check badcfg/clean.usql"][2].startswith(b"Usage: usqlrw check [OPTIONS] PATHS...\n")
    assert b"\x1b" not in results["check ansi.usql"][1]
    assert results["check --format=sarif warns.usql"][1].lstrip().startswith(b"{")
    assert b"::error" in results["check --format github -q broken.usql"][1]
    assert b"no U-SQL scripts found" in results["check empty"][2]


def test_the_fast_path_does_not_import_click(tree):
    def imported(argv, **env):
        e = {k: v for k, v in os.environ.items() if k != "USQLRW_NO_FAST_PATH"}
        e.update(env)
        p = subprocess.run([sys.executable, "-X", "importtime", "-m", "usqlrw", *argv], cwd=tree, env=e,
                           capture_output=True, text=True, timeout=120)
        return {line.split("|")[-1].strip() for line in p.stderr.splitlines() if line.startswith("import time:")}

    fast = imported(["check", "--force-exclude", "warns.usql", "broken.usql"])
    assert "usqlrw.cli.fast" in fast and "usqlrw.parser" in fast      # it did check the files
    assert not {m for m in fast if m == "click" or m.startswith("click.")}
    assert "usqlrw.cli.options" not in fast and "usqlrw.cli.check" not in fast
    # the same command line with the fast path off, and one it does not take, load click
    assert "click" in imported(["check", "warns.usql"], USQLRW_NO_FAST_PATH="1")
    assert "click" in imported(["check", "-v", "warns.usql"])


def test_parse_reads_only_the_hook_options():
    assert parse(["check", "-q", "--force-exclude", "--format=json", "a.usql", "b.usql"]) == {
        "quiet": True, "force_exclude": True, "fmt": "json", "paths": ["a.usql", "b.usql"]}
    assert parse(["check", "a.usql"])["fmt"] == "text"
    for argv in (["check", "-"], ["check", "-h"], ["check", "--format", "JSON", "a.usql"], ["rules"],
                 ["check", "--force-exclude"], ["check", "--quiet=1", "a.usql"]):
        assert parse(argv) is None, argv


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may read any file")
def test_an_unreadable_path_goes_to_click(tree, tmp_path):
    """click's Path type refuses an existing path this user cannot read (exit 2); the fast path
    leaves such a command line to click rather than say "cannot read" itself."""
    f = tmp_path / "secret.usql"
    f.write_text(CLEAN)
    f.chmod(0)
    try:
        assert parse(["check", str(f)]) is None
        fast, slow = _run(tree, ["check", str(f)], fast=True), _run(tree, ["check", str(f)], fast=False)
        assert fast == slow and fast[0] == 2 and b"is not readable" in fast[2]
    finally:
        f.chmod(0o644)


def test_usqlrw_no_fast_path_turns_it_off(monkeypatch):
    monkeypatch.setenv("USQLRW_NO_FAST_PATH", "1")
    assert parse(["check", "a.usql"]) is None
