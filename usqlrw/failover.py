"""One-command failover: plan, apply (resumable), status.

``make_plan`` checks every script and lays out, in order, what a failover does on the secondary:

1. ``catalog``: create or resync the catalog objects (the replication bundle's idempotent sync DDL);
2. ``import``: replication imports still to run (the bundle's secondary import scripts);
3. ``job``: every job script, rewritten for the secondary.

The plan is a folder: ``plan.json`` (format ``usqlrw-failover-plan/1``), the exact scripts under
``scripts/``, and, once applied, ``state.json`` (step states), ``ledger.jsonl`` (every
submission, usqlrw.jobs.submit.Ledger) and ``report.json``. ``apply_plan`` runs the steps in order,
each to its end before the next, records each one, and on a rerun resumes at the first unfinished
step; job ids are derived from the account, the script and the step, so a submission that was
made is never made twice. A plan whose config has changed since is refused.

A real failover never falls back to an emulator: only a config that says ``options.emulator = true``
(drills, the bundled example) or an explicit ``--endpoint`` sends the jobs anywhere but Azure.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import ast as A
from .files import write_atomic

FORMAT = "usqlrw-failover-plan/1"

# Statements whose effect the catalog sync reproduces: a script made only of these is not a job.
_DDL_KINDS = {"UseDatabase", "UseSchema", "CreateDatabase", "CreateSchema", "CreateView", "CreateFunction",
              "CreateProcedure", "CreatePackage", "CreateType", "CreateAssembly", "CreateDataSource",
              "AlterDataSource", "CreateCredential", "AlterCredential", "CreateStatistics", "UpdateStatistics",
              "CreateIndex", "Drop", "ReferenceAssembly", "ReferenceSystemAssembly", "CreateExternalTable",
              "AlterTableAddColumn", "AlterTableDropColumn", "AlterTableRebuild", "UsingDirective",
              "UsingAlias", "Declare"}


class PlanError(Exception):
    """The plan cannot be used (missing, stale, malformed)."""


@dataclass
class Blocker:
    path: str
    line: int
    column: int
    message: str

    def __str__(self):
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


@dataclass
class Plan:
    data: dict
    files: dict = field(default_factory=dict)   # relative path -> bytes (scripts/...)

    @property
    def steps(self) -> list:
        return self.data["steps"]

    @property
    def blockers(self) -> list:
        return self.data["blockers"]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def is_ddl_only(script: A.Script) -> bool:
    kinds = {s.kind for s in script.statements}
    return bool(kinds) and kinds <= _DDL_KINDS | {"CreateTable"} and not any(
        isinstance(s, A.CreateTable) and s.query is not None for s in script.statements)


def _slug(text: str) -> str:
    import re
    s = re.sub(r"[^A-Za-z0-9_.-]+", "_", text.replace("\\", "/").replace("/", "."))
    return s.strip("._") or "script"


def make_plan(config, paths, config_path: str) -> Plan:
    """Check, rewrite and order everything a failover does. Never raises for bad scripts: they
    become blockers with their position."""
    from .diagnostics import from_syntax_error
    from .files import iter_inputs
    from .parser import USqlSyntaxError, parse
    from .replicate.bundle import build_bundle
    from .resolve import references
    from .rewrite import RewriteError, rewrite_text

    blockers: list[Blocker] = []
    warnings: list[str] = []
    parsed = []          # (display path, Script, Input)
    for inp in iter_inputs(paths):
        if inp.data is None:
            blockers.append(Blocker(inp.path, 1, 1, f"cannot read: {inp.error}"))
            continue
        try:
            parsed.append((inp.path, parse(inp.data, path=inp.path), inp))
        except USqlSyntaxError as e:
            d = from_syntax_error(e)
            blockers.append(Blocker(d.path, d.line, d.column, f"does not parse: {d.message}"))
        except Exception as e:  # a bug: it blocks, on one line
            blockers.append(Blocker(inp.path, 1, 1, f"internal error ({type(e).__name__}: {e})"))

    # Databases the scripts create count as covered; others must be in the config.
    created = {r.database for _, s, _ in parsed for r in references(s)
               if r.kind == "database" and r.action == "create"}
    for path, script, _ in parsed:
        seen = set()
        for r in references(script):
            db = r.database
            if db and db not in created and not config.maps_database(db) and db not in seen:
                seen.add(db)
                n = r.node.span
                blockers.append(Blocker(path, n.line, n.column,
                                        f"database {db} is not in the DR config ([catalog.databases]) "
                                        "and no script creates it"))

    bundle = build_bundle([(p, s) for p, s, _ in parsed], config)
    for prob in bundle.problems:
        text = str(prob)
        if "cannot be carried" in text or "cannot be replicated" in text or "not supported" in text:
            blockers.append(Blocker(text.split(":", 1)[0] if ":" in text else "(replication)", 1, 1, text))
        else:
            warnings.append(f"replication: {text}")
    warnings += [f"replication: {w}" for w in bundle.warnings]

    steps, files = [], {}
    order = 0

    def add(kind, account, rel_script, data, purpose, source, **extra):
        nonlocal order
        order += 1
        sid = f"{order:02d}-{kind}-{_slug(Path(rel_script).stem)}"
        rel = f"scripts/{sid}.usql"
        files[rel] = data
        steps.append({"id": sid, "order": order, "kind": kind, "account": account, "script": rel,
                      "sha256": _sha(data), "purpose": purpose, "source": source, **extra})

    manifest = bundle.manifest or {}
    for st in sorted(manifest.get("steps", []), key=lambda s: s["order"]):
        if st["account"] != "secondary" or st.get("run") != "always":
            continue
        data = bundle.files[st["script"]]
        kind = "catalog" if st["script"].startswith("catalog/") else "import"
        add(kind, config.secondary_analytics, st["script"], data, st["purpose"], st["source"],
            moves=st.get("moves", []), parameters=st.get("parameters", []))

    for path, script, inp in parsed:
        if is_ddl_only(script):
            continue
        try:
            r = rewrite_text(inp.data, config, path)
        except (RewriteError, USqlSyntaxError) as e:
            blockers.append(Blocker(path, 1, 1, f"cannot be rewritten: {e}"))
            continue
        warn = [f"{w.path}:{w.line}:{w.column}: {w.code} {w.message}" for w in r.warnings]
        warnings += warn
        add("job", config.secondary_analytics, path, r.data, "the job, rewritten for the secondary",
            path, edits=len(r.edits), warnings=warn)

    data = {
        "format": FORMAT,
        "config": os.path.abspath(config_path),
        "config_sha256": _sha(Path(config_path).read_bytes()),
        "primary": {"analytics_account": config.primary_analytics, "store_account": config.primary_store},
        "secondary": {"analytics_account": config.secondary_analytics, "store_account": config.secondary_store},
        "emulator": bool(config.emulator),
        "inputs": [p for p, _, _ in parsed],
        "steps": steps,
        "manual": manifest.get("manual", []),
        "blockers": [b.__dict__ for b in blockers],
        "warnings": warnings,
    }
    return Plan(data, files)


def write_plan(plan: Plan, plan_dir) -> Path:
    d = Path(plan_dir)
    (d / "scripts").mkdir(parents=True, exist_ok=True)
    for rel, data in sorted(plan.files.items()):
        write_atomic(d / rel, data)
    keep = {Path(rel).name for rel in plan.files}
    for p in (d / "scripts").glob("*.usql"):
        if p.name not in keep:
            p.unlink()
    write_atomic(d / "plan.json", (json.dumps(plan.data, indent=2, sort_keys=True) + "\n").encode())
    return d / "plan.json"


def load_plan(plan_dir) -> Plan:
    d = Path(plan_dir)
    p = d / "plan.json" if d.is_dir() else d
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PlanError(f"{p}: no plan here (run `usqlrw failover plan` first)") from None
    except ValueError as e:
        raise PlanError(f"{p}: not a plan: {e}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise PlanError(f"{p}: not a {FORMAT} file")
    files = {}
    for st in data["steps"]:
        sp = p.parent / st["script"]
        try:
            b = sp.read_bytes()
        except FileNotFoundError:
            raise PlanError(f"{sp}: a script of the plan is missing") from None
        if _sha(b) != st["sha256"]:
            raise PlanError(f"{sp}: changed since the plan was made; make the plan again")
        files[st["script"]] = b
    return Plan(data, files)


# -- state -------------------------------------------------------------------------------------

def _state_path(plan_dir) -> Path:
    d = Path(plan_dir)
    return (d if d.is_dir() else d.parent) / "state.json"


def load_state(plan_dir) -> dict:
    try:
        return json.loads(_state_path(plan_dir).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {"steps": {}}


def _save_state(plan_dir, state: dict):
    write_atomic(_state_path(plan_dir), (json.dumps(state, indent=2, sort_keys=True) + "\n").encode())


def status_rows(plan: Plan, state: dict) -> list[dict]:
    rows = []
    for st in plan.steps:
        s = state["steps"].get(st["id"], {})
        rows.append({"id": st["id"], "kind": st["kind"], "account": st["account"], "source": st["source"],
                     "state": s.get("state", "pending"), "job_id": s.get("job_id"),
                     "result": s.get("result"), "seconds": s.get("seconds"), "error": s.get("error"),
                     "link": s.get("link")})
    return rows


# -- apply -------------------------------------------------------------------------------------

def _job_link(endpoint, account: str, job_id: str) -> str:
    if endpoint.url:
        return f"{endpoint.url}/{account}/jobs/{job_id}"
    return f"https://{account}.{endpoint.dns_suffix}/jobs/{job_id}"


def apply_plan(plan_dir, *, endpoint: str | None = None, until: str | None = None, progress=None,
               poll_interval: float | None = None, retry=None, credentials=None) -> tuple[bool, dict]:
    """Carry the plan out; returns (ok, report). Reruns resume at the first unfinished step."""
    from .config import load_config
    from .jobs.client import make_clients, resolve_endpoint
    from .jobs.submit import Ledger, RetryPolicy, Submitter, prepare_request

    plan = load_plan(plan_dir)
    d = Path(plan_dir) if Path(plan_dir).is_dir() else Path(plan_dir).parent
    if plan.blockers:
        raise PlanError(f"the plan has {len(plan.blockers)} blocker(s); fix them and make the plan again")
    cfg_path = plan.data["config"]
    try:
        cfg_bytes = Path(cfg_path).read_bytes()
    except FileNotFoundError:
        raise PlanError(f"{cfg_path}: the plan's DR config is gone") from None
    if _sha(cfg_bytes) != plan.data["config_sha256"]:
        raise PlanError(f"{cfg_path}: the DR config changed since the plan was made; make the plan again")
    config = load_config(cfg_path)
    ids = [s["id"] for s in plan.steps]
    if until is not None and until not in ids:
        raise PlanError(f"--until {until}: no such step (steps: {', '.join(ids)})")

    progress = progress or (lambda *a: None)
    if endpoint is None and config.emulator:
        endpoint = "emulator"
    ep = resolve_endpoint(endpoint, state_file=str(d / "emulator.sqlite"))
    if ep.emulator is not None:
        for acct, store in ((config.primary_analytics, config.primary_store),
                            (config.secondary_analytics, config.secondary_store)):
            ep.emulator.store.add_account(acct, store)
    state = load_state(d)
    ledger = Ledger(d / "ledger.jsonl")
    sub = Submitter(lambda: make_clients(ep, credentials), ledger,
                    retry or RetryPolicy(attempts=4, base=0.5, cap=5.0), max_parallel=1, wait=True,
                    poll_interval=poll_interval if poll_interval is not None else (0.05 if ep.is_emulator else 10.0))
    report = {"plan": str(d), "endpoint": ep.display, "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "steps": []}
    ok = True
    try:
        for st in plan.steps:
            s = state["steps"].get(st["id"], {})
            if s.get("state") == "succeeded":
                progress(st, "skip", "done in an earlier run")
                report["steps"].append({"id": st["id"], "state": "succeeded", "ran": False, **_pub(s)})
                if st["id"] == until:
                    break
                continue
            req = prepare_request(st["account"], plan.files[st["script"]], source=st["source"] if st["kind"] == "job"
                                  else st["script"], name=st["id"], run_key=plan.data["config_sha256"][:16])
            progress(st, "start", f"job {req.job_id} on {st['account']}")
            t0 = time.monotonic()
            out = sub.submit_one(req)
            secs = round(time.monotonic() - t0, 3)
            s = {"job_id": req.job_id, "result": out.result, "seconds": secs,
                 "link": _job_link(ep, st["account"], req.job_id)}
            if out.ok and out.result == "Succeeded":
                s["state"] = "succeeded"
                progress(st, "done", f"succeeded in {secs:.1f}s")
            else:
                s["state"] = "failed"
                s["error"] = out.error or ("; ".join(out.errors) if out.errors else f"ended {out.result or out.state}")
                progress(st, "failed", s["error"])
                ok = False
            state["steps"][st["id"]] = s
            _save_state(d, state)
            report["steps"].append({"id": st["id"], "ran": True, **_pub(s)})
            if not ok or st["id"] == until:
                break
    finally:
        ep.close()
    report["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    done = sum(1 for st in plan.steps if state["steps"].get(st["id"], {}).get("state") == "succeeded")
    report["complete"] = done == len(plan.steps)
    report["succeeded_steps"], report["total_steps"] = done, len(plan.steps)
    write_atomic(d / "report.json", (json.dumps(report, indent=2, sort_keys=True) + "\n").encode())
    return ok, report


def _pub(s: dict) -> dict:
    return {k: s.get(k) for k in ("state", "job_id", "result", "seconds", "error", "link")}
