"""The plan folder: its formats and schemas, writing it, and reading it back checked.

Everything read back is checked before it is trusted (:mod:`usqlrw.schema`): plan.json and
state.json must fit their schema and belong together (the run id), every script must lie inside
the folder and match its recorded hash, every account must be one the DR config names, and the DR
config (found relative to the plan) and the source scripts must be as they were.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from .. import ast as A
from ..files import write_atomic
from ..schema import Any, Bool, Enum, Int, List, Map, Maybe, Num, Obj, SchemaError, Str, check

FORMAT = "usqlrw-failover-plan/2"
STATE_FORMAT = "usqlrw-failover-state/2"
MODES = ("drill", "outage", "failback")

# files of a plan folder that usqlrw writes besides those plan.json lists (replaced with the plan);
# ledger.jsonl and emulator.sqlite are kept: the history of submissions and a drill's service
_OWN = ("plan.json", "plan.md", "state.json", "report.json", "report.html")
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
_TIME = Str(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})",
            "a time (ISO 8601)")
_STEP_STATE = Obj({"state": Enum("pending", "submitting", "running", "succeeded", "failed", "interrupted"),
                   "attempt": Int()},
                  {"job_id": Maybe(Str(r"[0-9a-f-]{36}", "a job id")), "result": Maybe(Str()),
                   "seconds": Maybe(Num()), "error": Maybe(Str()), "link": Maybe(Str()), "job_ended": Bool(),
                   "started": Maybe(_TIME), "ended": Maybe(_TIME),
                   "history": List(Obj({"attempt": Int(), "job_id": Str(), "result": Maybe(Str())},
                                       {"started": Maybe(_TIME), "ended": Maybe(_TIME), "seconds": Maybe(Num())}))})
_STATE = Obj({"format": Enum(STATE_FORMAT), "run_id": Str(r"[0-9a-f]{32}"), "steps": Map(_STEP_STATE)},
             {"service": Str(max_len=2000)})


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
    """(model, service) of the plan in ``plan_dir``: the catalog model the service it ran against
    has after it, as far as usqlrw knows (the plan's model if all its catalog steps succeeded, else
    the model it started from), or (None, None)."""
    from ..replicate.catalog import Model
    d = _plan_dir(plan_dir)
    try:
        plan = load_plan(d)
        state = load_state(d, plan)
    except PlanError:
        return None, None
    if plan.data["mode"] == "failback":   # its model is the secondary's, in the secondary's names
        return None, None
    cat = [s["id"] for s in plan.steps if s["kind"] == "catalog"]
    done = bool(state["steps"]) and all(state["steps"].get(i, {}).get("state") == "succeeded" for i in cat)
    rel = plan.data["catalog"].get("model") if done else plan.data["catalog"].get("base")
    service = state.get("service") if done else plan.data["catalog"].get("base_service")
    if not rel or rel not in plan.data["files"]:
        return None, None
    try:
        return Model.from_json((d / rel).read_text(encoding="utf-8")), service
    except (OSError, ValueError, KeyError, TypeError):
        return None, None


def write_plan(plan: Plan, plan_dir, force: bool = False) -> Path:
    """Write the plan folder. A folder holding a plan is replaced only with ``force``; a folder
    holding anything else is refused; files usqlrw did not write are never removed or overwritten."""
    from ..lock import FolderLock, Locked
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
        from .report import render_markdown
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
    from ..jobs.submit import ParamError, parse_param
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
    from ..config import ConfigError, load_config
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
                     "started": s.get("started"), "ended": s.get("ended"), "history": s.get("history", [])})
    return rows
