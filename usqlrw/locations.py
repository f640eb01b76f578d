"""Mapping one location string from the primary region to the secondary.

Locations come in these forms (U-SQL reference, "Input Files" and "Output to Files"):

* relative to the ADLA account's default store: ``/a/b.csv`` or ``a/b.csv``;
* ADLS Gen1: ``adl://ACCOUNT.azuredatalakestore.net/...``, ``swebhdfs://ACCOUNT.azuredatalakestore.net/...``
  and ``https://ACCOUNT.azuredatalakestore.net/webhdfs/v1/...``;
* Azure Blob storage: ``wasb[s]://CONTAINER@ACCOUNT.blob.core.windows.net/...``;
* any prefix named in the config's ``[[locations]]``.

File-set patterns (``{date:yyyy}``, ``{*}``, ``{name}``) live in the path and are never touched.
:func:`change_for` works on the part of a location that is known before the script runs (a
prefix, when the rest is built at run time) and returns the smallest change to make.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from typing import TYPE_CHECKING

if TYPE_CHECKING:   # the config reads locations, not the other way round
    from .config import DRConfig

#: Host suffixes of ADLS Gen1 stores and Azure Blob storage accounts.
ADLS_SUFFIX = "azuredatalakestore.net"
BLOB_SUFFIX = "blob.core.windows.net"

_ADLS = re.compile(r"^(adl|swebhdfs|webhdfs|https?)://([A-Za-z0-9-]+)(\." + re.escape(ADLS_SUFFIX) + r")(?=[/:?]|$)", re.I)
_BLOB = re.compile(r"^(wasbs?)://([^@/]*)@([A-Za-z0-9]+)(\." + re.escape(BLOB_SUFFIX) + r")(?=[/:?]|$)", re.I)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


@dataclass(frozen=True)
class Change:
    """Replace ``text[start:end]`` of the location with ``replacement``."""
    start: int
    end: int
    replacement: str
    reason: str


class Unsafe(Exception):
    """The location cannot be rewritten safely: the part that would change is not known statically."""


def is_absolute(text: str) -> bool:
    return bool(_SCHEME.match(text))


def _minimal(old: str, new: str, reason: str, nocase: int = 0) -> Change | None:
    """The smallest change from ``old`` to ``new``. In the first ``nocase`` characters (scheme,
    account and host) letters equal but for case count as equal: the author's spelling stays."""
    def same(i, j):
        return old[i] == new[j] or (i < nocase and old[i].lower() == new[j].lower())
    if old == new or (old[:nocase].lower() == new[:nocase].lower() and old[nocase:] == new[nocase:]
                      and len(old) == len(new)):
        return None
    a = 0
    while a < min(len(old), len(new)) and same(a, a):
        a += 1
    b = 0
    while b < min(len(old), len(new)) - a and same(len(old) - 1 - b, len(new) - 1 - b):
        b += 1
    return Change(a, len(old) - b, new[a:len(new) - b], reason)


def change_for(text: str, config: DRConfig, complete: bool = True) -> Change | None:
    """The change that maps ``text`` to the secondary, or None if it stays as it is.

    ``complete`` is False when ``text`` is only the statically known start of the location
    (more is appended at run time). Raises :class:`Unsafe` when the part that decides the mapping
    is not in ``text``.
    """
    # 1. Explicit prefix mappings, longest first.
    for src, dst in config.locations:
        if prefix_matches(text, src):
            return _minimal(text[:len(src)], dst, f"location {src} -> {dst}", _authority_len(src))
        if not complete and prefix_matches(src, text) and len(text) >= _scheme_len(src):
            raise Unsafe(f"the location may start with {src!r}, but the rest of it is built at run time")
    # 2. ADLS Gen1 hosts.
    m = _ADLS.match(text)
    if m:
        acct = m.group(2).lower()
        new = config.all_stores.get(acct)
        if new is not None and new != acct:
            return Change(m.start(2), m.end(2), new, f"store {acct} -> {new}")
        return None
    m = _BLOB.match(text)
    if m:
        acct = m.group(3).lower()
        new = config.blob_accounts.get(acct)
        if new is not None and new != acct:
            return Change(m.start(3), m.end(3), new, f"blob account {acct} -> {new}")
        return None
    if is_absolute(text):
        if not complete and "/" not in text[_SCHEME.match(text).end():]:
            raise Unsafe("the account or host of this location is built at run time")
        return None
    if not complete and re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*:?/?", text):
        raise Unsafe("the scheme of this location is built at run time")
    # 3. Relative to the default store.
    if config.absolutize_relative:
        host = f"adl://{config.secondary_store}.{ADLS_SUFFIX}"
        return Change(0, 0, host + ("" if text.startswith("/") else "/"),
                      f"relative path made absolute on {config.secondary_store}")
    return None


def _authority_len(s: str) -> int:
    """Length of ``scheme://account@host`` at the start of ``s`` (0 for a relative path)."""
    m = _SCHEME.match(s)
    if not m:
        return 0
    slash = s.find("/", m.end())
    return len(s) if slash < 0 else slash


def prefix_matches(text: str, prefix: str) -> bool:
    """Whether ``text`` starts with ``prefix``: scheme, account and host compared without case (as
    the services do), the path with case (store paths are case-sensitive)."""
    if len(text) < len(prefix):
        return False
    n = _authority_len(prefix)
    return text[:n].lower() == prefix[:n].lower() and text[n:len(prefix)] == prefix[n:]


def _scheme_len(s: str) -> int:
    m = _SCHEME.match(s)
    return m.end() if m else 0


def map_location(text: str, config: DRConfig) -> str | None:
    """The whole location mapped to the secondary, or None when it does not change."""
    c = change_for(text, config, complete=True)
    if c is None:
        return None
    return text[:c.start] + c.replacement + text[c.end:]


_SERVER = re.compile(r"(?i)\b(server|data source|address|addr|network address)\s*=\s*(tcp:)?([A-Za-z0-9.-]+)")


def server_changes(text: str, config: DRConfig) -> list[Change]:
    """Changes to the server names inside a data source's connection (provider) string."""
    out = []
    for m in _SERVER.finditer(text):
        host = m.group(3)
        new = config.servers.get(host.lower())
        if new and new != host:
            out.append(Change(m.start(3), m.end(3), new, f"server {host} -> {new}"))
    return out
