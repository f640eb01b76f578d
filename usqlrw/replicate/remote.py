"""The catalog model of a live account: what :func:`usqlrw.jobs.catalog.pull_catalog` reads through
the SDK, mapped into the same :class:`~.catalog.Model` the scripts give.

``usqlrw replicate --catalog-from-primary`` pulls the primary's catalog and applies the scripts'
DDL on top of it, in order, so the bundle also covers objects no script in the repository creates
(made by hand, or by scripts that are gone); ``--catalog FILE`` does the same from a saved pull
(or a ``catalog/model.json``). TVF, view, procedure and package definitions are parsed as the
scripts are, for their columns and dependencies.

What the catalog does not say is recorded, not guessed: a data source's credential and an
assembly's files become notes that the sync turns into manual steps.
"""
from __future__ import annotations

from . import staging as S
from .catalog import FORMAT as MODEL_FORMAT
from .catalog import CatalogObject, Column, Model, key_of

__all__ = ["model_from_pull", "model_from_catalog", "load_catalog"]


def _q(*parts) -> str:
    return ".".join(S.quote_ident(p) for p in parts if p)


def _directed(keys) -> list:
    return [k["name"] + (" DESC" if k.get("descending") else "") for k in keys or ()]


def _table(db: str, sch: str, t: dict, src: str, base: list) -> CatalogObject:
    o = CatalogObject("table", db, sch, t["name"], source=src, context=[db, ""], depends=list(base))
    o.columns = [Column(c["name"], "".join((c.get("type") or "").split())) for c in t.get("columns") or ()]
    idx = (t.get("indexes") or [None])[0]
    if idx is not None:
        o.index = {"name": idx.get("name", ""), "columns": _directed(idx.get("keys"))}
    o.partitioned_by = list(t.get("partitionKeys") or [])
    dist = t.get("distribution")
    if dist:
        scheme = dist.get("type")
        cols = _directed(dist.get("keys")) if scheme == "RANGE" else [k["name"] for k in dist.get("keys") or ()]
        o.distribution = {"scheme": scheme, "columns": cols,
                          "buckets": str(dist["count"]) if dist.get("count") else None}
    if t.get("external"):
        o.kind = "external_table"
        o.notes.append("external table: recreate it on the secondary by hand after its data source")
    return o


def _from_definition(db: str, ddl: str, known: Model):
    """The object a stored definition creates, read as the scripts are (columns, dependencies)."""
    import usqlrw
    from .catalog import build_model
    try:
        script = usqlrw.parse(f"USE DATABASE {S.quote_ident(db)};\n{ddl};\n")
    except Exception:
        return None
    scratch = Model(dict(known.objects))
    before = set(scratch.objects)
    build_model([("(catalog)", script)], scratch)
    new = [o for k, o in scratch.objects.items() if k not in before]
    return new[0] if len(new) == 1 else None


def model_from_pull(doc: dict) -> Model:
    """The model of a pulled catalog (the dict :func:`usqlrw.jobs.catalog.pull_catalog` returns)."""
    m = Model()
    src = f"catalog of {doc.get('account', '?')}"
    for d in sorted(doc.get("databases") or (), key=lambda x: x["name"].lower()):
        db = d["name"]
        dbkey = key_of("database", db, "", db)
        m.objects[dbkey] = CatalogObject("database", db, "", db, source=src)
        for a in d.get("assemblies") or ():
            o = CatalogObject("assembly", db, "", a["name"], source=src, context=[db, ""], depends=[dbkey])
            o.notes.append("the catalog holds this assembly's binary, not the files it was created from: "
                           "register the same DLL on the secondary")
            m.objects[o.key] = o
        for x in d.get("dataSources") or ():
            o = CatalogObject("data_source", db, "", x["name"], source=src, context=[db, ""], depends=[dbkey])
            ps = (x.get("providerString") or "").replace("\\", "\\\\").replace('"', '\\"')
            opts = [f'PROVIDER_STRING = "{ps}"']
            if x.get("pushdownTypes"):
                opts.append(f"REMOTABLE_TYPES = ({', '.join(x['pushdownTypes'])})")
            o.ddl = f"CREATE DATA SOURCE IF NOT EXISTS {_q(x['name'])} FROM {x.get('provider')} WITH ({', '.join(opts)})"
            o.notes.append("the catalog does not say which credential the data source uses: add "
                           "CREDENTIAL = ... to it on the secondary by hand")
            m.objects[o.key] = o
        for c in d.get("credentials") or ():
            name = c if isinstance(c, str) else c.get("name")
            o = CatalogObject("credential", db, "", name, source=src, context=[db, ""], depends=[dbkey])
            m.objects[o.key] = o
        for s in sorted(d.get("schemas") or (), key=lambda x: x["name"].lower()):
            sch = s["name"]
            base = [dbkey]
            if sch.lower() != "dbo":
                o = CatalogObject("schema", db, "", sch, source=src, context=[db, ""], depends=[dbkey])
                m.objects[o.key] = o
                base.append(o.key)
            for t in s.get("tables") or ():
                o = _table(db, sch, t, src, base)
                m.objects[o.key] = o
            for t in s.get("tableTypes") or ():
                o = CatalogObject("type", db, sch, t["name"], source=src, context=[db, ""], depends=list(base))
                o.columns = [Column(c["name"], "".join(c["type"].split())) for c in t.get("columns") or ()]
                o.ddl = (f"CREATE TYPE IF NOT EXISTS {_q(sch, t['name'])} AS TABLE ("
                         + ", ".join(f"{S.quote_ident(c.name)} {c.type}" for c in o.columns) + ")")
                m.objects[o.key] = o
            for kind, field_ in (("tvf", "tvfs"), ("view", "views"), ("procedure", "procedures"),
                                 ("package", "packages")):
                for it in s.get(field_) or ():
                    o = CatalogObject(kind, db, sch, it["name"], source=src, context=[db, ""], depends=list(base))
                    text = (it.get("definition") or "").strip()
                    o.ddl = text[:-1].rstrip() if text.endswith(";") else text
                    parsed = _from_definition(db, o.ddl, m) if o.ddl else None
                    if parsed is not None and parsed.kind == kind and parsed.name.lower() == it["name"].lower():
                        o.columns, o.depends = parsed.columns, sorted(set(parsed.depends) | set(base))
                    elif o.ddl:
                        m.warnings.append(f"{src}: {db}.{sch}.{it['name']}: its definition does not parse")
                    else:
                        o.notes.append(f"the catalog gives no definition for this {kind}")
                    m.objects[o.key] = o
    return m


def model_from_catalog(clients, account: str, databases=None) -> Model:
    """Pull ``account``'s catalog with ``clients`` (:class:`usqlrw.jobs.client.AdlaClients`, or
    anything with ``.catalog.catalog``) and map it."""
    from ..jobs.catalog import pull_catalog
    return model_from_pull(pull_catalog(clients, account, databases))


def load_catalog(text: str) -> Model:
    """A model from a saved file: a ``catalog/model.json`` or a pulled catalog (JSON)."""
    import json
    doc = json.loads(text)
    if isinstance(doc, dict) and doc.get("format") == MODEL_FORMAT:
        return Model.from_dict(doc)
    if isinstance(doc, dict) and isinstance(doc.get("databases"), list):
        return model_from_pull(doc)
    raise ValueError(f"neither a catalog model ({MODEL_FORMAT}) nor a pulled catalog")
