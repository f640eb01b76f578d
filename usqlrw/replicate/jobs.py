"""Replication of the rows jobs write: the DR copy of each job and its secondary import script.

For every top-level statement of a job that writes a table (INSERT with a SELECT, a rowset or
VALUES; with or without a column list, PARTITION label or ON INTEGRITY VIOLATION; CREATE TABLE AS),
the **DR copy** (run on the primary instead of the job) differs from the job by three edits and
nothing else:

1. before the statement, ``@usqlrw_rows_N = <the statement's source>;`` binds the rows once;
2. the statement's source becomes ``SELECT * FROM @usqlrw_rows_N``;
3. after it, the same rowset is encoded (:mod:`.staging`) and written with OUTPUT to one staging
   location on the secondary store, named from the table, the job and the values of the job's
   ``DECLARE EXTERNAL`` parameters (``.../Sales.dbo.Orders/ingest/runDate=20240101T.../insert1.tsv``):
   a rerun with the same parameters overwrites the file rather than adding a second one.

Because the INSERT and the export read the same rowset variable, ``Guid.NewGuid()`` and
``DateTime.Now`` in the source cannot make them differ.

The **import script** (run on the secondary after the DR copy) replays, in job order, the job's
table-state statements: DROP TABLE, TRUNCATE, ALTER TABLE ADD/DROP PARTITION, and for each staged
write: EXTRACT of the staged rows (one ``string`` column per inserted column), a SELECT that decodes
each column and casts it to the table's type, ``ALTER TABLE ... ADD IF NOT EXISTS PARTITION`` when
the write names a partition, and the INSERT (or CREATE TABLE AS) with the same column list, label
and integrity clause. The import is written with primary names and passed through the failover
rewrite, so it names the mapped secondary database, schema and table.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .. import ast as A
from ..resolve import iter_statements, qualify
from ..source import Edit, apply_edits
from . import staging as S
from .columns import infer_columns
from .model import Column, Model, resolve_name

__all__ = ["JobPlan", "plan_job", "infer_columns", "staging_root", "safe_name"]

_CI = "System.Globalization.CultureInfo.InvariantCulture"


@dataclass
class Write:
    """One staged write of a job."""
    ordinal: int
    line: int
    statement: str            # Insert or CreateTableAs
    table: tuple              # (database, schema, name) on the primary
    columns: list             # [Column] in staged (= inserted) order
    column_list: bool         # the INSERT named its columns
    partition: str | None     # the PARTITION label as written
    integrity: str | None     # the ON INTEGRITY VIOLATION clause as written
    location: str             # the staging location expression (U-SQL) the import reads
    location_display: str     # the same with {param} placeholders
    runs: bool = False        # no parameter names the location: each run of the DR copy stages its
                              # own file (run=TIMESTAMP), the import reads them all as a file set
    rebuilt: bool = False     # the job emptied the table before (DROP, TRUNCATE, CREATE TABLE AS):
                              # each import rebuilds it, so the write is replayed on every import
                              # (its latest run), not once


@dataclass
class JobPlan:
    path: str
    name: str
    dr_copy: str | None = None          # the DR copy's text (None: nothing to stage)
    import_script: str | None = None    # the secondary import's text (None: nothing to replay)
    writes: list = field(default_factory=list)
    replays: list = field(default_factory=list)   # (line, kind, table) of replayed statements
    parameters: list = field(default_factory=list)
    problems: list = field(default_factory=list)   # refused or unhandled writes, with instructions
    warnings: list = field(default_factory=list)

    @property
    def moves(self) -> list:
        out = [{"table": ".".join(w.table), "partition": w.partition, "statement": w.statement,
                "line": w.line} for w in self.writes]
        out += [{"table": ".".join(t), "partition": None, "statement": k, "line": ln}
                for ln, k, t in self.replays]
        return sorted(out, key=lambda m: m["line"])


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("._") or "script"


def staging_root(config) -> str:
    """The absolute staging folder on the secondary store (ends with '/')."""
    st = config.staging
    if "://" in st:
        return st if st.endswith("/") else st + "/"
    return f"adl://{config.secondary_store}.azuredatalakestore.net/{st.strip('/')}/"


# -- column inference ----------------------------------------------------------------------------

def _stmt_end(text: str, end: int) -> int:
    """The offset just after the ';' that ends a statement whose span ends at ``end``."""
    i = end
    while i < len(text):
        if text[i].isspace():
            i += 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = len(text) if j < 0 else j + 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = len(text) if j < 0 else j + 2
        else:
            break
    return i + 1 if i < len(text) and text[i] == ";" else end


def _line_start(text: str, pos: int) -> int:
    return max(text.rfind("\n", 0, pos), text.rfind("\r", 0, pos)) + 1


def _indent(text: str, pos: int) -> str:
    ls = _line_start(text, pos)
    m = re.match(r"[ \t]*", text[ls:pos])
    return m.group(0) if m and m.end() == pos - ls else ""


def _param_piece(d: A.Declare, src: str) -> str:
    v = d.variable.name
    name = d.variable.name.lstrip("@")
    typ = d.type.name if d.type is not None else ("string" if isinstance(d.value, A.StringLiteral) else "")
    t = typ.rstrip("?")
    if t in ("DateTime", "System.DateTime"):
        fmt = f'{v}.ToString("yyyyMMddTHHmmssfffffff", {_CI})'
    elif t in ("string", "System.String"):
        fmt = f"Uri.EscapeDataString({v})"
    elif t in ("bool",):
        fmt = f'({v} ? "true" : "false")'
    elif t in S._INTEGERS or t in ("decimal", "double", "float"):
        fmt = f"{v}.ToString({_CI})"
    else:
        fmt = f"Uri.EscapeDataString({v}.ToString())"
    if d.type is not None and d.type.nullable:
        fmt = f'({v} == null ? "null" : {fmt.replace(v, v + ".Value", 1) if t != "string" else fmt})'
    return f'"/{name}=" + {fmt}'


def _location(config, table: tuple, job: str, params: list, ordinal: int, src: str, kind: str) -> tuple:
    root = staging_root(config) + "/".join(safe_name(p) for p in table) + f"/{safe_name(job)}"
    tail = f"/{kind}{ordinal}.tsv"
    if not params:     # each run its own file, never overwritten before it is imported
        return f'"{root}/run={{usqlrw_run}}{tail}"', f"{root}/run={{run}}{tail}"
    expr = " + ".join([f'"{root}"'] + [_param_piece(d, src) for d in params] + [f'"{tail}"'])
    disp = root + "".join(f"/{d.variable.name.lstrip('@')}={{{d.variable.name}}}" for d in params) + tail
    return expr, disp


def _text(src, node):
    return src[node.span.start:node.span.end]


def plan_job(path: str, script: A.Script, model: Model, config, name: str | None = None) -> JobPlan:
    """The DR copy and import script of one job script (either may be None: nothing to do)."""
    src = script.source.text
    nl = script.source.newline
    plan = JobPlan(path, name or safe_name(path.rsplit("/", 1)[-1].rsplit(".", 1)[0]))
    rowsets: dict = {}
    params = [s for s in script.statements if isinstance(s, A.Declare) and s.external]
    plan.parameters = [p.variable.name for p in params]
    declares = []          # top-level DECLAREs seen so far (copied into the import)
    edits: list = []
    imports: list = []     # import script statements (text), in job order
    ordinal = 0
    emptied: set = set()   # tables the job dropped, truncated or created AS so far

    for stmt, ctx, depth in iter_statements(script.statements):
        k = stmt.kind
        if depth:
            if isinstance(stmt, (A.Insert, A.TruncateTable, A.AlterTableAddPartition, A.AlterTableDropPartition)) or (
                    isinstance(stmt, A.CreateTable) and stmt.query is not None):
                plan.problems.append(
                    f"{path}:{stmt.span.line}: {k} inside a procedure body or IF branch is not replicated "
                    "by the DR copy; resync its table with the snapshot scripts after the job runs")
            continue
        if isinstance(stmt, A.Declare):
            declares.append(stmt)
            continue
        if isinstance(stmt, A.RowsetAssignment):
            cols = infer_columns(stmt.query, rowsets, model, ctx)
            for t in stmt.targets:
                if isinstance(t, A.Variable):
                    rowsets[t.name.lower()] = cols
            continue
        if isinstance(stmt, A.ProcedureCall):
            for table in _procedure_writes(stmt, ctx, model):
                plan.problems.append(
                    f"{path}:{stmt.span.line}: calls procedure {qualify(stmt.procedure, ctx)}, "
                    f"which writes {table}: rows written inside a procedure are not staged; resync {table} "
                    "with its snapshot scripts after the job runs, or move the INSERT into the job script")
            continue
        is_ctas = isinstance(stmt, A.CreateTable) and stmt.query is not None
        if isinstance(stmt, A.Drop) and stmt.object_kind == A.ObjectKind.TABLE:
            db, sch, nm = resolve_name(stmt.object, ctx, "table")
            imports.append((stmt, ctx, _idempotent(src, stmt) + ";"))
            plan.replays.append((stmt.span.line, "DROP TABLE", (db, sch, nm)))
            emptied.add((db, sch, nm))
            continue
        if isinstance(stmt, (A.TruncateTable, A.AlterTableAddPartition, A.AlterTableDropPartition)):
            if not isinstance(stmt, A.TruncateTable) and not any(isinstance(v, A.Variable) for v in A.walk(stmt)):
                continue   # static partitions are part of the catalog model and its sync
            db, sch, nm = resolve_name(stmt.table, ctx, "table")
            imports.append((stmt, ctx, _idempotent(src, stmt) + ";"))
            if isinstance(stmt, A.TruncateTable) and not stmt.partitions:
                emptied.add((db, sch, nm))
            plan.replays.append((stmt.span.line, "TRUNCATE TABLE" if isinstance(stmt, A.TruncateTable)
                                 else ("ALTER TABLE ADD PARTITION" if isinstance(stmt, A.AlterTableAddPartition)
                                       else "ALTER TABLE DROP PARTITION"),
                                 (db, sch, nm)))
            continue
        if not isinstance(stmt, A.Insert) and not is_ctas:
            continue

        ordinal += 1
        db, sch, nm = resolve_name(stmt.table, ctx, "table")
        where = f"{path}:{stmt.span.line}"
        query = stmt.source if isinstance(stmt, A.Insert) else stmt.query
        if is_ctas:
            t = model.table(db, sch, nm)
            cols = list(t.columns) if t is not None and t.schema_known else None
            if cols is None or any(c.type is None for c in cols):
                plan.problems.append(
                    f"{where}: CREATE TABLE {db}.{sch}.{nm} AS ...: the column types of its query cannot be read "
                    "from the script, so its rows are not replicated. Cast each select item to its type "
                    "((decimal) SUM(x) AS y) or select from a rowset whose schema is stated, or resync the "
                    "table with its snapshot scripts")
                continue
            target = cols
        else:
            t = model.table(db, sch, nm)
            if t is None or not t.schema_known:
                plan.problems.append(
                    f"{where}: INSERT INTO {db}.{sch}.{nm}: no script given creates this table, so its schema "
                    "is unknown and the rows cannot be staged. Add its CREATE TABLE script to the inputs")
                continue
            if stmt.columns:
                by = {c.name.lower(): c for c in t.columns}
                missing = [i.name for i in stmt.columns if i.name.lower() not in by]
                if missing:
                    plan.problems.append(f"{where}: INSERT INTO {db}.{sch}.{nm} names columns the table does "
                                         f"not have: {', '.join(missing)}")
                    continue
                target = [by[i.name.lower()] for i in stmt.columns]
            else:
                target = list(t.columns)
        try:
            S.check_columns(f"{db}.{sch}.{nm}", target)
        except S.StagingError as e:
            plan.problems.append(f"{where}: {e}")
            continue

        # the names the source's columns have (the INSERT maps them by position)
        if isinstance(query, A.Values):
            src_names = [c.name for c in target]
            bound = (f"SELECT * FROM ({_text(src, query)}) AS usqlrw_values("
                     f"{', '.join(S.quote_ident(n) for n in src_names)})")
        else:
            inferred = infer_columns(query, rowsets, model, ctx)
            if inferred is not None and len(inferred) == len(target):
                src_names = [c.name for c in inferred]
            else:
                src_names = [c.name for c in target]
                plan.warnings.append(
                    f"{where}: the columns of the INSERT's source could not be told from the script; the export "
                    f"assumes they are named like the target columns ({', '.join(src_names)})")
            bound = _text(src, query)

        var = f"@usqlrw_rows_{ordinal}"
        loc_var = f"@usqlrw_stage_{ordinal}"
        kind = "ctas" if is_ctas else "insert"
        # the location is named from the job's parameters and from whatever the partition label
        # uses: a label computed on each side (DateTime.Now) then fails loudly on a different file
        # rather than filling the wrong partition
        label_vars = []
        if isinstance(stmt, A.Insert) and stmt.partition is not None:
            used = {v.name.lower() for v in A.walk(stmt.partition) if isinstance(v, A.Variable)}
            label_vars = [d for d in declares if d.variable.name.lower() in used and d not in params]
            for d in label_vars:
                if _volatile(d, declares):
                    plan.warnings.append(
                        f"{where}: the partition label uses {d.variable.name}, which is computed when the job "
                        "compiles (DateTime.Now, Guid.NewGuid()...): the import computes it again on the "
                        "secondary. Make it a DECLARE EXTERNAL parameter and pass both jobs the same value")
        loc, disp = _location(config, (db, sch, nm), plan.name, params + label_vars, ordinal, src, kind)
        runs = not (params + label_vars) and not is_ctas    # a CTAS's latest run is the table: one file
        if not (params + label_vars) and is_ctas:
            loc, disp = loc.replace("run={usqlrw_run}", "run"), disp.replace("run={run}", "run")
        export_loc, stamp = loc, ""
        if runs:    # the DR copy writes run=<its compile time>, the import reads run={usqlrw_run}
            head, tail = loc.split("{usqlrw_run}")
            export_loc = (f'{head}" + @usqlrw_now_{ordinal}.ToString("yyyyMMddTHHmmssfffffff", '
                          f'System.Globalization.CultureInfo.InvariantCulture) + "{tail}')
            stamp = f"DECLARE @usqlrw_now_{ordinal} DateTime = DateTime.UtcNow;{nl}"
        ind = _indent(src, stmt.span.start)
        start = stmt.span.start
        edits.append(Edit(start, start, f"{var} ={nl}{ind}    {bound};{nl}{ind}",
                          "bind the rows once, for the write and the export"))
        edits.append(Edit(query.span.start, query.span.end, f"SELECT * FROM {var}",
                          "the write reads the bound rows"))
        # a source column of another type than the target's (a decimal into a decimal?) is first
        # converted as the INSERT converts it, so the encoder's .Value applies to a nullable
        enc = f",{nl}{ind}           ".join(
            f"{S.encode_expr(c.type, _as_target(c.type, S.quote_ident(sn)))} AS {S.quote_ident(c.name)}"
            for c, sn in zip(target, src_names))
        end = _stmt_end(src, stmt.span.end)
        staged_from, landed = var, ""
        if isinstance(stmt, A.Insert) and stmt.integrity is not None and stmt.partition is None:
            landed = _landed(stmt, t, target, src_names, var, ordinal, src, nl, ind, (db, sch, nm), plan, where)
            if landed:
                staged_from = f"@usqlrw_landed_{ordinal}"
        export = (f"{nl}{ind}// usqlrw replicate: the same rows, staged for the secondary ({S.FORMAT}){nl}"
                  f"{landed}"
                  f"{ind + stamp if stamp else ''}{ind}DECLARE {loc_var} string = {export_loc};{nl}"
                  f"{ind}@usqlrw_staged_{ordinal} ={nl}{ind}    SELECT {enc}{nl}{ind}    FROM {staged_from};{nl}"
                  f"{ind}OUTPUT @usqlrw_staged_{ordinal}{nl}{ind}TO {loc_var}{nl}{ind}USING {S.OUTPUTTER};")
        edits.append(Edit(end, end, export, "export the written rows to the staging location"))

        label = integrity = None
        if isinstance(stmt, A.Insert):
            if stmt.partition is not None:
                label = " ".join(_text(src, stmt.partition).split())
            if stmt.integrity is not None:
                integrity = " ".join(_text(src, stmt.integrity).split())
        w = Write(ordinal, stmt.span.line, "CREATE TABLE AS" if is_ctas else "INSERT", (db, sch, nm),
                  [Column(c.name, c.type) for c in target], bool(getattr(stmt, "columns", ())),
                  label, integrity, loc, disp, runs, rebuilt=not is_ctas and (db, sch, nm) in emptied)
        if is_ctas:
            emptied.add((db, sch, nm))
        plan.writes.append(w)
        imports.append((stmt, ctx, _import_block(w, stmt, src, nl, loc_var)))

    if edits:
        plan.dr_copy = apply_edits(src, edits)
    if imports:
        plan.import_script = _import_script(plan, script, declares, imports, nl, src)
    return plan


def _landed(stmt, table, target, src_names, var, n, src, nl, ind, qname, plan, where) -> str:
    """For an INSERT with ON INTEGRITY VIOLATION: the rows as they landed on the primary, to stage
    instead of the rows as they were written, so the secondary's import puts each row in the
    partition it is in on the primary, whatever partitions the secondary has by then.

    Read right after the INSERT: a partition holds rows only if it exists, so a written row stayed
    in its own partition exactly when the table now has rows with its partition values. IGNORE
    stages those rows; MOVE TO PARTITION (...) stages the others with the label's values."""
    part = list(getattr(table, "partitioned_by", None) or [])
    by = {c.name.lower(): sn for c, sn in zip(target, src_names)}
    if not part or any(p.lower() not in by for p in part):
        plan.warnings.append(f"{where}: ON INTEGRITY VIOLATION: the partition columns are not all written, so "
                             "the staged rows are the written rows and the import routes them again on the secondary")
        return ""
    types = {c.name.lower(): c.type for c in table.columns}
    q = lambda x: S.quote_ident(x)  # noqa: E731
    tname = ".".join(q(x) for x in qname)
    keys = ", ".join(f"{q(p)} AS usqlrw_p{i}" for i, p in enumerate(part))
    on = " AND ".join(f"usqlrw_r.{q(by[p.lower()])} == usqlrw_k.usqlrw_p{i}" for i, p in enumerate(part))
    out = [f"{ind}// the rows as they landed (ON INTEGRITY VIOLATION): in their own partition when the table "
           f"now has it, else {'not at all' if not isinstance(stmt.integrity.action, A.MoveViolation) else 'moved'}",
           f"{ind}@usqlrw_parts_{n} ={nl}{ind}    SELECT DISTINCT {keys} FROM {tname};",
           f"{ind}@usqlrw_kept_{n} ={nl}{ind}    SELECT usqlrw_r.* FROM {var} AS usqlrw_r{nl}"
           f"{ind}    LEFT SEMIJOIN @usqlrw_parts_{n} AS usqlrw_k ON {on};"]
    act = stmt.integrity.action
    if isinstance(act, A.MoveViolation) and act.partition is not None:
        moved = dict(zip((p.lower() for p in part), act.partition.values))
        cols = []
        for c, sn in zip(target, src_names):
            v = moved.get(c.name.lower())
            cols.append(f"usqlrw_r.{q(sn)}" if v is None else
                        f"({types.get(c.name.lower(), c.type)}) ({_text(src, v)}) AS {q(sn)}")
        out += [f"{ind}@usqlrw_landed_{n} ={nl}{ind}    SELECT * FROM @usqlrw_kept_{n}{nl}{ind}    UNION ALL{nl}"
                f"{ind}    SELECT {', '.join(cols)} FROM {var} AS usqlrw_r{nl}"
                f"{ind}    LEFT ANTISEMIJOIN @usqlrw_parts_{n} AS usqlrw_k ON {on};"]
    else:
        out += [f"{ind}@usqlrw_landed_{n} ={nl}{ind}    SELECT * FROM @usqlrw_kept_{n};"]
    return nl.join(out) + nl


def _idempotent(src: str, stmt) -> str:
    """A replayed DROP TABLE / ALTER TABLE ADD|DROP PARTITION with IF [NOT] EXISTS added when missing,
    so replaying it on the secondary cannot fail where the primary's state differed."""
    text = _text(src, stmt)
    if isinstance(stmt, A.Drop):
        if stmt.if_exists or stmt.object is None:
            return text
        at, words = stmt.object.span.start, "IF EXISTS "
    elif isinstance(stmt, A.AlterTableAddPartition):
        if stmt.if_not_exists or not stmt.partitions:
            return text
        at, words = stmt.partitions[0].span.start, "IF NOT EXISTS "
    elif isinstance(stmt, A.AlterTableDropPartition):
        if stmt.if_exists or not stmt.partitions:
            return text
        at, words = stmt.partitions[0].span.start, "IF EXISTS "
    else:   # TRUNCATE TABLE: nothing to guard
        return text
    cut = at - stmt.span.start
    return text[:cut] + words + text[cut:]


def _procedure_writes(call, ctx, model: Model) -> list:
    """The tables (qualified, as text) a called procedure's body writes, as far as the model knows it."""
    db, sch, nm = resolve_name(call.procedure, ctx, "procedure")
    proc = model.get("procedure", db, sch, nm)
    if proc is None or not proc.ddl:
        return []
    import usqlrw
    try:
        script = usqlrw.parse(f"USE DATABASE {S.quote_ident(db)};\n{proc.ddl};\n")
    except Exception:
        return []
    out = []
    for st, c, _ in iter_statements(script.statements):
        if isinstance(st, (A.Insert, A.TruncateTable)) or (isinstance(st, A.CreateTable) and st.query is not None):
            name = ".".join(resolve_name(st.table, c, "table"))
            if name not in out:
                out.append(name)
    return out


_VOLATILE = re.compile(r"\b(Now|UtcNow|Today|NewGuid|Random)\b")


def _volatile(d: A.Declare, declares: list, _seen=None) -> bool:
    """Whether a DECLAREd value changes from one compilation to the next."""
    seen = _seen or set()
    for n in A.walk(d.value):
        if isinstance(n, A.Identifier) and _VOLATILE.fullmatch(n.name):
            return True
        if isinstance(n, A.Variable) and n.name.lower() not in seen:
            seen.add(n.name.lower())
            dd = next((x for x in declares if x.variable.name.lower() == n.name.lower()), None)
            if dd is not None and not dd.external and _volatile(dd, declares, seen):
                return True
    return False


def _import_block(w: Write, stmt, src: str, nl: str, loc_var: str) -> str:
    n = w.ordinal
    ext = f",{nl}        ".join(f"{S.quote_ident(c.name)} string" for c in w.columns)
    dec = f",{nl}           ".join(f"{S.decode_expr(c.type, S.quote_ident(c.name))} AS {S.quote_ident(c.name)}"
                                   for c in w.columns)
    if w.runs:      # the run of each staged file, a virtual column of the file set
        ext += f",{nl}        usqlrw_run string"
        dec += f",{nl}           usqlrw_run"
    out = [f"// {w.statement} at line {w.line}: {'.'.join(w.table)}",
           f"DECLARE {loc_var} string = {w.location};",
           f"@usqlrw_staged_{n} ={nl}    EXTRACT {ext}{nl}    FROM {loc_var}{nl}    USING {S.EXTRACTOR};",
           f"@usqlrw_rows_{n} ={nl}    SELECT {dec}{nl}    FROM @usqlrw_staged_{n};"]
    if w.statement == "CREATE TABLE AS":
        q = stmt.query
        head = src[stmt.span.start:q.span.start]
        # the catalog sync may have created the table empty, and a rerun must not fail on it
        out.append(f"DROP TABLE IF EXISTS {_text(src, stmt.table)};")
        out.append(f"{head}SELECT * FROM @usqlrw_rows_{n};")
        return nl.join(out)
    table = _text(src, stmt.table)
    if w.partition:
        out.append(f"ALTER TABLE {table} ADD IF NOT EXISTS {w.partition};")
    cols = f" ({', '.join(S.quote_ident(c.name) for c in w.columns)})" if w.column_list else ""
    opt = f" {w.partition}" if w.partition else (f" {w.integrity}" if w.integrity else "")
    # idempotent: the rows of a staged file are inserted only if that file was never imported
    # (IMPORTED records it, in the same job, at the end of the script)
    if w.rebuilt:
        # the table was emptied by this job (and is again by this import, before): the rows of the
        # job's latest run, on every import
        if w.runs:
            picked = ", ".join(f"usqlrw_r.{S.quote_ident(c.name)}" for c in w.columns)
            out.append(f"@usqlrw_latest_{n} ={nl}    SELECT MAX(usqlrw_run) AS usqlrw_m FROM @usqlrw_rows_{n};")
            out.append(f"@usqlrw_new_{n} ={nl}    SELECT {picked} FROM @usqlrw_rows_{n} AS usqlrw_r{nl}"
                       f"    INNER JOIN @usqlrw_latest_{n} AS usqlrw_l ON usqlrw_r.usqlrw_run == usqlrw_l.usqlrw_m;")
        else:
            out.append(f"@usqlrw_new_{n} ={nl}    SELECT * FROM @usqlrw_rows_{n};")
    elif w.runs:
        head, tail = w.location.split("{usqlrw_run}")
        picked = ", ".join(f"usqlrw_r.{S.quote_ident(c.name)}" for c in w.columns)
        out.append(f"@usqlrw_keys_{n} ={nl}    SELECT DISTINCT usqlrw_run, {head}\" + usqlrw_run + \"{tail} AS Stage"
                   f"{nl}    FROM @usqlrw_rows_{n};")
        out.append(f"@usqlrw_todo_{n} ={nl}    SELECT usqlrw_k.usqlrw_run, usqlrw_k.Stage FROM @usqlrw_keys_{n} AS usqlrw_k{nl}"
                   f"    LEFT ANTISEMIJOIN {IMPORTED} AS usqlrw_i ON usqlrw_k.Stage == usqlrw_i.Stage;")
        out.append(f"@usqlrw_new_{n} ={nl}    SELECT {picked} FROM @usqlrw_rows_{n} AS usqlrw_r{nl}"
                   f"    INNER JOIN @usqlrw_todo_{n} AS usqlrw_t ON usqlrw_r.usqlrw_run == usqlrw_t.usqlrw_run;")
    else:
        out.append(f"@usqlrw_done_{n} ={nl}    SELECT COUNT(*) AS usqlrw_n FROM {IMPORTED} WHERE Stage == {loc_var};")
        out.append(f"@usqlrw_new_{n} ={nl}    SELECT usqlrw_r.* FROM @usqlrw_rows_{n} AS usqlrw_r{nl}"
                   f"    CROSS JOIN @usqlrw_done_{n} AS usqlrw_d{nl}    WHERE usqlrw_d.usqlrw_n == 0;")
    out.append(f"INSERT INTO {table}{cols}{opt}{nl}SELECT * FROM @usqlrw_new_{n};")
    return nl.join(out)


#: The secondary's record of the staged files already imported (one row per file): what makes an
#: import idempotent. Created by the import itself, IF NOT EXISTS.
IMPORTED = "usqlrw_dr.dbo.ImportedStages"


def _imported_ddl(nl: str) -> str:
    return (f"CREATE DATABASE IF NOT EXISTS usqlrw_dr;{nl}"
            f"CREATE TABLE IF NOT EXISTS {IMPORTED} (Stage string,{nl}"
            f"    INDEX usqlrw_ix CLUSTERED (Stage) DISTRIBUTED BY HASH (Stage));")


def _imported_marks(singles: list, runs: list, nl: str) -> str:
    """One INSERT of every staged file this job imported (its source read before it writes)."""
    parts = []
    if singles:
        rows = ", ".join(f"(@usqlrw_stage_{n})" for n in singles)
        parts.append(f"SELECT usqlrw_s.Stage FROM (VALUES {rows}) AS usqlrw_s(Stage){nl}"
                     f"    LEFT ANTISEMIJOIN {IMPORTED} AS usqlrw_i ON usqlrw_s.Stage == usqlrw_i.Stage")
    parts += [f"SELECT Stage FROM @usqlrw_todo_{n}" for n in runs]
    return (f"// record the staged files imported, so a rerun of this import adds nothing{nl}"
            f"@usqlrw_imported ={nl}    " + f"{nl}    UNION ALL{nl}    ".join(parts) + f";{nl}"
            f"INSERT INTO {IMPORTED} SELECT * FROM @usqlrw_imported;")


def _import_script(plan: JobPlan, script, declares, imports, nl, src) -> str:
    lines = []
    # the job's parameters (they name the staging location) and the constants the replayed
    # statements use, transitively
    wanted = {p.lower() for p in plan.parameters}
    for _stmt, _ctx, text in imports:
        wanted |= {m.lower() for m in re.findall(r"@@?\w+", text)}
    for d in reversed(declares):
        if d.variable.name.lower() in wanted:
            wanted |= {v.name.lower() for v in A.walk(d.value) if isinstance(v, A.Variable)}
    for d in declares:
        if d.variable.name.lower() in wanted:
            lines.append(_text(src, d) + ";")
    guarded = sorted({int(m) for _s, _c, text in imports for m in re.findall(r"@usqlrw_done_(\d+) =", text)})
    runs = sorted({int(m) for _s, _c, text in imports for m in re.findall(r"@usqlrw_todo_(\d+) =", text)})
    if guarded or runs:
        lines.append(_imported_ddl(nl))
    ctx_cur = None
    for stmt, ctx, text in imports:
        if ctx_cur is None or (ctx.database, ctx.schema, ctx.schema_explicit) != ctx_cur:
            lines.append(f"USE DATABASE {S.quote_ident(ctx.database)};")
            if ctx.schema_explicit:
                lines.append(f"USE SCHEMA {S.quote_ident(ctx.schema)};")
            ctx_cur = (ctx.database, ctx.schema, ctx.schema_explicit)
        lines.append(text)
    if guarded or runs:
        lines.append(_imported_marks(guarded, runs, nl))
    return nl.join(lines) + nl


def _as_target(type_text: str, column: str) -> str:
    """``column`` converted to the target column's type, as the INSERT converts it: a non-nullable
    value into a nullable column (``decimal`` into ``decimal?``) gets ``.Value`` only after the
    conversion, and a nullable or wider source value into a value-type column (a ``decimal?`` sum,
    an ``int`` into a ``long``) is encoded as the column's type. Reference types (string, byte[],
    SQL.ARRAY, SQL.MAP) are as they are."""
    t = S.parse_type(type_text)
    if t.base in S._REFERENCE or t.base in ("SQL.ARRAY", "SQL.MAP"):
        return column
    return f"(({t.text}) {column})"
