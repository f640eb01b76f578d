"""Suppression comments and [tool.usqlrw] settings (discovery, select/ignore, per-path ignores, dr-config)."""
import textwrap
from pathlib import Path

import pytest

from usqlrw.check import lint_text
from usqlrw.lint.settings import SettingsError, find_settings, load_settings

FIXTURES = Path(__file__).parent / "fixtures" / "lint"
BAD_PATH = 'DECLARE @p string = "adl://contosoprod.azuredatalakestore.net/x/";'
USE_P = '\n@r = EXTRACT a int FROM @p USING Extractors.Csv();\nOUTPUT @r TO "/o" USING Outputters.Csv();\n'


def codes(text, **kw):
    return [(d.line, d.code) for d in lint_text(text, **kw)]


# -- suppression comments --------------------------------------------------------------------

def test_unsuppressed_baseline():
    assert codes(BAD_PATH + USE_P) == [(1, "DR001")]


def test_trailing_comment_silences_its_line():
    assert codes(BAD_PATH + " // usqlrw: ignore[DR001]" + USE_P) == []


def test_trailing_comment_for_another_code_does_not_and_is_reported_unused():
    assert codes(BAD_PATH + " // usqlrw: ignore[SEM001]" + USE_P) == [(1, "DR001"), (1, "SUP002")]


def test_unused_suppression_of_a_rule_that_did_not_run_is_not_reported():
    src = "USE DATABASE Nowhere; // usqlrw: ignore[DR003]\n"
    assert codes(src) == []                                    # DR003 needs a DR config: not judged
    assert codes(src, select=["SEM", "SUP"]) == []
    assert codes("USE DATABASE Nowhere; // usqlrw: ignore[SEM001]\n") == [(1, "SUP002")]


def test_own_line_comment_silences_the_whole_next_statement():
    src = textwrap.dedent('''\
        // usqlrw: ignore[DR001]
        DECLARE @p string =
            "adl://contosoprod.azuredatalakestore.net/x/";
        DECLARE @q string = "adl://contosoprod.azuredatalakestore.net/y/";
        @r = EXTRACT a int FROM @p + @q USING Extractors.Csv();
        OUTPUT @r TO "/o" USING Outputters.Csv();
        ''')
    assert codes(src) == [(4, "DR001")]


def test_block_comment_prefix_family_and_several_codes():
    src = ('/* usqlrw: ignore[DR] */\n' + BAD_PATH + USE_P)
    assert codes(src) == []
    src = BAD_PATH + " // usqlrw: ignore[SEM007, DR001]" + USE_P
    assert codes(src) == []


def test_bare_ignore_silences_everything_on_the_line_and_names_work():
    assert codes(BAD_PATH + " // usqlrw: ignore" + USE_P) == []
    assert codes(BAD_PATH + " // usqlrw: ignore[absolute-primary-path]" + USE_P) == []


def test_file_wide_ignore():
    src = "// usqlrw: ignore-file[DR001]\n" + BAD_PATH + "\n" + BAD_PATH.replace("@p", "@q") + USE_P.replace("@p", "@p + @q")
    assert codes(src) == []


def test_unknown_code_in_a_suppression_is_reported():
    diags = lint_text(BAD_PATH + " // usqlrw: ignore[DR01]" + USE_P)
    assert [(d.line, d.code, d.severity) for d in diags] == [(1, "DR001", "error"), (1, "SUP001", "warning")]
    assert "DR01" in diags[1].message


def test_a_comment_that_only_mentions_usqlrw_is_not_a_directive():
    assert codes("// see usqlrw docs\n" + BAD_PATH + USE_P) == [(2, "DR001")]


def test_suppression_inside_a_routine_body():
    src = textwrap.dedent('''\
        CREATE PROCEDURE dbo.P() AS
        BEGIN
            // usqlrw: ignore[SEM005]
            OUTPUT @missing TO "/o" USING Outputters.Csv();
            OUTPUT @missing2 TO "/p" USING Outputters.Csv();
        END;
        ''')
    assert codes(src) == [(5, "SEM005")]


# -- settings files --------------------------------------------------------------------------

def write(p: Path, text: str) -> Path:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def test_pyproject_found_by_walking_up(tmp_path):
    write(tmp_path / "pyproject.toml", '''
        [tool.usqlrw]
        select = ["DR", "SEM005"]
        ignore = ["DR002"]
        dr-config = "ops/dr.toml"
        [tool.usqlrw.per-path-ignores]
        "legacy/**" = ["DR001"]
        "scratch_*.usql" = ["ALL"]
    ''')
    (tmp_path / "jobs" / "deep").mkdir(parents=True)
    s = find_settings(str(tmp_path / "jobs" / "deep" / "a.usql"))
    assert s.path == str(tmp_path / "pyproject.toml")
    assert s.select == ["DR", "SEM005"] and s.ignore == ["DR002"]
    assert s.dr_config == str(tmp_path / "ops" / "dr.toml")
    assert s.ignored_for(str(tmp_path / "legacy" / "old" / "x.usql")) == ["DR001"]
    assert s.ignored_for(str(tmp_path / "jobs" / "scratch_1.usql")) == ["ALL"]
    assert s.ignored_for(str(tmp_path / "jobs" / "real.usql")) == []


def test_pyproject_without_the_table_is_skipped_and_closest_wins(tmp_path):
    write(tmp_path / "usqlrw.toml", 'ignore = ["SEM"]\n')
    write(tmp_path / "sub" / "pyproject.toml", '[project]\nname = "x"\n')
    assert find_settings(str(tmp_path / "sub" / "x.usql")).path == str(tmp_path / "usqlrw.toml")
    write(tmp_path / "sub" / "inner" / "usqlrw.toml", '[tool.usqlrw]\nselect = ["SEM001"]\n')
    s = find_settings(str(tmp_path / "sub" / "inner" / "x.usql"))
    assert s.path == str(tmp_path / "sub" / "inner" / "usqlrw.toml") and s.select == ["SEM001"] and s.ignore == []


def test_bad_settings_are_errors_naming_the_file(tmp_path):
    p = write(tmp_path / "usqlrw.toml", 'select = ["NOPE1"]\n')
    with pytest.raises(SettingsError, match="usqlrw.toml.*NOPE1"):
        load_settings(str(p))
    p = write(tmp_path / "b" / "usqlrw.toml", 'select = 3\n')
    with pytest.raises(SettingsError, match="select must be a list"):
        load_settings(str(p))
    p = write(tmp_path / "c" / "usqlrw.toml", 'select = [\n')
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(str(p))


def test_unknown_keys_are_warnings(tmp_path):
    p = write(tmp_path / "usqlrw.toml", 'colour = "always"\nignore = ["SEM008"]\n')
    s = load_settings(str(p))
    assert s.ignore == ["SEM008"] and len(s.warnings) == 1 and "colour" in s.warnings[0]
