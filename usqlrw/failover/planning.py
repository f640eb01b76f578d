"""Planning a failover: check every script and lay out the steps, their order and parameters."""
from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

from .. import ast as A
from ..schema import Any, Enum, Int, List, Map, Obj, SchemaError, Str, check
from .folder import MODES, FORMAT, Blocker, Plan, PlanError, _now, _read_json, _sha, _slug, is_ddl_only

# -- parameters ----------------------------------------------------------------------------------

def _externals(data: bytes) -> dict:
    """{name: type as written} of a script's top-level DECLARE EXTERNALs ({} if it does not parse)."""
    from ..parser import USqlSyntaxError, parse
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
    from ..jobs.submit import ParamError, parse_param
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
    from ..jobs.submit import Ledger
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
            # the same job's moves: its INSERT's partition, not the partition-less replay of an ALTER
            if table not in last or rec["time"] > last[table][0] or (
                    rec["time"] == last[table][0] and last[table][2] is None):
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
              records=None, previous_service: str | None = None) -> Plan:
    """Check, rewrite and order everything a failover does. Never raises for bad scripts: they
    become blockers with their position. ``params``: ``NAME=VALUE`` for every step that declares
    NAME EXTERNAL; ``previous``: the catalog model the secondary already has (only the changes are
    synced); ``mode``: ``drill`` or ``outage`` (nothing may run on, or be read from, the primary; ``records``:
    a replication bundle folder whose ledger says what the secondary last received, the RPO)."""
    from ..diagnostics import from_syntax_error
    from ..files import iter_inputs
    from ..parser import USqlSyntaxError, parse
    from ..replicate.bundle import build_bundle
    from ..resolve import references
    from ..rewrite import RewriteError, rewrite_text

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
    if previous is not None and previous_service:
        catalog["base_service"] = previous_service   # the sync holds only the changes made there
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
