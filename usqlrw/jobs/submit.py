"""Submitting U-SQL scripts as ADLA jobs: idempotent, retried, bounded, recorded in a ledger.

* **Job ids are deterministic**: ``uuid5`` over the account, the script as sent (after any
  rewrite, as UTF-8), the parameters, the job name and an optional run key, unless an id is
  given. Submitting the same thing twice addresses the same job; fixing the DR config and
  submitting again makes new jobs for the scripts whose rewrite changed.
* **A ledger** (JSON lines, one record per event, each appended with a single ``write`` and
  ``fsync``) records every submission: ``intent`` before the request, ``submitted`` after it,
  ``failed`` when it could not be made, ``ended`` when a waited-for job finished. A rerun skips
  jobs already submitted; for an ``intent`` without an outcome (a crash mid-request) it asks the
  service whether the job exists before submitting. No script text, tokens or parameter values go
  into the ledger.
* **Parameters** ``NAME=VALUE`` (or ``NAME:TYPE=VALUE``) become ``DECLARE`` statements prepended to
  the script, which is how the service's job parameters override ``DECLARE EXTERNAL``.
* **Retries**: 429, 408 and 5xx answers and dropped connections are retried with capped
  exponential backoff and jitter (``Retry-After`` honoured) for every call, POSTs included (the SDK
  itself does not retry POSTs on urllib3 2). A conflict on create means the job exists: it is read back.
* **Bounded concurrency** with a thread pool; each worker thread has its own SDK clients.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .client import describe_error, redact

__all__ = ["JOB_NAMESPACE", "Param", "parse_param", "declare_prelude", "derive_job_id", "JobRequest",
           "prepare_request", "Ledger", "RetryPolicy", "Outcome", "Submitter", "ParamError", "TERMINAL_OK"]

#: namespace of derived job ids (a fixed random UUID: ids stay stable across versions)
JOB_NAMESPACE = uuid.UUID("0f5c8d2a-0b7e-4c1f-9a53-6d2e8b4a7c90")
TERMINAL_OK = "Succeeded"


class ParamError(ValueError):
    pass


# -- parameters -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Param:
    name: str          # without the @
    type: str          # the U-SQL (C#) type
    value: str         # the value as given
    literal: str       # the C# expression that declares it
    inferred: bool = field(default=False, compare=False)   # the type was guessed from the value

    @property
    def declaration(self) -> str:
        return f"DECLARE @{self.name} {self.type} = {self.literal};"


_INT = re.compile(r"[-+]?\d+")
_FLOAT = re.compile(r"[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?")
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_NAME = re.compile(r"@?([A-Za-z_][A-Za-z0-9_]*)")
_TYPES = {"string", "int", "long", "short", "byte", "sbyte", "double", "float", "decimal", "bool", "datetime",
          "guid", "char", "uint", "ulong", "ushort"}


def _cs_string(s: str) -> str:
    out = []
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 32 or ch in "\u2028\u2029\x85":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _literal(typ: str, value: str, name: str) -> str:
    base = typ.rstrip("?").lower()
    v = value.strip()

    def bad(what):
        return ParamError(f"parameter @{name}: {value!r} is not {what}")
    if base == "string":
        return _cs_string(value)
    if base == "char":
        if len(value) != 1:
            raise bad("a single character")
        return "'" + ("\\'" if value == "'" else "\\\\" if value == "\\" else value) + "'"
    if base in ("int", "long", "short", "byte", "sbyte", "uint", "ulong", "ushort"):
        if not _INT.fullmatch(v):
            raise bad(f"an integer ({typ})")
        n = int(v)
        lim = {"int": (-2**31, 2**31 - 1), "long": (-2**63, 2**63 - 1), "short": (-2**15, 2**15 - 1),
               "byte": (0, 255), "sbyte": (-128, 127), "uint": (0, 2**32 - 1), "ulong": (0, 2**64 - 1),
               "ushort": (0, 2**16 - 1)}[base]
        if not lim[0] <= n <= lim[1]:
            raise bad(f"within the range of {typ}")
        suffix = {"long": "L", "uint": "U", "ulong": "UL"}.get(base, "")
        lit = f"{n}{suffix}"
        return f"({base}) {lit}" if base in ("short", "byte", "sbyte", "ushort") else lit
    if base in ("double", "float", "decimal"):
        if not _FLOAT.fullmatch(v):
            raise bad(f"a number ({typ})")
        num = v.lstrip("+")
        if base == "double":
            return num if any(c in num for c in ".eE") else num + ".0"
        return num + ("f" if base == "float" else "m")
    if base == "bool":
        if v.lower() not in ("true", "false"):
            raise bad("true or false")
        return v.lower()
    if base == "datetime":
        m = _DATE.fullmatch(v)
        if not m:
            raise bad("a date (YYYY-MM-DD[THH:MM[:SS[.fff]]])")
        y, mo, d, h, mi, s, frac = m.groups()
        try:
            datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0))
        except ValueError as e:
            raise bad(f"a valid date ({e})") from None
        args = [int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0)]
        if frac and int(frac):
            if frac[3:].strip("0"):
                raise bad("a date and time to the millisecond")
            args.append(int((frac + "00")[:3]))
        return f"new DateTime({', '.join(map(str, args))})"
    if base == "guid":
        if not _GUID.fullmatch(v):
            raise bad("a GUID")
        return f'new Guid("{v.lower()}")'
    raise ParamError(f"parameter @{name}: unsupported type {typ!r}")


def parse_param(text: str) -> Param:
    """``NAME=VALUE`` with the type inferred (int, long, double, bool, DateTime, string), or
    ``NAME:TYPE=VALUE`` with it given (string, int, long, double, float, decimal, bool, DateTime, Guid...).

    >>> parse_param("day=2024-01-15").declaration
    'DECLARE @day DateTime = new DateTime(2024, 1, 15, 0, 0, 0);'
    >>> parse_param("@n=5").declaration, parse_param("big=5000000000").type
    ('DECLARE @n int = 5;', 'long')
    >>> parse_param('label:string=say "hi"').literal
    '"say \\\\"hi\\\\""'
    """
    name_part, eq, value = text.partition("=")
    if not eq:
        raise ParamError(f"parameter {text!r}: expected NAME=VALUE")
    name_part, _, typ = name_part.strip().partition(":")
    m = _NAME.fullmatch(name_part.strip())
    if not m:
        raise ParamError(f"parameter {text.partition('=')[0]!r}: not a valid variable name")
    name = m.group(1)
    typ = typ.strip()
    if typ:
        if typ.rstrip("?").lower() not in _TYPES:
            raise ParamError(f"parameter @{name}: unsupported type {typ!r}")
        typ = _canonical(typ)
    else:
        v = value.strip()
        if _INT.fullmatch(v) and v == value:
            typ = "int" if -2**31 <= int(v) < 2**31 else "long"
        elif _FLOAT.fullmatch(v) and v == value and any(c in v for c in ".eE"):
            typ = "double"
        elif v.lower() in ("true", "false") and v == value:
            typ = "bool"
        elif _DATE.fullmatch(v) and v == value:
            typ = "DateTime"
        else:
            typ = "string"
        return Param(name, typ, value, _literal(typ, value, name), inferred=True)
    return Param(name, typ, value, _literal(typ, value, name))


def _canonical(typ: str) -> str:
    """``datetime?`` -> ``DateTime?``, ``INT`` -> ``int``: the spelling U-SQL wants."""
    t = typ.strip()
    base = t.rstrip("?").strip().lower()
    if base.startswith("system."):
        base = base[len("system."):]
    name = {"datetime": "DateTime", "guid": "Guid"}.get(base, base)
    return name + ("?" if t.endswith("?") else "")


def fit_to_declaration(p: Param, declared_type: str | None, source: str = "<script>") -> Param:
    """The parameter with the type its DECLARE EXTERNAL gives it.

    A type guessed from the value (``day=5``) takes the declared one (``DateTime``) and the value
    must then be one; a type given (``day:int=5``) must be the declared one. Types usqlrw does not
    know are left to the service."""
    if not declared_type:
        return p
    want = _canonical(declared_type)
    if want.rstrip("?").lower() not in _TYPES or want.rstrip("?") == p.type.rstrip("?"):
        return p
    if not p.inferred:
        raise ParamError(f"{source}: parameter @{p.name} is given as {p.type}, but the script declares it "
                         f"{declared_type}")
    try:
        return Param(p.name, want, p.value, _literal(want, p.value, p.name))
    except ParamError as e:
        raise ParamError(f"{source}: {e} (the script declares @{p.name} as {declared_type})") from None


def declare_prelude(params, newline: str = "\n") -> str:
    """The DECLARE statements for parameters, one a line, ending with a newline (empty for none)."""
    return "".join(p.declaration + newline for p in params)


def derive_job_id(account: str, script: bytes, params=(), name: str = "", run_key: str = "") -> str:
    """A job id that depends only on what is submitted: same inputs, same id."""
    h = hashlib.sha256()
    for part in (account.lower().encode(), hashlib.sha256(script).hexdigest().encode(),
                 json.dumps([[p.name, p.type, p.value] for p in params]).encode(), name.encode(),
                 run_key.encode()):
        h.update(len(part).to_bytes(8, "big") + part)
    return str(uuid.uuid5(JOB_NAMESPACE, h.hexdigest()))


# -- requests -------------------------------------------------------------------------------

@dataclass
class JobRequest:
    """One job to submit, fully prepared."""
    account: str
    name: str
    script: str                     # the text sent (rewritten, parameters prepended)
    source: str = "<script>"        # where it came from, for messages
    job_id: str = ""
    params: tuple = ()
    analytics_units: int = 1
    priority: int | None = None
    runtime_version: str | None = None
    compile_mode: str | None = None
    related: dict | None = None     # recurrenceId, recurrenceName, pipelineId, pipelineName, pipelineUri, runId
    warnings: list = field(default_factory=list)
    prelude_lines: int = 0          # lines of DECLAREs put before the script (for error line numbers)

    @property
    def script_sha256(self) -> str:
        return hashlib.sha256(self.script.encode("utf-8")).hexdigest()

    def summary(self) -> dict:
        """What would be sent, without the script text."""
        return {"source": self.source, "account": self.account, "jobId": self.job_id, "name": self.name,
                "analyticsUnits": self.analytics_units, "priority": self.priority,
                "runtimeVersion": self.runtime_version, "compileMode": self.compile_mode,
                "scriptBytes": len(self.script.encode("utf-8")), "scriptSha256": self.script_sha256,
                "parameters": [{"name": p.name, "type": p.type} for p in self.params],
                "related": self.related}

    def create_parameters(self):
        from azure.mgmt.datalake.analytics.job.models import (CreateJobParameters, CreateUSqlJobProperties,
                                                              JobRelationshipProperties, JobType)
        props = CreateUSqlJobProperties(script=self.script, runtime_version=self.runtime_version,
                                        compile_mode=self.compile_mode)
        related = None
        if self.related and self.related.get("recurrenceId"):
            r = self.related
            related = JobRelationshipProperties(
                recurrence_id=r["recurrenceId"], recurrence_name=r.get("recurrenceName"),
                pipeline_id=r.get("pipelineId"), pipeline_name=r.get("pipelineName"),
                pipeline_uri=r.get("pipelineUri"), run_id=r.get("runId"))
        return CreateJobParameters(type=JobType.usql, name=self.name, degree_of_parallelism=self.analytics_units,
                                   priority=self.priority, properties=props, related=related)

    def build_parameters(self):
        from azure.mgmt.datalake.analytics.job.models import (BuildJobParameters, CreateUSqlJobProperties,
                                                              JobType)
        props = CreateUSqlJobProperties(script=self.script, runtime_version=self.runtime_version,
                                        compile_mode=self.compile_mode)
        return BuildJobParameters(type=JobType.usql, name=self.name, properties=props)


def prepare_request(account: str, data: bytes, *, source: str = "<script>", name: str | None = None,
                    params=(), job_id: str | None = None, run_key: str = "", rewrite=None, **props) -> JobRequest:
    """Decode a script, rewrite it (``rewrite(text, path) -> (text, warnings)``), prepend the
    parameters as DECLAREs and derive the job id. Checks that each parameter is not already declared
    with a plain DECLARE (the service would reject the duplicate)."""
    from ..source import decode
    src = decode(data)
    text, warnings = src.text, []
    if rewrite is not None:
        text, warnings = rewrite(text, source)
        warnings = list(warnings)
    if name is None:
        name = Path(source).stem if source not in ("-", "<stdin>", "<script>") else "usqlrw-job"
    params = tuple(params)
    body = text   # what the id is derived from: the script as sent (rewritten), before the parameters
    types: dict = {}
    declared = _declared(text, source, warnings, types)   # also warns when the script does not parse here
    if params:
        params = tuple(fit_to_declaration(p, types.get(p.name), source) for p in params)
        for p in params:
            kind = declared.get(p.name)
            if kind == "plain":
                raise ParamError(f"{source}: parameter @{p.name} is declared with DECLARE in the script; "
                                 "only DECLARE EXTERNAL can be overridden")
            if kind is None and declared:
                warnings.append(f"parameter @{p.name} is not declared in the script")
        text = declare_prelude(params, src.newline) + text
    check_account(account)
    jid = job_id or derive_job_id(account, body.encode("utf-8"), params, name, run_key)
    try:
        jid = str(uuid.UUID(jid))
    except ValueError:
        raise ParamError(f"job id {jid!r} is not a GUID") from None
    return JobRequest(account=account, name=name, script=text, source=source, job_id=jid, params=params,
                      warnings=warnings, prelude_lines=len(params), **props)


_ACCOUNT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{1,62}")


def check_account(account) -> str:
    """An ADLA account name goes into the request's host name: letters, digits and dashes only
    (a ParamError otherwise, before anything is sent)."""
    if not isinstance(account, str) or not _ACCOUNT_NAME.fullmatch(account):
        raise ParamError(f"account {str(account)[:80]!r} is not an ADLA account name "
                         "(letters, digits and dashes)")
    return account


def _declared(text: str, source: str, warnings: list, types: dict | None = None) -> dict:
    """{variable name: 'external' | 'plain'} of the script's top-level DECLAREs ({} if it does not parse);
    ``types`` gets {name: type as written} of the DECLARE EXTERNALs."""
    from ..parser import USqlSyntaxError, parse
    try:
        script = parse(text, path=source)
    except USqlSyntaxError as e:
        warnings.append(f"does not parse with usqlrw ({e}); submitted as it is, the service decides")
        return {}
    out = {"": "none"}   # non-empty: the script was read
    for st in script.statements:
        if st.kind == "Declare":
            out[st.variable.name.lstrip("@")] = "external" if st.external else "plain"
            t = getattr(getattr(st, "type", None), "text", None)
            if st.external and t and types is not None:
                types[st.variable.name.lstrip("@")] = t
    return out


# -- ledger ---------------------------------------------------------------------------------

class Ledger:
    """Append-only JSON-lines record of submissions. A torn last line (a crash mid-write) is ignored."""

    def __init__(self, path: str | os.PathLike | None):
        self.path = Path(path) if path else None
        self._lock = threading.Lock()
        self._state: dict[str, dict] = {}
        self.skipped_lines = 0
        if self.path and self.path.exists():
            with open(self.path, "rb") as f:
                for raw in f:
                    try:
                        rec = json.loads(raw)
                    except ValueError:
                        self.skipped_lines += 1
                        continue
                    if isinstance(rec, dict) and rec.get("jobId"):
                        self._merge(rec)

    def _merge(self, rec: dict):
        cur = self._state.setdefault(rec["jobId"].lower(), {})
        cur.update({k: v for k, v in rec.items() if v is not None})

    def jobs(self) -> list[dict]:
        """Every job's record so far (its events merged, the last one's fields winning)."""
        with self._lock:
            return [dict(v) for v in self._state.values()]

    def status(self, job_id: str) -> dict | None:
        with self._lock:
            s = self._state.get(job_id.lower())
            return dict(s) if s else None

    def record(self, event: str, req: JobRequest, **extra):
        rec = {"time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"), "event": event,
               "jobId": req.job_id, "account": req.account, "name": req.name, "source": req.source,
               "scriptSha256": req.script_sha256}
        rec.update({k: (redact(v) if isinstance(v, str) else v) for k, v in extra.items()})
        with self._lock:
            self._merge(rec)
            if self.path is None:
                return
            line = (json.dumps(rec, sort_keys=True) + "\n").encode("utf-8")
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                # a torn tail from an earlier crash must not swallow this record
                if os.fstat(fd).st_size and not _ends_with_newline(self.path):
                    line = b"\n" + line
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1) == b"\n"


# -- retries --------------------------------------------------------------------------------

def _status_of(exc) -> int | None:
    s = getattr(exc, "status_code", None)
    if s is None:
        resp = getattr(exc, "response", None)
        s = getattr(resp, "status_code", None)
    return s


def is_retryable(exc: BaseException) -> bool:
    status = _status_of(exc)
    if status is not None:
        return status in (408, 429) or 500 <= status < 600
    from msrest.exceptions import ClientRequestError
    if isinstance(exc, ClientRequestError):
        return True   # connection refused, dropped, timed out
    try:
        import requests
        return isinstance(exc, (requests.ConnectionError, requests.Timeout))
    except ImportError:  # pragma: no cover
        return False


@dataclass
class RetryPolicy:
    attempts: int = 6           # tries in all
    base: float = 1.0           # first backoff, seconds
    cap: float = 30.0           # longest backoff
    sleep: object = time.sleep
    seed: int | None = None
    retries_made: int = 0

    def __post_init__(self):
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    def delay(self, attempt: int, exc=None) -> float:
        resp = getattr(exc, "response", None)
        ra = getattr(resp, "headers", {}).get("Retry-After") if resp is not None else None
        if ra:
            try:
                return min(self.cap, max(0.0, float(ra)))
            except ValueError:
                pass
        d = min(self.cap, self.base * (2 ** attempt))
        return d * (0.5 + self._rng.random() / 2)

    def call(self, fn, on_retry=None):
        for attempt in range(self.attempts):
            try:
                return fn()
            except Exception as e:
                if attempt == self.attempts - 1 or not is_retryable(e):
                    raise
                with self._lock:
                    self.retries_made += 1
                d = self.delay(attempt, e)
                if on_retry:
                    on_retry(e, attempt + 1, d)
                self.sleep(d)


# -- submitting -----------------------------------------------------------------------------

@dataclass
class Outcome:
    request: JobRequest
    status: str                     # submitted, already-submitted, failed, built, build-failed
    state: str | None = None
    result: str | None = None
    error: str | None = None
    errors: list = field(default_factory=list)   # compile errors: "line N: message"

    @property
    def ok(self) -> bool:
        if self.status in ("failed", "build-failed", "not-started") or self.error:
            return False
        return self.result in (None, "None", TERMINAL_OK)


def _enum(v) -> str | None:
    return None if v is None else getattr(v, "value", str(v))


def _compile_errors(info, prelude_lines: int = 0) -> list:
    """The errors of a job, with line numbers of the script file (the DECLARE prelude taken off)."""
    out = []
    for e in (getattr(info, "error_message", None) or []):
        line = getattr(e, "line_number", None)
        if line and prelude_lines:
            line = line - prelude_lines if line > prelude_lines else f"{line} (a parameter declaration)"
        out.append(redact(f"line {line}: {e.message}" if line else f"{e.message}"))
    return out


class Submitter:
    """Submits (or builds) prepared requests through per-thread SDK clients."""

    def __init__(self, clients_factory, ledger: Ledger | None = None, retry: RetryPolicy | None = None,
                 max_parallel: int = 4, wait: bool = False, poll_interval: float = 5.0,
                 wait_timeout: float | None = None, progress=None, sleep=time.sleep):
        self.clients_factory = clients_factory
        self.ledger = ledger or Ledger(None)
        self.retry = retry or RetryPolicy()
        self.max_parallel = max(1, int(max_parallel))
        self.wait, self.poll_interval, self.wait_timeout = wait, poll_interval, wait_timeout
        self.progress = progress or (lambda *a, **k: None)
        self.sleep = sleep
        self.heartbeat = 60.0   # seconds between progress lines while a job stays in one state
        self._local = threading.local()   # SDK clients per worker thread

    def clients(self):
        c = getattr(self._local, "clients", None)
        if c is None:
            c = self._local.clients = self.clients_factory()
        return c

    def _map(self, fn, reqs):
        reqs = list(reqs)
        if self.max_parallel == 1 or len(reqs) <= 1:
            return [fn(r) for r in reqs]
        with ThreadPoolExecutor(max_workers=min(self.max_parallel, len(reqs)),
                                thread_name_prefix="usqlrw-submit") as pool:
            return list(pool.map(fn, reqs))   # started in order, results in order

    def submit_all(self, reqs) -> list:
        """Submit every request (at most ``max_parallel`` at once); then, with ``wait``, watch them all."""
        outs = self._map(self._submit_safe, reqs)
        if self.wait:
            self._wait_all([o for o in outs if o.status != "failed"])
        return outs

    def submit_sequence(self, reqs) -> list:
        """One after the other, each waited for until it ends; stop at the first that does not succeed."""
        reqs, outs = list(reqs), []
        wait, self.wait = self.wait, True
        try:
            for i, r in enumerate(reqs):
                o = self.submit_one(r)
                outs.append(o)
                if not o.ok or o.result != TERMINAL_OK:
                    if o.ok:   # ended without succeeding, or still running at the timeout
                        o.status, o.error = "failed", o.error or f"ended {o.result or o.state}"
                    for rest in reqs[i + 1:]:
                        outs.append(Outcome(rest, "not-started", error=f"waits for {r.name}"))
                    break
        finally:
            self.wait = wait
        return outs

    def build_all(self, reqs) -> list:
        return self._map(self.build_one, reqs)

    def _on_retry(self, req):
        def cb(exc, n, delay):
            self.progress(req, "retry", f"{describe_error(exc)}; retry {n} in {delay:.1f}s")
        return cb

    def _get(self, req):
        jobs = self.clients().job.job
        return self.retry.call(lambda: jobs.get(req.account, req.job_id), self._on_retry(req))

    def _exists(self, req):
        try:
            return self._get(req)
        except Exception as e:
            if _status_of(e) == 404:
                return None
            raise

    def submit_one(self, req: JobRequest) -> Outcome:
        out = self._submit_safe(req)
        if self.wait and out.status != "failed":
            self._wait_all([out])
        return out

    def _submit_safe(self, req: JobRequest) -> Outcome:
        try:
            return self._submit(req)
        except Exception as e:
            msg = describe_error(e)
            self.ledger.record("failed", req, error=msg)
            self.progress(req, "failed", msg)
            return Outcome(req, "failed", error=msg)

    def _different(self, req: JobRequest, info) -> Outcome | None:
        """A failed outcome when the service's job ``req.job_id`` runs another script than ``req``."""
        script = getattr(getattr(info, "properties", None), "script", None)
        if isinstance(script, str) and hashlib.sha256(script.encode("utf-8")).hexdigest() != req.script_sha256:
            msg = (f"job {req.job_id} already exists on {req.account} with a different script; "
                   "not submitted (give another --job-id)")
            self.ledger.record("failed", req, error=msg)
            self.progress(req, "failed", msg)
            return Outcome(req, "failed", error=msg)
        return None

    def _submit(self, req: JobRequest) -> Outcome:
        prior = self.ledger.status(req.job_id)
        if (prior and prior.get("event") in ("submitted", "ended") and prior.get("scriptSha256")
                and prior["scriptSha256"] != req.script_sha256):
            msg = (f"job {req.job_id} was submitted with a different script; not submitted "
                   "(give another --job-id)")
            self.progress(req, "failed", msg)
            return Outcome(req, "failed", error=msg)
        if prior and prior.get("event") in ("submitted", "ended"):
            self.progress(req, "skip", f"already submitted ({prior.get('time')})")
            return Outcome(req, "already-submitted", prior.get("state"), prior.get("result"))
        if prior and prior.get("event") in ("intent", "failed"):
            # an earlier run stopped between asking and knowing: does the job exist?
            info = self._exists(req)
            if info is not None:
                diff = self._different(req, info)
                if diff is not None:
                    return diff
                st, res = _enum(info.state), _enum(info.result)
                self.ledger.record("submitted", req, state=st, result=res, recovered=True)
                self.progress(req, "skip", "found on the service from an earlier run")
                return Outcome(req, "already-submitted", st, res)
        self.ledger.record("intent", req)
        jobs = self.clients().job.job
        params = req.create_parameters()

        existed = []

        def create():
            try:
                return jobs.create(req.account, req.job_id, params)
            except Exception as e:
                code = str(getattr(getattr(e, "error", None), "error", "") or "")
                if _status_of(e) == 409 or (_status_of(e) == 400 and "exist" in code.lower()):
                    # it exists: an earlier attempt got through (the answer was lost)
                    info = self._exists(req)
                    if info is not None:
                        existed.append(True)
                        return info
                raise
        info = self.retry.call(create, self._on_retry(req))
        st, res = _enum(info.state), _enum(info.result)
        if existed:
            diff = self._different(req, info)
            if diff is not None:
                return diff
            self.ledger.record("submitted", req, state=st, result=res, recovered=True)
            self.progress(req, "skip", "the service already has this job")
            return Outcome(req, "already-submitted", st, res)
        self.ledger.record("submitted", req, state=st, result=res)
        self.progress(req, "submitted", st)
        return Outcome(req, "submitted", st, res)

    def _wait_all(self, outs: list):
        """Poll the jobs of ``outs`` round-robin until each has ended (or the wait times out);
        the outcomes are updated in place. Progress on every state change, and now and then."""
        start = time.monotonic()
        pending = list(outs)
        last: dict = {}
        shown: dict = {}
        while pending:
            for o in list(pending):
                req = o.request
                try:
                    info = self._get(req)
                except Exception as e:
                    o.status, o.error = "failed", describe_error(e)
                    self.progress(req, "failed", o.error)
                    pending.remove(o)
                    continue
                st, res = _enum(info.state), _enum(info.result)
                now = time.monotonic()
                if st != last.get(req.job_id) or now - shown.get(req.job_id, start) >= self.heartbeat:
                    self.progress(req, "state", st, elapsed=now - start)
                    last[req.job_id], shown[req.job_id] = st, now
                o.state = st
                if st == "Ended":
                    o.result = res
                    o.errors = _compile_errors(info, req.prelude_lines)
                    self.ledger.record("ended", req, state=st, result=res)
                    pending.remove(o)
            if not pending:
                break
            if self.wait_timeout is not None and time.monotonic() - start > self.wait_timeout:
                for o in pending:
                    o.error = f"still {o.state} after {self.wait_timeout:.0f}s"
                break
            self.sleep(self.poll_interval)

    def build_one(self, req: JobRequest) -> Outcome:
        jobs = self.clients().job.job
        try:
            info = self.retry.call(lambda: jobs.build(req.account, req.build_parameters()), self._on_retry(req))
        except Exception as e:
            msg = describe_error(e)
            self.progress(req, "failed", msg)
            return Outcome(req, "failed", error=msg)
        res = _enum(info.result)
        errs = _compile_errors(info, req.prelude_lines)
        ok = res == TERMINAL_OK and not errs
        self.progress(req, "built", "compiles" if ok else "does not compile")
        return Outcome(req, "built" if ok else "build-failed", _enum(info.state), res, errors=errs)

    def cancel(self, account: str, job_id: str):
        jobs = self.clients().job.job
        self.retry.call(lambda: jobs.cancel(account, job_id).result())
