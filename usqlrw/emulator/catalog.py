"""The emulated U-SQL catalog: DDL applied in the job's transaction, and the catalog's REST views."""
from __future__ import annotations

import json
import uuid

from .state import _NS, ApiError


def _apply(conn, account: str, op):
    """Apply one catalog operation inside the caller's transaction; ApiError if it cannot be."""
    from ..jobs.ddl import CATALOG_KINDS
    key = (account, op.kind, op.database, op.schema, op.name)
    exists = conn.execute("SELECT 1 FROM catalog WHERE account=? AND kind=? AND db=? AND sch=? AND name=?",
                          key).fetchone() is not None

    def fail(code, msg):
        e = ApiError(400, code, msg)
        e.line = op.line
        raise e
    label = ".".join(p for p in (op.database, op.schema, op.name) if p) if op.kind != "database" else op.name
    if op.action == "alter":   # a table's columns added or dropped
        row = conn.execute("SELECT doc FROM catalog WHERE account=? AND kind=? AND db=? AND sch=? AND name=?",
                           key).fetchone()
        if row is None:
            fail("E_CSC_USER_DDLENTITYDOESNOTEXIST", f"The table '{label}' does not exist.")
        doc = json.loads(row[0])
        cols = list(doc.get("columnList") or [])
        have = {c["name"].lower() for c in cols}
        for c in op.doc.get("add", []):
            if c["name"].lower() in have:
                fail("E_CSC_USER_DUPLICATECOLUMNDEFINITION", f"The column '{c['name']}' already exists in '{label}'.")
            cols.append(c)
        for name in op.doc.get("drop", []):
            if name.lower() not in have:
                fail("E_CSC_USER_INVALIDCOLUMNREFERENCE", f"The column '{name}' is not in '{label}'.")
            cols = [c for c in cols if c["name"].lower() != name.lower()]
        doc["columnList"] = cols
        conn.execute("UPDATE catalog SET doc=? WHERE account=? AND kind=? AND db=? AND sch=? AND name=?",
                     (json.dumps(doc),) + key)
        return
    if op.action == "create":
        if op.kind != "database" and conn.execute(
                "SELECT 1 FROM catalog WHERE account=? AND kind='database' AND name=?",
                (account, op.database)).fetchone() is None:
            fail("E_CSC_USER_DATABASENOTFOUND", f"Database '{op.database}' does not exist.")
        if CATALOG_KINDS.get(op.kind) and conn.execute(
                "SELECT 1 FROM catalog WHERE account=? AND kind='schema' AND db=? AND name=?",
                (account, op.database, op.schema)).fetchone() is None:
            fail("E_CSC_USER_SCHEMANOTFOUND", f"Schema '{op.database}.{op.schema}' does not exist.")
        if exists:
            if op.if_exists:
                return
            fail("E_CSC_USER_DDLENTITYALREADYEXISTS", f"The {op.kind} '{label}' already exists.")
        conn.execute("INSERT INTO catalog VALUES (?, ?, ?, ?, ?, ?)", key + (json.dumps(op.doc),))
        if op.kind == "database":
            conn.execute("INSERT OR IGNORE INTO catalog VALUES (?, 'schema', ?, '', 'dbo', '{}')",
                         (account, op.name))
    else:
        if not exists:
            if op.if_exists:
                return
            fail("E_CSC_USER_DDLENTITYDOESNOTEXIST", f"The {op.kind} '{label}' does not exist.")
        if op.kind == "database":
            if op.name.lower() == "master":
                fail("E_CSC_USER_CANNOTDROPMASTER", "The master database cannot be dropped.")
            conn.execute("DELETE FROM catalog WHERE account=? AND (db=? OR (kind='database' AND name=?))",
                         (account, op.name, op.name))
        elif op.kind == "schema":
            conn.execute("DELETE FROM catalog WHERE account=? AND db=? AND sch=?", (account, op.database, op.name))
            conn.execute("DELETE FROM catalog WHERE account=? AND kind=? AND db=? AND sch=? AND name=?", key)
        else:
            conn.execute("DELETE FROM catalog WHERE account=? AND kind=? AND db=? AND sch=? AND name=?", key)

# -- catalog views --------------------------------------------------------------------------

# URL collection name -> (kind, JSON name key, in a schema?)
_CATALOG_COLLECTIONS = {
    "schemas": ("schema", "schemaName", False), "assemblies": ("assembly", "assemblyName", False),
    "credentials": ("credential", "credentialName", False),
    "externaldatasources": ("data_source", "externalDataSourceName", False),
    "tables": ("table", "tableName", True), "tablevaluedfunctions": ("tvf", "tvfName", True),
    "views": ("view", "viewName", True), "procedures": ("procedure", "procName", True),
    "packages": ("package", "packageName", True), "tabletypes": ("type", "typeName", True),
    "types": ("type", "typeName", True), "statistics": (None, "statisticsName", True),
    "partitions": (None, "partitionName", True), "tablefragments": (None, "", True),
}


def _catalog_doc(account: str, kind: str, db: str, sch: str, name: str, extra: dict, name_key: str,
                 listing: bool = False) -> dict:
    doc = {"computeAccountName": account, "version": str(uuid.uuid5(_NS, f"{account}/{kind}/{db}/{sch}/{name}"))}
    if kind == "database":
        doc["databaseName"] = name
        return doc
    if kind != "credential":
        doc["databaseName"] = db
    if sch:
        doc["schemaName"] = sch
    if kind == "assembly" and listing:
        name_key = "assemblyClrName"
    doc[name_key] = name
    if kind == "type":
        doc.update({"typeFamily": "", "cSharpName": name, "fullCSharpName": f"{db}.{sch}.{name}",
                    "systemTypeId": 0, "userTypeId": 0, "schemaId": 0, "principalId": 0, "isNullable": False,
                    "isUserDefined": True, "isAssemblyType": False, "isTableType": True, "isComplexType": True})
    doc.update(extra)
    if kind == "assembly" and listing:
        doc = {k: v for k, v in doc.items() if k not in ("files", "dependencies", "isVisible", "isUserDefined")}
    return doc
