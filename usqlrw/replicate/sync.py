"""Catalog-sync DDL for the secondary: full, or only what changed since a previous model.

The script is built with the primary's names, one block per object in dependency order
(:meth:`Model.ordered`), each block preceded by the ``USE DATABASE``/``USE SCHEMA`` context its DDL
was written in; the whole script is then passed through the failover rewrite
(:func:`usqlrw.rewrite.rewrite_text`), so database, schema and object renames and every location
in a body (a view's EXTRACT, an assembly's path) name the secondary. It is idempotent:

* databases, schemas, tables, table types, data sources, statistics: ``CREATE ... IF NOT EXISTS``
  (a table is generated from the model, so columns added by later ALTER TABLE statements are in
  it), followed by ``ALTER TABLE ... ADD IF NOT EXISTS PARTITION`` for each known partition;
* TVFs, views, procedures, packages, assemblies: ``DROP ... IF EXISTS`` then ``CREATE``, so a
  changed body replaces the old one.

U-SQL compiles a whole script against the catalog as it was before the script ran, so an object
that reads another object created by the same sync goes into a later part: ``sync.usql`` holds
databases, schemas, types, assemblies, data sources and tables, ``sync.2.usql`` what reads them
(views, TVFs, statistics), ``sync.3.usql`` what reads those, and so on.

Given a previous model, only differences are emitted: new objects (as above), dropped objects
(``DROP ... IF EXISTS``), changed bodies (drop and create), table columns added or dropped
(``ALTER TABLE ADD/DROP COLUMN``), partitions added or dropped. Changes DDL cannot make in place
(a column's type, the index, the partitioning or distribution) become manual steps.

Objects a script cannot copy (credentials: the secret is not in the model; assembly files: the
binaries are on the primary store) are listed as :class:`ManualStep` with the exact command to run.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .. import ast as A
from ..locations import map_location
from . import staging as S
from .catalog import CatalogObject, Model

__all__ = ["ManualStep", "SyncResult", "sync_script"]

_DROP_KW = {"tvf": "FUNCTION", "view": "VIEW", "procedure": "PROCEDURE", "package": "PACKAGE",
            "assembly": "ASSEMBLY", "type": "TYPE", "table": "TABLE", "external_table": "TABLE",
            "data_source": "DATA SOURCE", "schema": "SCHEMA", "database": "DATABASE",
            "statistics": "STATISTICS", "credential": "CREDENTIAL"}
_REPLACE = {"tvf", "view", "procedure", "package", "assembly"}


@dataclass
class ManualStep:
    object: str        # the object's key
    reason: str
    instruction: str   # exactly what to run or do
    before: str = "catalog"   # what it must precede

    def to_dict(self) -> dict:
        return {"object": self.object, "reason": self.reason, "instruction": self.instruction,
                "before": self.before}


_CONTAINERS = ("database:", "schema:", "credential:")


@dataclass
class SyncResult:
    text: str                                   # every part, concatenated (secondary names); "" if nothing
    objects: list = field(default_factory=list)  # [(key, action)] in script order
    parts: list = field(default_factory=list)    # [(script name, text, [(key, action)])], run in order
    manual: list = field(default_factory=list)   # [ManualStep]
    warnings: list = field(default_factory=list)


def _q(parts) -> str:
    return ".".join(S.quote_ident(p) for p in parts)


def _name_parts(o: CatalogObject) -> tuple:
    if o.kind == "database":
        return (o.name,)
    if o.kind == "schema":
        return (o.database, o.name)
    if o.kind in ("assembly", "data_source", "credential"):
        return (o.database, o.name)
    return (o.database, o.schema, o.name)


def _drop(o: CatalogObject) -> str:
    if o.kind == "statistics":
        table, stat = o.name.split(".", 1)
        return f"DROP STATISTICS IF EXISTS {S.quote_ident(stat)} ON {_q((o.database, o.schema, table))};"
    return f"DROP {_DROP_KW[o.kind]} IF EXISTS {_q(_name_parts(o))};"


def _use(o: CatalogObject) -> list:
    db, schema = (o.context + ["", ""])[:2] if o.context else (o.database, "")
    out = [f"USE DATABASE {S.quote_ident(db)};"] if o.kind != "database" else []
    if schema:
        out.append(f"USE SCHEMA {S.quote_ident(schema)};")
    return out


def _if_not_exists(ddl: str) -> str:
    """Insert IF NOT EXISTS before the created name when the CREATE statement lacks it."""
    import usqlrw
    script = usqlrw.parse(ddl + ";")
    stmt = script.statements[0]
    if not hasattr(stmt, "if_not_exists") or stmt.if_not_exists:
        return ddl
    from .catalog import _object_name
    # CREATE STATISTICS [IF NOT EXISTS] name ON table: the guard goes before the statistics' name
    name = stmt.name if isinstance(stmt, A.CreateStatistics) else _object_name(stmt)
    if name is None:
        return ddl
    at = name.span.start
    return ddl[:at] + "IF NOT EXISTS " + ddl[at:]


def table_ddl(o: CatalogObject) -> str:
    """CREATE TABLE IF NOT EXISTS from the model (columns, index, partitioning, distribution)."""
    cols = [f"    {S.quote_ident(c.name)} {c.type}" for c in o.columns]
    if o.index:
        idx = f"    INDEX {S.quote_ident(o.index['name'])} CLUSTERED ({', '.join(o.index['columns'])})"
        if o.partitioned_by:
            idx += f" PARTITIONED BY ({', '.join(S.quote_ident(c) for c in o.partitioned_by)})"
        d = o.distribution
        if d:
            scheme = d["scheme"]
            if scheme == "ROUND ROBIN":
                idx += " DISTRIBUTED BY ROUND ROBIN"
            else:
                cs = ", ".join(d["columns"]) if scheme == "RANGE" else ", ".join(
                    S.quote_ident(c) for c in d["columns"])
                idx += f" DISTRIBUTED BY {scheme} ({cs})"
            if d.get("buckets"):
                idx += f" INTO {d['buckets']}"
        cols.append(idx)
    body = ",\n".join(cols)
    return f"CREATE TABLE IF NOT EXISTS {_q(_name_parts(o))}\n(\n{body}\n);"


def _create(o: CatalogObject, config, manual: list) -> list | None:
    """The statements that create ``o`` idempotently (primary names), or None for a manual step."""
    if o.kind == "credential":
        db = config.database(o.database)
        manual.append(ManualStep(
            o.key, "a credential's secret is not in any script usqlrw may copy",
            f"Create credential {o.name} in database {db} of ADLA account "
            f"{config.secondary_analytics}: New-AzDataLakeAnalyticsCatalogCredential -Account "
            f"{config.secondary_analytics} -DatabaseName {db} -CredentialName {o.name} "
            f"-Credential (Get-Credential) -Uri <the secondary's remote server URI>"))
        return None
    if o.kind == "data_source" and "=<secret>" in o.ddl:
        db = config.database(o.database)
        ddl = o.ddl
        try:   # the secondary's names and servers
            from ..rewrite import rewrite_text
            ddl = rewrite_text(f"USE DATABASE {S.quote_ident(o.database)};\n{o.ddl};", config).text.split("\n", 1)[1]
        except Exception:
            pass
        manual.append(ManualStep(
            o.key, "its provider string holds a secret, which usqlrw never copies",
            f"In database {db} of ADLA account {config.secondary_analytics}, run this with the secret in "
            f"place of <secret> (better: keep the secret in a credential and name it with CREDENTIAL = ...): "
            f"{ddl}"))
        return None
    if o.kind == "database":
        return [f"CREATE DATABASE IF NOT EXISTS {S.quote_ident(o.name)};"]
    if o.kind == "schema":
        return [f"CREATE SCHEMA IF NOT EXISTS {_q((o.database, o.name))};"]
    if o.kind == "table":
        if not o.schema_known or not o.columns:
            manual.append(ManualStep(
                o.key, "created by CREATE TABLE AS with a schema usqlrw cannot infer",
                f"Create {o.database}.{o.schema}.{o.name} on the secondary by running its creating job "
                f"({o.source}) there, or state its columns in the CREATE TABLE statement and rerun replicate"))
            return None
        out = [table_ddl(o)]
        out += [f"ALTER TABLE {_q(_name_parts(o))} ADD IF NOT EXISTS {p};" for p in o.partitions]
        return out
    ddl = o.ddl
    if not ddl:
        manual.append(ManualStep(o.key, "; ".join(o.notes) or "no definition is known for it",
                                 f"Create {o.kind} {'.'.join(o.qualified)} on the secondary by hand "
                                 f"(from {o.source or 'the primary'})"))
        return None
    for note in o.notes:
        if "by hand" in note:
            manual.append(ManualStep(o.key, note, f"After the catalog sync, complete {o.kind} "
                                     f"{'.'.join(o.qualified)} on the secondary: {note}", "after catalog"))
    out = []
    if o.kind in _REPLACE:
        out.append(_drop(o))
    else:
        ddl = _if_not_exists(ddl)
    out.append(ddl + ";")
    if o.kind == "assembly":
        for f in o.files:
            path = _literal_value(f.split(" AS ")[0] if " AS " in f else f)
            if path is None:
                manual.append(ManualStep(o.key, "an assembly file named by an expression usqlrw cannot fold",
                                         f"Copy the file {f} of assembly {o.name} to the secondary store"))
                continue
            target = map_location(path, config) or path
            manual.append(ManualStep(
                o.key, "assembly binaries are files on the primary store, not catalog DDL",
                _copy_instruction(path, target, config)))
    return out


def _literal_value(text: str) -> str | None:
    import usqlrw
    try:
        s = usqlrw.parse(f"DECLARE @f string = {text};")
    except Exception:
        return None
    v = s.statements[0].value
    return v.value if isinstance(v, A.StringLiteral) else None


def _copy_instruction(src: str, dst: str, config) -> str:
    def split(loc, default_store):
        if "://" not in loc:
            return default_store, "/" + loc.lstrip("/")
        rest = loc.split("://", 1)[1]
        host, _, path = rest.partition("/")
        return host.split(".")[0].split("@")[-1], "/" + path
    sa, sp = split(src, config.primary_store)
    da, dp = split(dst, config.secondary_default_store)
    return (f"Copy {sp} from store {sa} to {dp} on store {da} before the catalog sync: az dls fs download --account {sa} "
            f"--source-path {sp} --destination-path ./usqlrw-copy.bin && az dls fs upload --account {da} "
            f"--source-path ./usqlrw-copy.bin --destination-path {dp} --overwrite")


def _table_changes(old: CatalogObject, new: CatalogObject, manual: list) -> list:
    out = []
    name = _q(_name_parts(new))
    oc = {c.name.lower(): c for c in old.columns}
    nc = {c.name.lower(): c for c in new.columns}
    added = [c for c in new.columns if c.name.lower() not in oc]
    dropped = [c for c in old.columns if c.name.lower() not in nc]
    retyped = [c for c in new.columns if c.name.lower() in oc and "".join(oc[c.name.lower()].type.split())
               != "".join(c.type.split())]
    if dropped:
        out.append(f"ALTER TABLE {name} DROP COLUMN {', '.join(S.quote_ident(c.name) for c in dropped)};")
    if added:
        out.append(f"ALTER TABLE {name} ADD COLUMN {', '.join(f'{S.quote_ident(c.name)} {c.type}' for c in added)};")
    layout = ("index", "partitioned_by", "distribution", "schema_known")
    if retyped or any(getattr(old, a) != getattr(new, a) for a in layout):
        what = [f"column {c.name} {oc[c.name.lower()].type} -> {c.type}" for c in retyped] + [
            a for a in layout if getattr(old, a) != getattr(new, a)]
        manual.append(ManualStep(
            new.key, f"changed in a way ALTER TABLE cannot apply ({'; '.join(what)})",
            f"Drop and recreate {new.database}.{new.schema}.{new.name} on the secondary with a full sync "
            f"(usqlrw replicate without --previous-model), then run its snapshot scripts"))
    for p in new.partitions:
        if p not in old.partitions:
            out.append(f"ALTER TABLE {name} ADD IF NOT EXISTS {p};")
    for p in old.partitions:
        if p not in new.partitions:
            out.append(f"ALTER TABLE {name} DROP IF EXISTS {p};")
    return out


def sync_script(model: Model, config, previous: Model | None = None, path: str = "catalog/sync.usql") -> SyncResult:
    """The catalog-sync script for ``model`` (all of it, or what changed since ``previous``)."""
    from ..rewrite import rewrite_text
    res = SyncResult("")
    blocks = []            # (level, text, key, action)
    manual: list = []
    level: dict = {}       # key -> the part (1, 2, ...) an emitted object is created in

    def block(o, stmts, action):
        # an object goes in a later part than every object it reads that this sync also creates:
        # U-SQL compiles a script against the catalog as it was before the script ran
        deps = [level[d] for d in o.depends if d in level and not d.startswith(_CONTAINERS)
                and o.kind != "table"]   # a table's DDL is generated from the model and reads nothing
        lv = level[o.key] = 1 + max(deps, default=0)
        blocks.append((lv, "\n".join([f"// {action}: {o.kind} {'.'.join(o.qualified)} ({o.source})"]
                                     + _use(o) + stmts), o.key, action))

    renamed = {}   # previous key -> new object, for tables RENAMEd on the primary
    if previous is not None:
        for o in model.objects.values():
            for note in o.notes:
                if o.kind == "table" and note.startswith("renamed from ") and o.key not in previous.objects:
                    old_key = "table:" + note[len("renamed from "):]
                    if old_key in previous.objects and old_key not in model.objects:
                        renamed[old_key] = o

    if previous is not None:   # drops first, dependants before what they depend on
        for old_key, o in sorted(renamed.items()):
            old = previous.objects[old_key]
            blocks.append((1, "\n".join([f"// rename: table {'.'.join(old.qualified)} -> {'.'.join(o.qualified)}",
                                         f"RENAME TABLE IF EXISTS {_q(_name_parts(old))} TO {_q(_name_parts(o))};"]),
                           o.key, "rename"))
        gone = [o for k, o in previous.objects.items() if k not in model.objects and k not in renamed]
        for o in reversed(Model({x.key: x for x in gone}).ordered()):
            if o.kind == "credential":
                manual.append(ManualStep(o.key, "a credential was dropped on the primary",
                                         f"Remove-AzDataLakeAnalyticsCatalogCredential -Account "
                                         f"{config.secondary_analytics} -DatabaseName "
                                         f"{config.database(o.database)} -Name {o.name}"))
                continue
            blocks.append((1, "\n".join([f"// drop: {o.kind} {'.'.join(o.qualified)}",
                                         *([f"USE DATABASE {S.quote_ident(o.database)};"] if o.kind != "database" else []),
                                         _drop(o)]), o.key, "drop"))

    # a database or schema the objects live in, which no given script creates (it was made long
    # ago): the secondary needs it too, first
    objs = list(model.objects.values())
    prev = list(previous.objects.values()) if previous is not None else []
    used = {(o.database, o.schema) for o in objs if o.kind != "database"}
    used |= {tuple((o.context + ["", ""])[:2]) for o in objs if o.context}     # USE SCHEMA before it
    dbs = {d for d, _ in used if d} - {o.database for o in objs if o.kind == "database"}
    dbs -= {o.database for o in prev} | {"master"}
    schemas = {(d, sch) for d, sch in used if d and sch and sch != "dbo"}
    schemas -= {(o.database, o.name) for o in objs if o.kind == "schema"}
    schemas -= {(o.database, o.schema) for o in prev}
    implied = [(f"database:{db}", f"database {db}", f"CREATE DATABASE IF NOT EXISTS {S.quote_ident(db)};")
               for db in sorted(dbs)]
    implied += [(f"schema:{db}.{sch}", f"schema {db}.{sch}", f"CREATE SCHEMA IF NOT EXISTS {_q((db, sch))};")
                for db, sch in sorted(schemas)]
    for key, what, stmt in reversed(implied):
        blocks.insert(0, (1, f"// create: {what} (its objects are replicated; no script given creates it)\n{stmt}",
                          key, "create"))

    moved = {o.key: k for k, o in renamed.items()}
    for o in model.ordered():
        old = previous.objects.get(o.key) if previous is not None else None
        if o.key in moved:
            old = previous.objects[moved[o.key]]
        if previous is not None and old is not None:
            if old.fingerprint == o.fingerprint:
                continue
            if o.kind == "table":
                stmts = _table_changes(old, o, manual)
                if stmts:
                    block(o, stmts, "alter")
                continue
            if o.kind in _REPLACE or o.kind in ("type", "data_source", "external_table", "statistics"):
                if (old.ddl == o.ddl and old.files == o.files) :
                    continue   # only where it came from changed
                stmts = _create(o, config, manual)
                if stmts is None:
                    continue
                if o.kind not in _REPLACE:
                    stmts = [_drop(o)] + stmts
                block(o, stmts, "replace")
                continue
            if o.kind == "credential" and old.ddl != o.ddl:
                _create(o, config, manual)
            continue
        stmts = _create(o, config, manual)
        if stmts is not None:
            block(o, stmts, "create")

    res.manual = manual
    if not blocks:
        return res
    for lv in sorted({b[0] for b in blocks}):
        name = part_name(path, lv)
        text = "\n\n".join(b[1] for b in blocks if b[0] == lv) + "\n"
        r = rewrite_text(text, config, name)
        res.warnings += [f"{name}:{w.line}:{w.column}: {w.message}" for w in r.warnings]
        res.parts.append((name, r.text, [(b[2], b[3]) for b in blocks if b[0] == lv]))
    res.objects = [o for _, _, objs in res.parts for o in objs]
    res.text = "".join(t for _, t, _ in res.parts)
    return res


def part_name(path: str, level: int) -> str:
    """``catalog/sync.usql`` for the first part, ``catalog/sync.2.usql`` for the second..."""
    return path if level == 1 else f"{path[:-5]}.{level}.usql"
