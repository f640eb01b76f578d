"""`submit -p NAME=VALUE` takes the type the script's DECLARE EXTERNAL gives, never a silent guess."""
import json

from click.testing import CliRunner

from usqlrw.cli import cli
from usqlrw.jobs.submit import ParamError, fit_to_declaration, parse_param

SCRIPT = ('DECLARE EXTERNAL @day DateTime = new DateTime(2024, 1, 1);\n'
          'DECLARE EXTERNAL @n int = 1;\n'
          '@r = EXTRACT a string FROM "/in.csv" USING Extractors.Csv();\n'
          'OUTPUT @r TO "/out.csv" USING Outputters.Csv();\n')


def submit(tmp_path, *params):
    (tmp_path / "job.usql").write_text(SCRIPT)
    args = ["submit", "-a", "acct", "--dry-run", "--no-ledger", "--format", "json"]
    for p in params:
        args += ["-p", p]
    r = CliRunner().invoke(cli, args + [str(tmp_path / "job.usql")])
    return r.exit_code, r.stdout, r.stderr


def test_a_guessed_type_follows_the_declaration(tmp_path):
    code, out, err = submit(tmp_path, "day=2024-05-06", "n=7")
    assert code == 0, err
    row = json.loads(out)[0]
    assert row["parameters"] == [{"name": "day", "type": "DateTime"}, {"name": "n", "type": "int"}]
    assert row["declarations"] == ["DECLARE @day DateTime = new DateTime(2024, 5, 6, 0, 0, 0);", "DECLARE @n int = 7;"]


def test_a_value_that_does_not_fit_the_declared_type_is_a_usage_error(tmp_path):
    code, out, err = submit(tmp_path, "day=5")
    assert code == 2 and out == ""
    assert "parameter @day: '5' is not a date" in err and "the script declares @day as DateTime" in err
    code, out, err = submit(tmp_path, "day:int=5")
    assert code == 2 and "parameter @day is given as int, but the script declares it DateTime" in err


def test_a_guessed_string_becomes_the_declared_number():
    p = fit_to_declaration(parse_param("n=42"), "long")
    assert (p.type, p.literal) == ("long", "42L")
    try:
        fit_to_declaration(parse_param("n=abc"), "int", "job.usql")
    except ParamError as e:
        assert str(e).startswith("job.usql: parameter @n: 'abc' is not an integer (int)")
    else:
        raise AssertionError("abc accepted as an int")
    assert fit_to_declaration(parse_param("x=1"), "SQL.MAP<string,int>").type == "int"   # left to the service
