"""Carrying a plan out: locked, resumable, retried, in parallel where the steps allow."""
from __future__ import annotations

import json
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path

from ..files import write_atomic
from .folder import (PlanError, _now, _plan_dir, _save_state, changed_sources, load_plan, load_state,
                     plan_config)

# -- apply ---------------------------------------------------------------------------------------

def service_of(ep) -> str:
    """Which service a plan runs against, in words that stay the same from run to run: Azure (and
    where), the embedded emulator of a state file, or an emulator at some URL (its port changes)."""
    import os
    if ep.emulator is not None:
        return f"the embedded emulator of {os.path.realpath(ep.state_file)}"
    if ep.url:
        return "an emulator"
    return f"Azure ({ep.display})"


def _job_link(endpoint, account: str, job_id: str) -> str | None:
    """A link that stays valid: the service's job URL; none for an emulator (its port is not)."""
    if endpoint.is_emulator:
        return None
    if endpoint.template:
        return endpoint.template.replace("{account}", account) + f"/jobs/{job_id}"
    return f"https://{account}.{endpoint.dns_suffix}/jobs/{job_id}"


def _stamp() -> str:
    """Now, to the millisecond (UTC): when a step's job was submitted and when it ended."""
    from datetime import datetime, timezone
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class _Stopped(Exception):
    """Raised in a worker's wait when the apply is interrupted."""


def apply_plan(plan_dir, *, endpoint: str | None = None, until: str | None = None, progress=None,
               poll_interval: float | None = None, retry=None, credentials=None, retry_failed: bool = True,
               attempts: int = 2, max_parallel: int = 1, config_path=None,
               allow_changed_sources: bool = False, store_exists=None, execute: bool = True) -> tuple[bool, dict]:
    """Carry the plan out; returns (ok, report). Holds the plan folder's lock throughout.

    Reruns resume: finished steps are skipped, a step whose submission was cut short is looked up
    under the same job id. A step whose job ended Failed or Cancelled is submitted again as a new
    job (attempt n+1), up to ``attempts`` times in one run, unless ``retry_failed`` is False.
    ``max_parallel`` steps whose needs have succeeded run at once. On KeyboardInterrupt the state
    records what was submitted, then the interrupt goes on.

    Files first: ``store_exists(store, pattern)`` is asked for every input the plan's imports and
    jobs read; if one is missing, nothing is submitted and PlanError lists them with the step and
    line that reads it. By default: the embedded emulator's store folders when it runs jobs; an
    emulator at a URL that runs jobs, or Azure with credentials, through the ``azure-datalake-store``
    client (:func:`usqlrw.failover.preflight.endpoint_exists`).

    ``execute``: the embedded emulator runs the jobs on its engine (the default); False: it only
    accepts them and marks them succeeded (``--accept-only``), and the files-first check is skipped
    (nothing reads the files)."""
    from ..lock import FolderLock, Locked
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
                      allow_changed_sources=allow_changed_sources, store_exists=store_exists, execute=execute)
    finally:
        lock.release()


def _apply(d: Path, *, endpoint, until, progress, poll_interval, retry, credentials, retry_failed, attempts,
           max_parallel, config_path, allow_changed_sources, store_exists=None, execute=True):
    from ..jobs.client import make_clients, resolve_endpoint
    from ..jobs.submit import Ledger, Outcome, RetryPolicy, Submitter, _enum, parse_param, prepare_request

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
        ep = resolve_endpoint(endpoint, state_file=plan.data.get("emulator_state") or str(d / "emulator.sqlite"),
                              execute=execute)
    except ValueError as e:
        raise PlanError(str(e)) from None
    service = service_of(ep)
    base = plan.data["catalog"].get("base_service")
    for what, there in (("this plan's catalog sync holds only the changes since a plan applied to", base),
                        ("state.json records steps run against", state.get("service"))):
        if there and there != service:
            ep.close()
            raise PlanError(f"{d}: {what} {there}, not {service}; make a new plan (another --out) for {service}")
    state["service"] = service
    if ep.emulator is not None:
        for acct, store in ((config.primary_analytics, config.primary_store),
                            (config.secondary_analytics, config.secondary_store)):
            ep.emulator.store.add_account(acct, store)
    if store_exists is None:     # an emulator (over WebHDFS) or Azure: through the store client
        from .preflight import endpoint_exists
        store_exists = endpoint_exists(ep, credentials)
    if store_exists is not None:
        from ..datalake import StoreError
        from .preflight import missing_inputs
        try:
            missing = missing_inputs(plan, config, store_exists)
        except StoreError as e:
            ep.close()
            raise PlanError(f"the inputs the jobs read could not be checked on the secondary's stores ({e}); "
                            "nothing was submitted", code=1) from None
        if missing:
            ep.close()
            raise PlanError(f"{len(missing)} input(s) the jobs read are not on the secondary's stores; nothing "
                            "was submitted (copy them first):\n  " + "\n  ".join(str(m) for m in missing), code=1)

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
                if s.get("job_id") != req.job_id or not s.get("started"):   # a resumed job keeps its start
                    s["started"] = _stamp()
                s.update(state="submitting", attempt=attempt, job_id=req.job_id, result=None, error=None,
                         job_ended=False, link=_job_link(ep, st["account"], req.job_id), ended=None)
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
                    s.update(state="failed", error=out.error, seconds=round(time.monotonic() - t0, 3),
                             ended=_stamp())
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
                    s["result"], s["ended"] = out.result, _stamp()
                    s["history"].append({"attempt": attempt, "job_id": req.job_id, "result": out.result,
                                         "started": s["started"], "ended": s["ended"], "seconds": secs})
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
            from ..secrets import redact
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
    return {k: s.get(k) for k in ("state", "attempt", "job_id", "result", "seconds", "error", "link", "started",
                                  "ended")}
