"""Each store account's Data Lake Store over the WebHDFS REST API, as ``azure-datalake-store`` speaks it.

A store is served under ``http://127.0.0.1:PORT/_adls/{store}/webhdfs/v1/{path}?op=...``: the account is
the path prefix (an ADLA account name cannot start with ``_``), and the files are the folder the
emulator's jobs read and write (``stores/<store>/``, see :mod:`.stores`), so a file written here is
what a job reads, and a job's output is what a client lists. ``usqlrw.datalake`` points the real client
there (its ``url`` attribute).

Operations: LISTSTATUS (``listSize``/``listAfter`` paging with ``continuationToken``), GETFILESTATUS,
GETCONTENTSUMMARY, OPEN (``offset``/``length``), CREATE (``overwrite``), APPEND (``offset`` checked:
BadOffsetException), MKDIRS, RENAME (HDFS rules: ``{"boolean": false}`` when the destination file
exists; into a destination folder), DELETE (``recursive``), CONCAT and MSCONCAT (the client's
multi-part uploads). Errors carry the WebHDFS ``RemoteException`` body with the status the service uses
(404 FileNotFoundException, 403 FileAlreadyExistsException and other refusals, 400 bad arguments).

Requests take the same bearer token as the emulator's API. A path is taken apart before it is decoded:
a ``..`` segment, an encoded ``/`` or ``\\`` inside a segment, a NUL, or anything that resolves (through
symbolic links too) outside the store's folder is refused with 403, and nothing is touched.
"""
from __future__ import annotations

import hmac
import json
import os
import shutil
import uuid
from urllib.parse import parse_qsl, unquote

from .faults import delay_or_drop
from .stores import store_dir

__all__ = ["PREFIX", "serve", "PathRefused"]

#: the path prefix of the stores: /_adls/{store}/webhdfs/v1/...
PREFIX = "/_adls/"
_BLOCK = 256 * 1024 * 1024


class PathRefused(Exception):
    """A path that would leave the store's folder."""


class _Err(Exception):
    def __init__(self, status: int, exception: str, message: str):
        super().__init__(message)
        self.status, self.exception, self.message = status, exception, message


_JAVA = {"FileNotFoundException": "java.io.FileNotFoundException",
         "FileAlreadyExistsException": "org.apache.hadoop.fs.FileAlreadyExistsException",
         "BadOffsetException": "org.apache.hadoop.fs.adl.BadOffsetException",
         "IllegalArgumentException": "java.lang.IllegalArgumentException",
         "AccessControlException": "org.apache.hadoop.security.AccessControlException",
         "SecurityException": "java.lang.SecurityException",
         "PathIsNotEmptyDirectoryException": "org.apache.hadoop.fs.PathIsNotEmptyDirectoryException"}


def _true(v) -> bool:
    return str(v or "").lower() == "true"


def _int(query: dict, name: str, default=None):
    v = query.get(name)
    if v in (None, ""):
        return default
    if not v.isdigit() or not v.isascii():
        raise _Err(400, "IllegalArgumentException", f"{name} must be a whole number, not {v[:40]!r}")
    return int(v)


def relative_parts(raw: str) -> list[str]:
    """The segments of a raw (still percent-encoded) path, each decoded; PathRefused for ``..``,
    an encoded separator or NUL. Empty and ``.`` segments are dropped (``/`` and ``.`` are the root)."""
    out = []
    for seg in raw.split("/"):
        s = unquote(seg, errors="strict") if "%" in seg else seg
        if s in ("", "."):
            continue
        if s == ".." or "/" in s or "\\" in s or "\x00" in s:
            raise PathRefused(raw)
        out.append(s)
    return out


def local_path(root: str, parts: list[str]) -> str:
    """The file or folder under ``root`` for path segments; PathRefused if it resolves (symbolic
    links included) outside ``root``."""
    full = os.path.join(root, *parts) if parts else root
    real_root = os.path.realpath(root)
    real = os.path.realpath(full)
    if real != real_root and not real.startswith(real_root + os.sep):
        raise PathRefused("/".join(parts))
    return full


def _status(full: str, suffix: str) -> dict:
    st = os.stat(full)
    is_dir = os.path.isdir(full)
    return {"length": 0 if is_dir else st.st_size, "pathSuffix": suffix, "type": "DIRECTORY" if is_dir else "FILE",
            "blockSize": 0 if is_dir else _BLOCK, "accessTime": st.st_atime_ns // 1_000_000,
            "modificationTime": st.st_mtime_ns // 1_000_000, "replication": 0 if is_dir else 1,
            "permission": "770", "owner": "usqlrw-emulator", "group": "usqlrw-emulator", "aclBit": False}


def _summary(full: str) -> dict:
    dirs, files, length = 0, 0, 0
    if os.path.isdir(full):
        dirs = 1
        for here, ds, fs in os.walk(full):
            dirs += len(ds)
            for f in fs:
                files += 1
                length += os.path.getsize(os.path.join(here, f))
    else:
        files, length = 1, os.path.getsize(full)
    return {"ContentSummary": {"directoryCount": dirs, "fileCount": files, "length": length, "quota": -1,
                               "spaceConsumed": length, "spaceQuota": -1}}


class _Store:
    """One store account's folder, and the operations on paths in it."""

    def __init__(self, root: str):
        self.root = root

    def path(self, raw: str) -> tuple[str, str]:
        parts = relative_parts(raw)
        return local_path(self.root, parts), "/" + "/".join(parts)

    def must_exist(self, full: str, shown: str):
        if not os.path.lexists(full):
            raise _Err(404, "FileNotFoundException", f"File/Folder does not exist: {shown}")

    def must_be_file(self, full: str, shown: str):
        self.must_exist(full, shown)
        if os.path.isdir(full):
            raise _Err(400, "IllegalArgumentException", f"{shown} is a folder, not a file")

    def make_parent(self, full: str, shown: str):
        parent = os.path.dirname(full)
        probe = parent
        while probe != self.root and not os.path.isdir(probe):   # a file where a folder is needed
            if os.path.lexists(probe):
                raise _Err(403, "FileAlreadyExistsException", f"a parent of {shown} is a file")
            probe = os.path.dirname(probe)
        os.makedirs(parent, exist_ok=True)


def serve(handler, parts) -> None:
    """Answer one WebHDFS request (``parts``: the request target, split). Called by the HTTP handler
    for every path under :data:`PREFIX`, before any body is read."""
    emu = handler.emulator
    segs = parts.path[len(PREFIX):].split("/", 1)
    store = unquote(segs[0])
    rest = segs[1] if len(segs) > 1 else ""
    query = {k: v for k, v in parse_qsl(parts.query, keep_blank_values=True)}
    op = (query.get("op") or query.get("OP") or "").upper()
    send = _Sender(handler, parts.path)
    try:
        n = handler._content_length()
    except Exception as e:       # ApiError: too large, not one number, chunked
        handler.close_connection = True
        return send.error(getattr(e, "status", 400), "IllegalArgumentException", getattr(e, "message", str(e)))
    data = handler.rfile.read(n) if n > 0 else b""
    if len(data) < n:
        handler.close_connection = True
        return send.error(400, "IllegalArgumentException", "The request body is shorter than its Content-Length.")
    fault = emu.take_fault(handler.command, parts.path)
    if fault is not None:
        if delay_or_drop(fault, handler, emu, parts.path):
            return
        if fault.status:
            return send.error(fault.status, "InjectedFault", f"Injected fault (HTTP {fault.status}).")
    auth = handler.headers.get("Authorization") or ""
    if emu.require_auth and not auth.startswith("Bearer "):
        return send.error(401, "AccessControlException", "The request is not authenticated.")
    if emu.expected_token is not None and not hmac.compare_digest(
            auth.encode("utf-8", "replace"), f"Bearer {emu.expected_token}".encode()):
        return send.error(401, "AccessControlException", "The bearer token is not valid.")
    if not rest.lower().startswith("webhdfs/v1"):
        return send.error(404, "FileNotFoundException", "Only /webhdfs/v1/ is served.")
    raw = rest[len("webhdfs/v1"):]
    try:
        root = store_dir(emu.data_dir, store)
    except ValueError:
        return send.error(400, "IllegalArgumentException", "not a store account name")
    try:
        _op(send, _Store(root), handler.command, op, raw, query, data)
    except PathRefused:
        send.error(403, "SecurityException", "The path leaves the store.")
    except _Err as e:
        send.error(e.status, e.exception, e.message)
    except UnicodeDecodeError:
        send.error(400, "IllegalArgumentException", "The path is not valid UTF-8.")
    except OSError as e:
        send.error(403, "AccessControlException", f"The store refused the operation: {e.strerror or 'error'}")
    except (BrokenPipeError, ConnectionResetError):
        raise
    except Exception as e:      # an emulator bug answers 500 with a body, as the service would
        from .state import log
        log.exception("emulator error in WebHDFS")
        send.error(500, "RuntimeException", f"{type(e).__name__} in the emulator.")


def _op(send, st: _Store, method: str, op: str, raw: str, query: dict, data: bytes):
    full, shown = st.path(raw)
    if not os.path.isdir(st.root):     # a store nothing was written to yet: an empty root
        if method in ("PUT", "POST"):
            os.makedirs(st.root, exist_ok=True)
        elif full == st.root and op in ("GETFILESTATUS", "LISTSTATUS", "GETCONTENTSUMMARY"):
            os.makedirs(st.root, exist_ok=True)
    allowed = {"LISTSTATUS": "GET", "GETFILESTATUS": "GET", "GETCONTENTSUMMARY": "GET", "OPEN": "GET",
               "CREATE": "PUT", "MKDIRS": "PUT", "RENAME": "PUT", "APPEND": "POST", "CONCAT": "POST",
               "MSCONCAT": "POST", "DELETE": "DELETE"}
    if op not in allowed:
        raise _Err(400, "IllegalArgumentException", f"Invalid value for webhdfs parameter \"op\": {op[:40]!r}")
    if method != allowed[op]:
        raise _Err(400, "IllegalArgumentException", f"{op} takes HTTP {allowed[op]}, not {method}")
    if op == "GETFILESTATUS":
        st.must_exist(full, shown)
        return send.json({"FileStatus": _status(full, "")})
    if op == "LISTSTATUS":
        st.must_exist(full, shown)
        if not os.path.isdir(full):
            return send.json({"FileStatuses": {"FileStatus": [_status(full, "")], "continuationToken": ""}})
        names = sorted(os.listdir(full))
        after, size = query.get("listAfter"), _int(query, "listSize", 4000) or 4000
        if after:
            names = [n for n in names if n > after]
        page, more = names[:size], len(names) > size
        entries = []
        for name in page:
            try:
                entries.append(_status(local_path(st.root, relative_parts(raw) + [name]), name))
            except (OSError, PathRefused):   # removed meanwhile, dangling, or a link out of the store
                continue
        return send.json({"FileStatuses": {"FileStatus": entries, "continuationToken": page[-1] if more else ""}})
    if op == "GETCONTENTSUMMARY":
        st.must_exist(full, shown)
        return send.json(_summary(full))
    if op == "OPEN":
        st.must_be_file(full, shown)
        size = os.path.getsize(full)
        offset = _int(query, "offset", 0)
        length = _int(query, "length", size - min(offset, size))
        if offset > size:
            raise _Err(400, "BadOffsetException", f"offset {offset} is past the end of {shown} ({size} bytes)")
        with open(full, "rb") as f:
            f.seek(offset)
            return send.raw(f.read(length))
    if op == "MKDIRS":
        if os.path.lexists(full) and not os.path.isdir(full):
            raise _Err(403, "FileAlreadyExistsException", f"{shown} is a file")
        st.make_parent(os.path.join(full, "x"), shown)
        return send.json({"boolean": True})
    if op == "CREATE":
        if full == st.root or os.path.isdir(full):
            raise _Err(403, "FileAlreadyExistsException", f"{shown} is a folder")
        if os.path.lexists(full) and not _true(query.get("overwrite")):
            raise _Err(403, "FileAlreadyExistsException", f"{shown} already exists and overwrite is false")
        st.make_parent(full, shown)
        _write(full, data)
        return send.empty(201)
    if op == "APPEND":
        st.must_be_file(full, shown)
        offset = _int(query, "offset")
        size = os.path.getsize(full)
        if offset is not None and offset != size:
            raise _Err(400, "BadOffsetException", f"APPEND at offset {offset}, but {shown} has {size} bytes")
        with open(full, "ab") as f:
            f.write(data)
        return send.empty(200)
    if op == "RENAME":
        if "destination" not in query:
            raise _Err(400, "IllegalArgumentException", "RENAME needs a destination")
        dest, _ = st.path(query["destination"].replace("%", "%25"))   # a parameter: already decoded
        if full == st.root or not os.path.lexists(full):
            return send.json({"boolean": False})
        if os.path.isdir(dest):      # HDFS: into the folder (a checked folder plus one plain name)
            dest = os.path.join(dest, os.path.basename(full))
        if os.path.lexists(dest) or dest == full or (dest + os.sep).startswith(full + os.sep):
            return send.json({"boolean": False})
        st.make_parent(dest, shown)
        os.rename(full, dest)
        return send.json({"boolean": True})
    if op == "DELETE":
        if full == st.root:
            raise _Err(403, "AccessControlException", "The store's root cannot be deleted.")
        if not os.path.lexists(full):
            return send.json({"boolean": False})
        if os.path.isdir(full) and not os.path.islink(full):
            if os.listdir(full) and not _true(query.get("recursive")):
                raise _Err(403, "PathIsNotEmptyDirectoryException", f"{shown} is a folder that is not empty")
            shutil.rmtree(full)
        else:
            os.remove(full)
        return send.json({"boolean": True})
    if op in ("CONCAT", "MSCONCAT"):
        if op == "CONCAT":
            sources = [s for s in (query.get("sources") or "").split(",") if s]
        else:
            try:
                body = json.loads(data or b"{}")
                sources = body["sources"]
            except (ValueError, KeyError, TypeError):
                raise _Err(400, "IllegalArgumentException", "MSCONCAT takes a JSON body {\"sources\": [...]}") from None
            if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
                raise _Err(400, "IllegalArgumentException", "sources must be a list of paths")
        if not sources:
            raise _Err(400, "IllegalArgumentException", "nothing to concatenate")
        srcs = []
        for s in sources:
            p, shown_s = st.path(s.replace("%", "%25"))
            st.must_be_file(p, shown_s)
            if p == full:
                raise _Err(400, "IllegalArgumentException", f"{shown} cannot be concatenated into itself")
            srcs.append(p)
        if os.path.isdir(full):
            raise _Err(403, "FileAlreadyExistsException", f"{shown} is a folder")
        st.make_parent(full, shown)
        tmp = f"{full}.{uuid.uuid4().hex}.concat"
        with open(tmp, "wb") as out:
            for p in ([full] if os.path.exists(full) else []) + srcs:
                with open(p, "rb") as f:
                    shutil.copyfileobj(f, out, 1 << 20)
        os.replace(tmp, full)
        for p in srcs:
            os.remove(p)
        if op == "MSCONCAT" and _true(query.get("deleteSourceDirectory")):
            folders = {os.path.dirname(p) for p in srcs}
            for d in folders:
                if d != st.root and d != os.path.dirname(full) and not os.listdir(d):
                    os.rmdir(d)
        return send.empty(200)


def _write(full: str, data: bytes):
    """Replace a file's contents: written beside it, then renamed over it."""
    tmp = f"{full}.{uuid.uuid4().hex}.create"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, full)


class _Sender:
    """Answers in WebHDFS's shapes, recorded in the emulator's request log (no headers, no bodies)."""

    def __init__(self, handler, path: str):
        self.h, self.path = handler, path

    def _out(self, status: int, body: bytes, ctype: str | None):
        h = self.h
        h.emulator.requests.append((h.command, self.path, status))
        h.send_response(status)
        h.send_header("x-ms-request-id", str(uuid.uuid4()))
        if ctype:
            h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        if h.close_connection:
            h.send_header("Connection", "close")
        h.end_headers()
        if body:
            h.wfile.write(body)

    def json(self, doc: dict, status: int = 200):
        self._out(status, json.dumps(doc).encode(), "application/json; charset=utf-8")

    def raw(self, data: bytes):
        self._out(200, data, "application/octet-stream")

    def empty(self, status: int):
        self._out(status, b"", None)

    def error(self, status: int, exception: str, message: str):
        self.json({"RemoteException": {"exception": exception, "message": message,
                                       "javaClassName": _JAVA.get(exception, "java.io.IOException")}}, status)
