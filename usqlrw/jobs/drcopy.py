"""DR copies of the primary's recurring jobs: a bundle of rewritten scripts plus a manifest.

:func:`dr_copy` lists the primary account's recurrences and pipelines, finds the most recent job
of each recurrence (``job.list`` ordered by submit time, then ``job.get`` for its script and
properties), rewrites each script for the secondary, checks that it still parses, and writes::

    OUT/manifest.json          format usqlrw-job-bundle/1: jobs in order, with account, name,
                               analyticsUnits, priority, runtimeVersion, related (recurrence and
                               pipeline ids), the source job and the rewrite's warnings
    OUT/scripts/NAME.usql      one rewritten script per recurrence

``usqlrw submit --bundle OUT`` then submits the jobs on the secondary in the manifest's order.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .client import redact

__all__ = ["BUNDLE_FORMAT", "REPLICATION_FORMAT", "dr_copy", "read_bundle", "BundleError", "DrCopyResult"]

BUNDLE_FORMAT = "usqlrw-job-bundle/1"
#: the bundle of ``usqlrw replicate``: ordered steps, each waiting for the one before
REPLICATION_FORMAT = "usqlrw-replication-bundle/1"


class BundleError(ValueError):
    pass


@dataclass
class DrCopyResult:
    manifest_path: Path
    jobs: list = field(default_factory=list)        # the manifest's job entries
    warnings: list = field(default_factory=list)    # (job name, message)
    parse_errors: list = field(default_factory=list)
    skipped: list = field(default_factory=list)     # jobs left out of the bundle, with why


def _enum(v):
    return None if v is None else getattr(v, "value", str(v))


def _safe_name(name: str, taken: set) -> str:
    base = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "job"
    base = base[:80]
    cand, n = base, 2
    while cand.lower() in taken:
        cand, n = f"{base}_{n}", n + 1
    taken.add(cand.lower())
    return cand


def _ts(d):
    return d.isoformat() if isinstance(d, datetime) else d


def dr_copy(clients, primary: str, secondary: str, out_dir, *, rewrite=None, since_days: float = 14,
            retry=None, now: datetime | None = None, progress=None) -> DrCopyResult:
    """Write a DR bundle of ``primary``'s recurring jobs for ``secondary`` into ``out_dir``.

    ``rewrite(text, path) -> (text, warnings)`` rewrites each script (None: copied unchanged)."""
    from ..files import write_atomic
    from ..parser import USqlSyntaxError, parse
    call = retry.call if retry is not None else (lambda fn, *a: fn())
    progress = progress or (lambda msg: None)
    now = now or datetime.now(timezone.utc)
    since = now - timedelta(days=since_days)
    jc = clients.job
    recurrences = call(lambda: list(jc.recurrence.list(primary, start_date_time=since, end_date_time=now)))
    pipelines = call(lambda: list(jc.pipeline.list(primary, start_date_time=since, end_date_time=now)))
    progress(f"{primary}: {len(recurrences)} recurrence(s), {len(pipelines)} pipeline(s)")
    stamp = since.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    listed = call(lambda: list(jc.job.list(primary, filter=f"submitTime ge datetimeoffset'{stamp}'",
                                          orderby="submitTime desc")))
    latest: dict = {}
    for j in listed:   # newest first: the first job seen of a recurrence is its most recent
        rid = getattr(j.related, "recurrence_id", None) if j.related else None
        if rid and str(rid).lower() not in latest:
            latest[str(rid).lower()] = j
    wanted = [str(r.recurrence_id).lower() for r in recurrences if r.recurrence_id]
    wanted += [k for k in latest if k not in wanted]   # recurrences the list call did not name
    out = Path(out_dir)
    (out / "scripts").mkdir(parents=True, exist_ok=True)
    result = DrCopyResult(out / "manifest.json")
    taken: set = set()
    rec_names = {str(r.recurrence_id).lower(): r.recurrence_name for r in recurrences}
    for rid in wanted:
        basic = latest.get(rid)
        if basic is None:
            result.warnings.append((rec_names.get(rid) or rid, "no job of this recurrence in the window"))
            continue
        info = call(lambda: jc.job.get(primary, basic.job_id))
        props = info.properties
        script = getattr(props, "script", None)
        if script is None:
            result.warnings.append((info.name, f"job {info.job_id} has no U-SQL script; skipped"))
            continue
        rel = info.related
        rec_name = getattr(rel, "recurrence_name", None) or rec_names.get(rid)
        fname = _safe_name(rec_name or info.name, taken) + ".usql"
        warnings: list = []
        text = script
        if rewrite is not None:
            try:
                text, ws = rewrite(script, f"scripts/{fname}")
            except Exception as e:   # a script that cannot be rewritten must not go to the secondary as is
                reason = redact(f"cannot be rewritten: {e}")
                result.skipped.append({"name": info.name, "sourceJobId": str(info.job_id), "reason": reason})
                result.warnings.append((info.name, f"skipped: {reason}"))
                continue
            warnings = [redact(str(w)) for w in ws]
        try:
            parse(text, path=f"scripts/{fname}")
        except USqlSyntaxError as e:
            result.parse_errors.append((info.name, str(e)))
            warnings.append(f"does not parse after rewriting: {e}")
        data = text.encode("utf-8")
        write_atomic(out / "scripts" / fname, data)
        related = {k: (str(v) if v is not None else None) for k, v in {
            "recurrenceId": getattr(rel, "recurrence_id", None), "recurrenceName": rec_name,
            "pipelineId": getattr(rel, "pipeline_id", None), "pipelineName": getattr(rel, "pipeline_name", None),
            "pipelineUri": getattr(rel, "pipeline_uri", None), "runId": getattr(rel, "run_id", None)}.items()}
        related = {k: v for k, v in related.items() if v is not None}
        entry = {"script": f"scripts/{fname}", "account": secondary, "name": info.name,
                 "analyticsUnits": info.degree_of_parallelism or 1, "priority": info.priority,
                 "runtimeVersion": getattr(props, "runtime_version", None), "related": related,
                 "sourceAccount": primary, "sourceJobId": str(info.job_id),
                 "sourceSubmitTime": _ts(info.submit_time), "sourceResult": _enum(info.result),
                 "scriptSha256": hashlib.sha256(data).hexdigest(), "rewriteWarnings": warnings}
        for w in warnings:
            result.warnings.append((info.name, w))
        result.jobs.append(entry)
        progress(f"  {info.name} -> scripts/{fname}" + (f" ({len(warnings)} warning(s))" if warnings else ""))
    manifest = {
        "format": BUNDLE_FORMAT, "createdAt": now.isoformat(timespec="seconds"),
        "source": {"account": primary, "since": since.isoformat(timespec="seconds")},
        "target": {"account": secondary}, "jobs": result.jobs, "skipped": result.skipped,
        "recurrences": [{"recurrenceId": str(r.recurrence_id), "recurrenceName": r.recurrence_name,
                         "lastSubmitTime": _ts(r.last_submit_time), "numJobsSucceeded": r.num_jobs_succeeded,
                         "numJobsFailed": r.num_jobs_failed} for r in recurrences],
        "pipelines": [{"pipelineId": str(p.pipeline_id), "pipelineName": p.pipeline_name,
                       "pipelineUri": p.pipeline_uri, "recurrences": [str(x) for x in (p.recurrences or [])],
                       "lastSubmitTime": _ts(p.last_submit_time)} for p in pipelines],
    }
    write_atomic(result.manifest_path, (json.dumps(manifest, indent=2) + "\n").encode("utf-8"))
    return result


def read_bundle(path, on_demand: bool = False) -> tuple[Path, list]:
    """(bundle folder, job entries in order) of a bundle folder or its manifest.json; checked.

    Reads dr-copy bundles (``jobs``) and replication bundles (``steps``, taken in ``order``; steps
    marked ``run: on_demand`` only when ``on_demand``). Each entry gets ``scriptPath`` and
    ``sequential`` (True for replication steps: each must end before the next starts)."""
    p = Path(path)
    manifest = p / "manifest.json" if p.is_dir() else p
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BundleError(f"{manifest}: no such bundle manifest") from None
    except ValueError as e:
        raise BundleError(f"{manifest}: not valid JSON ({e})") from None
    if not isinstance(data, dict):
        raise BundleError(f"{manifest}: not a job bundle")
    fmt = data.get("format", BUNDLE_FORMAT)
    if fmt in (REPLICATION_FORMAT, BUNDLE_FORMAT):
        from ..schema import SchemaError, check
        try:
            check(data, _REPLICATION_SCHEMA if fmt == REPLICATION_FORMAT else _JOB_BUNDLE_SCHEMA, str(manifest))
        except SchemaError as e:
            raise BundleError(str(e)) from None
    if fmt == REPLICATION_FORMAT and isinstance(data.get("steps"), list):
        entries = []
        for st in sorted(data["steps"], key=lambda s: s.get("order", 0) if isinstance(s, dict) else 0):
            if not isinstance(st, dict):
                raise BundleError(f"{manifest}: a step is not an object")
            if st.get("run", "always") != "always" and not on_demand:
                continue
            script = st.get("script")
            stem = Path(script).name[:-5] if isinstance(script, str) and script.endswith(".usql") else str(script)
            entries.append({"script": script, "account": st.get("account_name"),
                            "name": f"{st.get('order', len(entries) + 1):03d}-{stem}",
                            "parameters": [str(p).lstrip("@") for p in st.get("parameters") or []],
                            "purpose": st.get("purpose"), "sequential": True})
    elif fmt == BUNDLE_FORMAT and isinstance(data.get("jobs"), list):
        entries = [dict(j, sequential=False) if isinstance(j, dict) else j for j in data["jobs"]]
    else:
        raise BundleError(f"{manifest}: unsupported bundle (format {fmt!r}; expected {BUNDLE_FORMAT} "
                          f"with 'jobs' or {REPLICATION_FORMAT} with 'steps')")
    root = manifest.parent
    jobs = []
    for i, j in enumerate(entries, 1):
        if not isinstance(j, dict) or not isinstance(j.get("script"), str):
            raise BundleError(f"{manifest}: job {i} has no 'script'")
        sp = (root / j["script"]).resolve()
        if root.resolve() not in sp.parents:
            raise BundleError(f"{manifest}: job {i}: script path {j['script']!r} leaves the bundle folder")
        if j.get("scriptSha256"):
            try:
                actual = hashlib.sha256(sp.read_bytes()).hexdigest()
            except OSError as e:
                raise BundleError(f"{sp}: cannot read: {e.strerror or e}") from None
            if actual != j["scriptSha256"]:
                raise BundleError(f"{sp}: changed since the bundle was made (its hash is not the manifest's)")
        jobs.append(dict(j, scriptPath=str(sp)))
    return root, jobs


def _schemas():
    from ..schema import Any, Enum, Int, List, Map, Maybe, Obj, Str
    account = Str(r"[A-Za-z0-9][A-Za-z0-9-]{1,62}", "an ADLA account name")
    replication = Obj({"format": Enum(REPLICATION_FORMAT), "steps": List(Obj(
        {"order": Int(1), "account": Enum("primary", "secondary"), "account_name": account, "script": Str()},
        {"run": Enum("always", "on_demand"), "parameters": List(Str()), "moves": List(Map(Any())),
         "purpose": Maybe(Str()), "source": Maybe(Str())}, extra=True))}, extra=True)
    job_bundle = Obj({"jobs": List(Obj(
        {"script": Str()},
        {"account": Maybe(account), "name": Maybe(Str()), "analyticsUnits": Maybe(Int(1)), "priority": Maybe(Int()),
         "runtimeVersion": Maybe(Str()), "related": Maybe(Map(Any())),
         "scriptSha256": Maybe(Str(r"[0-9a-f]{64}", "a SHA-256"))}, extra=True))}, {"format": Enum(BUNDLE_FORMAT)},
        extra=True)
    return replication, job_bundle


_REPLICATION_SCHEMA, _JOB_BUNDLE_SCHEMA = _schemas()
