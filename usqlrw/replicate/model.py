"""The catalog model replication works on: objects with their columns, keyed by kind and
qualified name, and how resolved names become the model's keys. Built by replicate/catalog.py,
read by the sync and the job plans."""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

from .. import ast as A
from ..resolve import Context, QualifiedName, qualify

__all__ = ["Column", "CatalogObject", "Model", "KIND_ORDER", "FORMAT", "key_of", "norm_type",
           "model_name", "resolve_name"]

FORMAT = "usqlrw-catalog/1"

#: the order objects are created in on the secondary (dependencies first)
KIND_ORDER = ("database", "schema", "type", "assembly", "credential", "data_source", "table",
              "external_table", "tvf", "view", "procedure", "package", "statistics")


@dataclass
class Column:
    name: str
    type: str            # as written, normalised spacing: "int?", "SQL.MAP<string,int?>", "byte[]"

    @property
    def nullable(self) -> bool:
        return self.type.endswith("?")


@dataclass
class CatalogObject:
    kind: str
    database: str
    schema: str          # "" for databases, schemas' own entry uses the schema name in `name`
    name: str
    ddl: str = ""        # the CREATE statement as written (no trailing ';'), secrets removed
    source: str = ""     # path:line of the statement that made the current state
    columns: list = field(default_factory=list)          # [Column]
    index: dict | None = None                            # {"name", "columns": ["a ASC", ...]}
    partitioned_by: list = field(default_factory=list)   # column names
    distribution: dict | None = None                     # {"scheme", "columns", "buckets"}
    partitions: list = field(default_factory=list)       # static partition labels, as written
    files: list = field(default_factory=list)            # assemblies: [path, ...]
    depends: list = field(default_factory=list)          # ["kind:db.schema.name", ...]
    schema_known: bool = True                            # False: CREATE TABLE AS with no stated schema
    context: list = field(default_factory=list)          # [database, schema or ""] the DDL was written in
    notes: list = field(default_factory=list)

    @property
    def key(self) -> str:
        return key_of(self.kind, self.database, self.schema, self.name)

    @property
    def qualified(self) -> tuple:
        return tuple(x for x in (self.database, self.schema, self.name) if x) if self.kind not in (
            "database", "schema") else ((self.name,) if self.kind == "database" else (self.database, self.name))

    @property
    def fingerprint(self) -> str:
        d = self.to_dict()
        d.pop("source", None)
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]

    def to_dict(self) -> dict:
        d = asdict(self)
        d["columns"] = [[c["name"], c["type"]] for c in d["columns"]]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "CatalogObject":
        d = dict(d)
        d["columns"] = [Column(n, t) for n, t in d.get("columns", [])]
        return cls(**d)


def key_of(kind: str, database: str, schema: str, name: str) -> str:
    return f"{kind}:{'.'.join(x for x in (database, schema, name) if x)}"


@dataclass
class Model:
    objects: dict = field(default_factory=dict)     # key -> CatalogObject
    warnings: list = field(default_factory=list)    # "path:line: message"

    def get(self, kind, database, schema, name) -> CatalogObject | None:
        o = self.objects.get(key_of(kind, database, schema, name))
        if o is None:   # catalog names are case-insensitive in lookups
            want = key_of(kind, database, schema, name).lower()
            o = next((v for k, v in self.objects.items() if k.lower() == want), None)
        return o

    def table(self, database, schema, name) -> CatalogObject | None:
        return self.get("table", database, schema, name)

    def ordered(self) -> list:
        """Objects in creation order: by kind, then dependencies first, then by name."""
        rank = {k: i for i, k in enumerate(KIND_ORDER)}
        objs = sorted(self.objects.values(), key=lambda o: (rank.get(o.kind, 99), o.key.lower()))
        placed, out = set(), []
        by_key = {o.key: o for o in objs}

        for o in objs:   # depth-first on depends, iteratively
            stack = [(o, iter(sorted(d for d in o.depends if d in by_key and d != o.key)))]
            if o.key in placed:
                continue
            visiting = {o.key}
            while stack:
                cur, it = stack[-1]
                nxt = next((d for d in it if d not in placed and d not in visiting), None)
                if nxt is None:
                    stack.pop()
                    if cur.key not in placed:
                        placed.add(cur.key)
                        out.append(cur)
                    continue
                visiting.add(nxt)
                dep = by_key[nxt]
                stack.append((dep, iter(sorted(d for d in dep.depends if d in by_key and d != dep.key))))
        return out

    def to_dict(self) -> dict:
        return {"format": FORMAT,
                "objects": [o.to_dict() for o in sorted(self.objects.values(), key=lambda o: o.key.lower())]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    @classmethod
    def from_dict(cls, d: dict) -> "Model":
        if d.get("format") != FORMAT:
            raise ValueError(f"not a usqlrw catalog model (format {d.get('format')!r}, expected {FORMAT!r})")
        m = cls()
        for od in d.get("objects", []):
            o = CatalogObject.from_dict(od)
            m.objects[o.key] = o
        return m

    @classmethod
    def from_json(cls, text: str) -> "Model":
        return cls.from_dict(json.loads(text))


def norm_type(t: A.Type) -> str:
    """A type's text with whitespace removed after commas kept canonical: ``SQL.MAP<string,int?>``."""
    return "".join(t.text.split())


def model_name(q: QualifiedName, kind: str | None = None) -> tuple[str, str, str]:
    """(database, schema, name) of a resolved name, as the model keys objects: a database is
    (db, "", db), a schema (db, "", schema), a database-level object (db, "", name)."""
    kind = str(kind or q.kind)
    if kind == "database":
        return q.database or "", "", q.database or ""
    if kind == "schema":
        return q.database or "", "", q.schema or ""
    return q.triple


def resolve_name(name: A.ObjectName, ctx: Context, kind: str) -> tuple[str, str, str]:
    """The model's (database, schema, name) of ``name`` read as an object of model ``kind`` in
    static context ``ctx`` (an external table resolves as a table)."""
    k = "table" if kind == "external_table" else kind
    return model_name(qualify(name, ctx, k), kind)
