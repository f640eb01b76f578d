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

import re
from dataclasses import dataclass, field

from .. import ast as A

__all__ = ["CatalogOp", "catalog_operations", "CATALOG_KINDS"]

#: object kinds the emulated catalog keeps, and whether they live in a schema
CATALOG_KINDS = {
    "database": False, "schema": False, "assembly": False, "credential": False, "datasource": False,
    "table": True, "tvf": True, "view": True, "procedure": True, "package": True, "tabletype": True,
}

_CREATE_KINDS = {
    "CreateTable": "table", "CreateExternalTable": "table", "CreateView": "view", "CreateFunction": "tvf",
    "CreateProcedure": "procedure", "CreatePackage": "package", "CreateAssembly": "assembly",
    "CreateType": "tabletype", "CreateDataSource": "datasource", "CreateCredential": "credential",
    "CreateSchema": "schema", "CreateDatabase": "database",
}
_DROP_KINDS = {"table": "table", "view": "view", "tvf": "tvf", "function": "tvf", "procedure": "procedure",
               "package": "package", "assembly": "assembly", "type": "tabletype", "data_source": "datasource",
               "datasource": "datasource", "credential": "credential", "schema": "schema", "database": "database"}


@dataclass
class CatalogOp:
    action: str          # create or drop
    kind: str            # a key of CATALOG_KINDS
    database: str
    schema: str          # "" for kinds that are not in a schema
    name: str
    if_exists: bool = False       # IF NOT EXISTS on create, IF EXISTS on drop
    line: int = 1
    doc: dict = field(default_factory=dict)   # extra fields for the catalog item (columns, definition...)


def _has_child(node, kind: str) -> bool:
    return any(c.kind == kind for c in node.children())


_NAME_AFTER = re.compile(r"\s*((?:\[[^\]]*\]|[A-Za-z_][A-Za-z0-9_]*)(?:\s*\.\s*(?:\[[^\]]*\]|[A-Za-z_][A-Za-z0-9_]*)){0,2})")


_IF_EXISTS = re.compile(r"(?is)\s*DROP\s+[A-Z_]+(?:\s+[A-Z_]+)?\s+IF\s+EXISTS\b")


def _target_names(stmt, script) -> tuple:
    """The names of the object a statement creates or drops (robust to where the builder put it)."""
    for n in A.walk(stmt):
        if isinstance(n, A.ObjectName) and n.action in ("create", "drop"):
            return n.names
    # Some builds of the AST drop the name after IF [NOT] EXISTS: read it from the source text.
    text = getattr(getattr(script, "source", None), "text", None)
    guard = next((c for c in stmt.children() if c.kind in ("IfNotExists", "IfExists")), None)
    if text is not None and guard is not None:
        m = _NAME_AFTER.match(text, guard.span.end)
        if m:
            return tuple(p.strip().strip("[]") for p in m.group(1).split("."))
    return ()


def _resolve(names: tuple, kind: str, db: str, schema: str):
    names = tuple(names)
    if kind == "database":
        return names[-1], "", names[-1]
    if kind == "schema":
        return (names[-2] if len(names) > 1 else db), "", names[-1]
    if CATALOG_KINDS.get(kind):
        if len(names) >= 3:
            return names[-3], names[-2], names[-1]
        if len(names) == 2:
            return db, names[0], names[1]
        return db, schema, names[-1]
    # database-level objects may be written db.name (assemblies) or schema.name (credentials)
    return (names[-2] if len(names) >= 2 and kind == "assembly" else db), "", names[-1]


def _columns(nodes) -> list:
    return [{"name": c.name.name, "type": c.type.text} for c in nodes if isinstance(c, A.ColumnDefinition)]


def _idents(node) -> list:
    return [n.name for n in A.walk(node) if isinstance(n, A.Identifier)]


def _table_details(stmt) -> dict:
    doc: dict = {"columnList": [], "indexList": [], "partitionKeyList": []}
    elements = getattr(stmt, "elements", ()) or getattr(stmt, "columns", ()) or ()
    doc["columnList"] = _columns(elements if isinstance(elements, tuple) else ())
    if not doc["columnList"]:
        doc["columnList"] = _columns(n for n in A.walk(stmt) if isinstance(n, A.ColumnDefinition))
    for idx in (n for n in A.walk(stmt) if n.kind == "TableIndex"):
        items = list(idx.children())
        name = items[0].name if items and isinstance(items[0], A.Identifier) else ""
        keys = []
        for s in (n for n in items if n.kind == "SortItem"):
            ids = _idents(s)
            if ids:
                keys.append({"name": ids[-1], "descending": "DESC" in getattr(s, "keywords", ())})
        part = next((n for n in A.walk(idx) if n.kind == "PartitionedBy"), None)
        dist = next((n for n in A.walk(idx) if n.kind == "DistributedBy"), None)
        entry = {"name": name, "indexKeys": keys, "columns": [k["name"] for k in keys],
                 "isColumnstore": False, "indexId": 1, "isUnique": False,
                 "partitionKeyList": _idents(part) if part else []}
        if dist is not None:
            how = next((n for n in dist.children() if n.kind.endswith("Distribution")), None)
            count = next((n for n in dist.children() if isinstance(n, A.NumberLiteral)), None)
            # the service's distribution type codes: 2 hash, 3 range, 4 round robin, 5 direct hash
            code = {"HashDistribution": 2, "RangeDistribution": 3, "RoundRobinDistribution": 4,
                    "DirectHashDistribution": 5}.get(how.kind if how else "", 0)
            dkeys = [{"name": i, "descending": False} for i in (_idents(how) if how else [])]
            entry["distributionInfo"] = {"type": code, "keys": dkeys,
                                         "count": int(count.text) if count and count.text.isdigit() else 0,
                                         "dynamicCount": 0}
            doc["distributionInfo"] = entry["distributionInfo"]
        doc["partitionKeyList"] = entry["partitionKeyList"]
        doc["indexList"].append(entry)
    return doc


def _source_text(stmt, script) -> str:
    src = getattr(script, "source", None)
    text = getattr(src, "text", None)
    return stmt.span.text(text) if text is not None else ""


def catalog_operations(script, database: str = "master", schema: str = "dbo") -> list:
    """The catalog operations of a parsed script's top-level statements, in order."""
    ops: list = []
    db, sch = database, schema
    for stmt in script.statements:
        k = stmt.kind
        if k == "UseDatabase":
            db = stmt.database.names[-1]
            sch = "dbo"
            continue
        if k == "UseSchema":
            names = stmt.schema.names
            if len(names) > 1:
                db = names[-2]
            sch = names[-1]
            continue
        if k in _CREATE_KINDS:
            kind = _CREATE_KINDS[k]
            if k == "CreateDatabase":
                ident = next((n for n in stmt.children() if isinstance(n, (A.Identifier, A.ObjectName))), None)
                names = (ident.name,) if isinstance(ident, A.Identifier) else (ident.names if ident else ())
            else:
                names = _target_names(stmt, script)
            if not names:
                continue
            d, s, n = _resolve(names, kind, db, sch)
            ine = bool(getattr(stmt, "if_not_exists", False)) or _has_child(stmt, "IfNotExists")
            doc: dict = {}
            if kind == "table":
                doc = _table_details(stmt)
                if k == "CreateExternalTable":
                    ds = getattr(stmt, "data_source", None)
                    doc["externalTable"] = {"tableName": n, "dataSource": {
                        "name": {"firstPart": ds.names[-1] if isinstance(ds, A.ObjectName) else ""}}}
            elif kind in ("view", "tvf", "procedure", "package"):
                text = _source_text(stmt, script).rstrip()   # the statement, terminated: runnable DDL
                doc = {"definition": text if text.endswith(";") else text + ";"}
            elif kind == "tabletype":
                doc = {"columns": _columns(n2 for n2 in A.walk(stmt) if isinstance(n2, A.ColumnDefinition))}
            elif kind == "datasource":
                ids = [c for c in stmt.children() if isinstance(c, A.Identifier)]
                doc = {"provider": ids[0].name if ids else "", "pushdownTypes": [
                    t.text for o in stmt.children() if o.kind == "RemotableTypesOption"
                    for t in o.children() if isinstance(t, A.Type)]}
                for o in stmt.children():
                    if o.kind == "DataSourceOption":
                        parts = list(o.children())
                        if parts and isinstance(parts[0], A.Identifier) and parts[0].name.upper() == "PROVIDER_STRING":
                            lit = parts[1] if len(parts) > 1 else None
                            doc["providerString"] = getattr(lit, "value", "")
            elif kind == "assembly":
                doc = {"clrName": n, "isVisible": True, "isUserDefined": True, "files": [], "dependencies": []}
            ops.append(CatalogOp("create", kind, d, s, n, ine, stmt.span.line, doc))
        elif k == "Drop":
            kind = _DROP_KINDS.get((stmt.object_kind or "").lower())
            names = stmt.object.names if isinstance(stmt.object, A.ObjectName) else _target_names(stmt, script)
            if kind is None or not names:
                continue   # statistics, indexes: not kept in the emulated catalog
            d, s, n = _resolve(names, kind, db, sch)
            ie = bool(stmt.if_exists) or _has_child(stmt, "IfExists") or bool(
                _IF_EXISTS.match(_source_text(stmt, script)))
            ops.append(CatalogOp("drop", kind, d, s, n, ie, stmt.span.line))
    return ops
