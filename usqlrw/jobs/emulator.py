"""A local Azure Data Lake Analytics REST emulator that the real SDK talks to over HTTP.

    emu = Emulator(accounts={"primaryadla": "primaryadls", "secondaryadla": "secondaryadls"}).start()
    ... point SDK clients at emu.account_url("{accountName}") (see usqlrw.jobs.client) ...
    emu.stop()

It serves several accounts at once, the account being the first path segment
(``http://127.0.0.1:PORT/{accountName}/jobs/...``), and the ARM account API under
``/subscriptions/...``. State lives in SQLite (``:memory:`` or a file shared by several runs).
It implements what azure-mgmt-datalake-analytics 0.6.0 sends: jobs (api-version
2017-09-01-preview) with create (idempotent PUT), get, list with ``$filter``/``$top``/``$skip``/
``$orderby`` and absolute ``nextLink`` paging, cancel and buildJob; pipelines and recurrences
(aggregated from the jobs' ``related`` properties, as the service does); the U-SQL catalog reads
(2016-11-01); and the account read (2016-11-01) that names the default Data Lake Store account.

Job life cycle: Accepted -> Compiling -> Queued -> Running -> Ended. A job moves one state each
time it is read (``GET /jobs/{id}``), and also with the clock when ``step_seconds`` is set, so
tests are deterministic and a watcher sees every state. The script is compiled with usqlrw's own
parser: one that does not parse ends Failed with the error in ``errorMessage`` as the service
reports compile errors. When a job succeeds, its DDL is applied to the emulated catalog in one
transaction; creating what exists (without IF NOT EXISTS) or dropping what does not fails the job
and changes nothing.

Faults can be injected (:meth:`Emulator.inject`, or ``POST /_emulator/faults``): an HTTP status
(429, 500, 503...), a slow answer, or a dropped connection, for matching requests. Every answer
carries ``x-ms-request-id``; errors have the body ``{"error": {"code", "message"}}``.
The emulator never records or prints request headers, so tokens do not leak into its logs.

Malformed requests get a 4xx JSON error and the server goes on: a bad request line, method or
HTTP version, a ``Content-Length`` that is not one number (or chunked bodies), bodies over
``max_body`` bytes (413, answered from the headers), bodies that are not JSON or are nested deeper
than :data:`MAX_JSON_DEPTH`, create-job fields of the wrong type, and bad fault or account
definitions. The control routes (``/_emulator/...``) take the same bearer token as the API. No
lock is held while a body is read or parsed or a script compiled, and a stored job document that is
not valid is left out of listings (and answered 500 on its own) instead of breaking them.
"""
from __future__ import annotations

import hmac
import json
import logging
import re
import socket
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from .odata import ODataError, parse_filter, parse_time, sort_documents

__all__ = ["Emulator", "Fault", "JOB_API_VERSION", "CATALOG_API_VERSION", "ACCOUNT_API_VERSION"]

log = logging.getLogger("usqlrw.emulator")

JOB_API_VERSION = "2017-09-01-preview"
CATALOG_API_VERSION = "2016-11-01"
ACCOUNT_API_VERSION = "2016-11-01"
_ACCOUNT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,62}$")
STATES = ("Accepted", "Compiling", "Queued", "Running", "Ended")
_NS = uuid.UUID("6c1f2b5e-4f7a-4e59-9d0c-2f8f3e0b7a11")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (name TEXT PRIMARY KEY COLLATE NOCASE, store TEXT NOT NULL,
    created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (account TEXT NOT NULL COLLATE NOCASE, id TEXT NOT NULL, seq INTEGER NOT NULL,
    step INTEGER NOT NULL DEFAULT 0, reads INTEGER NOT NULL DEFAULT 0, request TEXT NOT NULL,
    doc TEXT NOT NULL, compile TEXT, PRIMARY KEY (account, id));
CREATE TABLE IF NOT EXISTS catalog (account TEXT NOT NULL COLLATE NOCASE, kind TEXT NOT NULL,
    db TEXT NOT NULL, sch TEXT NOT NULL, name TEXT NOT NULL, doc TEXT NOT NULL,
    PRIMARY KEY (account, kind, db, sch, name));
"""


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _ts(d: datetime) -> str:
    return d.isoformat(timespec="milliseconds")


def _duration(seconds: float) -> str:
    return f"PT{max(seconds, 0):.3f}S"


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class Fault:
    """One injected fault: for requests matching ``method``/``path`` (a regex searched in the path),
    answer ``status``, or wait ``delay`` seconds first, or ``drop`` the connection unanswered, or
    ``drop_after`` carrying the request out and then dropping the answer (a lost response);
    ``times`` requests."""
    status: int | None = None
    delay: float = 0.0
    drop: bool = False
    drop_after: bool = False
    times: int = 1
    method: str | None = None
    path: str | None = None
    retry_after: float | None = None
    hits: int = field(default=0)
    cancel: bool = False       # a job created by the matching PUT is cancelled at once (as by its owner)

    def __post_init__(self):
        def number(name, lo, hi, none_ok=False):
            v = getattr(self, name)
            if v is None and none_ok:
                return
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
                raise ValueError(f"{name} must be a number from {lo} to {hi}, not {v!r}")
        if self.status is not None and (isinstance(self.status, bool) or not isinstance(self.status, int)
                                        or not 100 <= self.status <= 599):
            raise ValueError(f"status must be an HTTP status (100-599), not {self.status!r}")
        number("delay", 0, 300)
        number("retry_after", 0, 3600, none_ok=True)
        if isinstance(self.times, bool) or not isinstance(self.times, int) or not 1 <= self.times <= 1_000_000:
            raise ValueError(f"times must be a whole number from 1 to 1000000, not {self.times!r}")
        for name in ("drop", "drop_after"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false, not {getattr(self, name)!r}")
        if self.method is not None and (not isinstance(self.method, str) or not self.method.isalpha()):
            raise ValueError(f"method must be an HTTP method name, not {self.method!r}")
        if self.path is not None:
            if not isinstance(self.path, str) or len(self.path) > 1000:
                raise ValueError("path must be a regular expression (a string of at most 1000 characters)")
            try:
                re.compile(self.path)
            except re.error as e:
                raise ValueError(f"path is not a valid regular expression: {e}") from None

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        return not self.path or re.search(self.path, path, re.I) is not None


class Store:
    """The emulator's state in SQLite; every method holds the lock, so it is safe across threads."""

    def __init__(self, db: str = ":memory:"):
        self.lock = threading.RLock()
        self.conn = sqlite3.connect(db, check_same_thread=False, isolation_level=None, timeout=30)
        self.conn.execute("PRAGMA journal_mode=WAL" if db != ":memory:" else "PRAGMA journal_mode=MEMORY")
        self.conn.executescript(_SCHEMA)

    def close(self):
        with self.lock:
            self.conn.close()

    # -- accounts ---------------------------------------------------------------------------
    def add_account(self, name: str, store: str | None = None):
        with self.lock:
            self.conn.execute("INSERT OR IGNORE INTO accounts VALUES (?, ?, ?)",
                              (name, store or f"{name}store", _ts(_now())))
            self.conn.execute("INSERT OR IGNORE INTO catalog VALUES (?, 'database', 'master', '', 'master', '{}')",
                              (name,))
            self.conn.execute("INSERT OR IGNORE INTO catalog VALUES (?, 'schema', 'master', '', 'dbo', '{}')",
                              (name,))

    def account(self, name: str):
        with self.lock:
            row = self.conn.execute("SELECT name, store, created FROM accounts WHERE name = ?", (name,)).fetchone()
        return row

    def accounts(self):
        with self.lock:
            return self.conn.execute("SELECT name, store, created FROM accounts ORDER BY name").fetchall()

    # -- jobs -------------------------------------------------------------------------------
    def job_row(self, account: str, job_id: str):
        return self.conn.execute("SELECT step, reads, request, doc, compile FROM jobs WHERE account = ? AND id = ?",
                                 (account, job_id)).fetchone()

    def insert_job(self, account, job_id, request, doc, compile_errors):
        seq = self.conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM jobs").fetchone()[0]
        self.conn.execute("INSERT INTO jobs (account, id, seq, request, doc, compile) VALUES (?, ?, ?, ?, ?, ?)",
                          (account, job_id, seq, json.dumps(request, sort_keys=True), json.dumps(doc),
                           json.dumps(compile_errors)))

    def save_job(self, account, job_id, step, reads, doc):
        self.conn.execute("UPDATE jobs SET step = ?, reads = ?, doc = ? WHERE account = ? AND id = ?",
                          (step, reads, json.dumps(doc), account, job_id))

    def job_ids(self, account):
        return [r[0] for r in self.conn.execute("SELECT id FROM jobs WHERE account = ? ORDER BY seq", (account,))]

    # -- catalog ----------------------------------------------------------------------------
    def catalog_items(self, account, kind, db=None, sch=None):
        q, args = "SELECT db, sch, name, doc FROM catalog WHERE account = ? AND kind = ?", [account, kind]
        if db is not None:
            q += " AND db = ?"
            args.append(db)
        if sch is not None:
            q += " AND sch = ?"
            args.append(sch)
        with self.lock:
            return self.conn.execute(q + " ORDER BY db, sch, name", args).fetchall()


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


def check_job_request(req) -> None:
    """Refuse (400) a create-job body whose fields have the wrong types, before anything is stored."""
    if not isinstance(req, dict):
        raise _bad("The request body must be a JSON object.")
    name = req.get("name")
    if not name:
        raise _bad("The job name is required.")
    if not isinstance(name, str) or len(name) > 1024:
        raise _bad("name must be a string of at most 1024 characters.")
    if req.get("type") is not None and not isinstance(req["type"], str):
        raise _bad("type must be a string.")
    for key, lo in (("degreeOfParallelism", 1), ("priority", 0)):
        v = req.get(key)
        if v is not None and not (_is_int(v) and lo <= v <= 1_000_000):
            raise _bad(f"{key} must be a whole number from {lo} to 1000000, not {v!r}."[:300])
    v = req.get("degreeOfParallelismPercent")
    if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
        raise _bad("degreeOfParallelismPercent must be a number.")
    v = req.get("logFilePatterns")
    if v is not None and not (isinstance(v, list) and all(isinstance(x, str) for x in v)):
        raise _bad("logFilePatterns must be a list of strings.")
    for key in ("related", "tags"):
        v = req.get(key)
        if v is not None and not (isinstance(v, dict) and all(x is None or isinstance(x, str) for x in v.values())):
            raise _bad(f"{key} must be an object whose values are strings.")
    props = req.get("properties")
    if props is not None and not isinstance(props, dict):
        raise _bad("properties must be an object.")
    for key in ("type", "runtimeVersion", "compileMode"):
        v = (props or {}).get(key)
        if v is not None and not isinstance(v, str):
            raise _bad(f"properties.{key} must be a string.")


def _valid_doc(doc) -> bool:
    """Whether a stored job document has the shape every reader relies on."""
    if not isinstance(doc, dict) or not isinstance(doc.get("jobId"), str) or doc.get("state") not in STATES:
        return False
    if not isinstance(doc.get("submitTime"), str) or not isinstance(doc.get("properties"), dict):
        return False
    if not isinstance(doc.get("stateAuditRecords"), list) or not all(
            isinstance(r, dict) and isinstance(r.get("timeStamp"), str) for r in doc["stateAuditRecords"]):
        return False
    if not _is_int(doc.get("degreeOfParallelism")):
        return False
    rel = doc.get("related")
    if rel is not None and not (isinstance(rel, dict) and all(x is None or isinstance(x, str) for x in rel.values())):
        return False
    try:
        parse_time(doc["submitTime"])
    except (ValueError, TypeError):
        return False
    return True


def _error_details(err, script_path="script.usql") -> dict:
    """A compile error in the shape the service reports it (JobErrorDetails)."""
    return {"errorId": "E_CSC_USER_SYNTAXERROR", "severity": "Error", "source": "USER",
            "message": f"syntax error. {err.message}", "description": err.message,
            "details": f"at line {err.line}, column {err.column}", "lineNumber": err.line,
            "startOffset": getattr(err, "offset", None) or 0, "endOffset": (getattr(err, "offset", None) or 0) + 1,
            "resolution": "Correct the script and resubmit.", "filePath": script_path,
            "helpLink": "", "internalDiagnostics": ""}


def _compile(script: str):
    """(errors, script AST or None) for a U-SQL script, compiled with usqlrw's parser."""
    from ..parser import USqlSyntaxError, parse
    try:
        return [], parse(script, path="script.usql")
    except USqlSyntaxError as e:
        return [_error_details(e)], None
    except Exception as e:  # a parser bug must not take the emulator down
        return [{"errorId": "E_CSC_SYSTEM_INTERNAL", "severity": "Error", "source": "SYSTEM",
                 "message": f"internal compiler error: {type(e).__name__}", "lineNumber": 1}], None


class Emulator:
    """The emulator: a threaded HTTP server on 127.0.0.1 plus its SQLite store."""

    def __init__(self, db: str = ":memory:", *, host: str = "127.0.0.1", port: int = 0,
                 accounts: dict | None = None, auto_create_accounts: bool = True,
                 step_seconds: float | None = None, running_reads: int = 1, page_size: int = 100,
                 require_auth: bool = True, subscription_id: str = "00000000-0000-0000-0000-000000000000",
                 resource_group: str = "usqlrw-emulator", max_lifetime: float | None = None,
                 expected_token: str | None = None, max_body: int = MAX_BODY_BYTES):
        self.store = Store(db)
        self.host, self.port = host, port
        self.auto_create_accounts = auto_create_accounts
        self.step_seconds, self.running_reads, self.page_size = step_seconds, running_reads, page_size
        self.require_auth = require_auth
        self.expected_token = expected_token   # if set, only this bearer token is accepted
        self.subscription_id, self.resource_group = subscription_id, resource_group
        self.max_lifetime = max_lifetime
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str, int]] = []   # (method, path without query, status)
        self.created: list[tuple[str, str]] = []         # (account, job id) of every job created
        self.inflight = self.max_inflight = 0            # requests being handled, and the most at once
        self._flock = threading.Lock()
        self._ddl: dict = {}    # (account, job id) -> catalog operations, compiled when the job was created
        self.max_body = max_body
        self._server = None
        self._thread = None
        self._timer = None
        for name, store in (accounts or {}).items():
            self.store.add_account(name, store)

    # -- life cycle -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def account_url(self, account: str = "{accountName}") -> str:
        return f"{self.url}/{account}"

    def start(self) -> "Emulator":
        handler = type("Handler", (_Handler,), {"emulator": self})
        self._server = ThreadingHTTPServer((self.host, self.port), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"adla-emulator-{self.port}", daemon=True)
        self._thread.start()
        if self.max_lifetime:
            self._timer = threading.Timer(self.max_lifetime, self.stop)
            self._timer.daemon = True
            self._timer.start()
        log.info("ADLA emulator listening on %s", self.url)
        return self

    def serve_forever(self):
        """Run in the foreground (for ``usqlrw emulator``) until interrupted."""
        self.start()
        try:
            while self._thread.is_alive():
                self._thread.join(0.5)
        finally:
            self.stop()

    def stop(self):
        if self._timer is not None:
            self._timer.cancel()
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5)

    def close(self):
        self.stop()
        self.store.close()

    def __enter__(self):
        return self.start() if self._server is None else self

    def __exit__(self, *exc):
        self.close()

    # -- configuration ----------------------------------------------------------------------
    def add_account(self, name: str, store: str | None = None):
        self.store.add_account(name, store)

    def inject(self, status: int | None = None, *, delay: float = 0.0, drop: bool = False, drop_after: bool = False,
               times: int = 1, method: str | None = None, path: str | None = None,
               retry_after: float | None = None, cancel: bool = False) -> Fault:
        f = Fault(status, delay, drop, drop_after, times, method, path, retry_after, cancel=cancel)
        with self._flock:
            self.faults.append(f)
        return f

    def clear_faults(self):
        with self._flock:
            self.faults.clear()

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self._flock:
            for f in self.faults:
                if f.hits < f.times and f.matches(method, path):
                    f.hits += 1
                    return f
        return None

    # -- job life cycle ---------------------------------------------------------------------
    def _ensure_account(self, name: str):
        if self.store.account(name) is None:
            if not self.auto_create_accounts:
                raise ApiError(404, "AccountNotFound", f"The account '{name}' does not exist.")
            self.store.add_account(name)
        return self.store.account(name)

    def _job_doc(self, account: str, job_id: str, req: dict, compile_errors: list) -> dict:
        now = _now()
        store = self.store.account(account)[1]
        props = dict(req.get("properties") or {})
        props.setdefault("type", req.get("type", "USql"))
        props.setdefault("runtimeVersion", "default")
        props.setdefault("compileMode", "Semantic")
        props.update({"resources": [], "diagnostics": [], "totalCompilationTime": _duration(0),
                      "totalQueuedTime": _duration(0), "totalRunningTime": _duration(0),
                      "totalPausedTime": _duration(0), "rootProcessNodeId": "", "yarnApplicationId": "",
                      "yarnApplicationTimeStamp": 0, "algebraFilePath": ""})
        return {"jobId": job_id, "name": req.get("name"), "type": req.get("type", "USql"),
                "submitter": "emulator@localhost", "degreeOfParallelism": req.get("degreeOfParallelism", 1),
                "priority": req.get("priority", 1000), "submitTime": _ts(now), "startTime": None, "endTime": None,
                "state": "Accepted", "result": "None",
                "logFolder": f"adl://{store}.azuredatalakestore.net/system/jobservice/jobs/Usql/"
                             f"{now:%Y/%m/%d/%H/%M}/{job_id}/logs/",
                "logFilePatterns": req.get("logFilePatterns") or [], "related": req.get("related"),
                "tags": req.get("tags") or {}, "errorMessage": [],
                "stateAuditRecords": [{"newState": "Accepted", "timeStamp": _ts(now),
                                       "requestedByUser": "emulator@localhost", "details": ""}],
                "properties": props}

    def _advance(self, account: str, job_id: str, reads: int = 0) -> dict:
        """Move a job on: ``reads`` steps for being read, and whatever the clock says."""
        with self.store.lock:
            row = self.store.job_row(account, job_id)
            step, nreads, _req, doc, comp = row
            doc = json.loads(doc)
            compile_errors = json.loads(comp or "[]")
            target = step
            if doc["state"] != "Ended":
                nreads += reads
                target = step + reads
                if self.step_seconds:
                    submitted = parse_time(doc["submitTime"])
                    target = max(target, int((_now() - submitted).total_seconds() / self.step_seconds))
                while step < min(target, 4) and doc["state"] != "Ended":
                    if step == 3 and nreads < 3 + self.running_reads and not self.step_seconds:
                        break  # stays Running for running_reads reads
                    step += 1
                    if step == 2 and compile_errors:
                        self._end(account, doc, "Failed", compile_errors)
                        step = 4
                    elif step == 4:
                        self._finish(account, doc)
                    else:
                        self._enter(doc, STATES[step])
                self.store.save_job(account, job_id, step, nreads, doc)
            return doc

    @staticmethod
    def _enter(doc: dict, state: str, details: str = ""):
        now = _ts(_now())
        doc["state"] = state
        if state == "Running" and not doc.get("startTime"):
            doc["startTime"] = now
        doc["stateAuditRecords"].append({"newState": state, "timeStamp": now,
                                         "requestedByUser": "emulator@localhost", "details": details})

    def _end(self, account, doc, result, errors=(), details=""):
        self._enter(doc, "Ended", details)
        doc["result"] = result
        doc["endTime"] = doc["stateAuditRecords"][-1]["timeStamp"]
        if errors:
            doc["errorMessage"] = list(errors)
            doc["properties"]["diagnostics"] = [
                {"message": e.get("description") or e.get("message"), "severity": "Error",
                 "lineNumber": e.get("lineNumber"), "columnNumber": 1, "start": e.get("startOffset", 0),
                 "end": e.get("endOffset", 0)} for e in errors]
        times = {r["newState"]: parse_time(r["timeStamp"]) for r in doc["stateAuditRecords"]}
        end = times["Ended"]
        if "Running" in times:
            doc["properties"]["totalRunningTime"] = _duration((end - times["Running"]).total_seconds())
        if "Queued" in times:
            doc["properties"]["totalQueuedTime"] = _duration(
                (times.get("Running", end) - times["Queued"]).total_seconds())
        if "Compiling" in times:
            doc["properties"]["totalCompilationTime"] = _duration(
                (times.get("Queued", end) - times["Compiling"]).total_seconds())

    def _finish(self, account, doc):
        """End a job that ran: apply its DDL in one transaction, or fail it without changing anything."""
        from ..parser import parse
        from .columns import script_operations
        ops = self._ddl.pop((account.lower(), doc["jobId"]), None)
        if ops is None:   # a job created before a restart: compile it now
            try:
                ops = script_operations(parse(doc["properties"].get("script") or ""))
            except Exception:
                ops = []
        conn = self.store.conn
        conn.execute("SAVEPOINT job_ddl")
        try:
            for op in ops:
                _apply(conn, account, op)
        except Exception as e:
            conn.execute("ROLLBACK TO job_ddl")
            conn.execute("RELEASE job_ddl")
            if not isinstance(e, ApiError):
                log.exception("emulator error while applying DDL")
                e = ApiError(500, "E_SYSTEM_INTERNAL", f"internal error: {type(e).__name__}")
            self._end(account, doc, "Failed", [{"errorId": e.code, "severity": "Error", "source": "USER",
                                               "message": e.message, "description": e.message,
                                               "lineNumber": getattr(e, "line", 1)}])
            return
        conn.execute("RELEASE job_ddl")
        self._end(account, doc, "Succeeded")

    # -- API operations (called by the handler) -----------------------------------------------
    def create_job(self, account: str, job_id: str, req: dict) -> dict:
        self._ensure_account(account)
        check_job_request(req)
        if (req.get("type") or "USql") != "USql":
            raise ApiError(400, "InvalidJobType", "The emulator runs U-SQL jobs only.")
        script = (req.get("properties") or {}).get("script")
        if not isinstance(script, str):
            raise ApiError(400, "InvalidRequest", "properties.script is required.")
        with self.store.lock:
            row = self.store.job_row(account, job_id)
        if row is not None and json.loads(row[2]) == req:
            return json.loads(row[3])       # a retried PUT: the same job, not a second one
        errors, ast = _compile(script)      # outside the lock: other clients are served meanwhile
        ops = None
        if ast is not None:
            from .columns import script_operations
            try:
                ops = script_operations(ast)
            except Exception:
                ops = None
        with self.store.lock:
            row = self.store.job_row(account, job_id)
            if row is not None:
                if json.loads(row[2]) == req:
                    return json.loads(row[3])
                raise ApiError(409, "JobIdAlreadyExists",
                               f"A different job with id {job_id} already exists in account {account}.")
            self.store.insert_job(account, job_id, req, self._job_doc(account, job_id, req, errors), errors)
            if ops is not None:
                self._ddl[(account.lower(), job_id)] = ops
            self.created.append((account, job_id))
            return json.loads(self.store.job_row(account, job_id)[3])

    def get_job(self, account: str, job_id: str, advance: bool = True) -> dict:
        with self.store.lock:
            if self.store.job_row(account, job_id) is None:
                raise ApiError(404, "JobNotFound", f"Job {job_id} was not found in account {account}.")
            try:
                doc = self._advance(account, job_id, 1 if advance else 0)
            except (ValueError, TypeError, KeyError, AttributeError):
                doc = None
            if not _valid_doc(doc):
                raise ApiError(500, "InvalidStoredJob", f"The stored record of job {job_id} is not valid.")
            return doc

    def list_jobs(self, account: str) -> list:
        """Every job of an account; a stored document that is not a valid job is left out (and
        logged), so one bad record cannot break a listing."""
        out = []
        with self.store.lock:
            for j in self.store.job_ids(account):
                try:
                    doc = self._advance(account, j, 0)
                except Exception as e:
                    log.warning("job %s in %s: stored document unusable (%s); left out", j, account,
                                type(e).__name__)
                    continue
                if _valid_doc(doc):
                    out.append(doc)
                else:
                    log.warning("job %s in %s: stored document invalid; left out", j, account)
        return out

    def cancel_job(self, account: str, job_id: str):
        with self.store.lock:
            doc = self.get_job(account, job_id, advance=False)
            if doc["state"] != "Ended":
                self._end(account, doc, "Cancelled", details="CancelRequested")
                self.store.save_job(account, job_id, 4, 0, doc)

    def build_job(self, account: str, req: dict) -> dict:
        self._ensure_account(account)
        check_job_request(dict(req, name=req.get("name") or "build") if isinstance(req, dict) else req)
        script = (req.get("properties") or {}).get("script")
        if not isinstance(script, str):
            raise ApiError(400, "InvalidRequest", "properties.script is required.")
        errors, _ = _compile(script)
        doc = self._job_doc(account, str(uuid.uuid4()), dict(req, name=req.get("name") or "build"), errors)
        doc["stateAuditRecords"] = []
        self._end(account, doc, "Failed" if errors else "Succeeded", errors)
        return doc


def _apply(conn, account: str, op):
    """Apply one catalog operation inside the caller's transaction; ApiError if it cannot be."""
    from .ddl import CATALOG_KINDS
    key = (account, op.kind, op.database, op.schema, op.name)
    exists = conn.execute("SELECT 1 FROM catalog WHERE account=? AND kind=? AND db=? AND sch=? AND name=?",
                          key).fetchone() is not None

    def fail(code, msg):
        e = ApiError(400, code, msg)
        e.line = op.line
        raise e
    label = ".".join(p for p in (op.database, op.schema, op.name) if p) if op.kind != "database" else op.name
    if op.action == "alter":   # a table's columns added or dropped
        row = conn.execute("SELECT doc FROM catalog WHERE account=? AND kind=? AND db=? AND sch=? AND name=?",
                           key).fetchone()
        if row is None:
            fail("E_CSC_USER_DDLENTITYDOESNOTEXIST", f"The table '{label}' does not exist.")
        doc = json.loads(row[0])
        cols = list(doc.get("columnList") or [])
        have = {c["name"].lower() for c in cols}
        for c in op.doc.get("add", []):
            if c["name"].lower() in have:
                fail("E_CSC_USER_DUPLICATECOLUMNDEFINITION", f"The column '{c['name']}' already exists in '{label}'.")
            cols.append(c)
        for name in op.doc.get("drop", []):
            if name.lower() not in have:
                fail("E_CSC_USER_INVALIDCOLUMNREFERENCE", f"The column '{name}' is not in '{label}'.")
            cols = [c for c in cols if c["name"].lower() != name.lower()]
        doc["columnList"] = cols
        conn.execute("UPDATE catalog SET doc=? WHERE account=? AND kind=? AND db=? AND sch=? AND name=?",
                     (json.dumps(doc),) + key)
        return
    if op.action == "create":
        if op.kind != "database" and conn.execute(
                "SELECT 1 FROM catalog WHERE account=? AND kind='database' AND name=?",
                (account, op.database)).fetchone() is None:
            fail("E_CSC_USER_DATABASENOTFOUND", f"Database '{op.database}' does not exist.")
        if CATALOG_KINDS.get(op.kind) and conn.execute(
                "SELECT 1 FROM catalog WHERE account=? AND kind='schema' AND db=? AND name=?",
                (account, op.database, op.schema)).fetchone() is None:
            fail("E_CSC_USER_SCHEMANOTFOUND", f"Schema '{op.database}.{op.schema}' does not exist.")
        if exists:
            if op.if_exists:
                return
            fail("E_CSC_USER_DDLENTITYALREADYEXISTS", f"The {op.kind} '{label}' already exists.")
        conn.execute("INSERT INTO catalog VALUES (?, ?, ?, ?, ?, ?)", key + (json.dumps(op.doc),))
        if op.kind == "database":
            conn.execute("INSERT OR IGNORE INTO catalog VALUES (?, 'schema', ?, '', 'dbo', '{}')",
                         (account, op.name))
    else:
        if not exists:
            if op.if_exists:
                return
            fail("E_CSC_USER_DDLENTITYDOESNOTEXIST", f"The {op.kind} '{label}' does not exist.")
        if op.kind == "database":
            if op.name.lower() == "master":
                fail("E_CSC_USER_CANNOTDROPMASTER", "The master database cannot be dropped.")
            conn.execute("DELETE FROM catalog WHERE account=? AND (db=? OR (kind='database' AND name=?))",
                         (account, op.name, op.name))
        elif op.kind == "schema":
            conn.execute("DELETE FROM catalog WHERE account=? AND db=? AND sch=?", (account, op.database, op.name))
            conn.execute("DELETE FROM catalog WHERE account=? AND kind=? AND db=? AND sch=? AND name=?", key)
        else:
            conn.execute("DELETE FROM catalog WHERE account=? AND kind=? AND db=? AND sch=? AND name=?", key)


# -- catalog views --------------------------------------------------------------------------

# URL collection name -> (kind, JSON name key, in a schema?)
_CATALOG_COLLECTIONS = {
    "schemas": ("schema", "schemaName", False), "assemblies": ("assembly", "assemblyName", False),
    "credentials": ("credential", "credentialName", False),
    "externaldatasources": ("data_source", "externalDataSourceName", False),
    "tables": ("table", "tableName", True), "tablevaluedfunctions": ("tvf", "tvfName", True),
    "views": ("view", "viewName", True), "procedures": ("procedure", "procName", True),
    "packages": ("package", "packageName", True), "tabletypes": ("type", "typeName", True),
    "types": ("type", "typeName", True), "statistics": (None, "statisticsName", True),
    "partitions": (None, "partitionName", True), "tablefragments": (None, "", True),
}


def _catalog_doc(account: str, kind: str, db: str, sch: str, name: str, extra: dict, name_key: str,
                 listing: bool = False) -> dict:
    doc = {"computeAccountName": account, "version": str(uuid.uuid5(_NS, f"{account}/{kind}/{db}/{sch}/{name}"))}
    if kind == "database":
        doc["databaseName"] = name
        return doc
    if kind != "credential":
        doc["databaseName"] = db
    if sch:
        doc["schemaName"] = sch
    if kind == "assembly" and listing:
        name_key = "assemblyClrName"
    doc[name_key] = name
    if kind == "type":
        doc.update({"typeFamily": "", "cSharpName": name, "fullCSharpName": f"{db}.{sch}.{name}",
                    "systemTypeId": 0, "userTypeId": 0, "schemaId": 0, "principalId": 0, "isNullable": False,
                    "isUserDefined": True, "isAssemblyType": False, "isTableType": True, "isComplexType": True})
    doc.update(extra)
    if kind == "assembly" and listing:
        doc = {k: v for k, v in doc.items() if k not in ("files", "dependencies", "isVisible", "isUserDefined")}
    return doc


# -- HTTP -----------------------------------------------------------------------------------

class _Handler(BaseHTTPRequestHandler):
    emulator: Emulator = None  # set on the subclass made by Emulator.start
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
            if fault.delay:
                time.sleep(fault.delay)
            if fault.drop:
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                emu.requests.append((self.command, parts.path, 0))
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
            return self._send(200, {"status": "ok", "accounts": [a[0] for a in emu.store.accounts()]})
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
