"""The drill report as one self-contained HTML page: inline CSS, no script, no external asset.

The steps as a timeline (each attempt a bar, placed by its recorded start and end), the steps as a
table (state, attempts, times, job ids, links to the exact script and to the service's job), per
table what reached the secondary and what an outage would lose, then the manual steps, blockers
and warnings. Everything from the plan or its state is escaped; free text was masked by
:func:`usqlrw.failover.history.drill_report`.
"""
from __future__ import annotations

import os
from html import escape
from pathlib import Path
from urllib.parse import quote

_CSS = """
:root { --ok: #1a7f37; --bad: #cf222e; --run: #0969da; --wait: #8c959f; --cut: #bf8700; --line: #d0d7de; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328;
       margin: 0 auto; padding: 24px 32px 48px; max-width: 1200px; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid var(--line);
  padding-bottom: 4px; }
.meta { color: #59636e; margin: 0 0 12px; } code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace;
  font-size: 12.5px; }
.badge { display: inline-block; padding: 2px 10px; border-radius: 12px; color: #fff; font-weight: 600; font-size: 13px; }
.st { display: inline-block; padding: 0 7px; border-radius: 10px; color: #fff; font-size: 12px; font-weight: 600; }
.succeeded { background: var(--ok); } .failed { background: var(--bad); } .running, .submitting { background: var(--run); }
.pending { background: var(--wait); } .interrupted { background: var(--cut); }
.summary { display: flex; gap: 28px; flex-wrap: wrap; margin: 12px 0; }
.summary div b { display: block; font-size: 20px; }
.tl { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; }
.tl-row { display: grid; grid-template-columns: 300px 1fr 70px; align-items: center; gap: 10px; min-height: 24px; }
.tl-label { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.tl-track { position: relative; height: 16px; background: #f6f8fa; border-radius: 3px; }
.seg { position: absolute; top: 2px; height: 12px; border-radius: 3px; min-width: 3px; }
.seg.open { opacity: .6; }
.tl-dur { text-align: right; color: #59636e; font-variant-numeric: tabular-nums; }
.axis { position: relative; height: 18px; color: #59636e; font-size: 11px; }
.axis span { position: absolute; transform: translateX(-50%); white-space: nowrap; }
.axis span:first-child { transform: none; } .axis span:last-child { transform: translateX(-100%); }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: 5px 8px;
  border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.err { color: var(--bad); white-space: pre-wrap; } .muted { color: #59636e; }
details summary { cursor: pointer; color: var(--run); }
ol, ul { padding-left: 22px; } li { margin: 3px 0; }
footer { margin-top: 32px; color: #59636e; font-size: 12px; }
@media print { body { padding: 0; } .tl-row { break-inside: avoid; } }
"""


def _e(value) -> str:
    return escape("" if value is None else str(value), quote=True)


def _secs(value) -> str:
    if not isinstance(value, (int, float)):
        return "-"
    return f"{value:.1f} s" if value < 120 else f"{value / 60:.1f} min"


def _clock(text, date: bool = False) -> str:
    """A recorded time as HH:MM:SS.mmm (the date with ``date``), the whole of it in a tooltip."""
    if not isinstance(text, str):
        return "-"
    shown = text.replace("T", " ")[:23] if date else text.partition("T")[2][:12]
    return f'<time datetime="{_e(text)}" title="{_e(text)}">{_e(shown or text)}</time>'



def _href(target: Path, out_dir: Path) -> str:
    """A link relative to the report's folder (so the plan folder can be moved or archived whole)."""
    rel = os.path.relpath(os.path.abspath(target), os.path.abspath(out_dir))
    return _e(quote(rel.replace(os.sep, "/")))


def _state(state) -> str:
    cls = state if state in ("succeeded", "failed", "running", "submitting", "pending", "interrupted") else "pending"
    return f'<span class="st {cls}">{_e(state)}</span>'


def render_html(rep: dict, out_path) -> str:
    """The page for ``rep`` (:func:`usqlrw.failover.history.drill_report`), to be written at ``out_path``
    (links to the scripts are relative to it)."""
    out_dir = Path(out_path).parent
    plan_dir = Path(rep["plan"])
    mode = {"drill": "Failover drill", "outage": "Failover (primary down)", "failback": "Failback"}.get(
        rep["mode"], "Failover")
    if rep["blockers"]:
        badge = ("failed", "blocked")
    elif rep["complete"]:
        badge = ("succeeded", "complete")
    elif any(s["state"] == "failed" for s in rep["steps"]):
        badge = ("failed", "failed")
    else:
        badge = ("pending", "not finished")
    h = ['<!DOCTYPE html>', '<html lang="en"><head><meta charset="utf-8">',
         '<meta name="viewport" content="width=device-width, initial-scale=1">',
         f'<title>{_e(mode)} {_e(rep["from"])} → {_e(rep["to"])}: report</title>',
         f'<style>{_CSS}</style></head><body>',
         f'<h1>{_e(mode)}: {_e(rep["from"])} → {_e(rep["to"])} '
         f'<span class="badge {badge[0]}" id="outcome">{_e(badge[1])}</span></h1>',
         f'<p class="meta">Run <code>{_e(rep["run_id"])}</code>, planned {_e(rep["created"])}'
         + (f', applied from {_clock(rep["started"], date=True)} to {_clock(rep["ended"], date=True)} UTC'
            if rep["started"] else "")
         + (f'; ran against {_e(rep["service"])}' if rep["service"] else "; not applied yet")
         + ("; its DR config sends jobs only to an emulator (a drill)" if rep["emulator"] else "") + '.</p>',
         '<div class="summary">',
         f'<div><b>{rep["succeeded_steps"]}/{rep["total_steps"]}</b>steps succeeded</div>',
         f'<div><b>{_secs(rep["seconds"])}</b>from the first submission to the last end</div>',
         f'<div><b>{sum(len(s["history"]) for s in rep["steps"])}</b>jobs submitted</div>',
         f'<div><b>{len(rep["tables"])}</b>tables moved or synced</div>',
         '</div>']

    # the timeline
    span = max([a["offset"] + a["length"] for s in rep["steps"] for a in s["history"]
                if a["offset"] is not None and a["length"] is not None] or [0.0])
    h += ['<h2 id="timeline">Timeline</h2>', '<div class="tl">']
    for s in rep["steps"]:
        bars = []
        for a in s["history"]:
            if a["offset"] is None or a["length"] is None or span <= 0:
                continue
            left = 100.0 * a["offset"] / span
            width = max(0.4, 100.0 * a["length"] / span)
            cls = ("succeeded" if a.get("result") == "Succeeded" else
                   (a.get("state") or "failed") if a.get("result") is None else "failed")
            title = (f"attempt {a['attempt']}, job {a['job_id']}: {a.get('result') or a.get('state') or '?'}"
                     f", {_secs(a['length'])}")
            bars.append(f'<span class="seg {_e(cls)}{" open" if a["open"] else ""}" '
                        f'style="left:{left:.3f}%;width:{min(width, 100.0 - left):.3f}%" title="{_e(title)}"></span>')
        took = s["took"]
        h.append(f'<div class="tl-row" id="tl-{_e(s["id"])}"><div class="tl-label mono">'
                 f'<a href="#step-{_e(s["id"])}">{_e(s["id"])}</a></div>'
                 f'<div class="tl-track">{"".join(bars)}</div>'
                 f'<div class="tl-dur">{_secs(took) if bars else _e(s["state"])}</div></div>')
    if span > 0:
        ticks = "".join(f'<span style="left:{100.0 * i / 4:.1f}%">{_secs(span * i / 4)}</span>' for i in range(5))
        h.append(f'<div class="tl-row"><div></div><div class="axis">{ticks}</div><div></div></div>')
    else:
        h.append('<p class="muted">No times recorded yet: the plan has not been applied (or was applied by an '
                 'older usqlrw).</p>')
    h.append('</div>')

    # the steps
    h += ['<h2 id="steps">Steps</h2>', '<table><thead><tr><th>#</th><th>step</th><th>kind</th><th>state</th>'
          '<th>attempts</th><th>started</th><th>ended</th><th>took</th><th>job</th><th>result</th></tr></thead><tbody>']
    for s in rep["steps"]:
        script = _href(plan_dir / s["script"], out_dir)
        needs = ", ".join(n.split("-", 1)[0] for n in s["needs"])
        result = _e(s["result"] or "-")
        if s["link"]:
            result = f'<a href="{_e(s["link"])}">{result}</a>'
        extra = []
        if s["parameters"]:
            extra.append("parameters: " + _e(", ".join(s["parameters"])))
        if needs:
            extra.append(f"after {_e(needs)}")
        extra.append(f"from <code>{_e(s['source'])}</code>")
        detail = ""
        if len(s["history"]) > 1 or s["error"]:
            items = "".join(f'<li>attempt {_e(a["attempt"])}: job <code>{_e(a["job_id"])}</code>, '
                            f'{_e(a.get("result") or a.get("state") or "?")}, {_secs(a["length"])}</li>'
                            for a in s["history"])
            detail = (f'<details><summary>attempts</summary><ul>{items}</ul></details>' if items else "")
            if s["error"]:
                detail += f'<div class="err">{_e(s["error"])}</div>'
        h.append(f'<tr id="step-{_e(s["id"])}"><td class="num">{_e(s["order"])}</td>'
                 f'<td><a class="mono" href="{script}">{_e(s["id"])}</a>'
                 f'<div class="muted">{"; ".join(extra)}</div>{detail}</td>'
                 f'<td>{_e(s["kind"])}</td><td>{_state(s["state"])}</td><td class="num">{_e(s["attempts"])}</td>'
                 f'<td class="mono">{_clock(s["started"])}</td><td class="mono">{_clock(s["ended"])}</td>'
                 f'<td class="num">{_secs(s["took"])}</td><td class="mono">{_e(s["job_id"] or "-")}</td>'
                 f'<td>{result}</td></tr>')
    h.append('</tbody></table>')

    # the tables
    h.append('<h2 id="tables">Tables: what the secondary has, and what an outage would lose</h2>')
    if rep["tables"]:
        h.append('<table><thead><tr><th>table</th><th>steps</th><th>on the secondary</th>'
                 '<th>last replicated</th><th>an outage loses</th></tr></thead><tbody>')
        for t in rep["tables"]:
            steps = ", ".join(f'<a href="#step-{_e(x["id"])}">{_e(x["id"].split("-", 1)[0])}</a> {_state(x["state"])}'
                              for x in t["steps"]) or "-"
            last = t["rpo"].get("last_replicated") if t["rpo"] else None
            h.append(f'<tr><td class="mono">{_e(t["table"])}</td><td>{steps}</td><td>{_e(t["secondary"])}</td>'
                     f'<td class="mono">{_clock(last, date=True) if last else "-"}</td><td>{_e(t["loss"])}</td></tr>')
        h.append('</tbody></table>')
    else:
        h.append('<p class="muted">No table is synced or moved by this plan.</p>')

    if rep["manual"]:
        h += ['<h2 id="manual">By hand</h2>', '<ol>']
        h += [f'<li>{_e(m["instruction"])}' + (f'<div class="muted">Why: {_e(m["why"])}</div>' if m["why"] else "")
              + '</li>' for m in rep["manual"]]
        h.append('</ol>')
    if rep["blockers"]:
        h += ['<h2 id="blockers">Blockers</h2>', '<ul>'] + [f'<li class="err">{_e(x)}</li>' for x in rep["blockers"]]
        h.append('</ul>')
    if rep["warnings"]:
        h += ['<h2 id="warnings">Warnings</h2>', '<ul>'] + [f'<li>{_e(x)}</li>' for x in rep["warnings"]] + ['</ul>']
    files = " · ".join(f'<a href="{_href(plan_dir / n, out_dir)}">{n}</a>'
                       for n in ("plan.md", "state.json", "ledger.jsonl") if (plan_dir / n).is_file())
    from .. import __version__
    h.append(f'<footer>Written by usqlrw {_e(__version__)} from the plan folder <code>{_e(rep["plan"])}</code>'
             + (f": {files}" if files else "") + '.</footer></body></html>')
    return "\n".join(h) + "\n"
