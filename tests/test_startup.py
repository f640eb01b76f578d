"""`usqlrw check` ends without the interpreter's teardown once its output is flushed (cli.run):
every byte still reaches a pipe, and the exit status is the command's. Real processes."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def _usqlrw(*args, **kw):
    return subprocess.run([sys.executable, "-m", "usqlrw", *args], capture_output=True, cwd=ROOT,
                          timeout=120, **kw)


def test_check_output_through_a_pipe_is_whole_and_the_status_kept(tmp_path):
    files = []
    for i in range(40):
        f = tmp_path / f"bad{i:02}.usql"
        f.write_text("@x = SELECT * FROM;\n" * 3)
        files.append(str(f))
    p = _usqlrw("check", "--format", "json", *files)
    assert p.returncode == 1
    found = json.loads(p.stdout)          # the whole document: nothing lost to os._exit
    assert {d["path"] for d in found} == set(files)
    p = _usqlrw("check", files[0])
    assert p.returncode == 1 and b"bad00.usql:1:19:" in p.stdout


def test_a_clean_script_exits_0_and_a_usage_error_2(tmp_path):
    f = tmp_path / "ok.usql"
    f.write_text('@x = SELECT * FROM (VALUES (1)) AS T(a);\nOUTPUT @x TO "/o.csv" USING Outputters.Csv();\n')
    assert _usqlrw("check", str(f)).returncode == 0
    p = _usqlrw("check", "--no-such-option", str(f))
    assert p.returncode == 2 and b"No such option" in p.stderr


def test_run_ends_without_teardown_only_for_commands_that_hold_nothing():
    from usqlrw.cli import _EXIT_WITHOUT_TEARDOWN, COMMANDS
    assert _EXIT_WITHOUT_TEARDOWN <= set(COMMANDS)
    assert not _EXIT_WITHOUT_TEARDOWN & {"emulator", "submit", "failover", "rewrite", "run", "replicate"}
    # an atexit handler in a command that keeps the normal exit still runs
    code = ("import atexit, sys; atexit.register(lambda: print('teardown ran'));"
            "sys.argv = ['usqlrw', 'rules']; from usqlrw.cli import run; run()")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0 and "teardown ran" not in out.stdout   # rules: no teardown
    code = code.replace("'rules'", "'--version'")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0 and "teardown ran" in out.stdout       # no command: the normal exit


def test_version_says_which_parser_core_runs():
    import usqlrw.parser
    p = _usqlrw("--version")
    compiled = usqlrw.parser.__file__.endswith((".so", ".pyd"))
    assert p.returncode == 0
    assert (b"compiled parser core" if compiled else b"pure-Python parser core") in p.stdout
