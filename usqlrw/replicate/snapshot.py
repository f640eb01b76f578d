"""Snapshot resync: export/import pairs that copy a table's current contents to the secondary.

For tables no job script writes (their rows only ever change by hand, or the secondary drifted),
each table gets an export script for the primary and an import script for the secondary, using the
same staging format as the jobs (:mod:`.staging`). A partitioned table gets one pair per partition
the catalog model knows (its static ``ADD PARTITION`` labels), each reading the partition's rows by
its partition-key values; the import adds the partition if needed, TRUNCATEs it and INSERTs into
it, so rerunning a pair replaces rather than duplicates. An unpartitioned table gets one pair for
the whole table (TRUNCATE TABLE, then INSERT).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from .. import ast as A
from . import staging as S
from .catalog import CatalogObject, Model
from .jobs import safe_name, staging_root

__all__ = ["SnapshotPair", "snapshot_pairs"]


@dataclass
class SnapshotPair:
    table: tuple
    partition: str | None
    name: str            # file stem
    export_script: str
    import_script: str
    location: str
    columns: list = field(default_factory=list)


def _q(parts) -> str:
    return ".".join(S.quote_ident(p) for p in parts)


def _label_values(label: str) -> list[str]:
    """The expressions of ``PARTITION (e1, e2)`` as written."""
    import usqlrw
    s = usqlrw.parse(f"ALTER TABLE usqlrw_t ADD {label};")
    lab = next(A.find_all(s, A.PartitionLabel))
    src = s.source.text
    return [src[e.span.start:e.span.end] for e in lab.values]


def _pair(t: CatalogObject, config, partition: str | None) -> SnapshotPair:
    table = (t.database, t.schema, t.name)
    cols = t.columns
    if partition is None:
        tag = "all"
    else:
        tag = "p-" + safe_name(" ".join(_label_values(partition)))[:60] + "-" + hashlib.sha256(
            partition.encode()).hexdigest()[:8]
    root = staging_root(config) + "/".join(safe_name(p) for p in table)
    loc = f"{root}/snapshot/{tag}.tsv"
    where = ""
    if partition is not None:
        conds = [f"{S.quote_ident(c)} == {v}" for c, v in zip(t.partitioned_by, _label_values(partition))]
        where = f"\n    WHERE {' AND '.join(conds)}"
    enc = ",\n           ".join(f"{S.encode_expr(c.type, S.quote_ident(c.name))} AS {S.quote_ident(c.name)}"
                                for c in cols)
    export = (f"@usqlrw_rows =\n    SELECT *\n    FROM {_q(table)}{where};\n"
              f"@usqlrw_staged =\n    SELECT {enc}\n    FROM @usqlrw_rows;\n"
              f'OUTPUT @usqlrw_staged\nTO "{loc}"\nUSING {S.OUTPUTTER};\n')
    ext = ",\n            ".join(f"{S.quote_ident(c.name)} string" for c in cols)
    dec = ",\n           ".join(f"{S.decode_expr(c.type, S.quote_ident(c.name))} AS {S.quote_ident(c.name)}"
                                for c in cols)
    imp = [f'@usqlrw_staged =\n    EXTRACT {ext}\n    FROM "{loc}"\n    USING {S.EXTRACTOR};',
           f"@usqlrw_rows =\n    SELECT {dec}\n    FROM @usqlrw_staged;"]
    if partition is not None:
        imp += [f"ALTER TABLE {_q(table)} ADD IF NOT EXISTS {partition};",
                f"TRUNCATE TABLE {_q(table)} {partition};",
                f"INSERT INTO {_q(table)} {partition}\nSELECT * FROM @usqlrw_rows;"]
    else:
        imp += [f"TRUNCATE TABLE {_q(table)};", f"INSERT INTO {_q(table)}\nSELECT * FROM @usqlrw_rows;"]
    name = ".".join(safe_name(p) for p in table) + ("" if partition is None else "." + tag)
    return SnapshotPair(table, partition, name, export, "\n".join(imp) + "\n", loc, list(cols))


def snapshot_pairs(model: Model, config, tables=None) -> tuple[list, list, list]:
    """([SnapshotPair], [problem], [note]) for the model's tables (or only ``tables``: a set of keys).
    A problem is a table that cannot be snapshotted; a note, partitions that are not known statically."""
    pairs, problems, notes = [], [], []
    for t in sorted((o for o in model.objects.values() if o.kind == "table"), key=lambda o: o.key.lower()):
        if tables is not None and t.key not in tables:
            continue
        name = ".".join(t.qualified)
        if not t.schema_known or not t.columns:
            problems.append(f"{name}: no snapshot scripts: its schema is not known from the scripts")
            continue
        try:
            S.check_columns(name, t.columns)
        except S.StagingError as e:
            problems.append(f"{name}: no snapshot scripts: {e}")
            continue
        if t.partitioned_by:
            if not t.partitions:
                notes.append(f"{name}: partitioned, but no script adds a partition with constant values; "
                                "its run-time partitions are copied by the jobs' import scripts, not by snapshots")
            for p in t.partitions:
                pairs.append(_pair(t, config, p))
        else:
            pairs.append(_pair(t, config, None))
    return pairs, problems, notes
