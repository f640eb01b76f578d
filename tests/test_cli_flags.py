"""One meaning per flag across commands, -q/-v/-V/-j, exit codes for empty inputs, every code explained."""
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from usqlrw.cli import COMMANDS, cli, main

ROOT = Path(__file__).parent.parent
EXAMPLE_CONFIG = str(ROOT / "examples" / "dr.toml")
EXAMPLE = str(ROOT / "examples" / "project")
GOOD = 'DECLARE @p string = "/x/";\n@r = EXTRACT a int FROM @p USING Extractors.Csv();\nOUTPUT @r TO "/o" USING Outputters.Csv();\n'
BAD = ('DECLARE @p string = "adl://contosoprod.azuredatalakestore.net/x/";\n'
       '@r = EXTRACT a int FROM @p USING Extractors.Csv();\nOUTPUT @missing TO "/o" USING Outputters.Csv();\n')


def run(*args, input=None):
    r = CliRunner().invoke(cli, list(args), input=input)
    return r.exit_code, r.stdout, r.stderr


def _all_commands():
    out = []
    for name in COMMANDS:
        cmd = cli.get_command(None, name)
        if hasattr(cmd, "commands"):
            out += [(f"{name} {sub}", c) for sub, c in cmd.commands.items()]
        out.append((name, cmd))
    return out


@pytest.mark.parametrize("name,cmd", _all_commands(), ids=[n for n, _ in _all_commands()])
def test_every_command_has_quiet_and_verbose(name, cmd):
    opts = {o for p in cmd.params for o in getattr(p, "opts", [])}
    assert {"-q", "--quiet", "-v", "--verbose"} <= opts, name


def test_dr_config_is_the_same_flag_everywhere():
    """Wherever a command takes the DR config, it is -c/--dr-config; --config is nowhere visible."""
    takes = []
    for name, cmd in _all_commands():
        visible = {o for p in cmd.params if not getattr(p, "hidden", False) for o in getattr(p, "opts", [])}
        assert "--config" not in visible, name
        if "--dr-config" in visible:
            takes.append(name)
            p = next(p for p in cmd.params if "--dr-config" in p.opts)
            assert "-c" in p.opts, name
    assert set(takes) >= {"check", "rewrite", "refs", "replicate", "submit", "dr-copy", "failover plan"}


def test_version_short_flag():
    p = subprocess.run([sys.executable, "-m", "usqlrw", "-V"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and re.match(r"usqlrw, version \d+\.\d+", p.stdout)


def test_old_config_flag_still_works_with_a_deprecation_warning(tmp_path):
    new = run("rewrite", "--dr-config", EXAMPLE_CONFIG, "--diff", EXAMPLE)
    old = run("rewrite", "--config", EXAMPLE_CONFIG, "--diff", EXAMPLE)
    assert new[0] == old[0] == 0 and new[1] == old[1] and "+++ b/" in new[1]
    assert "deprecated" not in new[2]
    assert "warning: --config is deprecated here" in old[2] and "-c/--dr-config" in old[2]
    code, _, err = run("rewrite", "--config", EXAMPLE_CONFIG, "-c", str(tmp_path / "other.toml"), "--diff", EXAMPLE)
    assert code == 2 and "say different things" in err
    code, _, err = run("rewrite", "--diff", EXAMPLE)
    assert code == 2 and "Missing option '-c / --dr-config'" in err


def test_submit_rewrite_flag_is_an_alias_of_dr_config(tmp_path):
    script = tmp_path / "job.usql"
    script.write_text('@r = EXTRACT a string FROM "adl://contosoprod.azuredatalakestore.net/in.csv" '
                      'USING Extractors.Csv();\nOUTPUT @r TO "/o.csv" USING Outputters.Csv();\n')
    args = ["submit", "-a", "contosodr-adla", "--dry-run", "--no-ledger", "--format", "json", str(script)]
    new = run(*args, "--dr-config", EXAMPLE_CONFIG)
    old = run(*args, "--rewrite", EXAMPLE_CONFIG)
    assert new[0] == old[0] == 0, new[2]
    plain = run(*args)
    assert new[1] == old[1] and "scriptSha256" in new[1]
    assert new[1] != plain[1]           # the script sent is the rewritten one, with either spelling
    assert "warning: --rewrite is deprecated here" in old[2]


def test_check_settings_flag_and_its_old_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.usql").write_text(BAD)
    (tmp_path / "lint.toml").write_text('ignore = ["SEM005"]\n')
    code, out, err = run("check", "--settings", "lint.toml", "bad.usql")
    assert code == 1 and "DR001" in out and "SEM005" not in out and "deprecated" not in err
    code, out2, err = run("check", "--config", "lint.toml", "bad.usql")
    assert code == 1 and out2 == out and "warning: --config is deprecated here; " in err.replace(
        " and will be removed in the next release", "") and "--settings" in err
    code, out, err = run("check", "-c", EXAMPLE_CONFIG, "--select", "DR003", "bad.usql")
    assert code == 0, out + err


def test_quiet_and_verbose(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "good.usql").write_text(GOOD)
    (tmp_path / "jobs" / "bad.usql").write_text(BAD)
    code, out, err = run("check", "jobs")
    assert code == 1 and "2 scripts checked, 1 with findings" in err
    for args in (["check", "-q", "jobs"], ["-q", "check", "jobs"]):
        code, out_q, err = run(*args)
        assert code == 1 and out_q == out and err == "", args     # findings still, no summary
    code, out_v, err = run("check", "-v", "jobs")
    assert out_v == out and "jobs/good.usql: clean" in err and "2 scripts checked" in err
    code, out, err = run("rewrite", "-c", EXAMPLE_CONFIG, "--check", "-q", EXAMPLE)
    assert code == 1 and out == "" and err == ""
    code, out, err = run("rewrite", "-c", EXAMPLE_CONFIG, "--check", "-v", EXAMPLE)
    assert "ddl.usql: would change" in err and re.search(r"\w+\.usql: unchanged", err) or "unchanged" not in err


def test_check_in_parallel_says_the_same_as_in_one_process(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "jobs").mkdir()
    for i in range(12):
        (tmp_path / "jobs" / f"s{i:02}.usql").write_text(BAD if i % 3 == 0 else GOOD)
    (tmp_path / "jobs" / "broken.usql").write_text("@x = SELECT * FROM\n")
    one = subprocess.run([sys.executable, "-m", "usqlrw", "check", "-j", "1", "jobs"],
                         capture_output=True, text=True, timeout=120)
    two = subprocess.run([sys.executable, "-m", "usqlrw", "check", "-j", "2", "--format", "json", "jobs"],
                         capture_output=True, text=True, timeout=120)
    one_json = subprocess.run([sys.executable, "-m", "usqlrw", "check", "-j", "1", "--format", "json", "jobs"],
                              capture_output=True, text=True, timeout=120)
    assert one.returncode == two.returncode == 1
    assert two.stdout == one_json.stdout and "PRS" in two.stdout and "DR001" in two.stdout
    assert "13 scripts checked, 5 with findings" in one.stderr


def test_empty_inputs_exit_0_with_a_warning(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no scripts\n")
    code, out, err = run("check", str(tmp_path / "empty"))
    assert code == 0 and out == "" and "warning: no U-SQL scripts found" in err
    code, out, err = run("rewrite", "-c", EXAMPLE_CONFIG, "--check", str(tmp_path / "empty"))
    assert code == 0 and "warning: no U-SQL scripts found" in err
    code, out, err = run("check", str(tmp_path / "missing.usql"))        # a path that is not there is an error
    assert code == 1 and "IO cannot read: no such file" in out


def test_failover_apply_until_an_unknown_step_is_a_usage_error(tmp_path):
    plan = tmp_path / "plan"
    usqlrw = [sys.executable, "-m", "usqlrw"]
    p = subprocess.run(usqlrw + ["failover", "plan", "-q", "-c", EXAMPLE_CONFIG, "-o", str(plan), EXAMPLE],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    p = subprocess.run(usqlrw + ["failover", "apply", "--until", "nope", str(plan)],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and "--until" in p.stderr and "no step 'nope'" in p.stderr, p.stderr
    p = subprocess.run(usqlrw + ["failover", "status", "--format", "json", str(plan)],
                       capture_output=True, text=True, timeout=120)
    assert '"state": "succeeded"' not in p.stdout      # nothing ran


def _printed_codes():
    """Every diagnostic code that appears in usqlrw's source as a Diagnostic or warning code."""
    codes = set()
    for f in (ROOT / "usqlrw").rglob("*.py"):
        text = f.read_text(encoding="utf-8")
        codes |= set(re.findall(r'(?:Diagnostic\([^()]*?,\s*\d+,\s*\d+,\s*|_warn\([^()]*?,\s*|(?:report|diag)\([^,()]*,\s*)"([A-Z]{2,4}\d{0,3})"',
                                text))
        codes |= set(re.findall(r'@rule\(\s*"([A-Z]{2,4}\d{3})"', text))
        for m in re.finditer(r'code = "([A-Z]+)" if .*? else "([A-Z]+)"', text):
            codes |= set(m.groups())
    return codes


def test_every_code_usqlrw_prints_is_explained_by_rules():
    codes = _printed_codes()
    assert {"RW001", "RW002", "RW900", "IO", "INT", "PRS", "ENC", "DR001", "SEM001"} <= codes, codes
    for code in sorted(codes):
        code_, out, err = run("rules", code)
        assert code_ == 0 and out.startswith(f"{code} ("), (code, err)
    listed = run("rules")[1]
    for code in codes:
        assert re.search(rf"^{code}\s", listed, re.M), code


def test_rw001_example_is_what_rewrite_reports(tmp_path):
    from usqlrw.lint.registry import get_rule
    r = get_rule("RW001")
    (tmp_path / "bad.usql").write_text(r.bad + "\nOUTPUT @r TO \"/o.csv\" USING Outputters.Csv();\n")
    (tmp_path / "good.usql").write_text(r.good + "\nOUTPUT @r TO \"/o.csv\" USING Outputters.Csv();\n")
    code, out, err = run("rewrite", "-c", EXAMPLE_CONFIG, "--check", str(tmp_path / "bad.usql"))
    assert "RW001" in err
    code, out, err = run("rewrite", "-c", EXAMPLE_CONFIG, "--check", str(tmp_path / "good.usql"))
    assert "RW001" not in err


def test_quiet_silences_the_status_lines_of_replicate_submit_and_failover(tmp_path):
    code, out, err = run("replicate", "-c", EXAMPLE_CONFIG, "-o", str(tmp_path / "b1"), EXAMPLE)
    assert code == 0 and "steps," in err
    code, out, err = run("replicate", "-q", "-c", EXAMPLE_CONFIG, "-o", str(tmp_path / "b2"), EXAMPLE)
    assert code == 0 and "steps," not in err and (tmp_path / "b2" / "manifest.json").exists()

    script = tmp_path / "job.usql"     # the embedded emulator runs it: it needs no input file
    script.write_text('@r = SELECT * FROM (VALUES (1)) AS T(a);\nOUTPUT @r TO "/o" USING Outputters.Csv();\n')
    args = ["submit", "--endpoint", "emulator", "-a", "acct", "--wait", "--poll-interval", "0", "--no-ledger"]
    code, out, err = run(*args, "--run-key", "1", str(script))
    assert code == 0 and "submitting 1 job(s)" in err and "1 of 1 ok" in err
    code, out_q, err = run(*args, "--run-key", "2", "-q", str(script))
    assert code == 0 and err == "" and "acct/" in out_q              # the result, nothing else

    plan = tmp_path / "plan"
    usqlrw = [sys.executable, "-m", "usqlrw"]
    p = subprocess.run(usqlrw + ["-q", "failover", "plan", "-c", EXAMPLE_CONFIG, "-o", str(plan), EXAMPLE],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and "plan written" not in p.stderr
    p = subprocess.run(usqlrw + ["failover", "apply", "-q", "--accept-only", str(plan)], capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert "[ 1/" not in p.stderr and "steps done" in p.stdout
