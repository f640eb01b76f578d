"""The replication bundle: every generated script, and a manifest saying what runs where and when.

:func:`build_bundle` is the API behind ``usqlrw replicate``; :func:`write_bundle` writes it::

    OUT/manifest.json                     format usqlrw-replication-bundle/1 (see below)
    OUT/catalog/model.json                the catalog model (pass it as --previous-model next time)
    OUT/catalog/sync.usql                 catalog-sync DDL for the secondary (resync.usql when
                                          --previous-model is given: only the changes); objects
                                          that read objects of the same sync in sync.2.usql, ...
    OUT/catalog/MANUAL.md                 objects that cannot be copied by script, with commands
    OUT/primary/jobs/NAME.usql            DR copies of the jobs: run them instead of the originals
    OUT/primary/snapshots/TABLE[.PART].export.usql
    OUT/secondary/jobs/NAME.import.usql   run after the DR copy of the same job
    OUT/secondary/snapshots/TABLE[.PART].import.usql

``manifest.json`` holds ``steps``: ``{order, account, account_name, script, purpose, source, moves,
run, parameters}`` with ``account`` "primary" or "secondary", ``moves`` the tables (and partition
labels) the step writes, and ``run`` "always" (catalog sync, job copies and imports, snapshots of
tables no job writes) or "on_demand" (snapshots of tables the jobs already replicate, for drift).
Submit the steps in ``order``; a job's import must wait for its DR copy to finish, and a step whose
``parameters`` is non-empty must get the same parameter values as the job run it belongs to.
``manual`` lists what must be done by hand first. Output is deterministic: no clock, no absolute
paths other than those given, sorted keys; the same inputs give the same bytes.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from . import staging as S
from .catalog import Model, build_model
from .jobs import plan_job, safe_name, staging_root
from .snapshot import snapshot_pairs
from .sync import sync_script

__all__ = ["Bundle", "build_bundle", "write_bundle", "FORMAT"]

FORMAT = "usqlrw-replication-bundle/1"


@dataclass
class Bundle:
    files: dict = field(default_factory=dict)      # relative path -> bytes
    manifest: dict = field(default_factory=dict)
    model: Model | None = None
    errors: list = field(default_factory=list)     # inputs that did not parse
    problems: list = field(default_factory=list)   # writes not replicated, with why and what to do
    warnings: list = field(default_factory=list)


def _header(purpose: str, source: str, account: str, nl: str = "\n") -> str:
    return nl.join([f"// usqlrw replicate: {purpose}", f"// source: {source}",
                    f"// runs on: {account}", ""])


def _rewrite(text: str, config, path: str, warnings: list) -> str:
    from ..rewrite import rewrite_text
    r = rewrite_text(text, config, path)
    warnings += [f"{path}:{w.line}:{w.column}: {w.message}" for w in r.warnings]
    return r.text


def build_bundle(scripts, config, previous: Model | None = None, errors=(), base: Model | None = None) -> Bundle:
    """The bundle for ``[(display path, Script[, job name]), ...]`` in the order given; ``base``: a
    model to start from (the primary's catalog, :mod:`.remote`), the scripts' DDL applied on top."""
    b = Bundle(errors=list(errors))
    scripts = [tuple(s) for s in scripts]
    if base is not None:
        base = Model.from_json(base.to_json())   # a copy: the caller's model stays as it was
        base.warnings = []
    model = build_model([(s[0], s[1]) for s in scripts], base)
    b.model = model
    b.warnings += model.warnings
    prim, sec = config.primary_analytics, config.secondary_analytics
    steps = []

    def step(account, script, purpose, source, moves=(), run="always", parameters=()):
        steps.append({"order": len(steps) + 1, "account": account,
                      "account_name": prim if account == "primary" else sec, "script": script,
                      "purpose": purpose, "source": source, "moves": list(moves), "run": run,
                      "parameters": list(parameters)})

    b.files["catalog/model.json"] = model.to_json().encode()
    sync_name = "catalog/resync.usql" if previous is not None else "catalog/sync.usql"
    sync = sync_script(model, config, previous, sync_name)
    b.warnings += sync.warnings
    purpose = ("resync the secondary's catalog: only what changed since the previous model"
               if previous is not None else "create the secondary's catalog objects (idempotent)")
    sources = ", ".join(s[0] for s in scripts) or "(no scripts)"
    parts = sync.parts or [(sync_name, "// nothing changed\n", [])]
    for i, (name, text, objs) in enumerate(parts, 1):
        p = purpose if len(parts) == 1 else f"{purpose}, part {i} of {len(parts)}" + (
            f" (objects that read part {i - 1}'s)" if i > 1 else "")
        b.files[name] = (_header(p, sources, f"secondary ({sec})") + text).encode()
        step("secondary", name, p, sources,
             [{"table": k.split(":", 1)[1], "partition": None, "change": a} for k, a in objs
              if k.startswith("table:")])

    written = set()
    taken: set = set()
    for item in scripts:
        path, script = item[0], item[1]
        plan = plan_job(path, script, model, config, _job_name(item[2] if len(item) > 2 else path, taken))
        b.problems += plan.problems
        b.warnings += plan.warnings
        for w in plan.writes:
            written.add("table:" + ".".join(w.table))
        if plan.dr_copy is None and plan.import_script is None:
            continue
        src = script.source
        if plan.dr_copy is not None:
            name = f"primary/jobs/{plan.name}.usql"
            purpose = ("DR copy of the job: runs it unchanged and also stages the rows it writes "
                       f"on the secondary store ({S.FORMAT})")
            text = _header(purpose, path, f"primary ({prim}), instead of {path}", src.newline) + plan.dr_copy
            b.files[name] = src.encode(text)
            step("primary", name, purpose, path,
                 [{"table": ".".join(w.table), "partition": w.partition, "staged_to": w.location_display}
                  for w in plan.writes], parameters=plan.parameters)
        if plan.import_script is not None:
            name = f"secondary/jobs/{plan.name}.import.usql"
            purpose = ("import the rows the job's DR copy staged, and replay its table changes, "
                       "into the secondary's tables")
            after = f"after primary/jobs/{plan.name}.usql" if plan.dr_copy is not None else f"after {path}"
            text = _rewrite(plan.import_script, config, name, b.warnings)
            text = _header(purpose, path, f"secondary ({sec}), {after} with the same parameters", src.newline) + text
            b.files[name] = text.encode("utf-8")
            step("secondary", name, purpose, path,
                 [{"table": m["table"], "partition": m["partition"], "statement": m["statement"]}
                  for m in plan.moves], parameters=plan.parameters)

    pairs, snap_problems, snap_notes = snapshot_pairs(model, config)
    b.problems += snap_problems
    b.warnings += snap_notes
    for p in pairs:
        key = "table:" + ".".join(p.table)
        run = "on_demand" if key in written else "always"
        tname = ".".join(p.table)
        what = f"{tname}" + (f" {p.partition}" if p.partition else "")
        ex = f"primary/snapshots/{p.name}.export.usql"
        im = f"secondary/snapshots/{p.name}.import.usql"
        b.files[ex] = (_header(f"snapshot export of {what} to {p.location}", f"catalog model ({tname})",
                               f"primary ({prim})") + p.export_script).encode()
        step("primary", ex, f"snapshot export of {what}", f"catalog model ({tname})",
             [{"table": tname, "partition": p.partition, "staged_to": p.location}], run)
        text = _rewrite(p.import_script, config, im, b.warnings)
        b.files[im] = (_header(f"snapshot import of {what}: replaces the secondary's rows",
                               f"catalog model ({tname})", f"secondary ({sec}), after {ex}") + text).encode()
        step("secondary", im, f"snapshot import of {what} (replaces the secondary's rows)",
             f"catalog model ({tname})", [{"table": tname, "partition": p.partition}], run)

    manual = [m.to_dict() for m in sync.manual]
    if any(s["account"] == "primary" for s in steps):
        root = staging_root(config)
        folder = "/" + root.split("://", 1)[1].split("/", 1)[1] if "://" in root else root
        manual.insert(0, {
            "object": f"store:{config.secondary_store}",
            "reason": "the DR copies and snapshot exports run on the primary account and write the staging "
                      "folder on the secondary store",
            "instruction": (f"Add the secondary store to the primary account and let the jobs' identity write "
                            f"the staging folder: Add-AzDataLakeAnalyticsDataSource -Account {prim} "
                            f"-DataLakeStore {config.secondary_store}.azuredatalakestore.net; "
                            f"Set-AzDataLakeStoreItemAclEntry -Account {config.secondary_store} -Path {folder} "
                            f"-AceType User -Id <object id of the identity that submits the jobs> "
                            f"-Permissions All -Recurse"),
            "before": "primary"})
    if manual:
        lines = ["# Manual steps before running the replication bundle", ""]
        for m in manual:
            lines += [f"- **{m['object']}** ({m['reason']}):", f"  {m['instruction']}", ""]
        b.files["catalog/MANUAL.md"] = "\n".join(lines).encode()

    b.manifest = {
        "format": FORMAT,
        "primary": {"analytics_account": prim, "store_account": config.primary_store},
        "secondary": {"analytics_account": sec, "store_account": config.secondary_store},
        "staging": {"format": S.FORMAT, "root": staging_root(config)},
        "incremental": previous is not None,
        "inputs": [s[0] for s in scripts],
        "steps": steps,
        "manual": manual,
        "problems": list(b.problems),
        "skipped": list(b.errors),
        "warnings": list(b.warnings),
    }
    b.files["manifest.json"] = (json.dumps(b.manifest, indent=2, sort_keys=True, ensure_ascii=False)
                                + "\n").encode()
    return b


def _job_name(path: str, taken: set) -> str:
    stem = path[:-5] if path.lower().endswith(".usql") else path
    stem = stem.replace("\\", "/").lstrip("./")
    base = safe_name(stem.replace("/", "."))
    name, n = base, 2
    while name.lower() in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name.lower())
    return name


def write_bundle(bundle: Bundle, out_dir) -> list:
    """Write the bundle's files under ``out_dir`` (atomically, unchanged files untouched);
    files a previous bundle left there that this one does not have are removed.
    Returns the paths written."""
    from ..files import write_atomic
    out_dir = os.fspath(out_dir)
    written = []
    for rel in sorted(bundle.files):
        p = os.path.join(out_dir, *rel.split("/"))
        os.makedirs(os.path.dirname(p), exist_ok=True)
        data = bundle.files[rel]
        try:
            with open(p, "rb") as f:
                if f.read() == data:
                    continue
        except OSError:
            pass
        write_atomic(p, data)
        written.append(rel)
    for sub in ("catalog", "primary", "secondary"):
        root = os.path.join(out_dir, sub)
        for dirpath, _dirs, names in os.walk(root):
            for n in names:
                rel = os.path.relpath(os.path.join(dirpath, n), out_dir).replace(os.sep, "/")
                if rel not in bundle.files and (n.endswith(".usql") or n in ("model.json", "MANUAL.md")):
                    os.remove(os.path.join(dirpath, n))
    return written
