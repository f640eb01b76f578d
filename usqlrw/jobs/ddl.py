"""The catalog effects of a U-SQL script, read from its AST: what the emulator applies when a job succeeds.

    >>> import usqlrw
    >>> ops = catalog_operations(usqlrw.parse('CREATE DATABASE D; USE DATABASE D; CREATE SCHEMA s;'))
    >>> [(o.action, o.kind, o.database, o.schema, o.name) for o in ops]
    [('create', 'database', 'D', '', 'D'), ('create', 'schema', 'D', '', 's')]

Unqualified names resolve against ``USE DATABASE`` / ``USE SCHEMA`` in force at the statement
(``master`` and ``dbo`` at the start). Only top-level statements count: the body of a procedure
runs when it is called, not when it is created.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .. import ast as A
from ..ast import ObjectKind
from ..resolve import Context, qualify

__all__ = ["CatalogOp", "catalog_operations", "CATALOG_KINDS"]

#: object kinds the emulated catalog keeps, and whether they live in a schema
CATALOG_KINDS = {k.value: k.in_schema for k in ObjectKind
                 if k.catalog and k is not ObjectKind.ROWSET}


@dataclass
class CatalogOp:
    action: str          # create or drop
    kind: str            # a key of CATALOG_KINDS (an ObjectKind value)
    database: str
    schema: str          # "" for kinds that are not in a schema
    name: str
    if_exists: bool = False       # IF NOT EXISTS on create, IF EXISTS on drop
    line: int = 1
    doc: dict = field(default_factory=dict)   # extra fields for the catalog item (columns, definition...)


def _columns(nodes) -> list:
    return [{"name": c.name.name, "type": c.type.text} for c in nodes if isinstance(c, A.ColumnDefinition)]


def _sort_keys(items) -> list:
    return [{"name": s.expr.ident.name if isinstance(s.expr, A.Name) else "", "descending":
             s.direction is not None and s.direction.text == "DESC"} for s in items]


def _table_details(stmt) -> dict:
    doc: dict = {"columnList": _columns(stmt.columns), "indexList": [], "partitionKeyList": []}
    idx = getattr(stmt, "index", None)
    if idx is not None:
        keys = _sort_keys(idx.columns)
        part = stmt.partitioned_by
        dist = stmt.distributed_by
        entry = {"name": idx.name.name, "indexKeys": keys, "columns": [k["name"] for k in keys],
                 "isColumnstore": False, "indexId": 1, "isUnique": False,
                 "partitionKeyList": [c.name for c in part.columns] if part else []}
        if dist is not None:
            how = dist.scheme
            count = dist.buckets
            # the service's distribution type codes: 2 hash, 3 range, 4 round robin, 5 direct hash
            code = {A.HashDistribution: 2, A.RangeDistribution: 3, A.RoundRobinDistribution: 4,
                    A.DirectHashDistribution: 5}.get(type(how), 0)
            cols = getattr(how, "columns", ())
            dkeys = _sort_keys(cols) if isinstance(how, A.RangeDistribution) else \
                [{"name": c.name, "descending": False} for c in cols]
            entry["distributionInfo"] = {"type": code, "keys": dkeys,
                                         "count": int(count.text) if isinstance(count, A.NumberLiteral)
                                         and count.text.isdigit() else 0,
                                         "dynamicCount": 0}
            doc["distributionInfo"] = entry["distributionInfo"]
        doc["partitionKeyList"] = entry["partitionKeyList"]
        doc["indexList"].append(entry)
    return doc


def _source_text(stmt, script) -> str:
    src = getattr(script, "source", None)
    text = getattr(src, "text", None)
    return stmt.span.text(text) if text is not None else ""


def _created(stmt) -> A.ObjectName | None:
    """The name a CREATE statement creates (from the class's name roles)."""
    for fname, _kind, action in stmt.name_roles:
        if action is A.Action.CREATE:
            return getattr(stmt, fname)
    return None


def _op(action, name: A.ObjectName, ctx: Context, **kw) -> CatalogOp:
    q = qualify(name, ctx)
    if q.kind is ObjectKind.DATABASE:
        return CatalogOp(action, q.kind.value, q.database, "", q.database, **kw)
    if q.kind is ObjectKind.SCHEMA:
        return CatalogOp(action, q.kind.value, q.database, "", q.schema, **kw)
    return CatalogOp(action, q.kind.value, q.database, q.schema or "", q.name, **kw)


def catalog_operations(script, database: str = "master", schema: str = "dbo") -> list:
    """The catalog operations of a parsed script's top-level statements, in order."""
    ops: list = []
    ctx = Context(database, schema)
    for stmt in script.statements:
        if isinstance(stmt, A.UseDatabase):
            ctx = Context(stmt.database.database.name)
            continue
        if isinstance(stmt, A.UseSchema):
            n = stmt.schema
            ctx = Context(n.database.name if n.database else ctx.database, n.schema.name, True)
            continue
        if isinstance(stmt, A.Drop):
            if stmt.object_kind.value not in CATALOG_KINDS:
                continue   # statistics, indexes: not kept in the emulated catalog
            ops.append(_op("drop", stmt.object, ctx, if_exists=bool(stmt.if_exists), line=stmt.span.line))
            continue
        name = _created(stmt) if stmt.is_ddl else None
        if name is None or name.object_kind.value not in CATALOG_KINDS:
            continue
        kind = name.object_kind
        doc: dict = {}
        if kind is ObjectKind.TABLE:
            doc = _table_details(stmt)
            if isinstance(stmt, A.CreateExternalTable):
                doc["externalTable"] = {"tableName": name.object.name, "dataSource": {
                    "name": {"firstPart": stmt.data_source.object.name}}}
        elif kind in (ObjectKind.VIEW, ObjectKind.TVF, ObjectKind.PROCEDURE, ObjectKind.PACKAGE):
            text = _source_text(stmt, script).rstrip()   # the statement, terminated: runnable DDL
            doc = {"definition": text if text.endswith(";") else text + ";"}
        elif kind is ObjectKind.TYPE:
            doc = {"columns": _columns(stmt.columns)}
        elif kind is ObjectKind.DATA_SOURCE:
            doc = {"provider": stmt.provider.name if stmt.provider else "", "pushdownTypes": [
                t.text for o in stmt.options if isinstance(o, A.RemotableTypesOption) for t in o.types]}
            for o in stmt.options:
                if isinstance(o, A.DataSourceOption) and o.name.name.upper() == "PROVIDER_STRING":
                    doc["providerString"] = getattr(o.value, "value", "")
        elif kind is ObjectKind.ASSEMBLY:
            doc = {"clrName": name.object.name, "isVisible": True, "isUserDefined": True, "files": [],
                   "dependencies": []}
        ops.append(_op("create", name, ctx, if_exists=bool(getattr(stmt, "if_not_exists", None)),
                       line=stmt.span.line, doc=doc))
    return ops
