"""The job life cycle: create, advance, end; compile with usqlrw's parser, execute on the engine."""
from __future__ import annotations

import json
import os
import threading
import uuid
from http.server import ThreadingHTTPServer

from ..jobs.odata import parse_time
from .catalog import _apply
from .faults import Fault
from .http import MAX_BODY_BYTES, _bad, _Handler, _is_int
from .state import STATES, ApiError, Store, _duration, _now, _ts, log


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
                 expected_token: str | None = None, max_body: int = MAX_BODY_BYTES,
                 execute: bool = True, data_dir: str | None = None):
        self.store = Store(db)
        # jobs run on the engine against each account's store and catalog (folders under data_dir:
        # next to a state file, else a temporary folder); execute=False only accepts and succeeds
        self.execute = execute
        self._tmp = None
        if data_dir is None:
            if db == ":memory:" or db.startswith("file:"):
                import tempfile
                self._tmp = data_dir = tempfile.mkdtemp(prefix="usqlrw-emulator-")
            else:
                data_dir = os.path.splitext(db)[0] + "-data"
        self.data_dir = os.path.abspath(data_dir)
        self._results: dict = {}       # (account, job id) -> errors of its execution ([] = succeeded)
        self._xlock = threading.Lock()
        self._account_locks: dict = {}  # account -> lock: one job of an account runs at a time
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
        if self._tmp is not None:
            import shutil
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def store_path(self, store_account: str) -> str:
        """The folder that holds a Data Lake Store (or Blob storage) account's files (made if need be)."""
        from .stores import store_dir
        path = store_dir(self.data_dir, store_account)
        os.makedirs(path, exist_ok=True)
        return path

    def default_store(self, account: str) -> str | None:
        """The default Data Lake Store account of an ADLA account (None if it is unknown)."""
        row = self.store.account(account)
        return row[1] if row else None

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
        from ..jobs.columns import script_operations
        if self.execute:
            errors = self._results.pop((account.lower(), doc["jobId"]), None)
            if errors is None:     # not run yet (advanced by the clock or a listing): run it now
                self._execute(account, doc["jobId"], doc)
                errors = self._results.pop((account.lower(), doc["jobId"]), [])
            if errors:
                self._ddl.pop((account.lower(), doc["jobId"]), None)
                self._end(account, doc, "Failed", errors)
                return
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

    # -- execution on the engine -----------------------------------------------------------------
    def _execute(self, account: str, job_id: str, doc: dict):
        """Run a job on the engine once, against its account's store and catalog; the errors are
        kept for the moment it ends. Jobs of one account run one at a time; the state lock is not
        taken while a job runs (a caller may hold it: nothing here waits for it)."""
        from ..parser import parse
        from .stores import execute
        key = (account.lower(), job_id)
        with self._xlock:
            if key in self._results:
                return
            lock = self._account_locks.setdefault(account.lower(), threading.Lock())
        store = self.default_store(account) or f"{account}store"
        with lock:
            if key in self._results:
                return
            try:
                errors = execute(parse(doc["properties"].get("script") or "", path="script.usql"),
                                 self.data_dir, account, store)
            except Exception as e:   # an engine bug fails the job, never the emulator
                log.warning("job %s in %s: internal error of the engine (%s)", job_id, account, type(e).__name__)
                errors = [{"errorId": "E_SYSTEM_INTERNAL", "severity": "Error", "source": "SYSTEM",
                           "message": f"internal error of the engine: {type(e).__name__}", "lineNumber": 1}]
            with self._xlock:
                self._results[key] = errors

    def _run_if_due(self, account: str, job_id: str):
        """Run a queued job before it is read into Running (outside the state lock)."""
        if not self.execute or (account.lower(), job_id) in self._results:
            return
        with self.store.lock:
            row = self.store.job_row(account, job_id)
        if row is None:
            return
        try:
            doc, compile_errors = json.loads(row[3]), json.loads(row[4] or "[]")
        except (ValueError, TypeError):
            return
        if row[0] >= 2 and not compile_errors and isinstance(doc, dict) and doc.get("state") in ("Queued", "Running"):
            self._execute(account, job_id, doc)

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
            from ..jobs.columns import script_operations
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
        if advance:
            self._run_if_due(account, job_id)
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
