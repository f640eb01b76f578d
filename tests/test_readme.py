"""The README's generated parts stay in sync with the code."""
from pathlib import Path

from usqlrw.config import parse_config, reference_markdown

README = (Path(__file__).parent.parent / "README.md").read_text()


def test_config_reference_is_current():
    start = README.index("<!-- config-reference:start")
    body = README[README.index("\n", start) + 1:README.index("<!-- config-reference:end")]
    assert body.strip() == reference_markdown().strip()


def test_readme_config_example_is_valid():
    import re
    try:
        import tomllib
    except ModuleNotFoundError:
        import tomli as tomllib
    blocks = re.findall(r"```toml\n(.*?)```", README, re.S)
    assert blocks
    for b in blocks:
        parse_config(tomllib.loads(b))


def test_rules_table_is_current():
    from click.testing import CliRunner
    from usqlrw.cli import cli
    table = CliRunner().invoke(cli, ["rules", "--format", "markdown"]).stdout.strip()
    start = README.index("<!-- rules:start")
    body = README[README.index("\n", start) + 1:README.index("<!-- rules:end")]
    assert body.strip() == table
