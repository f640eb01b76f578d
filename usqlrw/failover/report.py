"""Reading a plan: numbered manual steps, the plan as Markdown, aligned columns."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .folder import Plan

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

