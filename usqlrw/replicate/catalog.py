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

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field

from .. import ast as A
from ..resolve import Context, Environment, fold, iter_statements

__all__ = ["Column", "CatalogObject", "Model", "build_model", "KIND_ORDER", "key_of"]

FORMAT = "usqlrw-catalog/1"

#: the order objects are created in on the secondary (dependencies first)
KIND_ORDER = ("database", "schema", "type", "assembly", "credential", "data_source", "table",
              "external_table", "tvf", "view", "procedure", "package", "statistics")

_SCHEMA_KINDS = {"type", "table", "external_table", "tvf", "view", "procedure", "package", "statistics"}

_CREATE = {"CreateTable": "table", "CreateExternalTable": "external_table", "CreateView": "view",
           "CreateFunction": "tvf", "CreateProcedure": "procedure", "CreatePackage": "package",
           "CreateAssembly": "assembly", "CreateType": "type", "CreateDataSource": "data_source",
           "CreateCredential": "credential", "CreateSchema": "schema", "CreateDatabase": "database",
           "CreateStatistics": "statistics"}
_DROP = {"table": "table", "view": "view", "function": "tvf", "tvf": "tvf", "procedure": "procedure",
         "package": "package", "assembly": "assembly", "type": "type", "data_source": "data_source",
         "datasource": "data_source", "credential": "credential", "schema": "schema",
         "database": "database", "statistics": "statistics"}


@dataclass
class Column:
    name: str
    type: str            # as written, normalised spacing: "int?", "SQL.MAP<string,int?>", "byte[]"

    @property
    def nullable(self) -> bool:
        return self.type.endswith("?")


@dataclass
class CatalogObject:
    kind: str
    database: str
    schema: str          # "" for databases, schemas' own entry uses the schema name in `name`
    name: str
    ddl: str = ""        # the CREATE statement as written (no trailing ';'), secrets removed
    source: str = ""     # path:line of the statement that made the current state
    columns: list = field(default_factory=list)          # [Column]
    index: dict | None = None                            # {"name", "columns": ["a ASC", ...]}
    partitioned_by: list = field(default_factory=list)   # column names
    distribution: dict | None = None                     # {"scheme", "columns", "buckets"}
    partitions: list = field(default_factory=list)       # static partition labels, as written
    files: list = field(default_factory=list)            # assemblies: [path, ...]
    depends: list = field(default_factory=list)          # ["kind:db.schema.name", ...]
    schema_known: bool = True                            # False: CREATE TABLE AS with no stated schema
    context: list = field(default_factory=list)          # [database, schema or ""] the DDL was written in
    notes: list = field(default_factory=list)

    @property
    def key(self) -> str:
        return key_of(self.kind, self.database, self.schema, self.name)

    @property
    def qualified(self) -> tuple:
        return tuple(x for x in (self.database, self.schema, self.name) if x) if self.kind not in (
            "database", "schema") else ((self.name,) if self.kind == "database" else (self.database, self.name))

    @property
    def fingerprint(self) -> str:
        d = self.to_dict()
        d.pop("source", None)
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]

    def to_dict(self) -> dict:
        d = asdict(self)
        d["columns"] = [[c["name"], c["type"]] for c in d["columns"]]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "CatalogObject":
        d = dict(d)
        d["columns"] = [Column(n, t) for n, t in d.get("columns", [])]
        return cls(**d)


def key_of(kind: str, database: str, schema: str, name: str) -> str:
    return f"{kind}:{'.'.join(x for x in (database, schema, name) if x)}"


@dataclass
class Model:
    objects: dict = field(default_factory=dict)     # key -> CatalogObject
    warnings: list = field(default_factory=list)    # "path:line: message"

    def get(self, kind, database, schema, name) -> CatalogObject | None:
        o = self.objects.get(key_of(kind, database, schema, name))
        if o is None:   # catalog names are case-insensitive in lookups
            want = key_of(kind, database, schema, name).lower()
            o = next((v for k, v in self.objects.items() if k.lower() == want), None)
        return o

    def table(self, database, schema, name) -> CatalogObject | None:
        return self.get("table", database, schema, name)

    def ordered(self) -> list:
        """Objects in creation order: by kind, then dependencies first, then by name."""
        rank = {k: i for i, k in enumerate(KIND_ORDER)}
        objs = sorted(self.objects.values(), key=lambda o: (rank.get(o.kind, 99), o.key.lower()))
        placed, out = set(), []
        by_key = {o.key: o for o in objs}

        for o in objs:   # depth-first on depends, iteratively
            stack = [(o, iter(sorted(d for d in o.depends if d in by_key and d != o.key)))]
            if o.key in placed:
                continue
            visiting = {o.key}
            while stack:
                cur, it = stack[-1]
                nxt = next((d for d in it if d not in placed and d not in visiting), None)
                if nxt is None:
                    stack.pop()
                    if cur.key not in placed:
                        placed.add(cur.key)
                        out.append(cur)
                    continue
                visiting.add(nxt)
                dep = by_key[nxt]
                stack.append((dep, iter(sorted(d for d in dep.depends if d in by_key and d != dep.key))))
        return out

    def to_dict(self) -> dict:
        return {"format": FORMAT,
                "objects": [o.to_dict() for o in sorted(self.objects.values(), key=lambda o: o.key.lower())]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    @classmethod
    def from_dict(cls, d: dict) -> "Model":
        if d.get("format") != FORMAT:
            raise ValueError(f"not a usqlrw catalog model (format {d.get('format')!r}, expected {FORMAT!r})")
        m = cls()
        for od in d.get("objects", []):
            o = CatalogObject.from_dict(od)
            m.objects[o.key] = o
        return m

    @classmethod
    def from_json(cls, text: str) -> "Model":
        return cls.from_dict(json.loads(text))


# -- building ----------------------------------------------------------------------------------

def norm_type(t: A.Type) -> str:
    """A type's text with whitespace removed after commas kept canonical: ``SQL.MAP<string,int?>``."""
    return "".join(t.text.split())


def _items(node, cls_name):
    return [x for x in getattr(node, "items", ()) if x.kind == cls_name]


def _first(node, cls_name):
    return next((x for x in A.walk(node) if x.kind == cls_name), None)


def _object_name(node) -> A.ObjectName | None:
    for f in ("table", "view", "routine", "assembly", "object"):
        v = getattr(node, f, None)
        if isinstance(v, A.ObjectName):
            return v
    return next((x for x in getattr(node, "items", ()) if isinstance(x, A.ObjectName)), None)


def _has_if_not_exists(node, src: str = "") -> bool:
    if getattr(node, "if_not_exists", False) or any(x.kind == "IfNotExists" for x in getattr(node, "items", ())):
        return True
    # the flag is not always set by the tree builder: read the words before the name
    on = _object_name(node)
    head = src[node.span.start:on.span.start] if on is not None and src else ""
    return bool(re.search(r"(?i)\bIF\s+NOT\s+EXISTS\b", head))


def qualify(kind: str, parts: tuple, ctx: Context) -> tuple[str, str, str]:
    """(database, schema, name) of a name of the given catalog kind in a static context."""
    if kind == "database":
        return parts[-1], "", parts[-1]
    if kind == "schema":
        return (parts[0] if len(parts) >= 2 else ctx.database), "", parts[-1]
    if kind in ("assembly", "data_source", "credential") and kind != "credential":
        return (parts[0] if len(parts) >= 2 else ctx.database), "", parts[-1]
    if kind == "credential":   # credentials live in a database; a 2-part name is schema.name
        if len(parts) >= 3:
            return parts[0], parts[1], parts[-1]
        if len(parts) == 2:
            return ctx.database, parts[0], parts[1]
        return ctx.database, ctx.schema, parts[0]
    if len(parts) >= 3:
        return parts[0], parts[1], parts[-1]
    if len(parts) == 2:
        return ctx.database, parts[0], parts[1]
    return ctx.database, ctx.schema, parts[0]


def _text(src: str, node) -> str:
    return src[node.span.start:node.span.end]


def _table_layout(obj: CatalogObject, node, src: str) -> None:
    cols = [e for e in getattr(node, "elements", ()) or getattr(node, "columns", ())
            if isinstance(e, A.ColumnDefinition)]
    obj.columns = [Column(c.name.name, norm_type(c.type)) for c in cols]
    idx = _first(node, "TableIndex")
    if idx is not None:
        name = next((x.name for x in idx.items if isinstance(x, A.Identifier)), "")
        obj.index = {"name": name, "columns": [" ".join(_text(src, s).split()) for s in _items(idx, "SortItem")]}
    for pb in (x for x in A.walk(node) if x.kind == "PartitionedBy"):
        obj.partitioned_by = [i.name for i in pb.items if isinstance(i, A.Identifier)]
    for db in (x for x in A.walk(node) if x.kind == "DistributedBy"):
        scheme = db.items[0] if db.items else None
        cols = [i.name for i in A.walk(scheme) if isinstance(i, A.Identifier)] if scheme is not None else []
        if scheme is not None and scheme.kind == "RangeDistribution":
            cols = [" ".join(_text(src, s).split()) for s in _items(scheme, "SortItem")]
        names = {"HashDistribution": "HASH", "DirectHashDistribution": "DIRECT HASH",
                 "RangeDistribution": "RANGE", "RoundRobinDistribution": "ROUND ROBIN"}
        buckets = db.items[1] if len(db.items) > 1 else None
        obj.distribution = {"scheme": names.get(scheme.kind if scheme is not None else "", "?"),
                            "columns": cols, "buckets": _text(src, buckets) if buckets is not None else None}


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
            if isinstance(n, A.ObjectName) and n.action not in ("create",) and n.object_kind:
                k = n.object_kind
                if any(isinstance(p, A.Variable) for p in n.parts):
                    continue
                kinds = ["table", "view"] if k == "rowset" else [k]
                for kk in kinds:
                    if kk in ("database", "schema", "system_assembly", "index", "statistics"):
                        continue
                    d, s_, nm = qualify(kk, n.names, c)
                    if kk in ("assembly", "data_source"):
                        s_ = ""
                    out.add(key_of(kk, d, s_, nm))
    out.discard(self_key)
    return sorted(out)


def walk_all(node):
    """Like :func:`usqlrw.ast.walk`, but also into fields named ``source`` (an INSERT's rows, an
    assembly's path), which ``ast.walk`` leaves out."""
    from dataclasses import fields as _fields
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        kids = list(n.children())
        for f in _fields(n):
            if f.name == "source":
                v = getattr(n, f.name)
                if isinstance(v, A.Node) and all(v is not k for k in kids):
                    kids.insert(0, v)
        stack.extend(reversed(kids))


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
    for opt in _items(stmt, "CredentialOption"):
        ident = next((x for x in opt.items if isinstance(x, A.Identifier)), None)
        lit = next((x for x in opt.items if isinstance(x, A.StringLiteral)), None)
        if ident is not None and lit is not None and ident.name.upper() in ("IDENTITY", "PASSWORD", "SECRET"):
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

    def warn(self, where, msg):
        self.model.warnings.append(f"{where}: {msg}")

    def add(self, path, stmt, ctx, src):
        kind = _CREATE[stmt.kind]
        on = _object_name(stmt)
        if kind == "database":
            ident = next((x for x in A.walk(stmt) if isinstance(x, A.Identifier)), None)
            parts = on.names if on is not None else ((ident.name,) if ident else ())
        elif kind == "statistics":
            ident = next(x for x in stmt.items if isinstance(x, A.Identifier))
            parts = on.names + (ident.name,)
        else:
            parts = on.names if on is not None else ()
        if not parts:
            self.warn(f"{path}:{stmt.span.line}", f"{stmt.kind} without a name the model understands")
            return
        if kind == "statistics":
            db, sch, tname = qualify("table", parts[:-1], ctx)
            obj = CatalogObject(kind, db, sch, f"{tname}.{parts[-1]}")
        else:
            db, sch, name = qualify(kind, parts, ctx)
            obj = CatalogObject(kind, db, sch, name)
        obj.source = f"{path}:{stmt.span.line}"
        obj.context = [ctx.database, ctx.schema if ctx.schema_explicit else ""]
        if obj.key in self.model.objects and _has_if_not_exists(stmt, src):
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
                from .jobs import infer_columns   # the same inference the replication jobs use
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
            from .jobs import infer_columns
            cols = infer_columns(stmt.query, {}, self.model, ctx)
            if cols is not None and all(c.type for c in cols):
                obj.columns = cols
        elif kind == "tvf":
            ret = stmt.returns
            cols = [c for c in A.walk(ret) if isinstance(c, A.ColumnDefinition)] if ret is not None else []
            obj.columns = [Column(c.name.name, norm_type(c.type)) for c in cols]
        elif kind == "type":
            obj.columns = [Column(c.name.name, norm_type(c.type)) for c in stmt.items
                           if isinstance(c, A.ColumnDefinition)]
        elif kind == "assembly":
            obj.files = []
            for f in (stmt.source,) + tuple(stmt.additional_files):
                expr = f.items[0] if isinstance(f, A.Construct) and f.items else f
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
        kind = _DROP.get((stmt.object_kind or "").lower().replace(" ", "_"))
        if kind is None:
            kind = _DROP.get(stmt.object.object_kind, None)
        if kind is None:
            self.warn(f"{path}:{stmt.span.line}", f"DROP {stmt.object_kind} is not modelled")
            return
        if kind == "statistics" and stmt.on is not None:
            db, sch, t = qualify("table", stmt.on.names, ctx)
            key = key_of(kind, db, sch, f"{t}.{stmt.object.names[-1]}")
        else:
            db, sch, name = qualify(kind, stmt.object.names, ctx)
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

    def alter(self, path, stmt, ctx, src):
        on = _object_name(stmt)
        if on is None:
            return
        db, sch, name = qualify("table", on.names, ctx)
        t = self.model.table(db, sch, name)
        where = f"{path}:{stmt.span.line}"
        if t is None:
            self.warn(where, f"{stmt.kind} of {db}.{sch}.{name}, a table no script creates")
            return
        if stmt.kind == "AlterTableAddColumn":
            for c in (x for x in A.walk(stmt) if isinstance(x, A.ColumnDefinition)):
                if not any(x.name.lower() == c.name.name.lower() for x in t.columns):
                    t.columns.append(Column(c.name.name, norm_type(c.type)))
        elif stmt.kind == "AlterTableDropColumn":
            names = {i.name.lower() for i in A.walk(stmt) if isinstance(i, A.Identifier)} - {
                p.lower() for p in on.names}
            t.columns = [c for c in t.columns if c.name.lower() not in names]
        elif stmt.kind in ("AlterTableAddPartition", "AlterTableDropPartition"):
            labels = [x for x in A.walk(stmt) if x.kind == "PartitionLabel"]
            for lab in labels:
                if any(isinstance(v, A.Variable) for v in A.walk(lab)):
                    continue   # a label computed per run: replicated with the run, not the catalog
                text = " ".join(_text(src, lab).split())
                if stmt.kind == "AlterTableAddPartition":
                    if text not in t.partitions:
                        t.partitions.append(text)
                        t.source = where
                elif text in t.partitions:
                    t.partitions.remove(text)
                    t.source = where
            return
        t.source = where

    def rename(self, path, stmt, ctx):
        db, sch, name = qualify("table", stmt.table.names, ctx)
        t = self.model.table(db, sch, name)
        if t is None:
            return
        del self.model.objects[t.key]
        t.database, t.schema, t.name = qualify("table", stmt.new_name.names, ctx)
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
                    from .jobs import infer_columns
                    cols = infer_columns(stmt.query, b.rowsets, b.model, ctx)
                    for t in stmt.targets:
                        if isinstance(t, A.Variable):
                            b.rowsets[t.name.lower()] = cols
                elif k in _CREATE:
                    b.add(path, stmt, ctx, src)
                elif k == "Drop":
                    b.drop(path, stmt, ctx)
                elif k.startswith("AlterTable"):
                    b.alter(path, stmt, ctx, src)
                elif k == "RenameTable":
                    b.rename(path, stmt, ctx)
            except (AttributeError, IndexError, StopIteration) as e:   # a tree shape not foreseen
                b.warn(f"{path}:{stmt.span.line}", f"{k} not modelled ({type(e).__name__}: {e})")
    return b.model
