"""Each lint rule on its failing and its passing fixture (tests/fixtures/lint/rules/CODE.{bad,good}.usql).

A bad fixture marks each line where its rule must report with ``// expect[CODE]``; the rule must
report exactly those lines. A good fixture must come out with no finding of any rule.
"""
import re
from pathlib import Path

import pytest

from usqlrw.config import load_config
from usqlrw.check import lint_text
from usqlrw.lint.registry import all_rules, get_rule, listed_rules, select_rules

HERE = Path(__file__).parent / "fixtures" / "lint"
RULES_DIR = HERE / "rules"
DR = load_config(HERE / "dr.toml")
CODES = sorted(r.code for r in all_rules())


def expected(text: str, code: str) -> set:
    return {i for i, line in enumerate(text.splitlines(), 1)
            for c in re.findall(r"expect\[([A-Z0-9, ]+)\]", line) if code in c.replace(" ", "").split(",")}


@pytest.mark.parametrize("code", CODES)
def test_every_rule_has_both_fixtures(code):
    assert (RULES_DIR / f"{code}.bad.usql").is_file()
    assert (RULES_DIR / f"{code}.good.usql").is_file()


@pytest.mark.parametrize("code", CODES)
def test_bad_fixture_reports_exactly_the_marked_lines(code):
    path = RULES_DIR / f"{code}.bad.usql"
    text = path.read_text(encoding="utf-8")
    want = expected(text, code)
    assert want, "a bad fixture marks at least one line"
    diags = lint_text(text, str(path), dr_config=DR)
    assert not [d for d in diags if d.code in ("PRS", "INT")], diags
    got = {d.line for d in diags if d.code == code}
    assert got == want, [(d.line, d.code, d.message) for d in diags]
    for d in diags:
        if d.code == code:
            assert d.source_line == text.splitlines()[d.line - 1]
            assert 1 <= d.column <= len(d.source_line)
            assert d.severity == get_rule(code).severity


@pytest.mark.parametrize("code", CODES)
def test_good_fixture_is_clean(code):
    path = RULES_DIR / f"{code}.good.usql"
    diags = lint_text(path.read_text(encoding="utf-8"), str(path), dr_config=DR)
    assert diags == [], [(d.line, d.code, d.message) for d in diags]


@pytest.mark.parametrize("code", [c for c in CODES if c != "SUP002"])   # SUP002 needs the rules it judges
def test_rule_selected_alone_reports_only_itself(code):
    text = (RULES_DIR / f"{code}.bad.usql").read_text(encoding="utf-8")
    diags = lint_text(text, select=[code], dr_config=DR)
    assert diags and {d.code for d in diags} == {code}


def test_rules_needing_the_dr_config_are_skipped_without_it():
    needs = [r.code for r in all_rules() if r.needs_config]
    assert set(needs) == {"DR003", "DR005", "DR006"}
    for code in needs:
        text = (RULES_DIR / f"{code}.bad.usql").read_text(encoding="utf-8")
        assert [d for d in lint_text(text) if d.code in needs] == []


def test_without_config_every_absolute_store_path_counts_as_region_bound():
    text = (RULES_DIR / "DR001.good.usql").read_text(encoding="utf-8")
    # with the config, the archive store mapped to itself and the secondary's store are fine;
    # without one both are reported (the string compared with row data never is)
    assert lint_text(text, dr_config=DR) == []
    assert [(d.line, d.code) for d in lint_text(text)] == [(15, "DR001"), (20, "DR001")]


def test_parameter_defaults_are_not_reported():
    src = 'DECLARE EXTERNAL @p string = "adl://contosoprod.azuredatalakestore.net/x/";\n' \
          '@r = EXTRACT a int FROM @p USING Extractors.Csv();\nOUTPUT @r TO "/o" USING Outputters.Csv();\n'
    assert lint_text(src) == []
    assert lint_text(src, dr_config=DR) == []


def test_rule_inside_if_branch_and_function_body():
    src = '''IF true THEN
    OUTPUT @nothing TO "/o" USING Outputters.Csv();
END;
CREATE FUNCTION dbo.F() RETURNS @r AS
BEGIN
    @r = SELECT * FROM @missing;
END;
'''
    got = [(d.line, d.code) for d in lint_text(src)]
    assert got == [(2, "SEM005"), (6, "SEM001")]


def test_routine_body_does_not_see_script_variables():
    src = '''DECLARE @root string = "/x";
@a = EXTRACT id int FROM @root USING Extractors.Csv();
OUTPUT @a TO "/o" USING Outputters.Csv();
CREATE PROCEDURE dbo.P() AS
BEGIN
    @b = EXTRACT id int FROM @root USING Extractors.Csv();
    OUTPUT @b TO "/p" USING Outputters.Csv();
END;
'''
    assert [(d.line, d.code) for d in lint_text(src)] == [(6, "SEM003")]


def test_import_package_may_bring_variables():
    src = '''IMPORT PACKAGE dbo.Settings() AS s;
@a = EXTRACT id int FROM @inputFromPackage USING Extractors.Csv();
OUTPUT @a TO "/o" USING Outputters.Csv();
'''
    assert lint_text(src) == []


def test_syntax_error_comes_back_as_prs_and_nothing_else():
    diags = lint_text('OUTPUT @x TO "/o" USING Outputters.Csv()')
    assert [d.code for d in diags] == ["PRS"]


def test_registry_entries_are_complete():
    seen_names = set()
    for r in listed_rules():
        assert re.fullmatch(r"[A-Z]+\d*", r.code)
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", r.name) and r.name not in seen_names
        seen_names.add(r.name)
        assert r.summary and "\n" not in r.summary
        assert r.explanation.strip()
        if r.check is not None:
            assert r.bad.strip() and r.good.strip(), r.code
            text = r.explain()
            assert "Bad:" in text and "Good:" in text and r.code in text


def test_examples_in_explanations_parse_and_the_bad_one_triggers_its_rule():
    from usqlrw.config import parse_config
    base = {"primary": {"analytics_account": "contosoprod-adla", "store_account": "contosoprod"},
            "secondary": {"analytics_account": "contosodr-adla", "store_account": "contosodr"},
            "blob_accounts": {"contosolibs": "contosolibsdr"}}
    before = parse_config(base)
    # the good examples of DR003, DR005 and DR006 show the config lines that fix them
    after = parse_config({**base, "catalog": {"databases": {"Telemetry": "TelemetryDR", "Billing": "Billing",
                                                           "Staging": "Staging"}},
                          "data_source_servers": {"contoso-sql.database.windows.net": "contoso-sql-dr.database.windows.net"}})
    for r in all_rules():
        if r.check is None:
            continue
        bad = lint_text(r.bad, dr_config=before)
        good = lint_text(r.good, dr_config=after)
        assert not [d for d in bad + good if d.code == "PRS"], (r.code, bad, good)
        assert r.code in {d.code for d in bad}, (r.code, bad)
        assert r.code not in {d.code for d in good}, (r.code, good)


def test_selection_by_prefix_name_and_ignore():
    assert {r.code for r in select_rules(["DR"])} == {c for c in CODES if c.startswith("DR")}
    assert {r.code for r in select_rules(["SUP"])} == {"SUP001", "SUP002"}
    assert [r.code for r in select_rules(["unused-rowset"])] == ["SEM007"]
    assert "SEM007" not in {r.code for r in select_rules(None, ["SEM007"])}
    with pytest.raises(ValueError, match="not a rule"):
        select_rules(["XYZ9"])
