"""`usqlrw check` and `usqlrw rules` end to end: formats, exit codes, settings, stdin, colour."""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from usqlrw.cli import cli

FIXTURES = Path(__file__).parent / "fixtures" / "lint"
RULES = FIXTURES / "rules"
GOOD = 'DECLARE @p string = "/x/";\n@r = EXTRACT a int FROM @p USING Extractors.Csv();\nOUTPUT @r TO "/o" USING Outputters.Csv();\n'
BAD = ('DECLARE @p string = "adl://contosoprod.azuredatalakestore.net/x/";\n'
       '@r = EXTRACT a int FROM @p USING Extractors.Csv();\nOUTPUT @missing TO "/o" USING Outputters.Csv();\n')


def run(*args, input=None):
    r = CliRunner().invoke(cli, list(args), input=input)
    return r.exit_code, r.stdout, r.stderr


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "good.usql").write_text(GOOD)
    (tmp_path / "jobs" / "bad.usql").write_text(BAD)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_text_output_exit_codes_and_caret(project):
    code, out, err = run("check", "jobs/good.usql")
    assert code == 0 and out == "" and "all clean" in err
    code, out, err = run("check", "jobs")
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == ("jobs/bad.usql:1:21: DR001 absolute path to contosoprod.azuredatalakestore.net; "
                        "make it relative or a DECLARE EXTERNAL parameter")
    assert lines[1] == '  DECLARE @p string = "adl://contosoprod.azuredatalakestore.net/x/";'
    assert lines[2] == "  " + " " * 20 + "^" + "~" * 44
    assert "jobs/bad.usql:3:8: SEM005 OUTPUT of rowset @missing, which is never assigned" in out
    assert "2 scripts checked, 1 with findings (2 errors, 1 warning)" in err   # @r unused: SEM007
    assert "\x1b[" not in out


def test_color_always_highlights_the_source_line(project):
    code, out, _ = run("check", "--color", "always", "jobs/bad.usql")
    assert code == 1
    assert "\x1b[1;31mDR001" in out
    src_line = out.splitlines()[1]
    assert "\x1b[" in src_line and "DECLARE" in src_line   # keyword coloured by the lexer
    code, out, _ = run("check", "--color", "never", "jobs/bad.usql")
    assert "\x1b[" not in out


def test_select_ignore_and_usage_errors(project):
    code, out, _ = run("check", "--select", "SEM", "jobs/bad.usql")
    assert code == 1 and "DR001" not in out and "SEM005" in out
    code, out, _ = run("check", "--ignore", "DR001,SEM005", "--ignore", "SEM007", "jobs/bad.usql")
    assert code == 0 and out == ""
    code, out, err = run("check", "--select", "BOGUS", "jobs/bad.usql")
    assert code == 2 and "BOGUS" in err
    code, out, err = run("check", "--exit-zero", "jobs/bad.usql")
    assert code == 0 and "DR001" in out


def test_missing_file_and_syntax_error(project):
    (project / "broken.usql").write_text("@r = SELECT a FROM @t\n")
    code, out, _ = run("check", "nope.usql", "broken.usql")
    assert code == 1
    assert "nope.usql:1:1: IO cannot read: no such file" in out
    assert "broken.usql:1:22: PRS missing ';' at the end of the statement" in out


def test_stdin_with_filename_uses_that_files_settings(project):
    (project / "jobs" / "usqlrw.toml").write_text('ignore = ["DR001"]\n')
    code, out, _ = run("check", "-", "--stdin-filename", "jobs/piped.usql", input=BAD)
    assert code == 1 and "jobs/piped.usql:3:8: SEM005" in out and "DR001" not in out


def test_settings_file_per_path_ignores_and_dr_config(project):
    (project / "pyproject.toml").write_text(textwrap.dedent(f'''
        [tool.usqlrw]
        ignore = ["SEM007"]
        dr-config = "{(FIXTURES / 'dr.toml').as_posix()}"
        [tool.usqlrw.per-path-ignores]
        "jobs/bad.usql" = ["SEM005"]
    '''))
    (project / "jobs" / "w.usql").write_text("USE DATABASE Nowhere;\n")
    code, out, _ = run("check", "--no-source", "jobs")
    assert code == 1
    assert out.splitlines() == [
        "jobs/bad.usql:1:21: DR001 absolute path to contosoprod.azuredatalakestore.net; make it relative or a DECLARE EXTERNAL parameter",
        "jobs/w.usql:1:14: DR003 database Nowhere is not in the DR config; add it to [catalog.databases]",
    ]
    code, out, _ = run("check", "--isolated", "--no-source", "jobs")
    assert "SEM005" in out and "DR003" not in out
    code, _, err = run("check", "--dr-config", "missing.toml", "jobs")
    assert code == 2 and "missing.toml" in err


def test_json_output(project):
    code, out, _ = run("check", "--format", "json", "jobs")
    data = json.loads(out)
    assert code == 1
    assert [(d["path"], d["line"], d["column"], d["code"], d["severity"]) for d in data] == [
        ("jobs/bad.usql", 1, 21, "DR001", "error"), ("jobs/bad.usql", 2, 1, "SEM007", "warning"),
        ("jobs/bad.usql", 3, 8, "SEM005", "error")]
    assert data[0]["end_line"] == 1 and data[0]["end_column"] == 66


def test_github_annotations(project):
    code, out, _ = run("check", "--format", "github", "jobs/bad.usql")
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == ("::error file=jobs/bad.usql,line=1,col=21,endLine=1,endColumn=66,title=usqlrw DR001::"
                        "DR001 absolute path to contosoprod.azuredatalakestore.net; make it relative or a DECLARE EXTERNAL parameter")
    assert lines[1].startswith("::warning file=jobs/bad.usql,line=2,col=1,")


def test_github_escaping():
    from usqlrw.diagnostics import Diagnostic, render_github
    out = render_github([Diagnostic("a,b:c.usql", 1, 2, "PRS", "50% of\nlines")])
    assert out == "::error file=a%2Cb%3Ac.usql,line=1,col=2,title=usqlrw PRS::PRS 50%25 of%0Alines"


def test_sarif_validates_against_the_2_1_0_schema(project):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((FIXTURES / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    (project / "jobs" / "broken.usql").write_text("@r = SELECT a FROM @t\n")
    code, out, _ = run("check", "--format", "sarif", "jobs", str(project / "jobs" / "good.usql"))
    assert code == 1
    log = json.loads(out)
    jsonschema.Draft4Validator.check_schema(schema)
    errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(log), key=str)
    assert errors == []
    run_ = log["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    results = run_["results"]
    assert log["version"] == "2.1.0" and run_["tool"]["driver"]["name"] == "usqlrw"
    assert [(r["ruleId"], r["level"]) for r in results] == [
        ("DR001", "error"), ("SEM007", "warning"), ("SEM005", "error"), ("PRS", "error")]
    for r in results:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
    loc = results[0]["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == "jobs/bad.usql"
    assert loc["region"] == {"startLine": 1, "startColumn": 21, "endLine": 1, "endColumn": 66,
                             "snippet": {"text": BAD.splitlines()[0]}}
    assert {"DR001", "SEM001", "PRS"} <= {r["id"] for r in rules}


def test_sarif_empty_run_validates():
    jsonschema = pytest.importorskip("jsonschema")
    from usqlrw.diagnostics import sarif_log
    schema = json.loads((FIXTURES / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    log = sarif_log([])
    assert list(jsonschema.Draft4Validator(schema).iter_errors(log)) == []
    assert log["runs"][0]["results"] == []


def test_rules_command_lists_and_explains():
    code, out, _ = run("rules")
    assert code == 0
    assert any(line.startswith("DR001   absolute-primary-path") for line in out.splitlines())
    assert "PRS" in out and "(needs a DR config)" in out
    code, out, _ = run("rules", "DR004")
    assert code == 0 and "Bad:" in out and "Good:" in out and "CREATE ASSEMBLY" in out
    code, out, _ = run("rules", "unused-rowset")
    assert code == 0 and out.startswith("SEM007 (unused-rowset)")
    code, out, _ = run("rules", "--format", "json")
    assert {r["code"] for r in json.loads(out)} >= {"DR001", "SEM010", "PRS"}
    code, out, _ = run("rules", "--format", "markdown")
    assert out.splitlines()[2] == "| `DR001` | absolute-primary-path | an absolute path to the primary region's store or blob account |"
    assert "| `DR003` | unmapped-database | a database the DR config does not cover (needs a DR config) |" in out
    code, out, _ = run("rules", "SEM007", "--format", "markdown")
    assert out.startswith("### SEM007 unused-rowset") and "```sql" in out
    code, _, err = run("rules", "XX1")
    assert code == 2 and "no rule" in err


def test_check_one_file_does_not_import_pygments_or_the_sdk(tmp_path):
    f = tmp_path / "one.usql"
    f.write_text(BAD)
    code = ("import sys\nfrom usqlrw.cli import main\ntry:\n    rc = main(['check', sys.argv[1]])\n"
            "except SystemExit as e:\n    rc = e.code\n"
            "bad = [m for m in ('pygments', 'azure', 'msrestazure', 'jsonschema') if m in sys.modules]\n"
            "print('LOADED', bad, file=sys.stderr)\nsys.exit(rc)")
    p = subprocess.run([sys.executable, "-c", code, str(f)], capture_output=True, text=True,
                       env={**os.environ, "NO_COLOR": "1"})
    assert p.returncode == 1, p.stderr
    assert "LOADED []" in p.stderr


def test_bom_crlf_and_tabs_caret_under_the_finding(tmp_path):
    f = tmp_path / "tabbed.usql"
    f.write_bytes(b"\xef\xbb\xbf// header\r\n\tDECLARE @p string =\t\"adl://contosoprod.azuredatalakestore.net/x\";\r\n"
                  b"@r = EXTRACT a int FROM @p USING Extractors.Csv();\r\nOUTPUT @r TO \"/o\" USING Outputters.Csv();\r\n")
    code, out, _ = run("check", str(f))
    assert code == 1
    first, src, caret = out.splitlines()[:3]
    assert first.startswith(f"{f}:2:22: DR001 ")          # character column: the tab counts as one
    assert src == "  " + '\tDECLARE @p string =\t"adl://contosoprod.azuredatalakestore.net/x";'.expandtabs(4)
    assert caret.index("^") == src.index('"adl:')          # drawn with tabs expanded
    assert caret.strip() == "^" + "~" * (len('"adl://contosoprod.azuredatalakestore.net/x"') - 1)


def test_show_settings(project):
    (project / "usqlrw.toml").write_text('ignore = ["SEM008"]\n[per-path-ignores]\n"jobs/bad.usql" = ["DR"]\n')
    code, out, _ = run("check", "--show-settings", "--select", "SEM00", "jobs/bad.usql", "jobs/good.usql")
    assert code == 0
    blocks = out.split("jobs/good.usql:")
    assert f"settings file: {project / 'usqlrw.toml'}" in blocks[0]
    assert "select: SEM00" in blocks[0] and "ignore: SEM008, DR" in blocks[0]
    assert "rules that run: SEM001, SEM002, SEM003, SEM004, SEM005, SEM006, SEM007, SEM009" in blocks[0]
    assert "ignore: SEM008\n" in blocks[1] and "dr config: (none" in blocks[1]
