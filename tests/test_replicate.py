"""usqlrw replicate: catalog model, sync DDL, job DR copies and imports, snapshots, the bundle.

Generated scripts are parsed back with our own parser and checked through their AST."""
import dataclasses
import json
import shutil
import sys
from pathlib import Path

import pytest

import usqlrw
from usqlrw import ast as A
from usqlrw.config import load_config
from usqlrw.replicate import build_bundle, build_model
from usqlrw.replicate.catalog import Model
from usqlrw.replicate.jobs import plan_job
from usqlrw.replicate.staging import StagingError, parse_type
from usqlrw.replicate.sync import sync_script

sys.path.insert(0, str(Path(__file__).parent))
from replication_drill import recording  # noqa: E402,F401  (what each test generates is run: replication_drill)

HERE = Path(__file__).parent / "fixtures" / "replicate"
PIPELINE = HERE / "pipeline"
CONFIG = load_config(HERE / "dr.toml")


def load(folder=PIPELINE):
    out = []
    for p in sorted(Path(folder).glob("*.usql")):
        out.append((p.name, usqlrw.parse(p.read_bytes(), path=str(p))))
    return out


@pytest.fixture(scope="module")
def scripts():
    return load()


@pytest.fixture(scope="module")
def model(scripts):
    return build_model(scripts)


@pytest.fixture(scope="module")
def bundle(scripts):
    return build_bundle(scripts, CONFIG)


def text_of(script, node):
    return script.source.text[node.span.start:node.span.end]


def norm(t):
    return "".join(t.split())


def statements(text):
    """Top-level statements of generated text, parsed (it must parse)."""
    s = usqlrw.parse(text)
    return s, list(s.statements)


def if_exists(script, drop):
    """DROP ... IF EXISTS (the tree keeps the keyword, with its place)."""
    return bool(drop.if_exists) and drop.if_exists.span.end <= drop.object.span.start


def imported_record(script, stmt):
    """Whether a statement of an import creates or fills the record of imported staged files."""
    return "usqlrw_dr" in text_of(script, stmt).split("SELECT")[0]


def rowset(stmts, name):
    return next(s for s in stmts if isinstance(s, A.RowsetAssignment)
                and any(isinstance(t, A.Variable) and t.name == name for t in s.targets))


def select_aliases(script, select):
    assert isinstance(select, A.Select), text_of(script, select)
    out = []
    for it in select.items:
        assert isinstance(it, A.AliasedItem), text_of(script, it)
        out.append((it.alias.name, it.expr))
    return out


# -- the catalog model ---------------------------------------------------------------------------

def test_model_tables(model):
    orders = model.table("Sales", "dbo", "Orders")
    assert [(c.name, c.type) for c in orders.columns] == [
        ("OrderId", "long"), ("CustomerId", "Guid"), ("Amount", "decimal"), ("Discount", "double?"),
        ("Quantity", "int?"), ("Channel", "char"), ("Tags", "SQL.ARRAY<string>"),
        ("Attributes", "SQL.MAP<string,int?>"), ("Signature", "byte[]"), ("Note", "string"),
        ("OrderDate", "DateTime")]
    assert orders.partitioned_by == ["OrderDate"]
    assert orders.distribution == {"scheme": "HASH", "columns": ["CustomerId"], "buckets": "8"}
    assert orders.index == {"name": "idx_orders", "columns": ["OrderId ASC"]}
    # static partitions from the DDL; the ingest job's per-run PARTITION (@runDate) is not catalog
    assert orders.partitions == ["PARTITION (new DateTime(2024, 1, 1))", "PARTITION (new DateTime(2024, 1, 2))"]
    totals = model.table("Sales", "dbo", "DailyTotals")
    assert totals.distribution["scheme"] == "RANGE"
    # CREATE TABLE AS: the schema inferred from the query (a view's inferred columns and a cast)
    top = model.table("Sales", "reporting", "TopCustomers")
    assert top.schema_known and [(c.name, c.type) for c in top.columns] == [
        ("CustomerId", "Guid"), ("Spent", "decimal"), ("Rank", "long")]


def test_model_kinds_and_secrets(model):
    kinds = {o.kind for o in model.objects.values()}
    assert kinds >= {"database", "schema", "table", "type", "tvf", "view", "assembly", "credential",
                     "data_source", "statistics"}
    j = model.to_json()
    assert "s3cr3t" not in j                      # a credential's secret never enters the model
    assert Model.from_json(j).to_json() == j      # JSON round trip


def test_model_applies_ddl_in_order():
    s = usqlrw.parse("""
        CREATE DATABASE D; USE DATABASE D;
        CREATE TABLE T (a int, b string, INDEX i CLUSTERED (a) DISTRIBUTED BY HASH (a));
        ALTER TABLE T ADD COLUMN c SQL.ARRAY<int?>, d byte[];
        ALTER TABLE T DROP COLUMN b;
        CREATE TABLE IF NOT EXISTS T (z int, INDEX i CLUSTERED (z) DISTRIBUTED BY HASH (z));
        CREATE TABLE Gone (a int, INDEX i CLUSTERED (a) DISTRIBUTED BY HASH (a));
        DROP TABLE Gone;
        CREATE VIEW V AS SELECT a FROM T;
        DROP VIEW IF EXISTS V;
        CREATE TABLE Old (a int, INDEX i CLUSTERED (a) DISTRIBUTED BY HASH (a));
        RENAME TABLE Old TO New;
    """)
    m = build_model([("x.usql", s)])
    t = m.table("D", "dbo", "T")
    assert [(c.name, c.type) for c in t.columns] == [("a", "int"), ("c", "SQL.ARRAY<int?>"), ("d", "byte[]")]
    assert m.table("D", "dbo", "Gone") is None and m.get("view", "D", "dbo", "V") is None
    assert m.table("D", "dbo", "Old") is None and m.table("D", "dbo", "New") is not None


# -- catalog sync --------------------------------------------------------------------------------

def test_sync_parts_follow_what_each_object_reads(model):
    r = sync_script(model, CONFIG)
    names = [n for n, _, _ in r.parts]
    assert names == ["catalog/sync.usql", "catalog/sync.2.usql"]
    first = {k.split(":")[0] for k, _ in r.parts[0][2]}
    second = {k.split(":")[0] for k, _ in r.parts[1][2]}
    assert first == {"database", "schema", "type", "assembly", "data_source", "table"}
    assert second == {"tvf", "view", "statistics"}
    for _, text, _ in r.parts:
        usqlrw.parse(text)


def test_sync_is_idempotent_ddl_in_dependency_order(model):
    r = sync_script(model, CONFIG)
    s, stmts = statements(r.text)
    kinds = [x.kind for x in stmts]
    # dependency order: the database, then its schema, ..., tables before the view and the TVF
    first = {k: kinds.index(k) for k in reversed(kinds)}
    assert first["CreateDatabase"] < first["CreateSchema"] < first["CreateTable"] < first["CreateView"]
    assert first["CreateTable"] < first["CreateFunction"]
    # every CREATE is idempotent: IF NOT EXISTS, or preceded by DROP ... IF EXISTS of the same object
    for i, st in enumerate(stmts):
        if st.kind in ("CreateTable", "CreateType", "CreateSchema", "CreateDatabase", "CreateDataSource",
                       "CreateStatistics"):
            assert st.if_not_exists, text_of(s, st)
        if st.kind in ("CreateFunction", "CreateView", "CreateAssembly"):
            drop = stmts[i - 1]
            assert drop.kind == "Drop" and if_exists(s, drop)
            assert drop.object.names[-1] == (st.view if isinstance(st, A.CreateView) else getattr(
                st, "routine", None) or st.assembly).names[-1]
    # names and bodies are mapped by the failover rewrite
    uses = {x.database.names[-1] for x in stmts if isinstance(x, A.UseDatabase)}
    assert uses == {"SalesDR"}
    tables = {x.table.names[-1] for x in stmts if isinstance(x, A.CreateTable)}
    assert tables == {"Orders", "DailyTotalsDR", "TopCustomers"}
    view = next(x for x in stmts if isinstance(x, A.CreateView))
    reads = [n.names for n in A.walk(view) if isinstance(n, A.ObjectName) and n.action == "read"]
    assert reads == [("dbo", "DailyTotalsDR")]
    # the table is generated from the model: its columns and types are the model's
    orders = next(x for x in stmts if isinstance(x, A.CreateTable) and x.table.names[-1] == "Orders")
    cols = [(c.name.name, norm(c.type.text)) for c in orders.columns]
    assert cols == [(c.name, c.type) for c in model.table("Sales", "dbo", "Orders").columns]
    parts = [x for x in stmts if x.kind == "AlterTableAddPartition"]
    assert len(parts) == 2 and all(p.if_not_exists for p in parts)


def test_sync_lists_what_scripts_cannot_copy(model):
    r = sync_script(model, CONFIG)
    assert "CreateCredential" not in [x.kind for x in usqlrw.parse(r.text).statements]
    manual = {m.object: m for m in r.manual}
    cred = manual["credential:Sales.CrmLogin"]
    assert "New-AzDataLakeAnalyticsCatalogCredential" in cred.instruction and "SalesDR" in cred.instruction
    asm = manual["assembly:Sales.Fabrikam.Parsers"]
    assert "--account fabrikamlake " in asm.instruction and "--account fabrikamlakedr " in asm.instruction
    assert "/libs/Fabrikam.Parsers.dll" in asm.instruction


# -- jobs: DR copy and import ----------------------------------------------------------------------

def _plans(scripts, model):
    return {name: (script, plan_job(name, script, model, CONFIG)) for name, script in scripts}


def _check_pair(orig_script, plan, model, ordinal, table_key):
    """The export's columns and types == the import's EXTRACT == the table's (or the INSERT's list)."""
    dr, dstmts = statements(plan.dr_copy)
    imp_text = usqlrw.rewrite.rewrite_text(plan.import_script, CONFIG).text
    im, istmts = statements(imp_text)
    w = next(x for x in plan.writes if x.ordinal == ordinal)
    db, sch, name = table_key
    table = model.table(db, sch, name)
    expected = w.columns
    by_name = {c.name: c.type for c in table.columns}
    assert all(by_name[c.name] == c.type for c in expected)

    # DR copy: the write and the export read the same bound rowset
    rows = f"@usqlrw_rows_{ordinal}"
    bound = rowset(dstmts, rows)
    write = next(x for x in dstmts if isinstance(x, (A.Insert, A.CreateTable)) and x.span.start > bound.span.start)
    src = write.source if isinstance(write, A.Insert) else write.query
    assert norm(text_of(dr, src)) == norm(f"SELECT * FROM {rows}")
    staged = rowset(dstmts, f"@usqlrw_staged_{ordinal}")
    frm = [n.variable.name for n in A.walk(staged.query) if isinstance(n, A.RowsetRef)]
    assert frm == [rows]
    export_cols = [a for a, _ in select_aliases(dr, staged.query)]
    out = next(x for x in dstmts if isinstance(x, A.Output) and isinstance(x.rowset, A.RowsetRef)
               and x.rowset.variable.name == f"@usqlrw_staged_{ordinal}")
    assert out.target.name == f"@usqlrw_stage_{ordinal}"

    # import: EXTRACT every staged column as string, decode to exactly the table's types
    ext = rowset(istmts, f"@usqlrw_staged_{ordinal}").query
    assert isinstance(ext, A.Extract)
    ext_cols = [(c.name.name, c.type.text) for c in ext.columns]
    if w.runs:      # a parameterless job's staged files: one per run, the run a virtual column
        assert ext_cols[-1] == ("usqlrw_run", "string")
        ext_cols = ext_cols[:-1]
    assert [n for n, _ in ext_cols] == export_cols == [c.name for c in expected]
    assert {t for _, t in ext_cols} == {"string"}
    rows_sel = rowset(istmts, f"@usqlrw_rows_{ordinal}").query
    if w.runs:
        rows_sel = dataclasses.replace(rows_sel, items=rows_sel.items[:-1])
    dec = select_aliases(im, rows_sel)
    assert [(a, norm(e.type.text)) for a, e in dec] == [(c.name, norm(c.type)) for c in expected]
    assert all(isinstance(e, A.Cast) for _, e in dec)

    # the same staging location on both sides (a run's timestamp where the import reads {usqlrw_run})
    def loc(stmts, script):
        d = next(x for x in stmts if isinstance(x, A.Declare) and x.variable.name == f"@usqlrw_stage_{ordinal}")
        return norm(text_of(script, d.value))
    if w.runs:
        stamp = f'"+@usqlrw_now_{ordinal}.ToString("yyyyMMddTHHmmssfffffff",System.Globalization.CultureInfo.InvariantCulture)+"'
        assert loc(dstmts, dr).replace(stamp, "{usqlrw_run}") == loc(istmts, im)
    else:
        assert loc(dstmts, dr) == loc(istmts, im)
    return dr, dstmts, im, istmts


def test_ingest_job_partition(scripts, model):
    plans = _plans(scripts, model)
    orig, plan = plans["10_ingest_orders.usql"]
    assert not plan.problems
    dr, dstmts, im, istmts = _check_pair(orig, plan, model, 1, ("Sales", "dbo", "Orders"))
    # the location is named from the table and the run's parameter
    w = plan.writes[0]
    assert "/Sales/dbo/Orders/" in w.location and "@runDate" in w.location
    # the import adds the partition, then inserts into it with the same label
    ins = next(x for x in istmts if isinstance(x, A.Insert))
    assert norm(text_of(im, ins.partition)) == norm("PARTITION (@runDate)")
    adds = [x for x in istmts if x.kind == "AlterTableAddPartition" and x.span.start < ins.span.start]
    assert adds and all(a.if_not_exists for a in adds)
    # the parameter travels with the import so the same run reads the same file
    assert any(isinstance(x, A.Declare) and x.external and x.variable.name == "@runDate" for x in istmts)
    # mapped names on the secondary
    assert [x.database.names[-1] for x in istmts if isinstance(x, A.UseDatabase)] == ["SalesDR"]


def test_dr_copy_is_the_job_plus_three_edits(scripts, model):
    for name, (orig, plan) in _plans(scripts, model).items():
        if plan.dr_copy is None:
            continue
        before = [x.kind for x in orig.statements]
        after = [x.kind for x in usqlrw.parse(plan.dr_copy).statements]
        # every original statement is still there, in order; each write added 4 statements, and
        # one more (DECLARE of the run's timestamp) when no parameter names its staged file
        it = iter(after)
        assert all(k in it for k in before)
        assert len(after) == len(before) + sum(5 if w.runs else 4 for w in plan.writes)
        # and the original text survives outside the edited spans
        o = orig.source.text
        for st in orig.statements:
            if st.kind not in ("Insert", "CreateTable"):
                assert text_of(orig, st) in plan.dr_copy


def test_aggregation_job_column_list_and_nondeterminism(scripts, model):
    orig, plan = _plans(scripts, model)["20_daily_totals.usql"]
    dr, dstmts, im, istmts = _check_pair(orig, plan, model, 1, ("Sales", "dbo", "DailyTotals"))
    # Guid.NewGuid() is evaluated in the one bound rowset, not separately for the export
    bound = rowset(dstmts, "@usqlrw_rows_1")
    assert "Guid.NewGuid()" in text_of(dr, bound)
    assert plan.dr_copy.count("Guid.NewGuid()") == 1
    ins = next(x for x in istmts if isinstance(x, A.Insert))
    assert [i.name for i in ins.columns] == ["Day", "CustomerId", "Total", "Orders", "LoadId"]
    assert ins.table.names[-1] == "DailyTotalsDR"       # the renamed table on the secondary


def test_ctas_and_values_job(scripts, model):
    orig, plan = _plans(scripts, model)["30_top_customers.usql"]
    assert not plan.problems
    dr, dstmts, im, istmts = _check_pair(orig, plan, model, 1, ("Sales", "reporting", "TopCustomers"))
    _check_pair(orig, plan, model, 2, ("Sales", "reporting", "TopCustomers"))
    # replayed in job order: DROP TABLE, CREATE TABLE AS from the staged rows, then the INSERT
    kinds = [x.kind for x in istmts if x.kind in ("Drop", "CreateTable", "Insert") and not imported_record(im, x)]
    assert kinds == ["Drop", "Drop", "CreateTable", "Insert"]
    # the table is rebuilt by each import (CREATE TABLE AS), so the INSERT after it is replayed on
    # each import too, from the job's latest run, not once (a guard would lose its rows on a rerun)
    assert istmts[-1].kind == "Insert" and not any(imported_record(im, x) for x in istmts)
    assert plan.writes[1].rebuilt and rowset(istmts, "@usqlrw_latest_2")
    ctas = next(x for x in istmts if isinstance(x, A.CreateTable) and not imported_record(im, x))
    # the import drops what the catalog sync (or an earlier run) created before CREATE TABLE AS
    drop = istmts[istmts.index(ctas) - 1]
    assert drop.kind == "Drop" and if_exists(im, drop) and drop.object.names == ctas.table.names
    assert [n.variable.name for n in A.walk(ctas.query) if isinstance(n, A.RowsetRef)] == ["@usqlrw_rows_1"]
    # VALUES is bound with the target's column names
    bound = rowset(dstmts, "@usqlrw_rows_2")
    assert "usqlrw_values(CustomerId, Spent, Rank)" in text_of(dr, bound)


def test_writes_that_cannot_be_staged_are_refused_not_dropped():
    s = usqlrw.parse("""
        CREATE DATABASE D; USE DATABASE D;
        CREATE TABLE T (a int, p string, INDEX i CLUSTERED (a) DISTRIBUTED BY HASH (a));
        CREATE TABLE U (a int, INDEX i CLUSTERED (a) DISTRIBUTED BY HASH (a));
    """)   # a script cannot declare a user type column (the parser refuses it), a pulled catalog can:
    job = usqlrw.parse("""USE DATABASE D;
        @r = SELECT * FROM (VALUES (1)) AS x(a);
        INSERT INTO T (a) SELECT a FROM @r;
        INSERT INTO T SELECT a, (Geo.Point) null AS p FROM @r;
        INSERT INTO U ON INTEGRITY VIOLATION IGNORE SELECT a FROM @r;
        INSERT INTO Nowhere SELECT a FROM @r;
        TRUNCATE TABLE U;
    """)
    m = build_model([("ddl.usql", s)])
    from usqlrw.replicate.catalog import Column
    m.table("D", "dbo", "T").columns[1] = Column("p", "Geo.Point")
    plan = plan_job("job.usql", job, m, CONFIG)
    # the column-list insert of T carries only a: fine; the full insert needs p: refused by name
    assert [w.table[-1] for w in plan.writes] == ["T", "U"]
    assert any("column p" in p and "Geo.Point" in p for p in plan.problems)
    assert any("Nowhere" in p for p in plan.problems)
    im = usqlrw.parse(plan.import_script)
    kinds = [x.kind for x in im.statements if x.kind in ("Insert", "TruncateTable") and not imported_record(im, x)]
    assert kinds == ["Insert", "Insert", "TruncateTable"]
    u = [x for x in im.statements if isinstance(x, A.Insert)][1]
    assert u.integrity is not None and u.partition is None
    with pytest.raises(StagingError):
        from usqlrw.replicate.staging import check_columns
        check_columns("D.dbo.T", [("p", "Geo.Point")])
    with pytest.raises(StagingError):
        check_columns("D.dbo.T", [("m", "SQL.ARRAY<SQL.ARRAY<int>>")])


def test_staging_types_parse_and_cover_every_builtin():
    from usqlrw.replicate.staging import decode_expr, encode_expr
    types = ["bool", "byte", "sbyte", "short", "ushort", "int", "uint", "long", "ulong", "float", "double",
             "decimal", "char", "string", "DateTime", "Guid", "byte[]"]
    types += [t + "?" for t in types if t not in ("string", "byte[]")]
    types += [f"SQL.ARRAY<{t}>" for t in ("string", "int?", "byte[]", "decimal", "Guid")]
    types += ["SQL.MAP<string, int?>", "SQL.MAP<int, byte[]>", "SQL.MAP<Guid, DateTime?>", "System.Int32"]
    cols = [(f"c{i}", t) for i, t in enumerate(types)]
    enc = ", ".join(f"{encode_expr(t, n)} AS {n}" for n, t in cols)
    dec = ", ".join(f"{decode_expr(t, n)} AS {n}" for n, t in cols)
    s = usqlrw.parse(f"@x = SELECT {enc} FROM @r;\n@y = SELECT {dec} FROM @x;")
    y = s.statements[1]
    casts = [e.type.text for _, e in select_aliases(s, y.query)]
    assert [norm(c) for c in casts] == [norm(parse_type(t).text) for t in types]


def test_staging_alphabet_is_delimiter_free():
    """The payloads a generated expression can produce use no tab, newline, quote or '#'."""
    from usqlrw.replicate import staging as S
    for t in ("string", "SQL.MAP<string, int?>", "decimal", "DateTime?", "double", "byte[]"):
        e = S.encode_expr(t, "c")
        literals = [n.value for n in A.walk(usqlrw.parse(f"@x = SELECT {e} AS c FROM @r;")) if isinstance(
            n, (A.StringLiteral, A.CharLiteral))]
        assert literals and all(not set(v) & set("\t\r\n\"#") for v in literals), literals


# -- the bundle ------------------------------------------------------------------------------------

def test_bundle_scripts_parse_and_have_headers(bundle):
    usql = {k: v for k, v in bundle.files.items() if k.endswith(".usql")}
    assert {k.split("/")[0] for k in usql} == {"catalog", "primary", "secondary"}
    for path, data in usql.items():
        s = usqlrw.parse(data)
        assert s.comments, path
        first = s.source.text.splitlines()[0]
        assert first.startswith("// usqlrw replicate: "), path
        assert s.source.text.splitlines()[1].startswith("// source: "), path
    assert not any(b"s3cr3t" in v for v in bundle.files.values())


def test_manifest_steps(bundle):
    m = json.loads(bundle.files["manifest.json"])
    steps = m["steps"]
    assert [s["order"] for s in steps] == list(range(1, len(steps) + 1))
    assert steps[0]["script"] == "catalog/sync.usql" and steps[0]["account"] == "secondary"
    for s in steps:
        assert s["script"] in bundle.files
        assert s["account_name"] == {"primary": "fabrikam-adla", "secondary": "fabrikamdr-adla"}[s["account"]]
        assert s["account"] == s["script"].split("/")[0] if not s["script"].startswith("catalog") else True
    # a job's import comes right after its DR copy, with the same parameters
    for i, s in enumerate(steps):
        if s["script"].startswith("primary/jobs/"):
            nxt = steps[i + 1]
            assert nxt["script"] == s["script"].replace("primary/jobs/", "secondary/jobs/").replace(
                ".usql", ".import.usql")
            assert nxt["parameters"] == s["parameters"]
    ingest = next(s for s in steps if s["script"] == "primary/jobs/10_ingest_orders.usql")
    assert ingest["moves"][0]["table"] == "Sales.dbo.Orders"
    assert ingest["moves"][0]["partition"] == "PARTITION (@runDate)"
    # snapshots of tables a job replicates are on demand; the others always
    runs = {s["script"]: s["run"] for s in steps if "snapshots" in s["script"]}
    assert runs and all(v == "on_demand" for v in runs.values())
    assert {x["object"] for x in m["manual"]} == {"credential:Sales.CrmLogin", "assembly:Sales.Fabrikam.Parsers",
                                                  "store:fabrikamlakedr"}
    store = next(x for x in m["manual"] if x["object"] == "store:fabrikamlakedr")
    assert "-Account fabrikam-adla" in store["instruction"] and "-Path /dr/staging/" in store["instruction"]


def test_snapshot_pairs_round_trip(bundle, model):
    for path in [k for k in bundle.files if k.startswith("primary/snapshots/")]:
        ex = usqlrw.parse(bundle.files[path])
        im = usqlrw.parse(bundle.files[path.replace("primary/", "secondary/").replace(".export.", ".import.")])
        st = list(ex.statements)
        src = st[0].query
        tref = next(n for n in A.walk(src) if isinstance(n, A.TableRef)).table.names
        table = model.table(*tref)
        cols = [(c.name, c.type) for c in table.columns]
        export_cols = [a for a, _ in select_aliases(ex, rowset(st, "@usqlrw_staged").query)]
        ist = list(im.statements)
        ext = rowset(ist, "@usqlrw_staged").query
        dec = select_aliases(im, rowset(ist, "@usqlrw_rows").query)
        assert export_cols == [c.name.name for c in ext.columns] == [n for n, _ in cols]
        assert [norm(e.type.text) for _, e in dec] == [norm(t) for _, t in cols]
        out = next(x for x in st if isinstance(x, A.Output))
        assert out.target.value == ext.sources[0].value
        kinds = [x.kind for x in ist]
        assert kinds.index("TruncateTable") < kinds.index("Insert")
        if table.partitioned_by:
            ins = next(x for x in ist if isinstance(x, A.Insert))
            assert ins.partition is not None


def test_same_input_same_bytes(scripts):
    a = build_bundle(scripts, CONFIG).files
    b = build_bundle(load(), CONFIG).files
    assert a == b


def test_incremental_resync_contains_exactly_the_change(tmp_path, scripts):
    first = build_bundle(scripts, CONFIG)
    prev = Model.from_json(first.files["catalog/model.json"].decode())
    same = build_bundle(scripts, CONFIG, prev)
    assert usqlrw.parse(same.files["catalog/resync.usql"]).statements == ()

    folder = tmp_path / "p"
    shutil.copytree(PIPELINE, folder)
    ddl = folder / "00_catalog.usql"
    ddl.write_text(ddl.read_text().replace("    LoadId Guid,\n", "    LoadId Guid,\n    Source string,\n")
                   .replace("SUM(Total) AS Spent", "SUM(Total) AS Spent, COUNT(*) AS Days"))
    changed = build_bundle(load(folder), CONFIG, prev)
    s = usqlrw.parse(changed.files["catalog/resync.usql"])
    kinds = [x.kind for x in s.statements if not isinstance(x, (A.UseDatabase, A.UseSchema))]
    assert kinds == ["AlterTableAddColumn"]
    # the view reads the altered table: it is replaced in a second part, run after the first
    s2 = usqlrw.parse(changed.files["catalog/resync.2.usql"])
    assert [x.kind for x in s2.statements if not isinstance(x, (A.UseDatabase, A.UseSchema))] == ["Drop", "CreateView"]
    assert not any(k.startswith("catalog/resync.3") for k in changed.files)
    add = next(x for x in s.statements if x.kind == "AlterTableAddColumn")
    assert add.table.names[-1] == "DailyTotalsDR"
    assert [(c.name.name, c.type.text) for c in A.walk(add) if isinstance(c, A.ColumnDefinition)] == [
        ("Source", "string")]
    m = json.loads(changed.files["manifest.json"])
    assert m["incremental"] and [x["script"] for x in m["steps"][:2]] == ["catalog/resync.usql",
                                                                          "catalog/resync.2.usql"]


def test_incremental_new_partition_and_dropped_object(tmp_path, scripts):
    prev = build_model(scripts)
    folder = tmp_path / "p"
    shutil.copytree(PIPELINE, folder)
    ddl = folder / "00_catalog.usql"
    ddl.write_text(ddl.read_text() + "ALTER TABLE dbo.Orders ADD PARTITION (new DateTime(2024, 1, 5));\n"
                   "DROP TYPE IF EXISTS dbo.OrderKey;\n")
    r = sync_script(build_model(load(folder)), CONFIG, prev)
    s = usqlrw.parse(r.text)
    body = [x for x in s.statements if not isinstance(x, (A.UseDatabase, A.UseSchema))]
    assert [x.kind for x in body] == ["Drop", "AlterTableAddPartition"]
    assert body[0].object_kind == "type" and if_exists(s, body[0])
    assert "2024, 1, 5" in r.text


def test_incremental_rename_keeps_the_rows():
    ddl = ("CREATE DATABASE D; USE DATABASE D;\n"
           "CREATE TABLE Old (a int, INDEX i CLUSTERED (a) DISTRIBUTED BY HASH (a));\n")
    prev = build_model([("ddl.usql", usqlrw.parse(ddl))])
    now = build_model([("ddl.usql", usqlrw.parse(ddl + "RENAME TABLE Old TO New;\n"))])
    r = sync_script(now, CONFIG, prev)
    body = [x for x in usqlrw.parse(r.text).statements if not isinstance(x, (A.UseDatabase, A.UseSchema))]
    assert [x.kind for x in body] == ["RenameTable"]
    assert body[0].table.names[-1] == "Old" and body[0].new_name.names[-1] == "New"


def test_volatile_partition_label_names_the_location_and_warns():
    ddl = usqlrw.parse("CREATE DATABASE D; USE DATABASE D;\n"
                       "CREATE TABLE T (a int, d DateTime, INDEX i CLUSTERED (a) PARTITIONED BY (d) "
                       "DISTRIBUTED BY HASH (a));\n")
    job = usqlrw.parse("DECLARE @day DateTime = DateTime.Today;\nUSE DATABASE D;\n"
                       "INSERT INTO T PARTITION (@day) SELECT 1 AS a, @day AS d FROM (VALUES (1)) AS x(z);\n")
    plan = plan_job("job.usql", job, build_model([("ddl.usql", ddl)]), CONFIG)
    assert "@day" in plan.writes[0].location
    assert any("DECLARE EXTERNAL" in w and "@day" in w for w in plan.warnings)
    im = usqlrw.parse(plan.import_script)
    assert [x.variable.name for x in im.statements if isinstance(x, A.Declare)][0] == "@day"


def test_replayed_statements_are_made_idempotent():
    ddl = usqlrw.parse("CREATE DATABASE D; USE DATABASE D;\n"
                       "CREATE TABLE T (a int, d int, INDEX i CLUSTERED (a) PARTITIONED BY (d) "
                       "DISTRIBUTED BY HASH (a));\n")
    job = usqlrw.parse("DECLARE EXTERNAL @p int = 1;\nUSE DATABASE D;\n"
                       "ALTER TABLE T ADD PARTITION (@p);\nALTER TABLE T DROP PARTITION (@p + 1);\n"
                       "DROP TABLE T2;\nTRUNCATE TABLE T PARTITION (@p);\n")
    plan = plan_job("job.usql", job, build_model([("ddl.usql", ddl)]), CONFIG)
    assert plan.dr_copy is None                      # nothing to stage: the job runs as it is
    im = usqlrw.parse(plan.import_script)
    body = [x for x in im.statements if not isinstance(x, (A.Declare, A.UseDatabase))]
    assert [x.kind for x in body] == ["AlterTableAddPartition", "AlterTableDropPartition", "Drop", "TruncateTable"]
    assert body[0].if_not_exists
    assert body[1].if_exists
    assert if_exists(im, body[2])


def test_ctas_schema_inferred_from_extract_rowsets_and_tvfs():
    s = usqlrw.parse("""CREATE DATABASE D; USE DATABASE D;
        CREATE FUNCTION F(@n int) RETURNS @r TABLE(k int, v string) AS
        BEGIN @r = SELECT 1 AS k, "a" AS v FROM (VALUES (1)) AS x(z); END;
        @e = EXTRACT a int, b SQL.MAP<string, string>, u = FILE.URI() FROM "/x/{*}.tsv" USING Extractors.Tsv();
        @s = SELECT a, b, (long) 1 AS n FROM @e;
        CREATE TABLE T1 (INDEX i CLUSTERED (a) DISTRIBUTED BY HASH (a)) AS SELECT * FROM @s;
        CREATE TABLE T2 (INDEX i CLUSTERED (k) DISTRIBUTED BY HASH (k)) AS SELECT f.k, v FROM F(3) AS f;
        CREATE TABLE T3 (INDEX i CLUSTERED (a) DISTRIBUTED BY HASH (a)) AS SELECT a, a + 1 AS c FROM @e;
    """)
    m = build_model([("x.usql", s)])
    cols = lambda t: [(c.name, c.type) for c in m.table("D", "dbo", t).columns]
    assert cols("T1") == [("a", "int"), ("b", "SQL.MAP<string,string>"), ("n", "long")]
    assert cols("T2") == [("k", "int"), ("v", "string")]
    t3 = m.table("D", "dbo", "T3")
    assert not t3.schema_known and "no type for c" in t3.notes[0]
    r = sync_script(m, CONFIG)
    assert "table:D.dbo.T3" in {x.object for x in r.manual}
    assert {x.table.names[-1] for x in usqlrw.parse(r.text).statements if isinstance(x, A.CreateTable)} == {"T1", "T2"}


def test_objects_without_a_definition_become_manual_steps():
    from usqlrw.replicate.catalog import CatalogObject
    m = Model()
    db = CatalogObject("database", "D", "", "D")
    asm = CatalogObject("assembly", "D", "", "Lib", source="catalog of x", context=["D", ""],
                        notes=["the catalog holds this assembly's binary but no file it came from"])
    ds = CatalogObject("data_source", "D", "", "Src", context=["D", ""], notes=[
        "the catalog does not say which credential the data source uses: add CREDENTIAL = ... by hand"],
        ddl='CREATE DATA SOURCE IF NOT EXISTS Src FROM AZURESQLDB WITH (PROVIDER_STRING = "x")')
    for o in (db, asm, ds):
        m.objects[o.key] = o
    r = sync_script(m, CONFIG)
    kinds = [x.kind for x in usqlrw.parse(r.text).statements]
    assert "CreateAssembly" not in kinds and "CreateDataSource" in kinds
    assert {x.object for x in r.manual} == {asm.key, ds.key}


def test_declared_locations_are_folded_into_copied_ddl():
    s = usqlrw.parse('DECLARE @libs string = "/assemblies/";\nDECLARE @dyn string = "/x/" + DateTime.Now.Year;\n'
                     'CREATE DATABASE D; USE DATABASE D;\n'
                     'CREATE ASSEMBLY IF NOT EXISTS Parsers FROM @libs + "Parsers.dll" '
                     'WITH ADDITIONAL_FILES = (@libs + "native.dll");\n'
                     'CREATE ASSEMBLY IF NOT EXISTS Dyn FROM @dyn;\n')
    m = build_model([("ddl.usql", s)])
    r = sync_script(m, CONFIG)
    script = usqlrw.parse(r.text)
    asm = [x for x in script.statements if isinstance(x, A.CreateAssembly)]
    assert [x.assembly.names[-1] for x in asm] == ["Parsers"]
    from usqlrw.replicate.catalog import walk_all
    lits = [n.value for n in walk_all(asm[0]) if isinstance(n, A.StringLiteral)]
    assert lits == ["/assemblies/", "Parsers.dll", "/assemblies/", "native.dll"]
    assert not any(isinstance(n, A.Variable) for n in walk_all(asm[0]))
    manual = {x.object: x for x in r.manual}
    assert "@dyn" in manual["assembly:D.Dyn"].reason
    copies = [x.instruction for x in r.manual if x.object == "assembly:D.Parsers"]
    assert any("/assemblies/Parsers.dll" in c for c in copies) and any("/assemblies/native.dll" in c for c in copies)


def test_every_script_in_the_repository_gives_a_bundle_that_parses():
    """Robustness: the project's own fixtures and examples, one by one and all together."""
    root = Path(__file__).parent.parent
    scripts = []
    for p in sorted(list((root / "tests" / "fixtures").rglob("*.usql")) + list((root / "examples").rglob("*.usql"))):
        try:
            scripts.append((str(p.relative_to(root)), usqlrw.parse(p.read_bytes())))
        except (usqlrw.USqlSyntaxError, ValueError):
            continue
    assert len(scripts) > 20
    for group in [[s] for s in scripts] + [scripts]:
        b = build_bundle(group, CONFIG)
        for name, data in b.files.items():
            if name.endswith(".usql"):
                usqlrw.parse(data)
        json.loads(b.files["manifest.json"])


def test_procedure_calls_that_write_tables_are_reported():
    ddl = usqlrw.parse("CREATE DATABASE D; USE DATABASE D;\n"
                       "CREATE TABLE T (a int, INDEX i CLUSTERED (a) DISTRIBUTED BY HASH (a));\n"
                       "CREATE PROCEDURE dbo.Load(@n int) AS BEGIN\n"
                       "  INSERT INTO T SELECT @n AS a FROM (VALUES (1)) AS x(z);\nEND;\n"
                       "CREATE PROCEDURE dbo.Nothing() AS BEGIN\n"
                       "  @r = SELECT 1 AS a FROM (VALUES (1)) AS x(z);\n"
                       "  OUTPUT @r TO \"/x.csv\" USING Outputters.Csv();\nEND;\n")
    job = usqlrw.parse("USE DATABASE D;\ndbo.Load(3);\ndbo.Nothing();\n")
    plan = plan_job("job.usql", job, build_model([("ddl.usql", ddl)]), CONFIG)
    assert plan.dr_copy is None and len(plan.problems) == 1
    assert "D.dbo.Load" in plan.problems[0] and "writes D.dbo.T" in plan.problems[0]
