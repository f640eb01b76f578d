"""Passwords in connection strings never reach output, logs or generated scripts."""
import json

from click.testing import CliRunner

from usqlrw.cli import cli
from usqlrw.secrets import has_secret, mask, redact

SECRET = "Secr3t!pw"
SCRIPT = ('CREATE DATA SOURCE IF NOT EXISTS CrmDb FROM AZURESQLDB WITH\n'
          f'    (PROVIDER_STRING = "Database=crm;Server=tcp:crm-prod.database.windows.net;User ID=a;Password={SECRET};",\n'
          '     CREDENTIAL = Sales.CrmCred);\n'
          '@x = SELECT * FROM EXTERNAL CrmDb EXECUTE "SELECT 1";\n')
CONFIG = "tests/fixtures/rewrite/dr.toml"


def run(*args):
    r = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return r.exit_code, r.stdout + r.stderr


def test_mask_keeps_length_and_redact_hides():
    s = f"Server=x;Password={SECRET};AccountKey=abc==;sig=zz&x=1"
    assert len(mask(s)) == len(s) and SECRET not in mask(s) and "abc" not in mask(s)
    assert redact(s) == "Server=x;Password=***;AccountKey=***;sig=***&x=1"
    assert has_secret(s) and not has_secret("Server=x;Database=y")


def test_check_ast_rewrite_diff_and_replicate_never_show_it(tmp_path):
    p = tmp_path / "ds.usql"
    p.write_text(SCRIPT)
    no_server = "tests/fixtures/corpus/azure_usql_dr.toml"   # no [data_source_servers]: DR005 on line 2
    code, out = run("check", "--isolated", "--dr-config", no_server, str(p))
    assert ":2:" in out and "Password=" in out and SECRET not in out                # the snippet is shown, masked
    code, out = run("check", "--isolated", "--dr-config", no_server, "--format", "sarif", str(p))
    assert SECRET not in out
    code, out = run("ast", str(p))
    assert SECRET not in out and json.loads(out)["tree"]["kind"] == "Script"
    code, out = run("rewrite", "-c", CONFIG, "--diff", str(p))
    assert "+    (PROVIDER_STRING" in out and "crm-dr.database.windows.net" in out and SECRET not in out
    out_dir = tmp_path / "bundle"
    code, out = run("replicate", "-c", CONFIG, "-o", str(out_dir), str(p))
    assert SECRET not in out
    for f in out_dir.rglob("*"):
        if f.is_file():
            assert SECRET not in f.read_text(), f
    manual = (out_dir / "catalog" / "MANUAL.md").read_text()
    assert "Password=<secret>" in manual and "crm-dr.database.windows.net" in manual
