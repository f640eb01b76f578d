"""What a plan did, from its folder: every step with its attempts and times (for a timeline), per table
what reached the secondary and what an outage would lose, the manual steps, blockers and warnings.

Read through the checked loaders (:func:`load_plan`, :func:`load_state`) and checked again where the
plan's schema leaves a part open (the steps' moves, the RPO entries); every free text is masked.
Rendered as text by :func:`report_lines`, as one page by :mod:`usqlrw.failover.html`.
"""
from __future__ import annotations

import re

from .folder import Plan, PlanError, _plan_dir, load_plan, load_state, status_rows
from .report import table


REPORT_FORMAT = "usqlrw-failover-report/1"

_LINK = re.compile(r"https?://[^\s\"'<>]+")


def _when(text):
    """A recorded ISO time as a datetime (None when there is none or it does not parse)."""
    from datetime import datetime
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _moves(plan: Plan, where: str) -> dict:
    """{step id: [(table, partition)]} from the plan's steps, each move checked before it is used."""
    from ..schema import Maybe, Obj, SchemaError, Str, check
    spec = Obj({}, {"table": Maybe(Str(max_len=1000)), "partition": Maybe(Str(max_len=1000))}, extra=True)
    out = {}
    for i, st in enumerate(plan.steps):
        for j, m in enumerate(st.get("moves") or []):
            try:
                check(m, spec, f"{where}: steps[{i}].moves[{j}]")
            except SchemaError as e:
                raise PlanError(str(e)) from None
            if m.get("table"):
                out.setdefault(st["id"], []).append((m["table"], m.get("partition")))
    return out


def _rpo(plan: Plan, where: str) -> dict:
    from ..schema import Maybe, Obj, SchemaError, Str, check
    spec = Obj({"table": Str(max_len=1000), "text": Str(max_len=10_000)},
               {"last_replicated": Maybe(Str(max_len=100)), "by": Maybe(Str(max_len=1000)),
                "partition": Maybe(Str(max_len=1000))}, extra=True)
    out = {}
    for i, r in enumerate(plan.data["rpo"]):
        try:
            check(r, spec, f"{where}: rpo[{i}]")
        except SchemaError as e:
            raise PlanError(str(e)) from None
        out[r["table"]] = r
    return out


def drill_report(plan_dir) -> dict:
    """Everything a report shows about a plan and how it ran: the steps with their attempts and times
    (for a timeline), per table what reached the secondary and what an outage would lose, the manual
    steps, blockers and warnings. Read through :func:`load_plan`/:func:`load_state` (a
    :class:`PlanError` when they cannot be trusted); every free text is masked (usqlrw.secrets)."""
    from ..secrets import mask
    d = _plan_dir(plan_dir)
    plan = load_plan(d)
    state = load_state(d, plan)
    rows = status_rows(plan, state)
    moves, rpo = _moves(plan, str(d / "plan.json")), _rpo(plan, str(d / "plan.json"))
    by_id = {st["id"]: st for st in plan.steps}

    steps, times = [], []
    for r in rows:
        st = by_id[r["id"]]
        attempts = []
        for h in r["history"]:
            attempts.append({"attempt": h["attempt"], "job_id": h["job_id"], "result": h.get("result"),
                             "started": h.get("started"), "ended": h.get("ended"), "seconds": h.get("seconds")})
        if r["job_id"] and r["job_id"] not in {a["job_id"] for a in attempts}:   # under way, or cut short
            attempts.append({"attempt": r["attempts"], "job_id": r["job_id"], "result": r["result"],
                             "started": r["started"], "ended": r["ended"], "seconds": r["seconds"],
                             "state": r["state"]})
        for a in attempts:
            a["start"], a["end"] = _when(a["started"]), _when(a["ended"])
            times += [t for t in (a["start"], a["end"]) if t is not None]
        link = r["link"] if isinstance(r["link"], str) and _LINK.fullmatch(r["link"]) else None
        steps.append({"id": r["id"], "order": r["order"], "kind": r["kind"], "account": r["account"],
                      "source": mask(r["source"]), "script": st["script"], "purpose": mask(st["purpose"]),
                      "needs": list(r["needs"]), "state": r["state"], "attempts": r["attempts"],
                      "job_id": r["job_id"], "result": r["result"], "seconds": r["seconds"],
                      "error": mask(r["error"]) if r["error"] else None, "link": link,
                      "started": r["started"], "ended": r["ended"],
                      "parameters": [f"@{p['name']} = {mask(p['value'])}" for p in st["parameters"]],
                      "history": attempts})
    t0 = min(times) if times else None
    t1 = max(times) if times else None
    for s in steps:
        for a in s["history"]:
            start, end = a.pop("start"), a.pop("end")
            a["offset"] = (start - t0).total_seconds() if start and t0 else None
            a["length"] = ((end - start).total_seconds() if start and end else
                           (t1 - start).total_seconds() if start and t1 else None)
            a["open"] = start is not None and end is None
        # the step as a whole: from its first job's submission to its last job's end, the jobs' time summed
        starts = [a["started"] for a in s["history"] if _when(a["started"])]
        if starts:
            s["started"] = min(starts, key=_when)
        lengths = [a["length"] for a in s["history"] if a["length"] is not None]
        s["took"] = round(sum(lengths), 3) if lengths else s["seconds"]

    tables: dict = {}
    for s in steps:
        for table, part in moves.get(s["id"], []):
            t = tables.setdefault(table, {"table": mask(table), "steps": [], "rpo": None})
            t["steps"].append({"id": s["id"], "kind": s["kind"], "state": s["state"], "partition": part,
                               "ended": s["ended"]})
    for table, r in rpo.items():
        t = tables.setdefault(table, {"table": mask(table), "steps": [], "rpo": None})
        t["rpo"] = {k: (mask(v) if isinstance(v, str) else v) for k, v in r.items()
                    if k in ("last_replicated", "by", "partition", "text")}
    for t in tables.values():
        imports = [x for x in t["steps"] if x["kind"] == "import"]
        done = [x for x in imports if x["state"] == "succeeded"]
        created = [x for x in t["steps"] if x["kind"] == "catalog" and x["state"] == "succeeded"]
        if done:
            x = done[-1]
            t["secondary"] = (f"rows imported by {x['id']}" + (f" ({x['partition']})" if x["partition"] else "")
                              + (f", ended {x['ended']}" if x["ended"] else ""))
        elif imports:
            t["secondary"] = f"import {imports[-1]['id']} not done ({imports[-1]['state']})"
        elif created:
            t["secondary"] = f"schema synced by {created[-1]['id']}; no rows moved by this plan"
        else:
            t["secondary"] = "nothing done by this plan yet"
        if t["rpo"] is not None:
            t["loss"] = t["rpo"]["text"]
        elif plan.data["mode"] == "drill":
            t["loss"] = ("not known from a drill's plan: `usqlrw failover plan --primary-down --replication "
                         "BUNDLE` states it from the replication records")
        else:
            t["loss"] = "no replication records in this plan"

    n_ok = sum(s["state"] == "succeeded" for s in steps)
    return {
        "format": REPORT_FORMAT, "plan": str(d), "run_id": plan.run_id, "mode": plan.data["mode"],
        "created": plan.data["created"], "emulator": plan.data["emulator"],
        "primary": plan.data["primary"]["analytics_account"], "secondary": plan.data["secondary"]["analytics_account"],
        # the direction it goes: a failback goes from the secondary back to the primary
        "from": plan.data["secondary" if plan.data["mode"] == "failback" else "primary"]["analytics_account"],
        "to": plan.data["primary" if plan.data["mode"] == "failback" else "secondary"]["analytics_account"],
        "service": mask(state.get("service") or "") or None,
        "complete": n_ok == len(steps) and not plan.blockers, "succeeded_steps": n_ok, "total_steps": len(steps),
        "started": t0.isoformat(timespec="milliseconds") if t0 else None,
        "ended": t1.isoformat(timespec="milliseconds") if t1 else None,
        "seconds": round((t1 - t0).total_seconds(), 3) if t0 and t1 else None,
        "steps": steps, "tables": sorted(tables.values(), key=lambda t: t["table"]),
        "manual": [_manual(m) for m in plan.data["manual"]],
        "blockers": [mask(f"{b.get('path')}:{b.get('line')}:{b.get('column')}: {b.get('message')}")
                     for b in plan.blockers],
        "warnings": [mask(w) for w in plan.data["warnings"]],
    }


def _manual(m) -> dict:
    """A manual step as {"instruction", "why"} (masked)."""
    from ..secrets import mask
    if not isinstance(m, dict):
        return {"instruction": mask(str(m)), "why": None}
    why = m.get("reason")
    if why and m.get("object"):
        why = f"{why} ({m['object']})"
    return {"instruction": mask(str(m.get("instruction", ""))), "why": mask(str(why)) if why else None}


def report_lines(rep: dict) -> list[str]:
    """The report as text: the steps with their times, then the tables."""
    what = {"drill": "Failover drill", "outage": "Failover (primary down)", "failback": "Failback"}[rep["mode"]]
    out = [f"{what} {rep['from']} -> {rep['to']}, run {rep['run_id']}: "
           f"{rep['succeeded_steps']}/{rep['total_steps']} steps succeeded"
           + (f" in {rep['seconds']:.1f}s" if rep["seconds"] is not None else "")
           + ("" if not rep["blockers"] else f"; {len(rep['blockers'])} blocker(s)")]
    rows = [[f"{s['order']}.", s["id"], s["state"], str(s["attempts"]), _clock(s["started"]), _clock(s["ended"]),
             f"{s['took']:.1f}s" if isinstance(s["took"], (int, float)) else "-", s["job_id"] or "-"]
            for s in rep["steps"]]
    out += table(rows, ["#", "step", "state", "attempts", "started", "ended", "took", "job id"])
    for s in rep["steps"]:
        if s["error"] and s["state"] != "succeeded":
            out.append(f"{s['id']}: {s['error']}")
    if rep["tables"]:
        out += ["", "Tables:"]
        for t in rep["tables"]:
            out += [f"  {t['table']}: {t['secondary']}", f"    outage: {t['loss']}"]
    return out


def _clock(text) -> str:
    t = _when(text)
    return t.strftime("%H:%M:%S.%f")[:-3] if t else "-"
