"""Each account's Data Lake Store as a folder, and a job executed on the engine against it.

The emulator keeps, under one base folder, ``stores/<store account>/`` (a Data Lake Store or a
Blob storage account: ``wasbs://CONTAINER@ACCOUNT...`` is ``stores/<account>/<container>/``) and
``catalogs/<analytics account>/`` (the U-SQL catalog of an ADLA account). A job submitted to an
ADLA account runs on the engine with that account's default store as its root: ``/in/x.csv`` is
``stores/<default store>/in/x.csv``, and ``adl://OTHER.azuredatalakestore.net/p`` is
``stores/other/p``, so a script rewritten for the secondary reads and writes the secondary's store.
"""
from __future__ import annotations

import os
import re
from urllib.parse import unquote

from ..engine.errors import JobFailed
from ..engine.store import Store

__all__ = ["AccountStore", "execute", "store_dir", "catalog_dir"]

_ADL = re.compile(r"^(?:adl|swebhdfs|webhdfs|https?)://([^/.:]+)\.[^/]*?(?::\d+)?(/.*)?$", re.I)
_WASB = re.compile(r"^wasbs?://([^@/]+)@([^/.]+)(?:\.[^/]*)?(/.*)?$", re.I)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,62}$")


def store_dir(base: str, account: str) -> str:
    """The folder of a store (ADLS or Blob) account under the emulator's base folder."""
    if not _NAME.match(account or ""):
        raise ValueError(f"not an account name: {account!r}")
    return os.path.join(os.path.abspath(base), "stores", account.lower())


def catalog_dir(base: str, account: str) -> str:
    """The folder of an ADLA account's U-SQL catalog under the emulator's base folder."""
    if not _NAME.match(account or ""):
        raise ValueError(f"not an account name: {account!r}")
    return os.path.join(os.path.abspath(base), "catalogs", account.lower())


class AccountStore(Store):
    """The engine's store for a job of one ADLA account: its default store is the root, other
    accounts' URIs are their own folders; nothing outside ``base/stores`` is reachable."""

    def __init__(self, base: str, analytics_account: str, store_account: str):
        super().__init__(store_dir(base, store_account))
        self.stores = os.path.join(os.path.abspath(base), "stores")
        self._catalog = catalog_dir(base, analytics_account)

    @property
    def catalog_dir(self) -> str:
        return self._catalog

    def local(self, location: str, node=None) -> str:
        loc = location.strip()
        m = _WASB.match(loc)
        if m:
            rel = os.path.join(m.group(2).lower(), m.group(1), unquote(m.group(3) or "/").lstrip("/"))
        else:
            m = _ADL.match(loc)
            if not m:
                return super().local(location, node)
            p = m.group(2) or "/"
            if p.startswith("/webhdfs/v1"):
                p = p[len("/webhdfs/v1"):]
            rel = os.path.join(m.group(1).lower(), unquote(p).lstrip("/"))
        full = os.path.normpath(os.path.join(self.stores, rel))
        if not full.startswith(self.stores + os.sep) or os.sep not in full[len(self.stores) + 1:]:
            raise JobFailed(f"the location {location} is outside the store", node)
        return full


def _error(e, code: str) -> dict:
    """An engine error in the shape the service reports a job's errors (JobErrorDetails)."""
    return {"errorId": code, "severity": "Error", "source": "USER", "message": e.message,
            "description": e.message, "details": f"at line {e.line}, column {e.column}",
            "lineNumber": e.line, "startOffset": 0, "endOffset": 0,
            "resolution": "Correct the script or its input and resubmit.", "filePath": "script.usql",
            "helpLink": "", "internalDiagnostics": ""}


def _code(e) -> str:
    """The ADLA error id closest to an engine error: compile errors (an unknown table, database,
    column or rowset) as the compiler names them, the rest a vertex failure at run time."""
    from ..engine.errors import CannotRun
    m = e.message
    if isinstance(e, CannotRun):
        return "E_EMULATOR_CANNOTRUN"
    if re.search(r"^the (table|table or view|view) .* does not exist", m):
        return "E_CSC_USER_DDLENTITYDOESNOTEXIST"
    if re.search(r"^the database .* does not exist", m):
        return "E_CSC_USER_DATABASENOTFOUND"
    if re.search(r"^the schema .* does not exist", m):
        return "E_CSC_USER_SCHEMANOTFOUND"
    if "already exists" in m:
        return "E_CSC_USER_DDLENTITYALREADYEXISTS"
    if re.search(r"has no column|is not a column|no column named|column .* not found|^unknown column", m):
        return "E_CSC_USER_INVALIDCOLUMNREFERENCE"
    if "rowset" in m and "not defined" in m:
        return "E_CSC_USER_ROWSETNOTDEFINED"
    if "variable" in m and "not declared" in m:
        return "E_CSC_USER_VARIABLENOTDEFINED"
    if m.startswith("no input file"):
        return "E_STORE_USER_FILENOTFOUND"
    if not isinstance(e, JobFailed):
        return "E_CSC_USER_SEMANTICERROR"
    return "E_RUNTIME_USER_VERTEXFAILED"


#: catalog objects that hold no rows (assemblies, credentials, data sources, statistics): the emulator's
#: catalog records them (see :mod:`.catalog`); the engine, which has no use for them, never sees them
_CATALOG_ONLY = ("CreateAssembly", "CreateDataSource", "AlterDataSource", "CreateCredential", "AlterCredential",
                 "CreateStatistics")
_CATALOG_ONLY_KINDS = ("assembly", "data_source", "credential", "statistics")


def data_statements(script):
    """The script without its catalog-only statements (top level)."""
    import dataclasses

    def data(s):
        if type(s).__name__ in _CATALOG_ONLY:
            return False
        kind = getattr(getattr(s, "object_kind", None), "value", None)
        return not (type(s).__name__ == "Drop" and kind in _CATALOG_ONLY_KINDS)
    kept = tuple(s for s in script.statements if data(s))
    return script if len(kept) == len(script.statements) else dataclasses.replace(script, statements=kept)


def execute(script, base: str, analytics_account: str, store_account: str) -> list[dict]:
    """Run a parsed job on the engine against the account's store and catalog, all or nothing.
    The errors (JobErrorDetails), empty when it succeeded."""
    from ..engine import EngineError, uses_catalog
    from ..engine.duckdb_engine import DuckDBEngine
    from ..engine.job import Job
    from ..engine.runnable import blockers
    script = data_statements(script)
    found = blockers(script)
    if found:
        return [_error(found[0], _code(found[0]))]
    st = AccountStore(base, analytics_account, store_account)
    os.makedirs(st.root, exist_ok=True)
    engine = DuckDBEngine(st.catalog_dir if uses_catalog(script) else None, st.root)
    try:
        Job(script, st, engine, None, "script.usql").run()
    except EngineError as e:
        return [_error(e, _code(e))]
    except OSError as e:
        class _E:
            message, line, column = f"the job failed: {e.strerror or e}", 1, 1
        return [_error(_E, "E_RUNTIME_USER_VERTEXFAILED")]
    finally:
        engine.close()
    return []
