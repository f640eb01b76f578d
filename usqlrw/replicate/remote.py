"""The catalog model read from an ADLA account through the SDK (azure-mgmt-datalake-analytics).

:func:`model_from_catalog` lists the account's databases, schemas, tables (columns, clustered
index, partition keys, distribution), table types, TVFs, views, procedures, packages, assemblies,
data sources and credentials, and returns the same :class:`~.catalog.Model` the scripts give, so a
bundle can cover objects no script in the repository creates (made by hand, or by scripts that
are gone). ``usqlrw replicate --catalog-from-primary`` starts from it and applies the scripts on
top, in order.

What the catalog does not say is recorded, not guessed: a data source's credential and an
assembly's binary become notes that the sync turns into manual steps; partitions are read only
as far as their labels are given as literals.
"""
from __future__ import annotations

from . import staging as S
from .catalog import CatalogObject, Column, Model, key_of

__all__ = ["model_from_catalog"]

# the service's distribution type codes
_DISTRIBUTION = {2: "HASH", 3: "RANGE", 4: "ROUND ROBIN", 5: "DIRECT HASH"}


def _list(fn, *args):
    try:
        return list(fn(*args))
    except Exception as e:   # a collection the endpoint does not serve: say so in the model
        return e


def _q(*parts) -> str:
    return ".".join(S.quote_ident(p) for p in parts if p)


def _directed(cols) -> list:
    return [c.name + (" DESC" if getattr(c, "descending", False) else "") for c in cols or ()]


def _table(db: str, sch: str, t, source: str) -> CatalogObject:
    o = CatalogObject("table", db, sch, t.name, source=source, context=[db, ""])
    o.columns = [Column(c.name, "".join((c.type or c.data_type or "").split())) for c in t.column_list or ()]
    idx = (t.index_list or [None])[0]
    if idx is not None:
        o.index = {"name": idx.name, "columns": _directed(idx.index_keys)}
        o.partitioned_by = list(idx.partition_key_list or t.partition_key_list or [])
    dist = (idx.distribution_info if idx is not None else None) or t.distribution_info
    if dist is not None and dist.type in _DISTRIBUTION:
        scheme = _DISTRIBUTION[dist.type]
        cols = _directed(dist.keys) if scheme == "RANGE" else [k.name for k in dist.keys or ()]
        o.distribution = {"scheme": scheme, "columns": cols, "buckets": str(dist.count) if dist.count else None}
    if t.external_table is not None:
        o.kind = "external_table"
        o.notes.append("external table: recreate its data source first")
    return o


def _from_definition(db: str, ddl: str, known: Model):
    """The object a stored definition creates, read as the scripts are (columns, dependencies)."""
    import usqlrw
    from .catalog import build_model
    try:
        script = usqlrw.parse(f"USE DATABASE {S.quote_ident(db)};\n{ddl};\n")
    except Exception:
        return None
    scratch = Model({k: v for k, v in known.objects.items()})
    before = set(scratch.objects)
    build_model([("(catalog)", script)], scratch)
    new = [o for k, o in scratch.objects.items() if k not in before]
    return new[0] if len(new) == 1 else None


def model_from_catalog(catalog, account: str, databases=None) -> Model:
    """The model of ``account``'s catalog read with ``catalog``, the SDK's
    DataLakeAnalyticsCatalogManagementClient (only ``databases`` when given; ``master`` is skipped
    unless named)."""
    m = Model()
    dbs = _list(catalog.catalog.list_databases, account)
    if isinstance(dbs, Exception):
        raise dbs
    for d in sorted(dbs, key=lambda x: x.name.lower()):
        db = d.name
        if (databases is not None and db not in databases) or (databases is None and db.lower() == "master"):
            continue
        src = f"catalog of {account}"
        m.objects[key_of("database", db, "", db)] = CatalogObject("database", db, "", db, source=src)
        for kind, fn in (("assembly", catalog.catalog.list_assemblies),
                         ("data_source", catalog.catalog.list_external_data_sources),
                         ("credential", catalog.catalog.list_credentials)):
            items = _list(fn, account, db)
            if isinstance(items, Exception):
                m.warnings.append(f"{src}: {db}: cannot list {kind} objects ({items})")
                continue
            for it in items:
                o = CatalogObject(kind, db, "", it.name, source=src, context=[db, ""])
                o.depends = [key_of("database", db, "", db)]
                if kind == "data_source":
                    opts = [f'PROVIDER_STRING = "{(it.provider_string or "").replace(chr(34), chr(92) + chr(34))}"']
                    if it.pushdown_types:
                        opts.append(f"REMOTABLE_TYPES = ({', '.join(it.pushdown_types)})")
                    o.ddl = f"CREATE DATA SOURCE IF NOT EXISTS {_q(it.name)} FROM {it.provider} WITH ({', '.join(opts)})"
                    o.notes.append("the catalog does not say which credential the data source uses: add "
                                   "CREDENTIAL = ... to its definition on the secondary by hand")
                elif kind == "assembly":
                    full = _list(catalog.catalog.get_assembly, account, db, it.name)
                    files = [f.original_path for f in getattr(full, "files", None) or () if f.original_path] \
                        if not isinstance(full, Exception) else []
                    o.files = [f'@"{p}"' for p in files]
                    o.ddl = (f'CREATE ASSEMBLY IF NOT EXISTS {_q(it.name)} FROM @"{files[0]}"' if files else "")
                    if len(files) > 1:
                        o.ddl += " WITH ADDITIONAL_FILES = (" + ", ".join(f'@"{p}"' for p in files[1:]) + ")"
                    if not files:
                        o.notes.append("the catalog holds this assembly's binary but no file it came from")
                m.objects[o.key] = o
        schemas = _list(catalog.catalog.list_schemas, account, db)
        if isinstance(schemas, Exception):
            m.warnings.append(f"{src}: {db}: cannot list schemas ({schemas})")
            continue
        for s in sorted(schemas, key=lambda x: x.name.lower()):
            sch = s.name
            if sch.lower() != "dbo":
                o = CatalogObject("schema", db, "", sch, source=src, context=[db, ""])
                o.depends = [key_of("database", db, "", db)]
                m.objects[o.key] = o
            base = [key_of("database", db, "", db)] + ([key_of("schema", db, "", sch)] if sch.lower() != "dbo" else [])
            tables = _list(catalog.catalog.list_tables, account, db, sch)
            for t in ([] if isinstance(tables, Exception) else tables):
                o = _table(db, sch, t, src)
                o.depends = list(base)
                m.objects[o.key] = o
            types = _list(catalog.catalog.list_table_types, account, db, sch)
            for t in ([] if isinstance(types, Exception) else types):
                o = CatalogObject("type", db, sch, t.name, source=src, context=[db, ""], depends=list(base))
                o.columns = [Column(c.name, "".join(c.type.split())) for c in t.columns or ()]
                o.ddl = (f"CREATE TYPE IF NOT EXISTS {_q(sch, t.name)} AS TABLE ("
                         + ", ".join(f"{S.quote_ident(c.name)} {c.type}" for c in o.columns) + ")")
                m.objects[o.key] = o
            for kind, fn in (("tvf", catalog.catalog.list_table_valued_functions),
                             ("view", catalog.catalog.list_views),
                             ("procedure", catalog.catalog.list_procedures),
                             ("package", catalog.catalog.list_packages)):
                items = _list(fn, account, db, sch)
                if isinstance(items, Exception):
                    m.warnings.append(f"{src}: {db}.{sch}: cannot list {kind} objects ({items})")
                    continue
                for it in items:
                    o = CatalogObject(kind, db, sch, it.name, source=src, context=[db, ""], depends=list(base))
                    text = (it.definition or "").strip()
                    o.ddl = text[:-1].rstrip() if text.endswith(";") else text
                    parsed = _from_definition(db, o.ddl, m) if o.ddl else None
                    if parsed is not None and parsed.kind == kind and parsed.name.lower() == it.name.lower():
                        o.columns, o.depends = parsed.columns, sorted(set(parsed.depends) | set(base))
                    elif o.ddl:
                        m.warnings.append(f"{src}: {db}.{sch}.{it.name}: its definition could not be read")
                    else:
                        o.notes.append(f"the catalog gives no definition for this {kind}")
                    m.objects[o.key] = o
    return m
