"""The accounts' stores as a failover step sees them: through the ``azure-datalake-store`` client.

A drill and ``failover verify`` read files (job outputs, table exports) and copy them (the jobs'
inputs, primary to secondary) on the stores of the endpoint the jobs go to: an emulator (embedded
or at a URL; it serves its stores over WebHDFS, :mod:`usqlrw.emulator.webhdfs`) or Azure. The
token is the one the jobs are sent with (see :func:`endpoint_token`), so it reaches only the
endpoint's own stores.

    read = store_reader(ep, credentials)          # (store, path) -> bytes | None
    sync = store_sync(ep, credentials)            # [FileInput-like] -> ["store:path" copied]
"""
from __future__ import annotations

import os

__all__ = ["endpoint_token", "store_opener", "store_reader", "store_sync", "SyncFailed"]


class SyncFailed(Exception):
    """Some input could not be copied: one line per file, no token."""


def endpoint_token(credentials=None) -> str | None:
    """The bearer token of the jobs' msrest ``credentials`` (a fixed token), else $USQLRW_ADLA_TOKEN,
    else None (the store client then uses the emulator's placeholder or azure-identity's)."""
    from ..jobs.client import TOKEN_ENV
    token = getattr(credentials, "token", None)
    token = token.get("access_token") if isinstance(token, dict) else None
    return token if isinstance(token, str) and token else os.environ.get(TOKEN_ENV) or None


def store_opener(ep, credentials=None):
    """``open(store_account) -> Store`` on the endpoint's stores, each store opened once."""
    from ..datalake import open_store
    token = endpoint_token(credentials)
    stores: dict = {}

    def open_(name: str):
        key = name.lower()
        if key not in stores:
            stores[key] = open_store(key, ep, token=token)
        return stores[key]
    return open_


def store_reader(ep, credentials=None):
    """``read(store, path) -> bytes | None`` through the client (None: no such file). A store that
    cannot be read raises :class:`usqlrw.datalake.StoreError` (one line)."""
    open_ = store_opener(ep, credentials)

    def read(store: str, path: str):
        s = open_(store)
        st = s.stat(path)
        if st is None or not st.is_file:
            return None
        return s.read(path)
    return read


def store_sync(ep, credentials=None, progress=None):
    """``sync(inputs) -> [copied "store:path"]``: :func:`usqlrw.syncfiles.sync_files` from the
    primary's stores to the secondary's on this endpoint (incremental: files already equal are
    skipped). Raises :class:`SyncFailed` naming every file that could not be copied."""
    from ..syncfiles import sync_files
    open_ = store_opener(ep, credentials)

    def sync(inputs) -> list:
        report = sync_files(inputs, open_, open_, progress=progress)
        if not report.ok:
            bad = [str(i) for i in report.items if i.status == "failed"]
            raise SyncFailed(f"{len(bad)} file(s) not copied: " + "; ".join(bad[:5]))
        return [f"{i.target}" for i in report.items if i.status == "copied"]
    return sync
