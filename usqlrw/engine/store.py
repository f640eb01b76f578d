"""The job's default Data Lake Store: a local folder.

``/in/x.csv`` and ``in/x.csv`` are ``STORE/in/x.csv``. Account URIs resolve to per-account
folders under ``STORE/accounts/``:

* ``adl://ACCOUNT.azuredatalakestore.net/p`` and ``swebhdfs://``/``webhdfs://``/``https://`` to
  ``ACCOUNT.azuredatalakestore.net/webhdfs/v1/p``: ``STORE/accounts/ACCOUNT/p``;
* ``wasb[s]://CONTAINER@ACCOUNT.blob.core.windows.net/p``: ``STORE/accounts/ACCOUNT/CONTAINER/p``.

So a script rewritten for another account runs against that account's folder. A path that
leaves the store (``..``) is refused. The U-SQL catalog lives in ``STORE/catalog/`` (as ADLA
keeps it in the account's default store)."""
from __future__ import annotations

import os
import re
from urllib.parse import unquote

from .errors import JobFailed

__all__ = ["Store"]

_ADL = re.compile(r"^(?:adl|swebhdfs|webhdfs|https?)://([^/.]+)\.[^/]*?(?::\d+)?(/.*)?$", re.I)
_WASB = re.compile(r"^wasbs?://([^@/]+)@([^/.]+)(?:\.[^/]*)?(/.*)?$", re.I)


class Store:
    def __init__(self, root: str):
        self.root = os.path.abspath(root)

    @property
    def catalog_dir(self) -> str:
        return os.path.join(self.root, "catalog")

    def local(self, location: str, node=None) -> str:
        """The local path of a store location (file set braces kept)."""
        loc = location.strip()
        m = _WASB.match(loc)
        if m:
            rel = os.path.join("accounts", m.group(2).lower(), m.group(1), unquote(m.group(3) or "/").lstrip("/"))
        else:
            m = _ADL.match(loc)
            if m:
                p = m.group(2) or "/"
                if p.startswith("/webhdfs/v1"):
                    p = p[len("/webhdfs/v1"):]
                rel = os.path.join("accounts", m.group(1).lower(), unquote(p).lstrip("/"))
            elif "://" in loc:
                raise JobFailed(f"the location {location} is not a Data Lake Store or Blob storage URI", node)
            else:
                rel = unquote(loc).lstrip("/")      # paths are URIs: %20 is a space (input-files-u-sql.md)
        full = os.path.normpath(os.path.join(self.root, rel))
        if full != self.root and not full.startswith(self.root + os.sep):
            raise JobFailed(f"the location {location} is outside the store", node)
        if full.startswith(self.catalog_dir + os.sep) or full == self.catalog_dir:
            raise JobFailed(f"the location {location} is inside the store's catalog folder", node)
        return full
