"""One-command failover: plan, apply (resumable, retried, locked), status.

``make_plan`` checks every script and lays out what a failover does on the secondary:

1. ``catalog``: create or resync the catalog objects (the replication bundle's sync DDL; after a
   plan that was applied, only what changed since, so an added column reaches the secondary);
2. ``import``: replication imports still to run (the bundle's secondary import scripts);
3. ``job``: every job script, rewritten for the secondary, with its parameters.

Each step names the steps it ``needs`` (catalog before imports before the jobs; a job after an
earlier job that writes a database it uses), so independent steps can run together.

The plan is a folder: ``plan.json`` (format ``usqlrw-failover-plan/2``), ``plan.md`` (the same, to
read), the exact scripts under ``scripts/``, the catalog model under ``catalog/`` and, once
applied, ``state.json``, ``ledger.jsonl`` (every submission, usqlrw.jobs.submit.Ledger) and
``report.json``. Every plan has its own ``run_id``; a step's job id is derived from it and the
step's attempt, so a new plan never reuses an earlier plan's jobs, a rerun of the same plan never
submits a step twice, and a retried step (its job ended Failed or Cancelled) gets a new job.

Everything read back is checked before it is trusted (:mod:`usqlrw.schema`): every account must be
one the DR config names, every script must lie in the plan folder and match its hash, the DR config
(found relative to the plan) and the source scripts must be as they were. Otherwise
:class:`PlanError` and nothing is sent.

A real failover never falls back to an emulator: only a config that says ``options.emulator = true``
(drills, the bundled example) or an explicit ``--endpoint`` sends the jobs anywhere but Azure.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from . import ast as A
from .files import write_atomic
from .schema import Any, Bool, Enum, Int, List, Map, Maybe, Num, Obj, SchemaError, Str, check

FORMAT = "usqlrw-failover-plan/2"
STATE_FORMAT = "usqlrw-failover-state/2"
MODES = ("drill", "outage", "failback")

# files of a plan folder that usqlrw writes besides those plan.json lists (replaced with the plan);
# ledger.jsonl and emulator.sqlite are kept: the history of submissions and a drill's service
_OWN = ("plan.json", "plan.md", "state.json", "report.json")
_KEEP = ("ledger.jsonl", "emulator.sqlite", ".usqlrw.lock")

# Statements whose effect the catalog sync reproduces: a script made only of these is not a job.
_DDL_KINDS = {"UseDatabase", "UseSchema", "CreateDatabase", "CreateSchema", "CreateView", "CreateFunction",
              "CreateProcedure", "CreatePackage", "CreateType", "CreateAssembly", "CreateDataSource",
              "AlterDataSource", "CreateCredential", "AlterCredential", "CreateStatistics", "UpdateStatistics",
              "CreateIndex", "Drop", "ReferenceAssembly", "ReferenceSystemAssembly", "CreateExternalTable",
              "AlterTableAddColumn", "AlterTableDropColumn", "AlterTableRebuild", "UsingDirective",
              "UsingAlias", "Declare"}

_ACCOUNT = r"[A-Za-z0-9][A-Za-z0-9-]{1,62}"
_SHA = Str(r"[0-9a-f]{64}", "a SHA-256")
_PARAM = Obj({"name": Str(r"[A-Za-z_][A-Za-z0-9_]*", "a variable name"), "type": Str(r"[A-Za-z][A-Za-z0-9.?]*"),
              "value": Str(max_len=10_000)})
_STEP = Obj({"id": Str(r"[0-9]{2,4}-[A-Za-z0-9_.-]{1,200}", "a step id"), "order": Int(1),
             "kind": Enum("catalog", "export", "import", "job"), "account": Str(_ACCOUNT, "an account name"),
             "script": Str(r"scripts/[A-Za-z0-9_.-]{1,220}\.usql", "a script of the plan (scripts/NAME.usql)"),
             "sha256": _SHA, "purpose": Str(), "source": Str(), "needs": List(Str()),
             "parameters": List(_PARAM)},
            {"moves": List(Map(Any())), "edits": Int(), "warnings": List(Str()), "declares": List(Str())})
_PLAN = Obj({"format": Enum(FORMAT), "run_id": Str(r"[0-9a-f]{32}", "a run id"), "mode": Enum(*MODES),
             "created": Str(), "config": Str(), "config_sha256": _SHA,
             "primary": Obj({"analytics_account": Str(_ACCOUNT), "store_account": Str()}),
             "secondary": Obj({"analytics_account": Str(_ACCOUNT), "store_account": Str()}),
             "emulator": Bool(), "inputs": List(Str()),
             "sources": List(Obj({"path": Str(), "sha256": _SHA})),
             "steps": List(_STEP), "manual": List(Any()), "blockers": List(Map(Any())),
             "warnings": List(Str()), "files": List(Str()), "catalog": Map(Any()),
             "parameters": Map(Str(max_len=10_000)), "rpo": List(Map(Any()))},
            {"failover": Map(Any()), "emulator_state": Str(r"[^\0]*emulator\.sqlite", "an emulator state file")})
_STEP_STATE = Obj({"state": Enum("pending", "submitting", "running", "succeeded", "failed", "interrupted"),
                   "attempt": Int()},
                  {"job_id": Maybe(Str(r"[0-9a-f-]{36}", "a job id")), "result": Maybe(Str()),
                   "seconds": Maybe(Num()), "error": Maybe(Str()), "link": Maybe(Str()), "job_ended": Bool(),
                   "history": List(Obj({"attempt": Int(), "job_id": Str(), "result": Maybe(Str())}))})
_STATE = Obj({"format": Enum(STATE_FORMAT), "run_id": Str(r"[0-9a-f]{32}"), "steps": Map(_STEP_STATE)})


class PlanError(Exception):
    """The plan cannot be used (missing, stale, malformed, tampered, busy): nothing was sent.
    ``code`` is the exit status it deserves (2; 1 for a plan with blockers)."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


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
    files: dict = field(default_factory=dict)   # relative path -> bytes (scripts/..., catalog/...)

    @property
    def steps(self) -> list:
        return self.data["steps"]

    @property
    def blockers(self) -> list:
        return self.data["blockers"]

    @property
    def run_id(self) -> str:
        return self.data["run_id"]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def is_ddl_only(script: A.Script) -> bool:
    kinds = {s.kind for s in script.statements}
    return bool(kinds) and kinds <= _DDL_KINDS | {"CreateTable"} and not any(
        isinstance(s, A.CreateTable) and s.query is not None for s in script.statements)


def _slug(text: str) -> str:
    s = re.sub(r"[^A-Za-z0-9_.-]+", "_", text.replace("\\", "/").replace("/", "."))
    return s.strip("._") or "script"


# -- parameters ----------------------------------------------------------------------------------

def _externals(data: bytes) -> dict:
    """{name: type as written} of a script's top-level DECLARE EXTERNALs ({} if it does not parse)."""
    from .parser import USqlSyntaxError, parse
    try:
        script = parse(data)
    except USqlSyntaxError:
        return {}
    return {st.variable.name.lstrip("@"): (st.type.text if st.type is not None else "")
            for st in script.statements if isinstance(st, A.Declare) and st.external}


def _split_param(text: str) -> tuple[str, str]:
    name, eq, value = text.partition("=")
    name = name.strip().lstrip("@")
    if not eq or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ValueError(f"parameter {text!r}: expected NAME=VALUE")
    return name, value


def _typed(name: str, typ: str, value: str) -> dict:
    """The parameter, its value checked against the DECLARE EXTERNAL's type (a ParamError if not)."""
    from .jobs.submit import ParamError, parse_param
    if not typ:
        raise ParamError(f"parameter @{name}: the script declares it without a type")
    p = parse_param(f"{name}:{typ}={value}")
    return {"name": p.name, "type": p.type, "value": p.value}


def job_parameters(config) -> tuple[dict, list]:
    """``[jobs.NAME.parameters]`` of the DR config: ({job name: {param: value as text}}, [problem])."""
    jobs = (getattr(config, "raw", None) or {}).get("jobs") or {}
    out, problems = {}, []
    if not isinstance(jobs, dict):
        return {}, ["[jobs] must be a table of [jobs.NAME] tables"]
    for name, t in jobs.items():
        if not isinstance(t, dict) or not isinstance(t.get("parameters", {}), dict) or set(t) - {"parameters"}:
            problems.append(f"[jobs.{name}]: expected only a [jobs.{name}.parameters] table of NAME = value")
            continue
        vals = {}
        for k, v in (t.get("parameters") or {}).items():
            if isinstance(v, (dict, list)):
                problems.append(f"[jobs.{name}.parameters] {k}: expected a single value")
                continue
            vals[k] = v.isoformat() if hasattr(v, "isoformat") else str(v).lower() if isinstance(v, bool) else str(v)
        out[name] = vals
    return out, problems


# -- planning ------------------------------------------------------------------------------------

_BUNDLE = Obj({"format": Enum("usqlrw-replication-bundle/1"),
               "steps": List(Obj({"order": Int(1), "account": Enum("primary", "secondary"),
                                  "script": Str(r"[A-Za-z0-9_./-]{1,300}\.usql", "a script of the bundle"),
                                  "moves": List(Map(Any()))}, extra=True))}, extra=True)


def replication_rpo(records, tables) -> list[dict]:
    """Per table: when a replication import into it last succeeded on the secondary, from a
    replication bundle folder (``manifest.json``) and its submission ledger
    (``usqlrw-submissions.jsonl``, what ``usqlrw submit --bundle`` writes), and so what is lost."""
    from .jobs.submit import Ledger
    if records is None:
        return [{"table": t, "last_replicated": None,
                 "text": "no replication records given (--replication BUNDLE): what the secondary holds is unknown"}
                for t in tables]
    d = Path(records)
    man = _read_json(d / "manifest.json", "replication bundle manifest")
    if man is None:
        raise PlanError(f"{d / 'manifest.json'}: no replication bundle here")
    try:
        check(man, _BUNDLE, str(d / "manifest.json"))
    except SchemaError as e:
        raise PlanError(str(e)) from None
    writes: dict = {}   # script -> [(table, partition)]
    for st in man["steps"]:
        if st["account"] == "secondary":
            writes[st["script"]] = [(str(m.get("table")), m.get("partition")) for m in st["moves"] if m.get("table")]
    last: dict = {}
    if not (d / "usqlrw-submissions.jsonl").is_file():
        return [{"table": t, "last_replicated": None,
                 "text": f"no replication records: {d / 'usqlrw-submissions.jsonl'} does not exist "
                         "(`usqlrw submit --bundle` writes it); what the secondary holds is unknown"} for t in tables]
    for rec in Ledger(d / "usqlrw-submissions.jsonl").jobs():
        if rec.get("event") != "ended" or rec.get("result") != "Succeeded" or not isinstance(rec.get("time"), str):
            continue
        for table, part in writes.get(rec.get("source"), []):
            if table not in last or rec["time"] > last[table][0]:
                last[table] = (rec["time"], rec.get("source"), part)
    out = []
    for t in tables:
        if t in last:
            when, by, part = last[t]
            out.append({"table": t, "last_replicated": when, "by": by, "partition": part,
                        "text": f"last replicated {when} by {by}" + (f" ({part})" if part else "")
                                + "; rows the primary took in after that are lost"})
        else:
            out.append({"table": t, "last_replicated": None,
                        "text": "never replicated by these records: the secondary has its schema only; "
                                "its rows are lost unless copied another way"})
    return out


def make_plan(config, paths, config_path: str, *, params=(), previous=None, mode: str = "drill",
              records=None) -> Plan:
    """Check, rewrite and order everything a failover does. Never raises for bad scripts: they
    become blockers with their position. ``params``: ``NAME=VALUE`` for every step that declares
    NAME EXTERNAL; ``previous``: the catalog model the secondary already has (only the changes are
    synced); ``mode``: ``drill`` or ``outage`` (nothing may run on, or be read from, the primary; ``records``:
    a replication bundle folder whose ledger says what the secondary last received, the RPO)."""
    from .diagnostics import from_syntax_error
    from .files import iter_inputs
    from .parser import USqlSyntaxError, parse
    from .replicate.bundle import build_bundle
    from .resolve import references
    from .rewrite import RewriteError, rewrite_text

    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
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
    uses: dict = {}      # display path -> (databases used, databases written)
    for path, script, _ in parsed:
        seen = set()
        used, written = set(), set()
        for r in references(script):
            db = r.database
            if db:
                used.add(db.lower())
                if r.action in ("write", "create", "alter", "drop"):
                    written.add(db.lower())
            if db and db not in created and not config.maps_database(db) and db not in seen:
                seen.add(db)
                n = r.node.span
                blockers.append(Blocker(path, n.line, n.column,
                                        f"database {db} is not in the DR config ([catalog.databases]) "
                                        "and no script creates it"))
        uses[path] = (used, written)

    bundle = build_bundle([(p, s) for p, s, _ in parsed], config, previous=previous)
    for prob in bundle.problems:
        text = str(prob)
        if "cannot be carried" in text or "cannot be replicated" in text or "not supported" in text:
            blockers.append(Blocker(text.split(":", 1)[0] if ":" in text else "(replication)", 1, 1, text))
        else:
            warnings.append(f"replication: {text}")
    warnings += [f"replication: {w}" for w in bundle.warnings]

    # parameters: -p for every step declaring the name, [jobs.NAME.parameters] for one job
    given = {}
    for text in params:
        try:
            name, value = _split_param(text)
        except ValueError as e:
            blockers.append(Blocker("-p", 1, 1, str(e)))
            continue
        given[name] = value
    per_job, problems = job_parameters(config)
    blockers += [Blocker(config_path, 1, 1, p) for p in problems]
    used_params, used_jobs = set(), set()

    steps, files = [], {}
    order = 0

    def add(kind, account, rel_script, data, purpose, source, job=None, **extra):
        nonlocal order
        order += 1
        sid = f"{order:02d}-{kind}-{_slug(Path(rel_script).stem)}"
        rel = f"scripts/{sid}.usql"
        files[rel] = data
        declared = _externals(data)
        values = dict(given)
        if job is not None and job in per_job:
            used_jobs.add(job)
            for k in per_job[job]:
                if k not in declared:
                    blockers.append(Blocker(source, 1, 1, f"[jobs.{job}.parameters] {k}: the script has no "
                                                          f"DECLARE EXTERNAL @{k}"))
            values.update(per_job[job])
        ps = []
        for name, typ in declared.items():
            if name in values:
                used_params.add(name)
                try:
                    ps.append(_typed(name, typ, values[name]))
                except ValueError as e:
                    blockers.append(Blocker(source, 1, 1, str(e)))
        steps.append({"id": sid, "order": order, "kind": kind, "account": account, "script": rel,
                      "sha256": _sha(data), "purpose": purpose, "source": source, "needs": [],
                      "parameters": ps, "declares": sorted(declared), **extra})
        return steps[-1]

    manifest = bundle.manifest or {}
    bundle_steps = sorted(manifest.get("steps", []), key=lambda s: s["order"])
    if mode == "outage":
        # nothing runs on the primary: its DR copies and exports are what was replicated, or is lost
        bundle_steps = [s for s in bundle_steps if s["account"] == "secondary"]
    catalog_ids, import_ids = [], []
    for st in bundle_steps:
        if st["account"] != "secondary" or st.get("run") != "always":
            continue
        data = bundle.files[st["script"]]
        kind = "catalog" if st["script"].startswith("catalog/") else "import"
        job = Path(st["source"]).stem if kind == "import" else None
        s = add(kind, config.secondary_analytics, st["script"], data, st["purpose"], st["source"], job=job,
                moves=st.get("moves", []))
        s["needs"] = list(catalog_ids[-1:]) if kind == "catalog" else list(catalog_ids)
        (catalog_ids if kind == "catalog" else import_ids).append(s["id"])

    writers = []         # (step id, databases it writes)
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
        s = add("job", config.secondary_analytics, path, r.data, "the job, rewritten for the secondary",
                path, job=Path(path).stem, edits=len(r.edits), warnings=warn)
        used, written = uses.get(path, (set(), set()))
        s["needs"] = catalog_ids + import_ids + [w for w, dbs in writers if dbs & used]
        if written:
            writers.append((s["id"], written))

    for name in given:
        if name not in used_params:
            blockers.append(Blocker("-p", 1, 1, f"parameter @{name}: no step declares it (DECLARE EXTERNAL)"))
    for job in per_job:
        if job not in used_jobs:
            warnings.append(f"[jobs.{job}]: no job of the plan is named {job}")

    manual = manifest.get("manual", [])
    if mode == "outage":
        manual = [m for m in manual if not (isinstance(m, dict) and m.get("before") == "primary")]

    files["catalog/model.json"] = (bundle.model.to_json() if bundle.model is not None else "{}").encode()
    catalog = {"model": "catalog/model.json", "incremental": previous is not None}
    if previous is not None:
        files["catalog/base.json"] = previous.to_json().encode()
        catalog["base"] = "catalog/base.json"

    cfg_abs = os.path.abspath(config_path)
    sources = []
    for p, _, inp in parsed:
        sources.append({"path": os.path.abspath(p), "sha256": _sha(inp.data)})
    data = {
        "format": FORMAT,
        "run_id": uuid.uuid4().hex,
        "mode": mode,
        "created": _now(),
        "config": cfg_abs,
        "config_sha256": _sha(Path(config_path).read_bytes()),
        "primary": {"analytics_account": config.primary_analytics, "store_account": config.primary_store},
        "secondary": {"analytics_account": config.secondary_analytics, "store_account": config.secondary_store},
        "emulator": bool(config.emulator),
        "inputs": [p for p, _, _ in parsed],
        "sources": sources,
        "steps": steps,
        "manual": manual,
        "blockers": [b.__dict__ for b in blockers],
        "warnings": warnings,
        "files": sorted(files) + ["plan.md"],
        "catalog": catalog,
        "parameters": dict(given),
        "rpo": [],
    }
    if mode == "outage":
        tables = sorted(".".join(o.qualified) for o in (bundle.model.objects.values() if bundle.model else ())
                        if o.kind == "table")
        data["rpo"] = replication_rpo(records, tables)
    return Plan(data, files)


# -- the plan folder -----------------------------------------------------------------------------

def _plan_dir(plan_dir) -> Path:
    d = Path(plan_dir)
    return d.parent if d.name == "plan.json" and not d.is_dir() else d


def _read_json(p: Path, what: str):
    try:
        text = p.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise PlanError(f"{p}: cannot read: {e.strerror or e}") from None
    try:
        return json.loads(text)
    except ValueError as e:
        raise PlanError(f"{p}: not a {what}: {e}") from None


def previous_model(plan_dir):
    """The catalog model the secondary has after the plan in ``plan_dir``, as far as usqlrw knows:
    the plan's model if all its catalog steps succeeded, else the model it started from, else None."""
    from .replicate.catalog import Model
    d = _plan_dir(plan_dir)
    try:
        plan = load_plan(d)
        state = load_state(d, plan)
    except PlanError:
        return None
    if plan.data["mode"] == "failback":   # its model is the secondary's, in the secondary's names
        return None
    cat = [s["id"] for s in plan.steps if s["kind"] == "catalog"]
    done = all(state["steps"].get(i, {}).get("state") == "succeeded" for i in cat)
    rel = plan.data["catalog"].get("model") if done and state["steps"] else plan.data["catalog"].get("base")
    if not rel or rel not in plan.data["files"]:
        return None
    try:
        return Model.from_json((d / rel).read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_plan(plan: Plan, plan_dir, force: bool = False) -> Path:
    """Write the plan folder. A folder holding a plan is replaced only with ``force``; a folder
    holding anything else is refused; files usqlrw did not write are never removed or overwritten."""
    from .lock import FolderLock, Locked
    d = Path(plan_dir)
    if d.exists() and not d.is_dir():
        raise PlanError(f"{d}: not a folder")
    ours: set = set()
    replacing = False
    if d.is_dir() and any(d.iterdir()):
        old = _read_json(d / "plan.json", "plan")
        if old is None:
            raise PlanError(f"{d}: not empty and holds no plan; choose another --out "
                            "(usqlrw never writes over files it did not write)")
        if not force:
            rid = old.get("run_id") if isinstance(old, dict) else None
            raise PlanError(f"{d}: holds a plan already{f' (run {rid})' if isinstance(rid, str) else ''}; "
                            "--force replaces it (its state goes with it), or choose another --out")
        if not isinstance(old, dict) or not isinstance(old.get("steps"), list):
            raise PlanError(f"{d / 'plan.json'}: not a plan usqlrw can replace; choose another --out")
        listed = old.get("files") if isinstance(old.get("files"), list) else [
            s.get("script") for s in old["steps"] if isinstance(s, dict)]
        ours = {f for f in listed if isinstance(f, str) and _inside(d, f)} | set(_OWN)
        replacing = True
    for rel in plan.files:
        if (d / rel).exists() and rel not in ours:
            raise PlanError(f"{d / rel}: exists and usqlrw did not write it; choose another --out")
    d.mkdir(parents=True, exist_ok=True)
    try:
        lock = FolderLock(d, "usqlrw failover plan").acquire()
    except Locked as e:
        raise PlanError(str(e)) from None
    try:
        if replacing:
            for rel in sorted(ours):
                p = d / rel
                if p.is_file() and not p.is_symlink():
                    p.unlink()
        here = os.path.abspath(d)
        plan.data["config"] = os.path.relpath(plan.data["config"], here)
        for s in plan.data["sources"]:
            s["path"] = os.path.relpath(s["path"], here)
        for rel, data in sorted(plan.files.items()):
            (d / rel).parent.mkdir(parents=True, exist_ok=True)
            write_atomic(d / rel, data)
        write_atomic(d / "plan.md", render_markdown(plan).encode())
        write_atomic(d / "plan.json", (json.dumps(plan.data, indent=2, sort_keys=True) + "\n").encode())
    finally:
        lock.release()
    return d / "plan.json"


def _inside(d: Path, rel: str) -> bool:
    try:
        p = (d / rel).resolve()
    except (OSError, ValueError):
        return False
    return d.resolve() in p.parents


def load_plan(plan_dir) -> Plan:
    """Read and check a plan: schema, every script inside the folder and as recorded."""
    d = _plan_dir(plan_dir)
    p = d / "plan.json"
    data = _read_json(p, "plan")
    if data is None:
        raise PlanError(f"{p}: no plan here (run `usqlrw failover plan` first)")
    if isinstance(data, dict) and isinstance(data.get("format"), str) and data["format"].startswith(
            "usqlrw-failover-plan/") and data["format"] != FORMAT:
        raise PlanError(f"{p}: made by another version of usqlrw ({data['format']}); make the plan again")
    try:
        check(data, _PLAN, str(p))
    except SchemaError as e:
        raise PlanError(str(e)) from None
    ids = [s["id"] for s in data["steps"]]
    if len(set(ids)) != len(ids):
        raise PlanError(f"{p}: step ids repeat")
    for s in data["steps"]:
        for n in s["needs"]:
            if n not in ids or ids.index(n) >= ids.index(s["id"]):
                raise PlanError(f"{p}: step {s['id']} needs {n!r}, which is not an earlier step")
    from .jobs.submit import ParamError, parse_param
    for st in data["steps"]:
        for prm in st["parameters"]:
            try:
                parse_param(f"{prm['name']}:{prm['type']}={prm['value']}")
            except ParamError as e:
                raise PlanError(f"{p}: step {st['id']}: {e}") from None
    files = {}
    for st in data["steps"]:
        sp = d / st["script"]
        if not _inside(d, st["script"]):
            raise PlanError(f"{p}: step {st['id']}: script {st['script']!r} lies outside the plan folder")
        try:
            b = sp.read_bytes()
        except FileNotFoundError:
            raise PlanError(f"{sp}: a script of the plan is missing") from None
        except OSError as e:
            raise PlanError(f"{sp}: cannot read: {e.strerror or e}") from None
        if _sha(b) != st["sha256"]:
            raise PlanError(f"{sp}: changed since the plan was made; make the plan again")
        files[st["script"]] = b
    return Plan(data, files)


def plan_config(plan: Plan, plan_dir, config_path=None):
    """The plan's DR config (relative to the plan folder unless given), checked: unchanged, and
    naming every account the plan sends to. Returns the loaded config."""
    from .config import ConfigError, load_config
    d = _plan_dir(plan_dir)
    cfg_path = Path(config_path) if config_path else (d / plan.data["config"])
    try:
        cfg_bytes = cfg_path.read_bytes()
    except OSError:
        raise PlanError(f"{cfg_path}: the plan's DR config is not there (give it with --config)") from None
    if _sha(cfg_bytes) != plan.data["config_sha256"]:
        raise PlanError(f"{cfg_path}: the DR config changed since the plan was made; make the plan again")
    try:
        config = load_config(cfg_path)
    except ConfigError as e:
        raise PlanError(str(e)) from None
    named = {config.primary_analytics.lower(), config.secondary_analytics.lower()}
    if plan.data["mode"] == "outage":
        named = {config.secondary_analytics.lower()}
    for side, acct in (("primary", config.primary_analytics), ("secondary", config.secondary_analytics)):
        if plan.data[side]["analytics_account"].lower() != acct.lower():
            raise PlanError(f"{d / 'plan.json'}: {side} account {plan.data[side]['analytics_account']!r} "
                            f"is not the DR config's ({acct})")
    for st in plan.steps:
        if st["account"].lower() not in named:
            raise PlanError(f"{d / 'plan.json'}: step {st['id']}: account {st['account'][:80]!r} is not one "
                            f"the DR config names for this plan ({', '.join(sorted(named))})")
    return config


def changed_sources(plan: Plan, plan_dir) -> tuple[list, list]:
    """(changed, missing) source scripts, relative paths as recorded."""
    d = _plan_dir(plan_dir)
    changed, missing = [], []
    for s in plan.data["sources"]:
        try:
            b = (d / s["path"]).read_bytes()
        except OSError:
            missing.append(s["path"])
            continue
        if _sha(b) != s["sha256"]:
            changed.append(s["path"])
    return changed, missing


# -- state ---------------------------------------------------------------------------------------

def _state_path(plan_dir) -> Path:
    return _plan_dir(plan_dir) / "state.json"


def load_state(plan_dir, plan: Plan | None = None) -> dict:
    """The plan's state, checked (schema, run id, step ids); an empty state when there is none."""
    plan = plan or load_plan(plan_dir)
    p = _state_path(plan_dir)
    data = _read_json(p, "state file")
    if data is None:
        return {"format": STATE_FORMAT, "run_id": plan.run_id, "steps": {}}
    try:
        check(data, _STATE, str(p))
    except SchemaError as e:
        raise PlanError(str(e)) from None
    if data["run_id"] != plan.run_id:
        raise PlanError(f"{p}: belongs to another plan (run {data['run_id']}, the plan is run {plan.run_id})")
    ids = {s["id"] for s in plan.steps}
    for k in data["steps"]:
        if k not in ids:
            raise PlanError(f"{p}: step {k[:80]!r} is not a step of the plan")
    return data


def _save_state(plan_dir, state: dict):
    write_atomic(_state_path(plan_dir), (json.dumps(state, indent=2, sort_keys=True) + "\n").encode())


def status_rows(plan: Plan, state: dict) -> list[dict]:
    rows = []
    for st in plan.steps:
        s = state["steps"].get(st["id"], {})
        rows.append({"id": st["id"], "order": st["order"], "kind": st["kind"], "account": st["account"],
                     "source": st["source"], "state": s.get("state", "pending"), "attempts": s.get("attempt", 0),
                     "job_id": s.get("job_id"), "result": s.get("result"), "seconds": s.get("seconds"),
                     "error": s.get("error"), "link": s.get("link"), "needs": st["needs"],
                     "history": s.get("history", [])})
    return rows


# -- apply ---------------------------------------------------------------------------------------

def _job_link(endpoint, account: str, job_id: str) -> str | None:
    """A link that stays valid: the service's job URL; none for an emulator (its port is not)."""
    if endpoint.is_emulator:
        return None
    if endpoint.template:
        return endpoint.template.replace("{account}", account) + f"/jobs/{job_id}"
    return f"https://{account}.{endpoint.dns_suffix}/jobs/{job_id}"


class _Stopped(Exception):
    """Raised in a worker's wait when the apply is interrupted."""


def apply_plan(plan_dir, *, endpoint: str | None = None, until: str | None = None, progress=None,
               poll_interval: float | None = None, retry=None, credentials=None, retry_failed: bool = True,
               attempts: int = 2, max_parallel: int = 1, config_path=None,
               allow_changed_sources: bool = False) -> tuple[bool, dict]:
    """Carry the plan out; returns (ok, report). Holds the plan folder's lock throughout.

    Reruns resume: finished steps are skipped, a step whose submission was cut short is looked up
    under the same job id. A step whose job ended Failed or Cancelled is submitted again as a new
    job (attempt n+1), up to ``attempts`` times in one run, unless ``retry_failed`` is False.
    ``max_parallel`` steps whose needs have succeeded run at once. On KeyboardInterrupt the state
    records what was submitted, then the interrupt goes on."""
    from .lock import FolderLock, Locked
    d = _plan_dir(plan_dir)
    if not (d / "plan.json").exists():
        raise PlanError(f"{d / 'plan.json'}: no plan here (run `usqlrw failover plan` first)")
    try:
        lock = FolderLock(d, "usqlrw failover apply").acquire()
    except Locked as e:
        raise PlanError(str(e)) from None
    try:
        return _apply(d, endpoint=endpoint, until=until, progress=progress, poll_interval=poll_interval,
                      retry=retry, credentials=credentials, retry_failed=retry_failed, attempts=attempts,
                      max_parallel=max_parallel, config_path=config_path,
                      allow_changed_sources=allow_changed_sources)
    finally:
        lock.release()


def _apply(d: Path, *, endpoint, until, progress, poll_interval, retry, credentials, retry_failed, attempts,
           max_parallel, config_path, allow_changed_sources):
    from .jobs.client import make_clients, resolve_endpoint
    from .jobs.submit import Ledger, Outcome, RetryPolicy, Submitter, _enum, parse_param, prepare_request

    plan = load_plan(d)
    if plan.blockers:
        raise PlanError(f"the plan has {len(plan.blockers)} blocker(s); fix them and make the plan again", code=1)
    config = plan_config(plan, d, config_path)
    changed, _missing = changed_sources(plan, d)
    if changed and not allow_changed_sources:
        raise PlanError(f"{d / changed[0]}: changed since the plan was made"
                        + (f" (and {len(changed) - 1} more)" if len(changed) > 1 else "")
                        + "; make the plan again, or --allow-changed-sources")
    state = load_state(d, plan)
    ids = [s["id"] for s in plan.steps]
    if until is not None and until not in ids:
        raise PlanError(f"--until {until}: no such step (steps: {', '.join(ids)})")
    wanted = plan.steps if until is None else plan.steps[:ids.index(until) + 1]
    # nothing is sent until everything above has been checked
    progress = progress or (lambda *a: None)
    if endpoint is None and config.emulator:
        endpoint = "emulator"
    try:
        ep = resolve_endpoint(endpoint, state_file=plan.data.get("emulator_state") or str(d / "emulator.sqlite"))
    except ValueError as e:
        raise PlanError(str(e)) from None
    if ep.emulator is not None:
        for acct, store in ((config.primary_analytics, config.primary_store),
                            (config.secondary_analytics, config.secondary_store)):
            ep.emulator.store.add_account(acct, store)

    stop = threading.Event()

    def sleep(t):
        if stop.wait(t):
            raise _Stopped()

    ledger = Ledger(d / "ledger.jsonl")
    sub = Submitter(lambda: make_clients(ep, credentials), ledger,
                    retry or RetryPolicy(attempts=4, base=0.5, cap=5.0), max_parallel=1, wait=False,
                    poll_interval=poll_interval if poll_interval is not None else (0.05 if ep.is_emulator else 10.0),
                    sleep=sleep)
    report = {"plan": str(d), "run_id": plan.run_id, "endpoint": ep.display, "started": _now(), "steps": []}
    slock = threading.Lock()
    ran: dict = {}

    def save():
        with slock:
            _save_state(d, state)

    def request(st, attempt):
        params = [parse_param(f"{p['name']}:{p['type']}={p['value']}") for p in st["parameters"]]
        return prepare_request(st["account"], plan.files[st["script"]],
                               source=st["source"] if st["kind"] == "job" else st["script"], name=st["id"],
                               params=params, run_key=f"{plan.run_id}/{attempt}")

    def run_step(st) -> bool:
        """Run one step to its end (retrying as allowed); True when it succeeded."""
        with slock:
            s = state["steps"].setdefault(st["id"], {"state": "pending", "attempt": 0, "history": []})
        if s["state"] == "failed" and s.get("job_ended"):
            if not retry_failed:
                progress(st, "failed", f"job {s.get('job_id')} ended {s.get('result')}; not resubmitted (--no-retry)")
                return False
            attempt = s["attempt"] + 1
        else:   # pending: the first attempt; cut short (submitting, running, interrupted, unconfirmed): the same one
            attempt = max(1, s["attempt"])
        tries = 0
        while True:
            tries += 1
            req = request(st, attempt)
            with slock:
                s.update(state="submitting", attempt=attempt, job_id=req.job_id, result=None, error=None,
                         job_ended=False, link=_job_link(ep, st["account"], req.job_id))
            save()
            ran[st["id"]] = True
            progress(st, "start", f"job {req.job_id} on {st['account']}" + (f" (attempt {attempt})" if attempt > 1 else ""))
            t0 = time.monotonic()
            out = sub._submit_safe(req)
            if out.status in ("failed",) and out.error and "different script" not in out.error:
                # the answer was lost or the retries ran out: the job may exist all the same
                try:
                    info = sub._exists(req)
                except Exception:
                    info = None
                if info is not None:
                    out = Outcome(req, "already-submitted", _enum(info.state), _enum(info.result))
            if out.status == "failed":
                with slock:
                    s.update(state="failed", error=out.error, seconds=round(time.monotonic() - t0, 3))
                save()
                progress(st, "failed", out.error)
                return False
            with slock:
                s["state"] = "running"
            save()
            try:
                sub._wait_all([out])
            except _Stopped:
                with slock:
                    s["state"] = "interrupted"
                save()
                raise
            secs = round(time.monotonic() - t0, 3)
            with slock:
                s["seconds"] = secs
                if out.state == "Ended":
                    s["result"] = out.result
                    s["history"].append({"attempt": attempt, "job_id": req.job_id, "result": out.result})
                if out.state == "Ended" and out.result == "Succeeded":
                    s["state"] = "succeeded"
                else:
                    s["state"] = "failed"
                    s["job_ended"] = out.state == "Ended"
                    s["error"] = out.error or ("; ".join(out.errors) if out.errors else
                                               f"job ended {out.result}" if out.state == "Ended" else f"still {out.state}")
            save()
            if s["state"] == "succeeded":
                progress(st, "done", f"succeeded in {secs:.1f}s")
                return True
            progress(st, "failed", s["error"])
            if not (s["job_ended"] and retry_failed and tries < attempts) or out.errors:
                return False   # compile errors come back the same in this run: no second job now
            attempt += 1

    def run_safe(st) -> bool:
        try:
            return run_step(st)
        except _Stopped:
            raise
        except Exception as e:   # a bug or an unexpected answer: this step fails, on one line
            from .secrets import redact
            with slock:
                s = state["steps"].setdefault(st["id"], {"state": "pending", "attempt": 0, "history": []})
                if s["state"] in ("pending", "submitting", "running"):
                    s["state"] = "failed" if s["state"] == "pending" else "interrupted"
                s["error"] = redact(f"internal error ({type(e).__name__}: {e})")[:500]
            save()
            progress(st, "failed", s["error"])
            return False

    ok = True
    pending = [st for st in wanted]
    done = {sid for sid, s in state["steps"].items() if s.get("state") == "succeeded"}
    for st in pending:
        if st["id"] in done:
            progress(st, "skip", "done in an earlier run")
    pending = [st for st in pending if st["id"] not in done]
    running: dict = {}
    pool = ThreadPoolExecutor(max_workers=max(1, int(max_parallel)), thread_name_prefix="usqlrw-failover")
    try:
        while pending or running:
            if ok:
                for st in list(pending):
                    if len(running) >= max(1, int(max_parallel)):
                        break
                    if all(n in done for n in st["needs"]):
                        pending.remove(st)
                        running[pool.submit(run_safe, st)] = st
            if not running:
                break   # a step failed: nothing else may start
            finished, _ = wait(list(running), timeout=0.5, return_when=FIRST_COMPLETED)
            for f in finished:
                st = running.pop(f)
                if f.result():
                    done.add(st["id"])
                else:
                    ok = False
    except BaseException:
        stop.set()
        for f in list(running):
            try:
                f.result()
            except BaseException:   # noqa: BLE001  (each worker records its own state)
                pass
        raise
    finally:
        pool.shutdown(wait=True)
        ep.close()
        report["finished"] = _now()
        for st in plan.steps:
            s = state["steps"].get(st["id"])
            if s is not None and (st["id"] in ran or s.get("state") == "succeeded"):
                report["steps"].append({"id": st["id"], "ran": st["id"] in ran, **_pub(s)})
        ndone = sum(1 for st in plan.steps if state["steps"].get(st["id"], {}).get("state") == "succeeded")
        report["complete"] = ndone == len(plan.steps)
        report["succeeded_steps"], report["total_steps"] = ndone, len(plan.steps)
        save()
        write_atomic(d / "report.json", (json.dumps(report, indent=2, sort_keys=True) + "\n").encode())
    ok = ok and not pending and all(st["id"] in done for st in wanted)
    return ok, report


def _pub(s: dict) -> dict:
    return {k: s.get(k) for k in ("state", "attempt", "job_id", "result", "seconds", "error", "link")}


# -- reading -------------------------------------------------------------------------------------

def manual_lines(manual: list) -> list[str]:
    """The plan's manual steps as numbered instructions."""
    out = []
    for i, m in enumerate(manual, 1):
        if isinstance(m, dict):
            out.append(f"{i}. {m.get('instruction', '')}")
            why = m.get("reason")
            if why:
                out.append(f"   Why: {why}" + (f" ({m['object']})" if m.get("object") else ""))
        else:
            out.append(f"{i}. {m}")
    return out


def render_markdown(plan: Plan) -> str:
    d = plan.data
    lines = [f"# Failover plan ({d['mode']}): {d['primary']['analytics_account']} -> "
             f"{d['secondary']['analytics_account']}", "",
             f"Run {d['run_id']}, made {d['created']}." + (" Drill on the embedded emulator." if d["emulator"] else ""),
             ""]
    if d["manual"]:
        title = "By hand" if d["mode"] == "failback" else "By hand, before `usqlrw failover apply`"
        lines += [f"## {title}", ""] + manual_lines(d["manual"]) + [""]
    lines += ["## Steps", "", "| # | step | kind | account | needs | parameters |", "|---|---|---|---|---|---|"]
    for s in d["steps"]:
        ps = ", ".join(f"@{p['name']} = {p['value']}" for p in s["parameters"])
        lines.append(f"| {s['order']} | `{s['id']}` | {s['kind']} | {s['account']} | "
                     f"{', '.join(n.split('-', 1)[0] for n in s['needs']) or '-'} | {ps or '-'} |")
    if d["rpo"]:
        lines += ["", "## What the secondary has (RPO)", ""]
        lines += [f"- {r.get('table')}: {r.get('text')}" for r in d["rpo"]]
    if d["blockers"]:
        lines += ["", "## Blockers", ""] + [f"- {b['path']}:{b['line']}:{b['column']}: {b['message']}"
                                            for b in d["blockers"]]
    return "\n".join(lines) + "\n"


def table(rows: list[list[str]], header: list[str]) -> list[str]:
    """Rows in aligned columns."""
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    return ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header] + rows]
