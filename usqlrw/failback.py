"""Failback: the way back to the primary once it returns, planned from the failover that ran.

``make_failback_plan`` reads a failover plan folder (what ran on the secondary, with which
parameters) and lays out, as a failover plan of mode ``failback`` (run it with
``usqlrw failover apply``):

1. ``catalog``: the catalog objects, created on the primary where missing (the replication
   bundle's idempotent sync, generated with the DR config reversed);
2. ``export``/``import``: for every table a job of the failover wrote, the partitions it wrote
   (its partition labels with the job's parameter values, or the ``DECLARE EXTERNAL`` defaults) or
   the whole table, exported on the secondary and imported on the primary (the import replaces the
   primary's rows of that partition or table);
3. by hand, last: point the job schedules back at the primary.

The DR config is reversed (primary and secondary, locations, stores, blob accounts and database
names swapped); a config that also renames schemas or objects cannot be reversed yet (a blocker).
"""
from __future__ import annotations

import copy
import os
import re
import uuid
from pathlib import Path

from . import ast as A
from .failover.folder import (FORMAT, Blocker, Plan, PlanError, _now, _plan_dir, _sha, _slug, changed_sources, load_plan,
                              load_state, plan_config)

__all__ = ["reverse_config", "make_failback_plan"]


def reverse_config(config):
    """The DR config the other way round (secondary -> primary); PlanError when it cannot be."""
    from .config import ConfigError, parse_config
    raw = copy.deepcopy(config.raw)
    cat = raw.get("catalog") or {}
    for k in ("schemas", "objects", "assemblies", "data_sources", "credentials"):
        if cat.get(k):
            raise PlanError(f"{config.path}: [catalog.{k}] cannot be reversed for a failback yet")
    prim, sec = dict(raw["primary"]), dict(raw["secondary"])
    sec.pop("default_store_account", None)
    raw["primary"], raw["secondary"] = sec, prim
    raw["locations"] = [{"from": x["to"], "to": x["from"]} for x in raw.get("locations") or []]
    for k in ("stores", "blob_accounts", "data_source_servers"):
        if raw.get(k):
            raw[k] = {v: key for key, v in raw[k].items()}
    if cat.get("databases"):
        cat["databases"] = {v: k for k, v in cat["databases"].items()}
    raw.pop("jobs", None)
    try:
        return parse_config(raw, f"{config.path} (reversed)")
    except ConfigError as e:
        raise PlanError(f"the DR config cannot be reversed for a failback: {e}") from None


def _defaults(data: bytes) -> dict:
    """{name: default expression text} of a script's DECLARE EXTERNALs."""
    from .parser import parse
    s = parse(data)
    text = s.source.text
    return {st.variable.name.lstrip("@"): text[st.value.span.start:st.value.span.end]
            for st in s.statements if isinstance(st, A.Declare) and st.external and st.value is not None}


def make_failback_plan(config, config_path: str, failover_dir) -> Plan:
    """The failback plan for the failover in ``failover_dir`` (which must have run)."""
    from .jobs.submit import parse_param
    from .parser import USqlSyntaxError, parse
    from .replicate.bundle import build_bundle
    from .replicate.snapshot import snapshot_pairs
    from .rewrite import rewrite_text

    fo_dir = _plan_dir(failover_dir)
    fo = load_plan(fo_dir)
    if fo.data["mode"] == "failback":
        raise PlanError(f"{fo_dir}: a failback plan; give the failover plan that ran")
    plan_config(fo, fo_dir, config_path)          # the same DR config, unchanged
    state = load_state(fo_dir, fo)
    changed, missing = changed_sources(fo, fo_dir)
    if changed or missing:
        bad = (changed or missing)[0]
        raise PlanError(f"{fo_dir / bad}: {'changed' if changed else 'missing'} since the failover plan was made")
    rev = reverse_config(config)
    blockers: list[Blocker] = []
    warnings: list[str] = []

    # the scripts as they ran on the secondary: the bundle's model is in the secondary's names
    scripts = []
    for s in fo.data["sources"]:
        p = fo_dir / s["path"]
        try:
            r = rewrite_text(p.read_bytes(), config, str(p))
            scripts.append((s["path"], parse(r.data, path=str(p))))
        except (USqlSyntaxError, Exception) as e:   # noqa: BLE001  (a blocker, on one line)
            blockers.append(Blocker(str(p), 1, 1, f"cannot be read back for the failback: {e}"))
    bundle = build_bundle(scripts, rev)
    manifest = bundle.manifest or {}
    warnings += [f"replication: {w}" for w in bundle.warnings if "run-time partitions" not in w]

    # what the failover's jobs wrote: their tables and partitions, with the values they ran with
    moves_of = {st["source"]: st["moves"] for st in manifest.get("steps", [])
                if st["account"] == "primary" and st["script"].startswith("primary/jobs/")}
    written: dict = {}     # table key -> set of partition labels (None: the whole table)
    ran = []
    for st in fo.steps:
        if st["kind"] != "job" or state["steps"].get(st["id"], {}).get("state") != "succeeded":
            continue
        ran.append(st)
        same = [s["path"] for s in fo.data["sources"] if Path(s["path"]).name == Path(st["source"]).name]
        rel = same[0] if len(same) == 1 else next(
            (x for x in same if (fo_dir / x).resolve() == Path(st["source"]).resolve()), None)
        moves = moves_of.get(rel or "", [])
        values = {p["name"]: parse_param(f"{p['name']}:{p['type']}={p['value']}").literal for p in st["parameters"]}
        try:
            defaults = _defaults(fo.files[st["script"]])
        except USqlSyntaxError:
            defaults = {}
        for m in moves:
            label = m.get("partition")
            if label:
                def sub(mm):
                    n = mm.group(1)
                    return values.get(n) or defaults.get(n) or mm.group(0)
                label = re.sub(r"@([A-Za-z_][A-Za-z0-9_]*)", sub, label)
                if "@" in label:
                    blockers.append(Blocker(st["source"], 1, 1, f"{m['table']}: partition {m['partition']} "
                                            "depends on a value known only when the job ran; copy it by hand"))
                    continue
            written.setdefault("table:" + m["table"], set()).add(label)

    model = bundle.model
    for key, labels in written.items():
        t = model.objects.get(key) if model else None
        if t is None:
            blockers.append(Blocker("(failback)", 1, 1, f"{key.split(':', 1)[1]}: not in the catalog model"))
            continue
        if t.partitioned_by:
            t.partitions = sorted(x for x in labels if x)
    pairs, problems, _ = snapshot_pairs(model, rev, tables=set(written)) if model else ([], [], [])
    blockers += [Blocker("(failback)", 1, 1, p) for p in problems]

    steps, files = [], {}

    def add(kind, account, name, data, purpose, source, needs):
        sid = f"{len(steps) + 1:02d}-{kind}-{_slug(name)}"
        rel = f"scripts/{sid}.usql"
        files[rel] = data
        steps.append({"id": sid, "order": len(steps) + 1, "kind": kind, "account": account, "script": rel,
                      "sha256": _sha(data), "purpose": purpose, "source": source, "needs": needs,
                      "parameters": [], "declares": []})
        return sid

    catalog_ids = []
    for st in sorted(manifest.get("steps", []), key=lambda s: s["order"]):
        if st["script"].startswith("catalog/"):
            catalog_ids.append(add("catalog", config.primary_analytics, Path(st["script"]).stem,
                                   bundle.files[st["script"]], f"{st['purpose']} (on the primary)",
                                   st["source"], catalog_ids[-1:]))
    for p in pairs:
        what = ".".join(p.table) + (f" {p.partition}" if p.partition else "")
        ex = add("export", config.secondary_analytics, f"{p.name}.export", p.export_script.encode(),
                 f"export {what} from the secondary to {p.location}", "catalog model", [])
        try:
            im_text = rewrite_text(p.import_script.encode(), rev, f"{p.name}.import.usql").data
        except Exception as e:   # noqa: BLE001
            blockers.append(Blocker("(failback)", 1, 1, f"{what}: the import cannot be rewritten: {e}"))
            continue
        add("import", config.primary_analytics, f"{p.name}.import", im_text,
            f"import {what} into the primary (replaces its rows)", "catalog model", catalog_ids + [ex])

    manual = [dict(m, instruction="For the failback (the DR config reversed: the secondary exports, the primary "
                                  "imports): " + str(m.get("instruction", "")))
              if isinstance(m, dict) else m for m in manifest.get("manual", [])]
    if ran:
        names = ", ".join(Path(st["source"]).name for st in ran)
        manual.append({"object": f"jobs:{config.primary_analytics}", "before": "after",
                       "reason": "the primary has the secondary's writes again; the jobs move back",
                       "instruction": f"After `usqlrw failover apply` of this plan has succeeded: point the job "
                                      f"schedules (ADF pipelines, recurrences) of {names} back at "
                                      f"{config.primary_analytics}, and stop them on {config.secondary_analytics}."})
    files["catalog/model.json"] = (model.to_json() if model else "{}").encode()
    data = {
        "format": FORMAT, "run_id": uuid.uuid4().hex, "mode": "failback", "created": _now(),
        "config": os.path.abspath(config_path), "config_sha256": fo.data["config_sha256"],
        "primary": fo.data["primary"], "secondary": fo.data["secondary"], "emulator": fo.data["emulator"],
        "inputs": [s[0] for s in scripts], "sources": [], "steps": steps, "manual": manual,
        "blockers": [b.__dict__ for b in blockers], "warnings": warnings, "files": sorted(files) + ["plan.md"],
        "catalog": {"model": "catalog/model.json", "incremental": False}, "parameters": {}, "rpo": [],
        "failover": {"run_id": fo.run_id, "plan": str(fo_dir.resolve()),
                     "jobs": [st["id"] for st in ran]},
    }
    if fo.data["emulator"]:
        data["emulator_state"] = str((fo_dir / "emulator.sqlite").resolve())
    return Plan(data, files)
