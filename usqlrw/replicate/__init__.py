"""Replication to the secondary region (``usqlrw replicate``).

* :mod:`.catalog`  the catalog model, built from DDL in script order; JSON, diffable
* :mod:`.remote`   the same model from a live account's catalog (SDK) or a saved pull
* :mod:`.sync`     idempotent catalog-sync DDL in dependency order, full or incremental, plus the
                   manual steps for what no script can copy
* :mod:`.staging`  the staging format (usqlrw-staging/1) and its per-type serialisation
* :mod:`.jobs`     the DR copy of each job that writes a table, and its secondary import script
* :mod:`.snapshot` per-table and per-partition export/import pairs
* :mod:`.bundle`   the bundle on disk: catalog/, primary/, secondary/ and manifest.json
"""
from .bundle import Bundle, build_bundle, write_bundle
from .catalog import Model, build_model
from .staging import StagingError

__all__ = ["Bundle", "build_bundle", "write_bundle", "Model", "build_model", "StagingError"]
