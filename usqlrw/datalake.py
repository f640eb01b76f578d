"""Data Lake Store (Gen1) accounts through the real ``azure-datalake-store`` client.

    store = open_store("contosodr", endpoint)          # Azure, or an emulator's stores over WebHDFS
    store.glob("/in/days/*/*.csv")                     # files of a file set (``*`` within a segment)
    store.write("/out/x.csv", b"...")                  # atomic: a temporary file, then renamed
    store.copy("/in/x.csv", other)                     # between stores, in chunks

Where a store is: on Azure, ``https://{store}.azuredatalakestore.net/webhdfs/v1/`` with an
azure-identity credential (``DefaultAzureCredential``) or the bearer token in ``$USQLRW_ADLA_TOKEN``;
for an emulator (``http://127.0.0.1:PORT`` or an embedded one), ``{url}/_adls/{store}/webhdfs/v1/``
(see :mod:`usqlrw.emulator.webhdfs`) with its token. The client is pointed at the emulator through its
public ``url`` attribute, set before any request, and its per-thread sessions for that URL ignore the
environment's proxy settings, so the token goes to the emulator's host and nowhere else. Tokens are
registered with :mod:`usqlrw.secrets` (redacted from any message) and never logged (the client logs
only the Authorization header's length).

Every call goes through the client's REST layer (``DatalakeRESTInterface.call``) with a short retry
policy that does not retry a refused token; failures are :class:`StoreError`, one line naming the store
and the path.
"""
from __future__ import annotations

import logging
import os
import re
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Iterable, Iterator

__all__ = ["Store", "Entry", "StoreError", "open_store", "CHUNK", "emulator_store_url"]

#: bytes per OPEN and APPEND request (the client's own largest write block is 4 MiB)
CHUNK = 4 * 1024 * 1024

# the client logs failed calls at ERROR (the response, never the token); with no handler configured,
# Python would print them on standard error next to usqlrw's own one-line error
logging.getLogger("azure.datalake.store").addHandler(logging.NullHandler())


class StoreError(Exception):
    """A store operation that failed: one line, no token, no traceback."""


@dataclass(frozen=True)
class Entry:
    path: str          # absolute within the store: /in/x.csv
    kind: str          # "file" | "dir"
    length: int
    mtime_ms: int      # modification time, milliseconds since the epoch (the service's unit)

    @property
    def is_file(self) -> bool:
        return self.kind == "file"


def emulator_store_url(base_url: str, store: str) -> str:
    """Where an emulator serves a store account (the client appends ``webhdfs/v1/...``)."""
    return f"{base_url.rstrip('/')}/_adls/{store.lower()}/"


class _StaticToken:
    """An azure-core TokenCredential that hands out one fixed bearer token."""

    def __init__(self, token: str):
        from .secrets import register_secret
        register_secret(token)
        self._token = token

    def get_token(self, *scopes, **kwargs):
        from azure.core.credentials import AccessToken
        return AccessToken(self._token, int(time.time()) + 3600)

    def __repr__(self):
        return "_StaticToken(***)"


def _policy(retries: int):
    from azure.datalake.store.retry import ExponentialRetryPolicy

    class _Policy(ExponentialRetryPolicy):
        """The client's exponential policy, shorter, and a refused token (401/403) is final."""

        def should_retry(self, response, last_exception, retry_count):
            if response is not None and response.status_code in (401, 403):
                return False
            return super().should_retry(response, last_exception, retry_count)
    return _Policy(max_retries=retries, exponential_retry_interval=0.25, exponential_factor=2)


def _sessions(url: str, *, proxies: bool):
    """Per-thread requests sessions for ``url`` (the client's own ``local``, made the way it makes them),
    which remember the status of their last answer for error messages. ``proxies=False``: they ignore
    HTTP(S)_PROXY and .netrc (an emulator: the token goes to its host and nowhere else)."""
    import requests

    class _Local(threading.local):
        def __init__(self):
            s = requests.Session()
            s.trust_env = proxies
            s.mount(url, requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=16))
            s.hooks["response"].append(self._remember)
            self.session, self.status = s, None

        def _remember(self, response, *args, **kwargs):
            self.status = response.status_code
    return _Local()


_STATUS = {400: "bad request", 401: "the token was refused (401)", 403: "refused (403)", 404: "not found",
           409: "conflict (409)", 413: "too large (413)", 429: "throttled (429)"}


class Store:
    """One Data Lake Store account, through ``azure-datalake-store``'s REST interface."""

    def __init__(self, name: str, rest, where: str, retries: int = 3):
        self.name = name.lower()
        self.rest = rest            # azure.datalake.store.lib.DatalakeRESTInterface
        self.where = where          # for messages: the store's URL (never a token)
        self.retries = retries

    def __repr__(self):
        return f"Store({self.name!r}, {self.where!r})"

    # -- plumbing -------------------------------------------------------------------------------
    def _call(self, op: str, path: str, **kw):
        from azure.datalake.store.exceptions import DatalakeRESTException
        from .secrets import redact
        try:
            return self.rest.call(op, path, retry_policy=_policy(self.retries), **kw)
        except FileNotFoundError:
            raise
        except PermissionError:
            raise StoreError(f"{self.name}:{path}: {op} refused by the store (403)") from None
        except DatalakeRESTException as e:
            msg = str(e)
            status = getattr(self.rest.local, "status", None)
            if msg.startswith("Data-lake REST exception") and status:
                msg = _STATUS.get(status, f"the store answered HTTP {status}")
            elif msg.startswith("Operation failed"):
                msg = "the store said it failed"
            if "HTTP error" in msg:
                reason = re.search(r"(Connection refused|timed out|Name or service not known|"
                                   r"Failed to resolve|RemoteDisconnected|Connection aborted)", msg)
                msg = f"cannot reach {self.where} ({reason.group(1) if reason else 'connection error'})"
            raise StoreError(redact(f"{self.name}:{path}: {op}: {msg}")) from None
        except Exception as e:     # the credential (azure-identity), the transport: one line all the same
            first = (str(e).strip().splitlines() or [type(e).__name__])[0][:300]
            raise StoreError(redact(f"{self.name}:{path}: {op}: {first}")) from None

    def _norm(self, path: str) -> str:
        parts = [p for p in str(path).replace("\\", "/").split("/") if p not in ("", ".")]
        if ".." in parts or any("\x00" in p for p in parts):
            raise StoreError(f"{self.name}:{path}: '..' (or NUL) is not allowed in a store path")
        return "/" + "/".join(parts)

    @staticmethod
    def _entry(path: str, st: dict) -> Entry:
        return Entry(path, "dir" if st.get("type") == "DIRECTORY" else "file", int(st.get("length") or 0),
                     int(st.get("modificationTime") or 0))

    # -- reading --------------------------------------------------------------------------------
    def stat(self, path: str) -> Entry | None:
        """The file or folder at ``path``, or None if there is none."""
        p = self._norm(path)
        try:
            st = self._call("GETFILESTATUS", p, expected_error_code=404)["FileStatus"]
        except FileNotFoundError:
            return None
        return self._entry(p, st)

    def exists(self, path: str) -> bool:
        """Whether a file or folder is there; with ``*`` in it, whether the pattern names a file."""
        if "*" in path:
            return bool(self.glob(path, limit=1))
        return self.stat(path) is not None

    def list(self, path: str = "/") -> list[Entry]:
        """A folder's entries (a file: itself), sorted by name; StoreError if there is nothing there."""
        p = self._norm(path)
        out, after = [], None
        while True:
            kw = {"listSize": 4000}
            if after:
                kw["listAfter"] = after
            try:
                res = self._call("LISTSTATUS", p, expected_error_code=404, **kw)["FileStatuses"]
            except FileNotFoundError:
                raise StoreError(f"{self.name}:{p}: no such file or folder") from None
            for st in res.get("FileStatus") or []:
                suffix = st.get("pathSuffix") or ""
                out.append(self._entry(p.rstrip("/") + "/" + suffix if suffix else p, st))
            after = res.get("continuationToken") or ""
            if not after:
                return sorted(out, key=lambda e: e.path)

    def glob(self, pattern: str, limit: int | None = None) -> list[Entry]:
        """The files a pattern names: ``*`` matches within one path segment (a file set's
        ``{...}`` parts, as :func:`usqlrw.failover.preflight.store_path` writes them)."""
        parts = [s for s in self._norm(pattern).split("/") if s]
        if not any("*" in s for s in parts):
            e = self.stat(pattern)
            return [e] if e is not None and e.is_file else []
        folders, found = ["/"], []
        for i, seg in enumerate(parts):
            last = i == len(parts) - 1
            nxt = []
            for folder in folders:
                base = folder.rstrip("/")
                if "*" not in seg:
                    nxt.append(base + "/" + seg)
                    continue
                rx = re.compile("[^/]*".join(re.escape(x) for x in seg.split("*")) + r"\Z", re.S)
                try:
                    entries = self.list(folder)
                except StoreError:
                    if self.stat(folder) is None:
                        continue
                    raise
                for e in entries:
                    if rx.match(e.path.rsplit("/", 1)[-1]) and (e.is_file if last else e.kind == "dir"):
                        if last:
                            found.append(e)
                        else:
                            nxt.append(e.path)
            folders = nxt
            if last:
                break
        if "*" not in parts[-1]:      # the wildcards were in folders: the named files must exist
            found = [e for e in (self.stat(f) for f in folders) if e is not None and e.is_file]
        found.sort(key=lambda e: e.path)
        return found[:limit] if limit else found

    def iter_read(self, path: str, chunk: int = CHUNK) -> Iterator[bytes]:
        """A file's bytes, ``chunk`` at a time (one OPEN request each)."""
        p = self._norm(path)
        e = self.stat(p)
        if e is None or not e.is_file:
            raise StoreError(f"{self.name}:{p}: no such file")
        offset = 0
        while offset < e.length:
            n = min(chunk, e.length - offset)
            try:
                res = self._call("OPEN", p, offset=offset, length=n, read="true")
            except FileNotFoundError:
                raise StoreError(f"{self.name}:{p}: removed while being read") from None
            data = getattr(res, "content", res)
            if not isinstance(data, (bytes, bytearray)) or not data:
                raise StoreError(f"{self.name}:{p}: the store sent no data at offset {offset}")
            offset += len(data)
            yield bytes(data)

    def read(self, path: str) -> bytes:
        return b"".join(self.iter_read(path))

    # -- writing --------------------------------------------------------------------------------
    def write(self, path: str, data: bytes | Iterable[bytes]) -> int:
        """Write a whole file atomically: into a temporary file beside it, then renamed over it
        (readers see the old file, briefly none, or the new one; never a part). Returns its length."""
        p = self._norm(path)
        if p == "/":
            raise StoreError(f"{self.name}:/: not a file path")
        folder, name = p.rsplit("/", 1)
        tmp = f"{folder}/.{name}.usqlrw-{uuid.uuid4().hex[:12]}.tmp"
        chunks = [data] if isinstance(data, (bytes, bytearray)) else data
        total = 0
        try:
            self._call("CREATE", tmp, data=b"", overwrite="false", write="true")
            for c in chunks:
                for i in range(0, len(c), CHUNK):
                    piece = bytes(c[i:i + CHUNK])
                    self._call("APPEND", tmp, data=piece, append="true", offset=total)
                    total += len(piece)
            old = self.stat(p)
            if old is not None:
                if not old.is_file:
                    raise StoreError(f"{self.name}:{p}: a folder is there")
                self._call("DELETE", p, recursive="false")
            self._call("RENAME", tmp, destination=p)
        except BaseException:
            try:
                self._call("DELETE", tmp, recursive="false")
            except (StoreError, FileNotFoundError):
                pass
            raise
        return total

    def copy(self, path: str, target: "Store", target_path: str | None = None, chunk: int = CHUNK) -> int:
        """Copy one file to another store (or path), streamed in chunks; the bytes copied."""
        return target.write(target_path or path, self.iter_read(path, chunk))


def _endpoint(endpoint):
    from .jobs.client import Endpoint, resolve_endpoint
    if isinstance(endpoint, Endpoint):
        return endpoint
    return resolve_endpoint(endpoint)


def open_store(account: str, endpoint=None, *, token: str | None = None, credential=None,
               retries: int = 3, timeout: float = 60) -> Store:
    """A store account: on Azure (``endpoint`` None, ``"azure"``, or an Endpoint of the service) with
    ``credential`` (an azure-core TokenCredential), else ``token``, else ``$USQLRW_ADLA_TOKEN``, else
    azure-identity's DefaultAzureCredential; on an emulator (its URL, or an Endpoint) with ``token``,
    else ``$USQLRW_ADLA_TOKEN``, else the emulator's placeholder token. Nothing is sent yet."""
    from azure.datalake.store import core
    from .emulator.stores import _NAME
    from .jobs.client import TOKEN_ENV
    if not _NAME.match(account or ""):
        raise StoreError(f"{account!r} is not a store account name")
    ep = _endpoint(endpoint)
    tok = token or os.environ.get(TOKEN_ENV)
    if ep.is_emulator:
        cred = credential or _StaticToken(tok or "emulator-placeholder-token")
        fs = core.AzureDLFileSystem(cred, store_name=account.lower(), req_timeout_s=timeout)
        url = emulator_store_url(ep.url, account)
        fs.azure.url = url                             # the client's public base URL: the emulator's store
        fs.azure.local = _sessions(url, proxies=False)  # and sessions that go nowhere else
        return Store(account, fs.azure, url, retries)
    if ep.template:
        raise StoreError("a custom service URL ({account} template) names ADLA accounts, not stores; "
                         "stores are reached at https://STORE.azuredatalakestore.net")
    if credential is None and tok:
        credential = _StaticToken(tok)
    if credential is None:
        try:
            from azure.identity import DefaultAzureCredential
        except ImportError:
            raise StoreError(f"azure-identity is not installed: `pip install azure-identity`, or set {TOKEN_ENV} "
                             "to a bearer token for https://datalake.azure.net/") from None
        credential = DefaultAzureCredential()
    suffix = os.environ.get("azure_data_lake_store_url_suffix") or "azuredatalakestore.net"
    fs = core.AzureDLFileSystem(credential, store_name=account.lower(), url_suffix=suffix, req_timeout_s=timeout)
    fs.azure.local = _sessions(fs.azure.url, proxies=True)
    return Store(account, fs.azure, fs.azure.url, retries)
