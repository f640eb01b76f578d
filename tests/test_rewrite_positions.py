"""Every position a catalog name or a location can take is resolved and mapped (the fixture pairs
positions.* and locations.* in tests/fixtures/rewrite hold the exact expected bytes), `refs` lists
every one of them, the rewrite proof refuses an edit that changes anything else, and one tricky
name gets the same answer from rewrite, refs, replicate and the emulator's catalog."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

import usqlrw
from usqlrw import ast as A
from usqlrw.config import load_config
from usqlrw.files import Input
from usqlrw.refs import collect
from usqlrw.resolve import Context, qualify, references
from usqlrw.rewrite import RewriteError, rewrite_script, rewrite_text

HERE = Path(__file__).parent / "fixtures" / "rewrite"
CONFIG = load_config(HERE / "dr.toml")


def _input(path: Path) -> Input:
    return Input(str(path), None, path.read_bytes())


def test_refs_lists_every_catalog_name_and_location():
    for name in ("positions", "locations"):
        path = HERE / f"{name}.in.usql"
        script = usqlrw.parse(path.read_bytes())
        rows, err = collect(_input(path), CONFIG)
        assert err is None
        names = [(n.span.line, n.span.column) for n in A.walk(script)
                 if isinstance(n, A.ObjectName) and n.object_kind is not None]
        got = [(r["line"], r["column"]) for r in rows if r["what"] == "reference"]
        assert got == names
        for r in rows:
            assert r["secondary"], r
    rows, _ = collect(_input(HERE / "positions.in.usql"), CONFIG)
    by_pos = {(r["line"], r["column"]): r for r in rows}
    assert by_pos[(3, 20)]["primary"] == "fabrikam-adla.Sales.dbo.Orders"             # Sales..Orders
    assert by_pos[(3, 20)]["secondary"] == "fabrikamdr-adla.SalesDR.dbo.OrdersDR"
    assert by_pos[(7, 20)]["written"] == "[fabrikam-adla].Sales.dbo.Orders"           # 4 parts
    assert by_pos[(15, 21)]["role"] == "table read"                                   # PARTITION.EXISTS
    assert by_pos[(18, 39)]["role"] == "type reference"                               # [Sales].[dbo].[T]
    rows, _ = collect(_input(HERE / "locations.in.usql"), CONFIG)
    roles = sorted({r["role"] for r in rows if r["what"] == "location"})
    assert roles == ["assembly", "assembly_file", "file_function", "input", "output", "resource"]


def test_locations_fixture_warns_only_about_row_data():
    r = rewrite_text((HERE / "locations.in.usql").read_bytes(), CONFIG, "locations.usql")
    assert [(w.code, w.line, w.column) for w in r.warnings] == [("RW003", 12, 35)]


def test_declare_inside_a_routine_does_not_shadow_the_script_variable():
    src = ('DECLARE @root string = "adl://fabrikamlake.azuredatalakestore.net/";\n'
           'CREATE PROCEDURE P() AS BEGIN DECLARE @root string = "/tmp/"; END;\n'
           '@a = EXTRACT a string FROM @root + "x.csv" USING Extractors.Csv();\n')
    out = rewrite_text(src, CONFIG).text
    assert out == src.replace("fabrikamlake.", "fabrikamlakedr.")


def test_locations_prefix_matches_scheme_and_host_without_case_but_path_with_case():
    src = '@a = EXTRACT a string FROM "wasbs://exports@fabrikamshare.blob.core.windows.net/Partners/x" USING Extractors.Csv();'
    assert not rewrite_text(src, CONFIG).changed          # the configured path is /partners/
    src2 = src.replace("/Partners/", "/partners/").replace("exports@fabrikamshare", "EXPORTS@FABRIKAMSHARE")
    assert rewrite_text(src2, CONFIG).text == src2.replace("FABRIKAMSHARE", "FABRIKAMSHAREdr")


def test_the_rewrite_proof_refuses_an_edit_outside_names_and_literals(monkeypatch):
    from usqlrw import rewrite as R
    from usqlrw.source import Edit
    script = usqlrw.parse("@a = SELECT a + 1 AS b FROM Sales..Orders;\n")
    plus = script.source.text.index("+")

    def bad(script, config, path=None):
        return [Edit(plus, plus + 1, "-", "a wrong edit")], []
    monkeypatch.setattr(R, "edits_for", bad)
    with pytest.raises(RewriteError) as e:
        rewrite_script(script, CONFIG, "bad.usql")
    assert "bad.usql:1:13" in str(e.value) and "nothing written" in str(e.value)


TRICKY = ("CREATE DATABASE IF NOT EXISTS [Web Logs];\n"
          "CREATE TABLE IF NOT EXISTS [Web Logs]..[Order Lines] (id int, INDEX ix CLUSTERED (id) "
          "DISTRIBUTED BY HASH (id));\n")


def test_one_name_one_answer_in_rewrite_refs_replicate_and_the_emulator(tmp_path):
    script = usqlrw.parse(TRICKY)
    name = script.statements[1].table
    want = ("Web Logs", "dbo", "Order Lines")
    assert qualify(name, Context()).parts == want                           # the resolver
    # refs
    p = tmp_path / "t.usql"
    p.write_text(TRICKY)
    rows, _ = collect(_input(p), CONFIG)
    assert [r["primary"] for r in rows if r["role"] == "table create"] == ["fabrikam-adla.Web Logs.dbo.Order Lines"]
    # rewrite: the database part of db..obj is renamed, quoting and the empty schema kept
    out = rewrite_text(TRICKY, CONFIG).text
    assert "[WebLogsDR]..[Order Lines]" in out
    # replicate's catalog model
    from usqlrw.replicate.catalog import build_model
    model = build_model([("t.usql", script)])
    assert model.table(*want) is not None
    # the emulator's catalog, after running the script as a job
    from usqlrw.jobs.ddl import catalog_operations
    op = catalog_operations(script)[-1]
    assert (op.kind, op.database, op.schema, op.name) == ("table", *want)
    sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "jobs"))
    from jobsupport import PRIMARY, SECONDARY, create_params, new_id, run_to_end, sdk_clients
    from jobsupport import PRIMARY_STORE, SECONDARY_STORE
    from usqlrw.jobs.emulator import Emulator
    emu = Emulator(accounts={PRIMARY: PRIMARY_STORE, SECONDARY: SECONDARY_STORE}, max_lifetime=120, execute=False).start()
    try:
        job, cat, _ = sdk_clients(emu)
        jid = new_id()
        job.job.create(PRIMARY, jid, create_params(TRICKY, "tricky"))
        _, info = run_to_end(job, PRIMARY, jid)
        assert info.result.value == "Succeeded"
        t = cat.catalog.get_table(PRIMARY, *want)
        assert (t.database_name, t.schema_name, t.name) == want
    finally:
        emu.close()
    # and every reference of the script resolves as the model keys it
    assert [r.qualified for r in references(script)] == [("Web Logs",), want]
