"""The emulator's HTTP front: the ADLA job, catalog and account REST APIs, and the control routes."""
from __future__ import annotations

import hmac
import json
import re
import socket
import time
import uuid
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from typing import TYPE_CHECKING

from ..jobs.odata import ODataError, parse_filter, parse_time, sort_documents
from .catalog import _CATALOG_COLLECTIONS, _catalog_doc
from .faults import delay_or_drop
from .state import _ACCOUNT_NAME, _NS, ApiError, _now, log

if TYPE_CHECKING:
    from .jobs import Emulator

#: JSON bodies nested deeper than this are refused (400) rather than parsed or stored.
MAX_JSON_DEPTH = 64
#: The default limit on a request body (a job's script travels in it); larger ones are answered 413.
MAX_BODY_BYTES = 8 * 1024 * 1024


def _too_deep(value, limit: int = MAX_JSON_DEPTH) -> bool:
    stack = [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, (dict, list)):
            if d > limit:
                return True
            stack += [(x, d + 1) for x in (v.values() if isinstance(v, dict) else v)]
    return False


def _bad(message: str):
    return ApiError(400, "InvalidRequest", message)


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)

# -- HTTP -----------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    emulator: "Emulator" = None  # set on the subclass made by Emulator.start
    protocol_version = "HTTP/1.1"
    server_version = "usqlrw-adla-emulator"
    timeout = 30

    def log_message(self, fmt, *args):  # no headers, no bodies: nothing secret reaches a log
        log.debug("%s %s", getattr(self, "command", None), self._safe_path())

    def _safe_path(self) -> str:
        """The request's path without its query, or '' when there is no usable request line."""
        try:
            return urlsplit(getattr(self, "path", "") or "").path
        except ValueError:
            return ""

    def send_error(self, code, message=None, explain=None):
        """Errors found by the HTTP layer itself (bad request line, headers, method) as JSON."""
        from http import HTTPStatus
        code = {501: 405, 505: 400}.get(code, code)   # an unknown method or HTTP version: the client's fault
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "Error"
        self.close_connection = True
        if getattr(self, "request_version", "HTTP/0.9") == "HTTP/0.9":
            self.request_version = "HTTP/1.0"   # answer with a status line and headers all the same
        body = json.dumps({"error": {"code": phrase.replace(" ", "").replace("-", ""),
                                     "message": message or phrase}}).encode()
        self.emulator.requests.append((getattr(self, "command", None) or "", self._safe_path(), code))
        try:
            self.send_response(code, phrase)
            self.send_header("x-ms-request-id", str(uuid.uuid4()))
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if getattr(self, "command", None) != "HEAD" and code >= 200 and code not in (204, 304):
                self.wfile.write(body)
        except OSError:
            pass

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (ConnectionError, TimeoutError, socket.timeout):
            self.close_connection = True
        except Exception:   # whatever a malformed request does, answer it and stay up
            log.exception("emulator error while reading a request")
            self.close_connection = True
            try:
                self.send_error(400, "The request could not be read.")
            except Exception:
                pass

    def handle_expect_100(self):
        """``Expect: 100-continue`` with a body over the limit gets its 413 before sending it."""
        try:
            self._content_length()
        except ApiError as e:
            self.close_connection = True
            self._error(e.status, e.code, e.message)
            return False
        return super().handle_expect_100()

    def _content_length(self) -> int:
        if self.headers.get("Transfer-Encoding"):
            raise ApiError(411, "LengthRequired", "Send the body with a Content-Length (no chunked encoding).")
        raw = self.headers.get_all("Content-Length") or []
        if not raw:
            return 0
        if len(set(v.strip() for v in raw)) != 1 or not raw[0].strip().isdigit() or not raw[0].strip().isascii():
            raise ApiError(400, "InvalidContentLength", "Content-Length must be one whole number.")
        n = int(raw[0].strip())
        if n > self.emulator.max_body:
            raise ApiError(413, "RequestEntityTooLarge",
                           f"The request body is {n} bytes; the limit is {self.emulator.max_body}.")
        return n

    def do_GET(self):
        self._handle()

    def do_PUT(self):
        self._handle()

    def do_POST(self):
        self._handle()

    def do_PATCH(self):
        self._handle()

    def do_DELETE(self):
        self._handle()

    # -- plumbing -----------------------------------------------------------------------------
    def _send(self, status: int, body=None, headers: dict | None = None):
        data = b"" if body is None else json.dumps(body).encode()
        # recorded before answering, so a client that has its answer also sees the record
        self.emulator.requests.append((self.command, self._safe_path(), status))
        if getattr(self, "_drop_answer", False):   # a lost response: done, but never answered
            self._drop_answer = False
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.send_response(status)
        self.send_header("x-ms-request-id", str(uuid.uuid4()))
        if body is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if data:
            self.wfile.write(data)

    def _error(self, status: int, code: str, message: str, headers=None):
        self._send(status, {"error": {"code": code, "message": message}}, headers)

    def _body(self):
        """The request's JSON body (None if empty). Read and parsed with no lock held."""
        n = self._content_length()
        raw = self.rfile.read(n) if n > 0 else b""
        if len(raw) < n:
            self.close_connection = True
            raise ApiError(400, "IncompleteBody", "The request body is shorter than its Content-Length.")
        if not raw:
            return None
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            raise ApiError(400, "InvalidRequestBody", "The request body is not valid JSON.") from None
        if _too_deep(body):
            raise ApiError(400, "InvalidRequestBody", f"The request body is nested deeper than {MAX_JSON_DEPTH} levels.")
        return body

    def _drain(self, declared: int):
        """Read and drop what a client sends after a refused body, for a little while, so that it
        gets to read the answer instead of a reset connection."""
        try:
            self.connection.settimeout(2)
            left, end = min(declared, 4 * self.emulator.max_body + (64 << 20)), time.monotonic() + 10
            while left > 0 and time.monotonic() < end:
                chunk = self.rfile.read1(min(left, 1 << 16)) if hasattr(self.rfile, "read1") else self.rfile.read(
                    min(left, 1 << 16))
                if not chunk:
                    break
                left -= len(chunk)
        except OSError:
            pass

    def _handle(self):
        emu = self.emulator
        with emu._flock:
            emu.inflight += 1
            emu.max_inflight = max(emu.max_inflight, emu.inflight)
        try:
            self._handle_request()
        finally:
            with emu._flock:
                emu.inflight -= 1

    def _handle_request(self):
        emu = self.emulator
        if self.request_version == "HTTP/0.9":
            return self.send_error(400, "HTTP/0.9 requests are not supported.")
        try:
            parts = urlsplit(self.path)
            if not self.path.startswith("/"):
                raise ValueError(self.path)
        except ValueError:
            self.close_connection = True
            return self.send_error(400, "The request target is not a path.")
        if parts.path.startswith("/_adls/"):   # the stores over WebHDFS: bodies are bytes, not JSON
            from .webhdfs import serve
            return serve(self, parts)
        try:
            body = self._body()
        except ApiError as e:
            if e.status in (411, 413) or e.code == "InvalidContentLength":
                self.close_connection = True
                self._error(e.status, e.code, e.message, {"Connection": "close"})
                if e.status == 413:
                    self._drain(int(self.headers.get("Content-Length", "0").strip() or 0))
                return
            return self._error(e.status, e.code, e.message)
        self._cancel_created = False
        fault = emu.take_fault(self.command, parts.path)
        if fault is not None:
            if delay_or_drop(fault, self, emu, parts.path):
                return
            if fault.cancel:
                self._cancel_created = True
            elif fault.drop_after:
                self._drop_answer = True
            elif fault.status:
                hdrs = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
                code = {429: "TooManyRequests", 500: "InternalServerError", 503: "ServiceUnavailable"}.get(
                    fault.status, "InjectedFault")
                return self._error(fault.status, code, f"Injected fault (HTTP {fault.status}).", hdrs)
        segs = [unquote(s) for s in parts.path.split("/") if s]
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        try:
            auth = self.headers.get("Authorization") or ""
            if emu.require_auth and not auth.startswith("Bearer "):
                return self._error(401, "AuthenticationFailed", "The request is not authenticated.")
            if emu.expected_token is not None and not hmac.compare_digest(
                    auth.encode("utf-8", "replace"), f"Bearer {emu.expected_token}".encode()):
                return self._error(401, "AuthenticationFailed", "The bearer token is not valid.")
            if segs and segs[0] == "_emulator":   # the control routes: the same authentication as the API
                return self._control(segs[1:], body)
            if len(segs) >= 2 and segs[0].lower() == "subscriptions":
                return self._arm(segs, query)
            if not segs:
                return self._error(404, "NotFound", "Not found.")
            account, rest = segs[0], segs[1:]
            low = [s.lower() for s in rest]
            if low[:1] in (["jobs"], ["buildjob"], ["pipelines"], ["recurrences"]):
                return self._jobs(account, rest, low, query, body)
            if low[:2] == ["catalog", "usql"]:
                return self._catalog(account, rest[2:], low[2:], query)
            return self._error(404, "NotFound", f"No route for {self.command} {parts.path}.")
        except ApiError as e:
            return self._error(e.status, e.code, e.message)
        except ODataError as e:
            return self._error(400, "InvalidODataQuery", str(e))
        except (BrokenPipeError, ConnectionResetError):
            raise
        except Exception as e:  # an emulator bug answers 500 with a body, as the service would
            log.exception("emulator error")
            return self._error(500, "InternalServerError", f"{type(e).__name__} in the emulator.")

    def _page(self, account_path: str, items: list, query: dict, key_filter=True):
        """One page of a list answer, with an absolute nextLink carrying the whole query."""
        emu = self.emulator
        if key_filter:
            pred = parse_filter(query.get("$filter"))
            items = sort_documents([d for d in items if pred(d)], query.get("$orderby"))

        def number(name, default=None):
            v = query.get(name)
            if v in (None, ""):
                return default
            if not v.isdigit():
                raise ODataError(f"{name} must be a whole number, not {v!r}")
            return int(v)
        skip, top, offset = number("$skip", 0), number("$top"), number("$skiptoken", 0)
        window = items[skip:]
        if top is not None:
            window = window[:top]
        page = window[offset:offset + emu.page_size]
        out = {"value": page}
        if (query.get("$count") or "").lower() == "true":
            out["count"] = len(window)
        if offset + emu.page_size < len(window):
            q = {k: v for k, v in query.items() if k != "$skiptoken"}
            q["$skiptoken"] = str(offset + emu.page_size)
            host = self.headers.get("Host") or f"{emu.host}:{emu.port}"
            out["nextLink"] = f"http://{host}{account_path}?{urlencode(q)}"
        return out

    # -- jobs ---------------------------------------------------------------------------------
    def _jobs(self, account, rest, low, query, body):
        emu, m = self.emulator, self.command
        path = urlsplit(self.path).path
        if low == ["buildjob"] and m == "POST":
            return self._send(200, emu.build_job(account, body or {}))
        if low[0] == "jobs":
            if len(rest) == 1 and m == "GET":
                emu._ensure_account(account)
                docs = [{k: v for k, v in d.items() if k != "properties"} for d in emu.list_jobs(account)]
                return self._send(200, self._page(path, docs, query))
            if len(rest) >= 2:
                try:
                    job_id = str(uuid.UUID(rest[1]))
                except ValueError:
                    raise ApiError(400, "InvalidJobId", f"'{rest[1]}' is not a valid job id (a GUID).") from None
                if len(rest) == 2 and m == "PUT":
                    doc = emu.create_job(account, job_id, body)
                    if getattr(self, "_cancel_created", False):
                        emu.cancel_job(account, job_id)
                        doc = emu.get_job(account, job_id, advance=False)
                    return self._send(200, doc)
                if len(rest) == 2 and m == "GET":
                    emu._ensure_account(account)
                    return self._send(200, emu.get_job(account, job_id))
                if len(rest) == 3 and low[2] == "canceljob" and m == "POST":
                    emu._ensure_account(account)
                    emu.cancel_job(account, job_id)
                    return self._send(200)
                if len(rest) == 3 and low[2] in ("getstatistics", "getdebugdatapath") and m == "GET":
                    doc = emu.get_job(account, job_id, advance=False)
                    if low[2] == "getdebugdatapath":
                        return self._send(200, {"jobId": job_id, "command": "", "paths": []})
                    return self._send(200, {"lastUpdateTimeUtc": doc["submitTime"],
                                            "finalizingTimeUtc": doc.get("endTime"), "stages": []})
        if low[0] in ("pipelines", "recurrences") and m == "GET":
            emu._ensure_account(account)
            groups = self._relations(account, low[0], query)
            if len(rest) == 1:
                return self._send(200, self._page(path, list(groups.values()), query, key_filter=False))
            if len(rest) == 2:
                key = rest[1].lower()
                if key not in groups:
                    code = "PipelineNotFound" if low[0] == "pipelines" else "RecurrenceNotFound"
                    raise ApiError(404, code, f"{low[0][:-1].capitalize()} {rest[1]} was not found.")
                return self._send(200, groups[key])
        raise ApiError(404 if m == "GET" else 405, "NotFound", f"No route for {m} {path}.")

    def _relations(self, account, what, query) -> dict:
        """Pipelines or recurrences of an account, aggregated from its jobs in the time window."""
        def when(name):
            v = query.get(name)
            if not v:
                return None
            try:
                return parse_time(v)
            except ValueError:
                raise ApiError(400, "InvalidRequest", f"{name} is not a date and time.") from None
        start, end = when("startDateTime"), when("endDateTime")
        if start is None and end is None:
            start = _now() - timedelta(days=14)   # the service's default window
        groups: dict = {}
        for doc in self.emulator.list_jobs(account):
            rel = doc.get("related") or {}
            key = rel.get("pipelineId" if what == "pipelines" else "recurrenceId")
            if not key:
                continue
            t = parse_time(doc["submitTime"])
            if (start and t < start) or (end and t > end):
                continue
            g = groups.get(key.lower())
            if g is None:
                g = {"numJobsFailed": 0, "numJobsCanceled": 0, "numJobsSucceeded": 0, "auHoursFailed": 0.0,
                     "auHoursCanceled": 0.0, "auHoursSucceeded": 0.0, "lastSubmitTime": doc["submitTime"]}
                if what == "pipelines":
                    g.update({"pipelineId": key, "pipelineName": rel.get("pipelineName"),
                              "pipelineUri": rel.get("pipelineUri"), "runs": [], "recurrences": []})
                else:
                    g.update({"recurrenceId": key, "recurrenceName": rel.get("recurrenceName")})
                groups[key.lower()] = g
            g["lastSubmitTime"] = max(g["lastSubmitTime"], doc["submitTime"])
            res = {"Failed": "Failed", "Cancelled": "Canceled", "Succeeded": "Succeeded"}.get(doc.get("result"))
            if res:
                g[f"numJobs{res}"] += 1
                run = _parse_duration(doc["properties"].get("totalRunningTime"))
                g[f"auHours{res}"] += round(run / 3600 * (doc.get("degreeOfParallelism") or 1), 6)
            if what == "pipelines":
                if rel.get("runId") and rel["runId"] not in [r["runId"] for r in g["runs"]]:
                    g["runs"].append({"runId": rel["runId"], "lastSubmitTime": doc["submitTime"]})
                for r in g["runs"]:
                    if r["runId"] == rel.get("runId"):
                        r["lastSubmitTime"] = max(r["lastSubmitTime"], doc["submitTime"])
                if rel.get("recurrenceId") and rel["recurrenceId"] not in g["recurrences"]:
                    g["recurrences"].append(rel["recurrenceId"])
        return groups

    # -- catalog ------------------------------------------------------------------------------
    def _catalog(self, account, rest, low, query):
        if self.command != "GET":
            raise ApiError(405, "MethodNotAllowed", "The emulated catalog is read-only; change it with jobs.")
        emu = self.emulator
        emu._ensure_account(account)
        store = emu.store
        path = urlsplit(self.path).path
        if not rest or low[0] != "databases":
            raise ApiError(404, "NotFound", f"No catalog route for {path}.")
        if len(rest) == 1:
            docs = [_catalog_doc(account, "database", "", "", n, json.loads(d), "databaseName")
                    for _, _, n, d in store.catalog_items(account, "database")]
            return self._send(200, self._page(path, docs, query))
        db = rest[1]
        if not any(n == db for _, _, n, _ in store.catalog_items(account, "database")):
            raise ApiError(404, "DatabaseNotFound", f"Database '{db}' does not exist.")
        if len(rest) == 2:
            d = next(json.loads(d) for _, _, n, d in store.catalog_items(account, "database") if n == db)
            return self._send(200, _catalog_doc(account, "database", "", "", db, d, "databaseName"))
        coll = low[2]
        if coll == "acl":
            return self._send(200, self._page(path, [], query))
        if coll == "schemas" and len(rest) >= 5:
            sch, coll2 = rest[3], low[4]
            if not any(n == sch for _, _, n, _ in store.catalog_items(account, "schema", db=db)):
                raise ApiError(404, "SchemaNotFound", f"Schema '{db}.{sch}' does not exist.")
            spec = _CATALOG_COLLECTIONS.get(coll2)
            if spec is None or not spec[2]:
                raise ApiError(404, "NotFound", f"No catalog route for {path}.")
            if len(rest) > 6:   # statistics, partitions... of a table: the emulator keeps none
                self._catalog_item(account, "table", db, sch, rest[5], "tableName")
                return self._send(200, self._page(path, [], query))
            return self._collection(account, spec, db, sch, rest[5] if len(rest) == 6 else None, path, query)
        spec = _CATALOG_COLLECTIONS.get(coll)
        if spec is None or len(rest) > 4:
            raise ApiError(404, "NotFound", f"No catalog route for {path}.")
        if spec[2]:   # .../databases/{db}/tables: every schema of the database
            if len(rest) != 3:
                raise ApiError(404, "NotFound", f"No catalog route for {path}.")
            return self._collection(account, spec, db, None, None, path, query)
        return self._collection(account, spec, db, "", rest[3] if len(rest) == 4 else None, path, query)

    def _collection(self, account, spec, db, sch, name, path, query):
        kind, name_key, _ = spec
        if kind is None:
            return self._send(200, self._page(path, [], query))
        if name is not None:
            return self._send(200, self._catalog_item(account, kind, db, sch, name, name_key))
        items = self.emulator.store.catalog_items(account, kind, db=db, sch=sch)
        docs = [_catalog_doc(account, kind, d, s, n, json.loads(x), name_key, listing=True) for d, s, n, x in items]
        if kind == "table" and (query.get("basic") or "").lower() == "true":
            docs = [{k: v for k, v in d.items() if k not in ("columnList", "indexList", "partitionKeyList",
                                                              "distributionInfo", "externalTable")} for d in docs]
        return self._send(200, self._page(path, docs, query))

    def _catalog_item(self, account, kind, db, sch, name, name_key):
        for d, s, n, x in self.emulator.store.catalog_items(account, kind, db=db, sch=sch):
            if n == name:
                return _catalog_doc(account, kind, d, s, n, json.loads(x), name_key)
        label = ".".join(p for p in (db, sch, name) if p)
        raise ApiError(404, "CatalogObjectNotFound", f"The {kind} '{label}' does not exist.")

    # -- ARM accounts -------------------------------------------------------------------------
    def _account_doc(self, name, store, created):
        emu = self.emulator
        rid = (f"/subscriptions/{emu.subscription_id}/resourceGroups/{emu.resource_group}"
               f"/providers/Microsoft.DataLakeAnalytics/accounts/{name}")
        return {"id": rid, "name": name, "type": "Microsoft.DataLakeAnalytics/accounts", "location": "emulator",
                "tags": {}, "properties": {
                    "accountId": str(uuid.uuid5(_NS, name.lower())), "provisioningState": "Succeeded",
                    "state": "Active", "creationTime": created, "lastModifiedTime": created,
                    "endpoint": f"{name}.azuredatalakeanalytics.net", "defaultDataLakeStoreAccount": store,
                    "dataLakeStoreAccounts": [{"id": f"{rid}/dataLakeStoreAccounts/{store}", "name": store,
                                               "type": "Microsoft.DataLakeAnalytics/accounts/dataLakeStoreAccounts",
                                               "properties": {"suffix": "azuredatalakestore.net"}}],
                    "storageAccounts": [], "computePolicies": [], "firewallRules": [],
                    "firewallState": "Disabled", "firewallAllowAzureIps": "Disabled",
                    "newTier": "Consumption", "currentTier": "Consumption", "maxJobCount": 20,
                    "systemMaxJobCount": 20, "maxDegreeOfParallelism": 250, "systemMaxDegreeOfParallelism": 250,
                    "maxDegreeOfParallelismPerJob": 250, "minPriorityPerJob": 1, "queryStoreRetention": 30}}

    def _arm(self, segs, query):
        emu = self.emulator
        low = [s.lower() for s in segs]
        path = urlsplit(self.path).path
        if self.command != "GET":
            raise ApiError(405, "MethodNotAllowed", "The emulator's accounts are read-only.")
        try:
            i = low.index("microsoft.datalakeanalytics")
        except ValueError:
            raise ApiError(404, "NotFound", f"No route for {path}.") from None
        tail = segs[i + 1:]
        ltail = low[i + 1:]
        if ltail[:1] != ["accounts"]:
            raise ApiError(404, "NotFound", f"No route for {path}.")
        if len(tail) == 1:
            docs = [self._account_doc(*a) for a in emu.store.accounts()]
            if "resourcegroups" not in low:   # the Basic model of list(): no properties beyond the basics
                for d in docs:
                    d["properties"] = {k: d["properties"][k] for k in (
                        "accountId", "provisioningState", "state", "creationTime", "lastModifiedTime", "endpoint")}
            return self._send(200, self._page(path, docs, query, key_filter=False))
        row = emu.store.account(tail[1])
        if row is None:
            raise ApiError(404, "ResourceNotFound",
                           f"The Resource 'Microsoft.DataLakeAnalytics/accounts/{tail[1]}' was not found.")
        doc = self._account_doc(*row)
        if len(tail) == 2:
            return self._send(200, doc)
        if ltail[2:] == ["datalakestoreaccounts"]:
            return self._send(200, {"value": doc["properties"]["dataLakeStoreAccounts"]})
        raise ApiError(404, "NotFound", f"No route for {path}.")

    # -- control ------------------------------------------------------------------------------
    def _control(self, segs, body):
        emu = self.emulator
        if segs == ["health"]:
            return self._send(200, {"status": "ok", "accounts": [a[0] for a in emu.store.accounts()],
                                    "executes": bool(emu.execute)})
        if segs == ["faults"] and self.command == "POST":
            allowed = {"status", "delay", "drop", "drop_after", "times", "method", "path", "retry_after", "cancel"}
            if not isinstance(body, dict):
                raise ApiError(400, "InvalidRequest", "The body must be a JSON object describing the fault.")
            unknown = sorted(set(body) - allowed)
            if unknown:
                raise ApiError(400, "InvalidRequest", f"Unknown fault field(s) {', '.join(unknown)[:200]}; "
                                                      f"known ones are {', '.join(sorted(allowed))}.")
            try:
                f = emu.inject(**body)
            except (TypeError, ValueError) as e:
                raise ApiError(400, "InvalidRequest", f"Invalid fault: {str(e)[:300]}") from None
            return self._send(200, {"fault": {k: getattr(f, k) for k in allowed}})
        if segs == ["faults"] and self.command == "DELETE":
            emu.clear_faults()
            return self._send(200, {"faults": []})
        if segs == ["accounts"] and self.command == "POST":
            name = body.get("name") if isinstance(body, dict) else None
            store = body.get("store") if isinstance(body, dict) else None
            if not isinstance(name, str) or not _ACCOUNT_NAME.match(name):
                raise ApiError(400, "InvalidRequest", "name must be an account name (letters, digits, '-').")
            if store is not None and (not isinstance(store, str) or not _ACCOUNT_NAME.match(store)):
                raise ApiError(400, "InvalidRequest", "store must be a store account name (letters, digits, '-').")
            emu.add_account(name, store)
            return self._send(200, {"accounts": [a[0] for a in emu.store.accounts()]})
        raise ApiError(404, "NotFound", "No such emulator control route.")


def _parse_duration(s) -> float:
    m = re.fullmatch(r"PT(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?", s if isinstance(s, str) else "")
    if not m:
        return 0.0
    h, mi, sec = m.groups()
    return int(h or 0) * 3600 + int(mi or 0) * 60 + float(sec or 0)
