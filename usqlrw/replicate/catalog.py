"""The catalog model: every catalog object the project's scripts create, in its final state.

:func:`build_model` reads parsed scripts in the order given (the CLI sorts paths) and applies their
DDL statement by statement: CREATE adds an object (``IF NOT EXISTS`` keeps an existing one), DROP
removes it, ALTER TABLE ADD/DROP COLUMN and ADD/DROP PARTITION change a table, RENAME TABLE
moves it. Names resolve in the static context (``USE DATABASE``/``USE SCHEMA``) of
:mod:`usqlrw.resolve`. Only top-level statements count: a procedure body runs when it is called.

The model is plain data, JSON-serialisable with :meth:`Model.to_json` (sorted keys, stable order)
and read back with :meth:`Model.from_json`, so a later run can diff against it. Secrets are never
kept: a credential is recorded by name and user only.

    >>> import usqlrw
    >>> m = build_model([("ddl.usql", usqlrw.parse('CREATE DATABASE D; USE DATABASE D; '
    ...     'CREATE TABLE T (a int, b string?, INDEX i CLUSTERED (a) DISTRIBUTED BY HASH (a));'))])
    >>> t = m.get("table", "D", "dbo", "T")
    >>> [(c.name, c.type) for c in t.columns], t.distribution
    ([('a', 'int'), ('b', 'string?')], {'scheme': 'HASH', 'columns': ['a'], 'buckets': None})
"""
from __future__ import annotations

import json

from .. import ast as A
from ..resolve import Context, Environment, fold, iter_statements
from .columns import infer_columns
from .model import (FORMAT, KIND_ORDER, CatalogObject, Column, Model, key_of, model_name,  # noqa: F401
                    norm_type, resolve_name)

__all__ = ["Column", "CatalogObject", "Model", "build_model", "KIND_ORDER", "key_of"]

_SCHEMA_KINDS = {"type", "table", "external_table", "tvf", "view", "procedure", "package", "statistics"}

#: statement class -> (model kind, the field holding the created name)
_CREATE = {A.CreateTable: ("table", "table"), A.CreateExternalTable: ("external_table", "table"),
           A.CreateView: ("view", "view"), A.CreateFunction: ("tvf", "routine"),
           A.CreateProcedure: ("procedure", "routine"), A.CreatePackage: ("package", "routine"),
           A.CreateAssembly: ("assembly", "assembly"), A.CreateType: ("type", "type"),
           A.CreateDataSource: ("data_source", "data_source"),
           A.CreateCredential: ("credential", "credential"), A.CreateSchema: ("schema", "schema"),
           A.CreateDatabase: ("database", "database"), A.CreateStatistics: ("statistics", "table")}
#: the object kinds DROP can name that the model keeps
_DROP = {A.ObjectKind.TABLE, A.ObjectKind.VIEW, A.ObjectKind.TVF, A.ObjectKind.PROCEDURE,
         A.ObjectKind.PACKAGE, A.ObjectKind.ASSEMBLY, A.ObjectKind.TYPE, A.ObjectKind.DATA_SOURCE,
         A.ObjectKind.CREDENTIAL, A.ObjectKind.SCHEMA, A.ObjectKind.DATABASE, A.ObjectKind.STATISTICS}


# -- building ----------------------------------------------------------------------------------

def _object_name(node) -> A.ObjectName | None:
    """The name a CREATE/DROP/ALTER statement creates or changes (for CREATE STATISTICS: its table)."""
    spec = _CREATE.get(type(node))
    if spec is not None:
        return getattr(node, spec[1], None)
    for f in ("table", "object"):
        v = getattr(node, f, None)
        if isinstance(v, A.ObjectName):
            return v
    return None


def _text(src: str, node) -> str:
    return src[node.span.start:node.span.end]


_SCHEMES = {A.HashDistribution: "HASH", A.DirectHashDistribution: "DIRECT HASH",
            A.RangeDistribution: "RANGE", A.RoundRobinDistribution: "ROUND ROBIN"}


def _table_layout(obj: CatalogObject, node, src: str) -> None:
    obj.columns = [Column(c.name.name, norm_type(c.type)) for c in node.columns
                   if isinstance(c, A.ColumnDefinition)]
    idx = getattr(node, "index", None)
    if idx is not None:
        obj.index = {"name": idx.name.name if idx.name is not None else "",
                     "columns": [" ".join(_text(src, s).split()) for s in idx.columns]}
    pb = getattr(node, "partitioned_by", None)
    if pb is not None:
        obj.partitioned_by = [i.name for i in pb.columns]
    db = getattr(node, "distributed_by", None)
    if db is not None:
        scheme = db.scheme
        if isinstance(scheme, A.RangeDistribution):
            cols = [" ".join(_text(src, s).split()) for s in scheme.columns]
        else:
            cols = [i.name for i in getattr(scheme, "columns", ())]
        obj.distribution = {"scheme": _SCHEMES.get(type(scheme), "?"), "columns": cols,
                            "buckets": _text(src, db.buckets) if db.buckets is not None else None}


def _statement_text(src: str, stmt) -> str:
    t = src[stmt.span.start:stmt.span.end].rstrip()
    return t[:-1].rstrip() if t.endswith(";") else t


def _depends(stmt, ctx: Context, self_key: str) -> list:
    out = set()
    ctxs = [(stmt, ctx)]
    if isinstance(stmt, (A.CreateFunction, A.CreateProcedure, A.CreatePackage)):
        ctxs = [(s, c) for s, c, _ in iter_statements(stmt.body, ctx.copy())]
    for s, c in ctxs:
        for n in walk_all(s):
            if isinstance(n, A.ObjectName) and n.action != A.Action.CREATE and n.object_kind:
                k = n.object_kind
                if n.variable is not None or not k.catalog:
                    continue   # script-bound (DECLARE FUNCTION/ASSEMBLY), system assemblies, indexes
                kinds = ["table", "view"] if k == A.ObjectKind.ROWSET else [str(k)]
                for kk in kinds:
                    if kk in ("database", "schema"):
                        continue
                    out.add(key_of(kk, *resolve_name(n, c, kk)))
    out.discard(self_key)
    return sorted(out)


def walk_all(node):
    """Every node under ``node``: :func:`usqlrw.ast.walk` (which now enters ``source`` fields too:
    an INSERT's rows, an assembly's path)."""
    return A.walk(node)


def _fold_variables(ddl: str, stmt, src: str, env) -> tuple[str, list]:
    """``ddl`` with each DECLAREd string variable replaced by its value as a literal (the sync
    script has no DECLAREs), and the variables whose value is not known statically."""
    from ..transforms.literals import quote_part
    rowsets = {id(n.variable) for n in walk_all(stmt) if isinstance(n, A.RowsetRef)}
    uses = [n for n in walk_all(stmt) if isinstance(n, A.Variable) and not n.system and id(n) not in rowsets]
    if not uses:
        return ddl, []
    edits, unknown = [], []
    for v in uses:
        folded = fold(v, env) if env is not None else None
        if folded is None or not folded.complete or not folded.via:
            unknown.append(v.name)
            continue
        a, b = v.span.start - stmt.span.start, v.span.end - stmt.span.start
        edits.append((a, b, '"' + quote_part(folded.known_prefix, False) + '"'))
    for a, b, rep in sorted(edits, reverse=True):
        ddl = ddl[:a] + rep + ddl[b:]
    return ddl, sorted(set(unknown))


def _redact_credential(src: str, stmt) -> str:
    text = _statement_text(src, stmt)
    base = stmt.span.start
    for opt in reversed(stmt.options):
        if opt.name is None or opt.value is None or opt.name.name.upper() not in ("IDENTITY", "PASSWORD", "SECRET"):
            continue
        if isinstance(opt.value, A.StringLiteral):
            lits = [opt.value]
        else:   # "a" + "b": every literal of the value
            lits = [x for x in A.walk(opt.value) if isinstance(x, A.StringLiteral)]
        for lit in reversed(lits):
            a, b = lit.span.start - base, lit.span.end - base
            text = text[:a] + '"<secret>"' + text[b:]
    return text


SECRET_PLACEHOLDER = "<secret>"


def redact_secrets(ddl: str) -> str:
    """DDL with the key=value secrets of connection strings (Password=..., AccountKey=...) replaced
    by <secret>: a secret never goes into the model or a generated script."""
    from ..secrets import SECRET_VALUE
    return SECRET_VALUE.sub(lambda m: m.group(1) + "=" + SECRET_PLACEHOLDER, ddl)


class _Builder:
    def __init__(self):
        self.model = Model()
        self.rowsets: dict = {}   # the current script's rowset variables -> inferred columns
        self.env = None           # the current script's top-level DECLAREs (resolve.Environment)
        self.pending: list = []   # ALTERs of tables not created yet: judged after every script

    def warn(self, where, msg):
        self.model.warnings.append(f"{where}: {msg}")

    def add(self, path, stmt, ctx, src):
        kind = _CREATE[type(stmt)][0]
        on = _object_name(stmt)
        if on is None or not on.parts or (kind == "statistics" and stmt.name is None):
            self.warn(f"{path}:{stmt.span.line}", f"{stmt.kind} without a name the model understands")
            return
        if kind == "statistics":
            db, sch, tname = resolve_name(on, ctx, "table")
            obj = CatalogObject(kind, db, sch, f"{tname}.{stmt.name.name}")
        else:
            obj = CatalogObject(kind, *resolve_name(on, ctx, kind))
        obj.source = f"{path}:{stmt.span.line}"
        obj.context = [ctx.database, ctx.schema if ctx.schema_explicit else ""]
        if obj.key in self.model.objects and stmt.if_not_exists:
            return
        obj.ddl = _redact_credential(src, stmt) if kind == "credential" else _statement_text(src, stmt)
        if kind == "data_source":
            obj.ddl = redact_secrets(obj.ddl)
        if kind not in ("tvf", "procedure", "package", "table"):   # routines declare their own variables;
            # tables are generated from the model, and CREATE TABLE AS reads rowset variables
            obj.ddl, unknown = _fold_variables(obj.ddl, stmt, src, self.env)
            if unknown:
                obj.notes.append(f"uses {', '.join(unknown)}, whose value is only known when the script runs; "
                                 "it cannot be copied as a definition")
                obj.ddl = ""
        if kind in ("table", "external_table"):
            _table_layout(obj, stmt, src)
            if kind == "table" and getattr(stmt, "query", None) is not None and not obj.columns:
                cols = infer_columns(stmt.query, self.rowsets, self.model, ctx)
                if cols is None or any(c.type is None for c in cols):
                    obj.schema_known = False
                    unknown = [c.name for c in cols or () if c.type is None]
                    obj.notes.append("CREATE TABLE AS whose columns could not be inferred from the script"
                                     + (f" (no type for {', '.join(unknown)})" if unknown else ""))
                    obj.columns = list(cols or ())
                else:
                    obj.columns = cols
        elif kind == "view":
            cols = infer_columns(stmt.query, {}, self.model, ctx)
            if cols is not None and all(c.type for c in cols):
                obj.columns = cols
        elif kind == "tvf":
            ret = stmt.returns
            cols = [c for c in A.walk(ret) if isinstance(c, A.ColumnDefinition)] if ret is not None else []
            obj.columns = [Column(c.name.name, norm_type(c.type)) for c in cols]
        elif kind == "type":
            obj.columns = [Column(c.name.name, norm_type(c.type)) for c in stmt.columns
                           if isinstance(c, A.ColumnDefinition)]
        elif kind == "assembly":
            obj.files = []
            for f in (stmt.source,) + tuple(stmt.additional_files):
                expr = f.path if isinstance(f, A.AdditionalFile) else f
                folded = fold(expr, self.env) if self.env is not None else None
                obj.files.append(json.dumps(folded.known_prefix) if folded is not None and folded.complete
                                 else _text(src, expr))
        if kind == "statistics":
            t = obj.name.split(".")[0]
            obj.depends = [key_of("table", obj.database, obj.schema, t)]
        elif kind == "schema":
            obj.depends = [key_of("database", obj.database, "", obj.database)]
        elif kind != "database":
            obj.depends = sorted(set(_depends(stmt, ctx, obj.key)) | {
                key_of("database", obj.database, "", obj.database)} | (
                {key_of("schema", obj.database, "", obj.schema)} if obj.schema and obj.schema != "dbo" else set()))
        self.model.objects[obj.key] = obj
        # dropping a database or schema also drops what is in it; recreating starts empty

    def drop(self, path, stmt, ctx):
        k = stmt.object_kind or (stmt.object.object_kind if stmt.object is not None else None)
        if k not in _DROP:
            self.warn(f"{path}:{stmt.span.line}", f"DROP {k} is not modelled")
            return
        kind = str(k)
        if kind == "statistics" and stmt.on is not None:
            db, sch, t = resolve_name(stmt.on, ctx, "table")
            key = key_of(kind, db, sch, f"{t}.{stmt.object.names[-1]}")
        else:
            db, sch, name = resolve_name(stmt.object, ctx, kind)
            key = key_of(kind, db, sch, name)
        gone = [k for k in self.model.objects if k.lower() == key.lower()]
        if kind == "database":
            gone += [k for k, o in self.model.objects.items() if o.database.lower() == name.lower()]
        elif kind == "schema":
            gone += [k for k, o in self.model.objects.items()
                     if o.database.lower() == db.lower() and o.schema.lower() == name.lower()]
        elif kind == "table":
            gone += [k for k, o in self.model.objects.items() if o.kind == "statistics"
                     and (o.database, o.schema, o.name.split(".")[0]) == (db, sch, name)]
        for k in set(gone):
            del self.model.objects[k]

    def alter(self, path, stmt, ctx, src, last: bool = False):
        on = stmt.table
        if on is None:
            return
        db, sch, name = resolve_name(on, ctx, "table")
        t = self.model.table(db, sch, name)
        where = f"{path}:{stmt.span.line}"
        if t is None:
            if last:
                self.warn(where, f"{stmt.kind} of {db}.{sch}.{name}, a table no script creates")
            else:     # a job altering a table that a later script (its DDL, in name order) creates
                self.pending.append((path, stmt, ctx, src))
            return
        if isinstance(stmt, A.AlterTableAddColumn):
            for c in stmt.columns:
                if not any(x.name.lower() == c.name.name.lower() for x in t.columns):
                    t.columns.append(Column(c.name.name, norm_type(c.type)))
        elif isinstance(stmt, A.AlterTableDropColumn):
            names = {i.name.lower() for i in stmt.columns}
            t.columns = [c for c in t.columns if c.name.lower() not in names]
        elif isinstance(stmt, (A.AlterTableAddPartition, A.AlterTableDropPartition)):
            for lab in stmt.partitions:
                if any(isinstance(v, A.Variable) for v in A.walk(lab)):
                    continue   # a label computed per run: replicated with the run, not the catalog
                text = " ".join(_text(src, lab).split())
                if isinstance(stmt, A.AlterTableAddPartition):
                    if text not in t.partitions:
                        t.partitions.append(text)
                        t.source = where
                elif text in t.partitions:
                    t.partitions.remove(text)
                    t.source = where
            return
        t.source = where

    def rename(self, path, stmt, ctx):
        db, sch, name = resolve_name(stmt.table, ctx, "table")
        t = self.model.table(db, sch, name)
        if t is None:
            return
        del self.model.objects[t.key]
        t.database, t.schema, t.name = resolve_name(stmt.new_name, ctx, "table")
        t.source = f"{path}:{stmt.span.line}"
        t.notes.append(f"renamed from {db}.{sch}.{name}")
        self.model.objects[t.key] = t


def build_model(scripts, model: Model | None = None) -> Model:
    """The catalog model of ``[(path, Script), ...]`` applied in order (onto ``model`` if given)."""
    b = _Builder()
    if model is not None:
        b.model = model
    for path, script in scripts:
        src = script.source.text if script.source is not None else ""
        b.rowsets = {}
        b.env = Environment()
        for stmt, ctx, depth in iter_statements(script.statements):
            if depth:
                continue
            k = stmt.kind
            try:
                if isinstance(stmt, A.Declare):
                    b.env.vars[stmt.variable.name] = stmt
                elif isinstance(stmt, A.RowsetAssignment):
                    cols = infer_columns(stmt.query, b.rowsets, b.model, ctx)
                    for t in stmt.targets:
                        if isinstance(t, A.Variable):
                            b.rowsets[t.name.lower()] = cols
                elif type(stmt) in _CREATE:
                    b.add(path, stmt, ctx, src)
                elif isinstance(stmt, A.Drop):
                    b.drop(path, stmt, ctx)
                elif isinstance(stmt, (A.AlterTableAddColumn, A.AlterTableDropColumn, A.AlterTableAddPartition,
                                       A.AlterTableDropPartition, A.AlterTableRebuild)):
                    b.alter(path, stmt, ctx, src)
                elif isinstance(stmt, A.RenameTable):
                    b.rename(path, stmt, ctx)
            except (AttributeError, IndexError, StopIteration) as e:   # a tree shape not foreseen
                b.warn(f"{path}:{stmt.span.line}", f"{k} not modelled ({type(e).__name__}: {e})")
    for path, stmt, ctx, src in b.pending:     # ALTERs of tables no earlier script had created
        b.alter(path, stmt, ctx, src, last=True)
    return b.model
