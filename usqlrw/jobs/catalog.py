"""Read an account's live U-SQL catalog through the SDK into plain data.

:func:`pull_catalog` walks databases, schemas and their objects with the catalog client and
returns JSON-ready dicts; it is the input a ``catalog pull`` command maps into the replication
catalog model. Definitions (views, TVFs, procedures, packages) are the service's CREATE text.
"""
from __future__ import annotations

__all__ = ["pull_catalog", "DISTRIBUTION_TYPES"]

#: the service's distribution type codes
DISTRIBUTION_TYPES = {2: "HASH", 3: "RANGE", 4: "ROUND ROBIN", 5: "DIRECT HASH"}


def _enum(v):
    return None if v is None else getattr(v, "value", v)


def _keys(keys) -> list:
    return [{"name": k.name, "descending": bool(k.descending)} for k in (keys or [])]


def _table(t) -> dict:
    d = {"name": t.name, "columns": [{"name": c.name, "type": c.type} for c in (t.column_list or [])],
         "partitionKeys": list(t.partition_key_list or []), "indexes": [], "distribution": None}
    for ix in t.index_list or []:
        d["indexes"].append({"name": ix.name, "keys": _keys(ix.index_keys), "isUnique": bool(ix.is_unique),
                             "isColumnstore": bool(ix.is_columnstore)})
    di = t.distribution_info
    if di is not None and di.type:
        d["distribution"] = {"type": DISTRIBUTION_TYPES.get(di.type, str(di.type)), "keys": _keys(di.keys),
                             "count": di.count or None}
    ext = t.external_table
    if ext is not None and ext.data_source is not None and ext.data_source.name is not None:
        d["external"] = {"table": ext.table_name, "dataSource": ext.data_source.name.first_part}
    return d


def pull_catalog(clients, account: str, databases=None, retry=None, progress=None) -> dict:
    """The catalog of ``account`` (only ``databases`` if given; master included only when named)."""
    cat = clients.catalog.catalog
    call = retry.call if retry is not None else (lambda fn, *a: fn())
    progress = progress or (lambda msg: None)
    wanted = {d.lower() for d in databases} if databases else None
    out = {"account": account, "databases": []}
    for db in call(lambda: list(cat.list_databases(account))):
        name = db.name
        if (wanted is not None and name.lower() not in wanted) or (wanted is None and name == "master"):
            continue
        progress(f"{account}: database {name}")
        d = {"name": name, "schemas": [], "assemblies": [], "dataSources": [], "credentials": []}
        for s in call(lambda: list(cat.list_schemas(account, name))):
            sn = s.name
            d["schemas"].append({
                "name": sn,
                "tables": [_table(t) for t in call(lambda: list(cat.list_tables(account, name, sn)))],
                "views": [{"name": v.name, "definition": v.definition}
                          for v in call(lambda: list(cat.list_views(account, name, sn)))],
                "tvfs": [{"name": f.name, "definition": f.definition}
                         for f in call(lambda: list(cat.list_table_valued_functions(account, name, sn)))],
                "procedures": [{"name": p.name, "definition": p.definition}
                               for p in call(lambda: list(cat.list_procedures(account, name, sn)))],
                "packages": [{"name": p.name, "definition": p.definition}
                             for p in call(lambda: list(cat.list_packages(account, name, sn)))],
                "tableTypes": [{"name": t.name, "columns": [{"name": c.name, "type": c.type}
                                                            for c in (t.columns or [])]}
                               for t in call(lambda: list(cat.list_table_types(account, name, sn)))],
            })
        d["assemblies"] = [{"name": a.name, "clrName": a.clr_name}
                           for a in call(lambda: list(cat.list_assemblies(account, name)))]
        d["dataSources"] = [{"name": x.name, "provider": x.provider, "providerString": x.provider_string,
                             "pushdownTypes": list(x.pushdown_types or [])}
                            for x in call(lambda: list(cat.list_external_data_sources(account, name)))]
        d["credentials"] = [c.name for c in call(lambda: list(cat.list_credentials(account, name)))]
        out["databases"].append(d)
    return out
