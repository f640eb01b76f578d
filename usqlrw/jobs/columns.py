"""Column changes of a script, as catalog operations the emulator applies after ``ddl.py``'s.

``ALTER TABLE t ADD COLUMN c T, ...`` and ``ALTER TABLE t DROP COLUMN c, ...`` become
``CatalogOp("alter", "table", ...)`` with ``doc`` ``{"add": [{"name", "type"}, ...]}`` or
``{"drop": [name, ...]}``; :func:`script_operations` merges them with
:func:`usqlrw.jobs.ddl.catalog_operations` in the order the statements are written.

    >>> import usqlrw
    >>> ops = column_operations(usqlrw.parse('USE DATABASE D; ALTER TABLE s.T ADD COLUMN c int?;'))
    >>> [(o.action, o.database, o.schema, o.name, o.doc) for o in ops]
    [('alter', 'D', 's', 'T', {'add': [{'name': 'c', 'type': 'int?'}]})]
"""
from __future__ import annotations

from .. import ast as A
from .ddl import CatalogOp, catalog_operations

__all__ = ["column_operations", "script_operations"]


def _table_name(stmt) -> A.ObjectName | None:
    t = getattr(stmt, "table", None)
    if isinstance(t, A.ObjectName):
        return t
    return next((x for x in A.walk(stmt) if isinstance(x, A.ObjectName)), None)


def column_operations(script, database: str = "master", schema: str = "dbo") -> list:
    """The column changes of a parsed script's top-level statements, in order."""
    ops = []
    db, sch = database, schema
    for stmt in script.statements:
        k = stmt.kind
        if k == "UseDatabase":
            db, sch = stmt.database.names[-1], "dbo"
        elif k == "UseSchema":
            names = stmt.schema.names
            db = names[-2] if len(names) > 1 else db
            sch = names[-1]
        elif k in ("AlterTableAddColumn", "AlterTableDropColumn"):
            target = _table_name(stmt)
            if target is None:
                continue
            n = target.names
            name, s, d = n[-1], (n[-2] if len(n) >= 2 else sch) or "dbo", (n[-3] if len(n) >= 3 else db) or db
            if k == "AlterTableAddColumn":
                doc = {"add": [{"name": c.name.name, "type": c.type.text}
                               for c in A.walk(stmt) if isinstance(c, A.ColumnDefinition)]}
            else:
                inside = {id(x) for x in A.walk(target)}
                doc = {"drop": [x.name for x in A.walk(stmt) if isinstance(x, A.Identifier) and id(x) not in inside]}
            ops.append(CatalogOp("alter", "table", d, s, name, False, stmt.span.line, doc))
    return ops


def script_operations(script) -> list:
    """Every catalog operation of a script (``ddl.py``'s and the column changes), in script order."""
    return sorted(catalog_operations(script) + column_operations(script), key=lambda o: o.line)
