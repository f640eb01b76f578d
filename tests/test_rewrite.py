import codecs
from pathlib import Path

import pytest

import usqlrw
from usqlrw.config import load_config, parse_config
from usqlrw.rewrite import RewriteError, rewrite_text
from usqlrw.source import Edit, EditConflict, apply_edits

HERE = Path(__file__).parent / "fixtures" / "rewrite"
CONFIG = load_config(HERE / "dr.toml")
PAIRS = sorted(p.name[:-len(".in.usql")] for p in HERE.glob("*.in.usql"))


@pytest.mark.parametrize("name", PAIRS)
def test_fixture_pairs(name):
    src = (HERE / f"{name}.in.usql").read_bytes()
    want = (HERE / f"{name}.out.usql").read_bytes()
    r = rewrite_text(src, CONFIG, name)
    assert r.data == want
    assert rewrite_text(r.data, CONFIG, name).data == want       # idempotent
    usqlrw.parse(r.data)                                           # re-parses


@pytest.mark.parametrize("name", PAIRS)
def test_bom_and_crlf_survive(name):
    src = (HERE / f"{name}.in.usql").read_text().replace("\n", "\r\n")
    want = (HERE / f"{name}.out.usql").read_text().replace("\n", "\r\n")
    data = codecs.BOM_UTF8 + src.encode()
    out = rewrite_text(data, CONFIG, name).data
    assert out == codecs.BOM_UTF8 + want.encode()
    utf16 = codecs.BOM_UTF16_LE + src.encode("utf-16-le")
    assert rewrite_text(utf16, CONFIG, name).data == codecs.BOM_UTF16_LE + want.encode("utf-16-le")


def test_edits_only_touch_their_spans():
    src = (HERE / "endpoints.in.usql").read_text()
    r = rewrite_text(src, CONFIG)
    # Rebuild the output from the input and the edits alone: nothing else may differ.
    assert apply_edits(src, r.edits) == r.text
    keep = [True] * len(src)
    for e in r.edits:
        for i in range(e.start, e.end):
            keep[i] = False
    untouched = "".join(c for c, k in zip(src, keep) if k)
    assert all(e.reason for e in r.edits)
    assert len(r.text) == len(untouched) + sum(len(e.replacement) for e in r.edits)


def test_string_styles_and_escapes_are_kept():
    src = ('@a = EXTRACT x string FROM "adl://fabrikamlake.azuredatalakestore.net/a\\\\b\\u0041{*}.csv" USING Extractors.Csv();\n'
           '@b = EXTRACT x string FROM @"adl://fabrikamlake.azuredatalakestore.net/q""x"".csv" USING Extractors.Csv();\n')
    out = rewrite_text(src, CONFIG).text
    assert out == src.replace("fabrikamlake", "fabrikamlakedr")


def test_dynamic_locations_warn_with_position():
    src = ('DECLARE @acct string = "fabrikam" + DateTime.Now.Year.ToString();\n'
           '@a = EXTRACT x string\n'
           '     FROM "adl://" + @acct + ".azuredatalakestore.net/x.csv"\n'
           '     USING Extractors.Csv();\n'
           'OUTPUT @a TO Paths.Daily("out") USING Outputters.Csv();\n')
    r = rewrite_text(src, CONFIG, "dyn.usql")
    assert not r.changed
    assert [(w.code, w.line, w.column) for w in r.warnings] == [("RW001", 3, 11), ("RW001", 5, 14)]
    assert "built at run time" in r.warnings[0].message
    assert "computed at run time (a function call)" in r.warnings[1].message
    assert r.warnings[0].path == "dyn.usql"


def test_string_format_and_concat_of_constants_are_followed():
    src = ('DECLARE @acct string = "fabrikamlake";\n'
           '@a = EXTRACT x string FROM string.Format("adl://{0}.azuredatalakestore.net/{1}", @acct, "x.csv")\n'
           '     USING Extractors.Csv();\n'
           'OUTPUT @a TO String.Concat("adl://", "fabrikamlake", ".azuredatalakestore.net/o.csv") USING Outputters.Csv();\n')
    r = rewrite_text(src, CONFIG, "fmt.usql")
    assert r.text == src.replace('"fabrikamlake"', '"fabrikamlakedr"')
    assert r.warnings == []


def test_part_spanning_two_literals_is_not_guessed():
    src = '@a = EXTRACT x string FROM "adl://fabrik" + "amlake.azuredatalakestore.net/x" USING Extractors.Csv();\n'
    r = rewrite_text(src, CONFIG)
    assert not r.changed and [w.code for w in r.warnings] == ["RW002"]


def test_declare_used_in_two_places_is_edited_once():
    src = ('DECLARE @root string = "adl://fabrikamlake.azuredatalakestore.net/d/";\n'
           '@a = EXTRACT x string FROM @root + "a.csv" USING Extractors.Csv();\n'
           'OUTPUT @a TO @root + "b.csv" USING Outputters.Csv();\n')
    r = rewrite_text(src, CONFIG)
    assert r.text == src.replace("fabrikamlake", "fabrikamlakedr")
    assert len({(e.start, e.end) for e in r.edits}) == 1


def test_assembly_files_and_provider_strings():
    src = ('USE DATABASE Sales;\n'
           'CREATE ASSEMBLY IF NOT EXISTS Helpers FROM "adl://fabrikamlake.azuredatalakestore.net/asm/Helpers.dll"\n'
           '    WITH ADDITIONAL_FILES = ("adl://fabrikamarchive.azuredatalakestore.net/asm/data.bin" AS "data.bin");\n'
           'CREATE DATA SOURCE IF NOT EXISTS CrmDb FROM AZURESQLDB WITH\n'
           '    (PROVIDER_STRING = "Database=crm;Server=crm-prod.database.windows.net;", CREDENTIAL = Sales.CrmCred);\n')
    out = rewrite_text(src, CONFIG).text
    assert out == (src.replace("Sales;", "SalesDR;").replace("fabrikamlake.", "fabrikamlakedr.")
                   .replace("fabrikamarchive.", "fabrikamarchivedr.").replace("Helpers FROM", "HelpersDR FROM")
                   .replace("CrmDb FROM", "CrmDbDR FROM").replace("crm-prod.", "crm-dr.")
                   .replace("Sales.CrmCred", "SalesDR.CrmCred"))


def test_default_schema_rename_qualifies_unqualified_names():
    c = parse_config({"primary": {"analytics_account": "p-adla", "store_account": "plake"},
                      "secondary": {"analytics_account": "s-adla", "store_account": "slake"},
                      "catalog": {"schemas": {"Sales.dbo": "main"}}})
    src = "USE DATABASE Sales;\n@a = SELECT * FROM Orders;\n@b = SELECT * FROM dbo.Orders;\n"
    out = rewrite_text(src, c).text
    assert out == "USE DATABASE Sales;\n@a = SELECT * FROM main.Orders;\n@b = SELECT * FROM main.Orders;\n"


def test_identity_config_and_nothing_to_change():
    ident = parse_config({"primary": {"analytics_account": "p-adla", "store_account": "plake"},
                          "secondary": {"analytics_account": "p-adla", "store_account": "plake"}})
    for p in HERE.glob("*.usql"):
        data = p.read_bytes()
        r = rewrite_text(data, ident)
        assert r.data == data and not r.edits


def test_relative_paths_made_absolute():
    c = parse_config({"primary": {"analytics_account": "p-adla", "store_account": "plake"},
                      "secondary": {"analytics_account": "s-adla", "store_account": "slake",
                                    "default_store_account": "sdefault"}})
    src = 'DECLARE @d = "/data/";\n@a = EXTRACT x string FROM @d + "a.csv" USING Extractors.Csv();\nOUTPUT @a TO "out/b.csv" USING Outputters.Csv();\n'
    r = rewrite_text(src, c)
    assert r.text == src.replace('"/data/"', '"adl://slake.azuredatalakestore.net/data/"').replace(
        '"out/b.csv"', '"adl://slake.azuredatalakestore.net/out/b.csv"')
    assert rewrite_text(r.text, c).text == r.text


def test_conflicting_edits_are_an_error():
    with pytest.raises(EditConflict):
        apply_edits("abcdef", [Edit(1, 3, "X", "one"), Edit(2, 4, "Y", "two")])
    with pytest.raises(EditConflict):
        apply_edits("abcdef", [Edit(2, 2, "X"), Edit(2, 2, "Y")])
    assert apply_edits("abcdef", [Edit(1, 3, "X", "one"), Edit(1, 3, "X", "two")]) == "aXdef"


def test_unparsable_input_raises_syntax_error():
    with pytest.raises(usqlrw.USqlSyntaxError):
        rewrite_text("@a = SELECT a FROM;", CONFIG)


def test_names_inside_insert_sources_and_assembly_sources_are_mapped():
    src = ("USE DATABASE Sales;\n"
           "INSERT INTO dbo.Archive SELECT * FROM dbo.Orders;\n"
           "INSERT INTO dbo.Archive SELECT * FROM (SELECT * FROM [Web Logs].dbo.Visits) AS v;\n")
    out = rewrite_text(src, CONFIG).text
    assert out == ("USE DATABASE SalesDR;\n"
                   "INSERT INTO dbo.Archive SELECT * FROM dbo.OrdersDR;\n"
                   "INSERT INTO dbo.Archive SELECT * FROM (SELECT * FROM [WebLogsDR].dbo.Visits) AS v;\n")


def test_table_types_of_parameters_and_returns_are_mapped():
    c = parse_config({"primary": {"analytics_account": "p-adla", "store_account": "plake"},
                      "secondary": {"analytics_account": "s-adla", "store_account": "slake"},
                      "catalog": {"databases": {"Sales": "SalesDR"}, "objects": {"Sales.dbo.PartRow": "PartRowDR"}}})
    src = ("CREATE PROCEDURE dbo.P(@rows Sales.dbo.PartRow, @d DateTime, @t System.String) AS\n"
           "BEGIN @x = SELECT * FROM @rows; END;\n"
           "USE DATABASE Sales;\n"
           "CREATE FUNCTION dbo.F() RETURNS @r dbo.PartRow AS BEGIN @r = SELECT * FROM @x; END;\n")
    out = rewrite_text(src, c).text
    assert out == src.replace("Sales.dbo.PartRow", "SalesDR.dbo.PartRowDR").replace(
        "USE DATABASE Sales;", "USE DATABASE SalesDR;").replace("@r dbo.PartRow", "@r dbo.PartRowDR")
