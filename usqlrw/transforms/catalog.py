"""Catalog mapping: database, schema and object renames applied to every resolved reference.

Each name is resolved to database.schema.object first (usqlrw.resolve), then the parts the author
wrote are renamed in place, keeping their quoting (``[Sales]`` stays bracketed) and their
qualification level. Where an unqualified name relied on the default ``dbo`` schema and that
schema is renamed, the name is qualified with the new schema, since no USE statement carries it.
"""
from __future__ import annotations


from .. import ast as A
from ..ast import ObjectKind
from ..keywords import quote_ident
from ..resolve import references
from ..source import Edit

NAME = "catalog"
DESCRIPTION = "Rename databases, schemas, objects, assemblies, data sources and credentials."



def spell(name: str, quoted: bool) -> str:
    """An identifier as U-SQL wants it: bracketed if it was, or if it must be (not a plain word, a
    U-SQL keyword, a C# reserved word)."""
    return quote_ident(name, quoted)


def _mapped(ref, config):
    """(database, schema, name) on the secondary for a resolved reference."""
    db, schema, name = ref.database, ref.schema, ref.name
    new_db = config.database(db) if db is not None else None
    new_schema, new_name = schema, name
    if ref.kind is ObjectKind.SCHEMA or ref.kind.in_schema:
        if schema is not None:
            new_schema = config.schemas.get((db, schema), schema)
    if ref.kind.in_schema and name is not None:
        new_name = config.objects.get((db, schema, name), name)
    elif ref.kind.in_database and name is not None:
        table = {ObjectKind.ASSEMBLY: config.assemblies, ObjectKind.DATA_SOURCE: config.data_sources,
                 ObjectKind.CREDENTIAL: config.credentials}[ref.kind]
        new_name = table.get((db, name), name)
    return new_db, new_schema, new_name


def _new_account(account: str, config) -> str:
    """The secondary ADLA account for the account part of a 4-part name."""
    if account.lower() == config.primary_analytics.lower():
        return config.secondary_analytics
    return account


def edits(script: A.Script, config, path=None):
    """Each written part of each catalog name renamed to the secondary's, as it is spelled."""
    out, warnings = [], []
    for ref in references(script):
        if ref.database is None or not ref.kind.catalog:
            continue
        new_db, new_schema, new_name = _mapped(ref, config)
        n = ref.node
        what = f"{ref.kind} {'.'.join(ref.qualified)}"
        slots = [(n.database, ref.database, new_db), (n.schema, ref.schema, new_schema),
                 (n.object, ref.name, new_name)]
        if n.account is not None:
            slots.append((n.account, n.account.name, _new_account(n.account.name, config)))
        for ident, old, new in slots:
            if ident is not None and new != old:
                out.append(Edit.replace(ident.span, spell(new, ident.quoted), f"{what}: {old} -> {new}"))
        if (ref.kind.in_schema and n.schema is None and not n.empty_schema and n.database is None
                and not ref.schema_explicit and new_schema != ref.schema):
            # Unqualified name in the default schema, which is renamed: qualify it.
            ident = n.object
            out.append(Edit(ident.span.start, ident.span.start, spell(new_schema, False) + ".",
                            f"{what}: default schema {ref.schema} -> {new_schema}"))
        elif ref.kind.in_schema and n.empty_schema and new_schema != ref.schema:
            # db..obj in the default schema dbo, which is renamed: write the schema in.
            dot = n.database.span.end
            out.append(Edit(dot + 1, dot + 1, spell(new_schema, False),
                            f"{what}: default schema {ref.schema} -> {new_schema}"))
    return out, warnings
