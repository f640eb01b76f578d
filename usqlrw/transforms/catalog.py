"""Catalog mapping: database, schema and object renames applied to every resolved reference.

Each name is resolved to database.schema.object first (usqlrw.resolve), then the parts the author
wrote are renamed in place, keeping their quoting (``[Sales]`` stays bracketed) and their
qualification level. Where an unqualified name relied on the default ``dbo`` schema and that
schema is renamed, the name is qualified with the new schema, since no USE statement carries it.
"""
from __future__ import annotations

import re

from .. import ast as A
from ..resolve import DATABASE_KINDS, SCHEMA_KINDS, references
from ..source import Edit

NAME = "catalog"
DESCRIPTION = "Rename databases, schemas, objects, assemblies, data sources and credentials."

_PLAIN = re.compile(r"^(?!\d)\w+$")


def spell(name: str, quoted: bool) -> str:
    """An identifier as U-SQL wants it: bracketed if it was, or if it must be."""
    if quoted or not _PLAIN.match(name):
        return "[" + name.replace("]", "]]") + "]"
    return name


def _mapped(ref, config):
    """(database, schema, name) on the secondary for a resolved reference."""
    db, schema, name = ref.database, ref.schema, ref.name
    new_db = config.database(db) if db is not None else None
    new_schema, new_name = schema, name
    if ref.kind == "schema" or ref.kind in SCHEMA_KINDS:
        if schema is not None:
            new_schema = config.schemas.get((db, schema), schema)
    if ref.kind in SCHEMA_KINDS and name is not None:
        new_name = config.objects.get((db, schema, name), name)
    elif ref.kind in DATABASE_KINDS and name is not None:
        table = {"assembly": config.assemblies, "data_source": config.data_sources,
                 "credential": config.credentials}[ref.kind]
        new_name = table.get((db, name), name)
    return new_db, new_schema, new_name


def edits(script: A.Script, config, path=None):
    out, warnings = [], []
    for ref in references(script):
        if ref.database is None:
            continue
        new_db, new_schema, new_name = _mapped(ref, config)
        parts = ref.node.parts
        n = len(parts)
        # Which written part holds which logical name.
        if ref.kind == "database":
            slots = [(parts[-1], ref.database, new_db)]
        elif ref.kind == "schema":
            slots = [(parts[-1], ref.schema, new_schema)] + ([(parts[0], ref.database, new_db)] if n >= 2 else [])
        elif ref.kind in DATABASE_KINDS:
            slots = [(parts[-1], ref.name, new_name)] + ([(parts[0], ref.database, new_db)] if n >= 2 else [])
        else:
            slots = [(parts[-1], ref.name, new_name)]
            if n >= 2:
                slots.append((parts[-2], ref.schema, new_schema))
            if n >= 3:
                slots.append((parts[0], ref.database, new_db))
        for ident, old, new in slots:
            if new != old:
                out.append(Edit.replace(ident.span, spell(new, ident.quoted),
                                        f"{ref.kind} {'.'.join(ref.qualified)}: {old} -> {new}"))
        if ref.kind in SCHEMA_KINDS and n == 1 and not ref.schema_explicit and new_schema != ref.schema:
            # Unqualified name in the default schema, which is renamed: qualify it.
            ident = parts[0]
            out.append(Edit(ident.span.start, ident.span.start, spell(new_schema, False) + ".",
                            f"{ref.kind} {'.'.join(ref.qualified)}: default schema {ref.schema} -> {new_schema}"))
    return out, warnings
