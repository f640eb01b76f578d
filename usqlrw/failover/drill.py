"""``usqlrw failover drill``: a failover rehearsed end to end, with the primary alive, ending with
both sides compared.

Phases, in order (each one reported through ``progress(phase, text)``):

1. ``plan``: the failover plan (:func:`make_plan`), written to the drill's folder;
2. ``seed``: on the embedded emulator, the files of the DR config's ``options.emulator_data``
   folder put on the primary's stores (``DATA/<store account>/<path>``);
3. ``primary``: production on the primary: the scripts that only hold DDL, then every job (its DR
   copy where it has one: it also stages the rows it inserts on the secondary store for the
   replication imports), with the plan's parameters;
4. ``sync``: the files the jobs read copied from the primary's stores to the secondary's (through
   one seam, ``sync(copies) -> [copied]``; by default :func:`usqlrw.syncfiles.sync_files` through
   the ``azure-datalake-store`` client, on the emulator's WebHDFS stores or Azure's, incrementally);
5. ``apply``: the plan applied on the secondary (catalog sync, replication imports, rewritten jobs),
   after its files-first check;
6. ``primary-jobs``: the jobs the secondary ran, run on the primary too (same scripts as written,
   same parameters, same order), as a primary that is still alive would;
7. ``verify``: tables and job outputs compared (:func:`usqlrw.failover.verify.verify`), the files
   read through the same client.

The drill stops at the first phase that fails, naming it and the job's error. It runs jobs on the
primary account, so it refuses any endpoint but an emulator unless ``run_on_primary`` is given.
"""
from __future__ import annotations

import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from ..datalake import StoreError
from .folder import PlanError, _sha, is_ddl_only, load_plan
from .stores import SyncFailed, store_sync

__all__ = ["PHASES", "DrillResult", "FileCopy", "input_copies", "run_drill", "seed_stores"]

PHASES = ("plan", "seed", "primary", "sync", "apply", "primary-jobs", "verify")


@dataclass(frozen=True)
class FileCopy:
    """The files one input of a job reads: ``source`` (primary store, path) as the source job reads
    them, ``target`` (secondary store, path) as the rewritten job does (``*`` for a file set's
    pattern parts). Shaped like the file inputs a store client's sync takes (``source``, ``target``,
    ``reason``, ``location``, ``where``), so one can be handed these as they are."""
    source: tuple
    target: tuple
    step: str = ""
    script: str = ""          # the plan's script that reads it, and where
    line: int = 0
    column: int = 0
    location: str | None = None
    reason: str | None = None

    @property
    def where(self) -> str:
        return f"{self.script}:{self.line}:{self.column}"

    def __str__(self):
        return f"{self.source[0]}:{self.source[1]} -> {self.target[0]}:{self.target[1]}"


@dataclass
class DrillResult:
    plan_dir: Path
    ok: bool = False
    failed_phase: str | None = None
    error: str | None = None
    phases: list = field(default_factory=list)       # [(phase, "done" | "failed" | "skipped", detail)]
    verification: object = None                      # usqlrw.failover.verify.Verification
    copied: list = field(default_factory=list)       # what sync copied
    blockers: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"plan": str(self.plan_dir), "ok": self.ok, "failed_phase": self.failed_phase, "error": self.error,
                "phases": [{"phase": p, "status": s, "detail": d} for p, s, d in self.phases],
                "copied": list(self.copied), "blockers": list(self.blockers),
                "verify": self.verification.to_dict() if self.verification is not None else None}


class _Failed(Exception):
    def __init__(self, phase: str, message: str):
        super().__init__(message)
        self.phase = phase


# -- stores ---------------------------------------------------------------------------------------

def seed_stores(config, emu) -> list:
    """Copy ``options.emulator_data`` (relative to the DR config) onto the emulator's primary stores;
    the files copied. Only folders named for a primary store may be there (PlanError 2 otherwise):
    a drill never seeds the secondary, which must get its files from the sync."""
    if not config.emulator_data:
        return []
    base = Path(config.path or ".").parent / config.emulator_data
    if not base.is_dir():
        raise PlanError(f"{config.path}: options.emulator_data: {base} is not a folder")
    primary = {config.primary_store.lower()} | {k.lower() for k in config.stores} | {
        k.lower() for k in config.blob_accounts}
    copied = []
    for top in sorted(base.iterdir()):
        if top.name.startswith("."):
            continue
        if not top.is_dir() or top.is_symlink() or top.name.lower() not in primary:
            raise PlanError(f"{top}: options.emulator_data holds only folders named for the primary's store "
                            f"accounts ({', '.join(sorted(primary))})")
        root = Path(emu.store_path(top.name))
        for dirpath, dirs, files in os.walk(top):
            dirs[:] = sorted(x for x in dirs if not (Path(dirpath) / x).is_symlink())
            for name in sorted(files):
                src = Path(dirpath) / name
                if src.is_symlink() or not src.is_file():
                    continue
                rel = src.relative_to(top)
                if _copy_if_changed(src, root / rel):
                    copied.append(f"{top.name.lower()}:/{rel.as_posix()}")
    return copied


def _copy_if_changed(src: Path, dst: Path) -> bool:
    data = src.read_bytes()
    try:
        if dst.read_bytes() == data:
            return False
    except OSError:
        pass
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, dst)
    return True


def _map(path: str, src_pattern: str, dst_pattern: str) -> str:
    """A path matching ``src_pattern`` as the same file under ``dst_pattern`` (they differ by a prefix)."""
    k = 0
    while k < min(len(src_pattern), len(dst_pattern)) and src_pattern[-1 - k] == dst_pattern[-1 - k]:
        k += 1
    sp, dp = src_pattern[:len(src_pattern) - k], dst_pattern[:len(dst_pattern) - k]
    return dp + path[len(sp):] if path.startswith(sp) else path


def input_copies(plan, d: Path, config) -> list:
    """[FileCopy] of every input the plan's jobs read: as the source job reads it on the primary,
    and as the rewritten job reads it on the secondary (both with the step's parameters)."""
    from ..parser import parse
    from ..resolve import locations
    from .preflight import store_path
    from .verify import _sent_text, _source_bytes

    def inputs(text, name):
        return [loc for loc in locations(parse(text, path=name)) if loc.role == "input"]
    out, seen = [], set()
    for step in plan.steps:
        if step["kind"] != "job":
            continue
        prelude = len(step["parameters"])
        prim = inputs(_sent_text(step, _source_bytes(plan, d, step), step["source"]), step["source"])
        sec = inputs(_sent_text(step, plan.files[step["script"]], step["script"]), step["script"])
        for p, s in zip(prim, sec):
            pv, sv = p.folded.value, s.folded.value
            if pv is None or sv is None:
                continue
            a, b = store_path(pv, config.primary_store), store_path(sv, config.secondary_store)
            if a is None or b is None or (a, b) in seen:
                continue
            seen.add((a, b))
            out.append(FileCopy(a, b, step=step["id"], script=step["script"],
                                line=s.node.span.line - prelude, column=s.node.span.column, location=sv))
    return out


# -- jobs -----------------------------------------------------------------------------------------

def _run(clients, account: str, data: bytes, source: str, params, timeout: float, poll_interval: float) -> str:
    """Submit one job and wait for its end: its id; ValueError (one line: the job, its result and
    first error with its code and line in the script) if it did not succeed."""
    from azure.mgmt.datalake.analytics.job.models import CreateJobParameters, CreateUSqlJobProperties, JobType
    from ..jobs.submit import parse_param, prepare_request
    ps = [parse_param(f"{p['name']}:{p['type']}={p['value']}") for p in params]
    req = prepare_request(account, data, source=source, params=ps, job_id=str(uuid.uuid4()))
    try:
        clients.job.job.create(account, req.job_id, CreateJobParameters(
            type=JobType.usql, name=f"usqlrw drill {Path(source).stem}"[:1000],
            properties=CreateUSqlJobProperties(script=req.script)))
        deadline = time.monotonic() + timeout
        while True:
            info = clients.job.job.get(account, req.job_id)
            if info.state.value == "Ended":
                break
            if time.monotonic() > deadline:
                raise ValueError(f"job {req.job_id} did not end within {timeout:g}s")
            time.sleep(poll_interval)
    except ValueError:
        raise
    except Exception as e:   # the SDK's errors: one line, never a traceback
        from ..jobs.client import describe_error
        raise ValueError(f"cannot submit {source}: {describe_error(e)[:300]}") from None
    if info.result.value != "Succeeded":
        msgs = [f"{getattr(m, 'error_id', None) or 'error'} at line {max(1, (m.line_number or 1) - req.prelude_lines)}"
                f": {m.message}" for m in info.error_message or []]
        raise ValueError(f"job {req.job_id} ({source}) {info.result.value.lower()}"
                         + (f": {msgs[0]}" if msgs else ""))
    return req.job_id


def _production(plan, d: Path, config) -> list:
    """[(what, account, bytes, source name, parameters)] of the primary's production run: the DDL-only
    scripts as they are, then each job's DR copy (or the job itself when it stages nothing)."""
    from ..parser import parse
    from ..replicate.bundle import build_bundle
    parsed = []
    for disp, src in zip(plan.data["inputs"], plan.data["sources"]):
        data = (d / src["path"]).read_bytes()
        if _sha(data) != src["sha256"]:
            raise PlanError(f"{d / src['path']}: changed since the plan was made; make the plan again")
        parsed.append((disp, parse(data, path=disp), data))
    bundle = build_bundle([(p, s) for p, s, _ in parsed], config)
    copies = {st["source"]: st["script"] for st in bundle.manifest.get("steps", [])
              if st["account"] == "primary" and st["script"].startswith("primary/jobs/")}
    params = {st["source"]: st["parameters"] for st in plan.steps if st["kind"] == "job"}
    ddl = [(f"DDL {p}", config.primary_analytics, data, p, []) for p, s, data in parsed if is_ddl_only(s)]
    jobs = []
    for st in plan.steps:
        if st["kind"] != "job":
            continue
        data = next(x for p, _, x in parsed if p == st["source"])
        if st["source"] in copies:
            name = copies[st["source"]]
            jobs.append((f"DR copy of {st['source']}", config.primary_analytics, bundle.files[name], name,
                         params[st["source"]]))
        else:
            jobs.append((f"job {st['source']}", config.primary_analytics, data, st["source"], params[st["source"]]))
    return ddl + jobs


# -- the drill ------------------------------------------------------------------------------------

def run_drill(config_path, paths, out_dir, *, params=(), endpoint: str | None = None, force: bool = False,
              run_on_primary: bool = False, sync=None, read_store=None, store_exists=None, credentials=None,
              progress=None, poll_interval: float | None = None, timeout: float = 600.0, retry=None,
              max_parallel: int = 1) -> DrillResult:
    """Rehearse a failover of ``paths`` end to end (see the module's phases) into the plan folder
    ``out_dir``. PlanError (code 2) when it cannot start: a bad config, an --out holding something
    else, an endpoint that is not an emulator without ``run_on_primary``, stores it cannot reach."""
    from ..config import ConfigError, load_config
    from ..jobs.client import make_clients, resolve_endpoint
    from .apply import apply_plan
    from .folder import write_plan
    from .planning import make_plan
    from .verify import verify
    progress = progress or (lambda phase, text: None)
    try:
        config = load_config(config_path)
    except ConfigError as e:
        raise PlanError(str(e)) from None
    if endpoint is None and config.emulator:
        endpoint = "emulator"
    embedded = (endpoint or "").strip().lower() == "emulator"
    try:
        probe = None if embedded else resolve_endpoint(endpoint)
    except ValueError as e:
        raise PlanError(str(e)) from None
    if probe is not None and not probe.is_emulator and not run_on_primary:
        raise PlanError(f"a drill runs jobs on the primary account {config.primary_analytics}; against "
                        f"{probe.display} that is production. Use an emulator, or say --run-on-primary", code=2)

    if probe is not None and not probe.is_emulator and credentials is None:
        from ..jobs.client import credentials_for
        try:      # before anything is written or sent
            credentials = credentials_for(probe)
        except RuntimeError as e:
            raise PlanError(str(e), code=2) from None

    d = Path(out_dir)
    result = DrillResult(d)

    def phase(name, status, detail=""):
        result.phases.append((name, status, detail))
        progress(name, f"{status}" + (f": {detail}" if detail else ""))

    # 1. plan
    plan = make_plan(config, paths, str(config_path), params=params, mode="drill")
    write_plan(plan, d, force=force)
    if embedded:   # a new drill starts from empty stores and catalogs (the folder held a plan, or nothing)
        for p in ("emulator.sqlite", "emulator.sqlite-wal", "emulator.sqlite-shm"):
            (d / p).unlink(missing_ok=True)
        shutil.rmtree(d / "emulator-data", ignore_errors=True)
    if plan.blockers:
        result.blockers = [f"{b['path']}:{b['line']}:{b['column']}: {b['message']}" for b in plan.blockers]
        result.failed_phase, result.error = "plan", f"the plan has {len(plan.blockers)} blocker(s)"
        phase("plan", "failed", result.error)
        return result
    njobs = sum(s["kind"] == "job" for s in plan.steps)
    phase("plan", "done", f"{len(plan.steps)} steps ({njobs} jobs) in {d}")
    plan = load_plan(d)

    def open_endpoint():
        ep = resolve_endpoint(endpoint, state_file=str(d / "emulator.sqlite"), execute=True)
        if ep.emulator is not None:
            for acct, store in ((config.primary_analytics, config.primary_store),
                                (config.secondary_analytics, config.secondary_store)):
                ep.emulator.store.add_account(acct, store)
        return ep

    # how often a job is looked at: an emulator answers at once, the service is asked every 10 s
    poll = poll_interval if poll_interval is not None else (0.05 if embedded or probe.is_emulator else 10.0)
    try:
        # 2. seed, 3. production on the primary, 4. sync
        ep = open_endpoint()
        try:
            if embedded:
                seeded = seed_stores(config, ep.emulator)
                phase("seed", "done", f"{len(seeded)} file(s) put on the primary's stores" if seeded else
                      "nothing to seed (no options.emulator_data)")
            else:
                phase("seed", "skipped", "not the embedded emulator: the primary's stores are as they are")
            clients = make_clients(ep, credentials)
            for what, account, data, source, ps in _production(plan, d, config):
                try:
                    jid = _run(clients, account, data, source, ps, timeout, poll)
                except ValueError as e:
                    raise _Failed("primary", f"{what} on {account}: {e}") from None
                progress("primary", f"{what}: succeeded (job {jid})")
            phase("primary", "done", f"production ran on {config.primary_analytics}")
            copies = input_copies(plan, d, config)
            do_sync = sync or store_sync(ep, credentials)
            try:
                result.copied = list(do_sync(copies))
            except (SyncFailed, StoreError) as e:
                raise _Failed("sync", str(e)) from None
            phase("sync", "done", f"{len(result.copied)} file(s) copied for {len(copies)} input(s) the jobs read")
        finally:
            ep.close()

        # 5. the failover, on the secondary
        def on_step(step, what, detail=""):
            progress("apply", f"{step['id']}: {what} {detail}".rstrip())
        try:
            ok, report = apply_plan(d, endpoint=endpoint, execute=True, progress=on_step, poll_interval=poll_interval,
                                    retry=retry, credentials=credentials, store_exists=store_exists,
                                    max_parallel=max_parallel)
        except PlanError as e:
            raise _Failed("apply", str(e)) from None
        if not ok:
            bad = next((s for s in report["steps"] if s.get("state") != "succeeded"), None)
            raise _Failed("apply", f"step {bad['id']} {bad.get('state')}: {bad.get('error')}" if bad else
                          "not every step ran")
        phase("apply", "done", f"{report['succeeded_steps']}/{report['total_steps']} steps on "
                               f"{config.secondary_analytics}")

        # 6. the same jobs on the primary
        ep = open_endpoint()
        try:
            clients = make_clients(ep, credentials)
            for st in plan.steps:
                if st["kind"] != "job":
                    continue
                try:
                    jid = _run(clients, config.primary_analytics, _source_bytes_checked(plan, d, st), st["source"],
                               st["parameters"], timeout, poll)
                except ValueError as e:
                    raise _Failed("primary-jobs", f"{st['source']} on {config.primary_analytics}: {e}") from None
                progress("primary-jobs", f"{st['source']}: succeeded (job {jid})")
            phase("primary-jobs", "done", f"{njobs} job(s) ran on {config.primary_analytics} as on the secondary")
        finally:
            ep.close()

        # 7. compare
        v = verify(d, endpoint=endpoint, credentials=credentials, read_store=read_store,
                   poll_interval=poll, timeout=timeout)
        result.verification = v
        for line in v.lines():
            progress("verify", line)
        if not v.equal:
            raise _Failed("verify", v.summary())
        phase("verify", "done", v.summary())
        result.ok = True
    except _Failed as e:
        result.failed_phase, result.error = e.phase, str(e)
        phase(e.phase, "failed", str(e))
    return result


def _source_bytes_checked(plan, d, step) -> bytes:
    from .verify import _source_bytes
    try:
        return _source_bytes(plan, d, step)
    except PlanError as e:
        raise ValueError(str(e)) from None
