"""usqlrw failover report: the steps with their times and attempts, the tables and the RPO, as text,
JSON and one self-contained HTML page; read through the checked loaders, escaped and masked.

Drills run against the ADLA emulator through the real SDK over HTTP."""
import json
from datetime import datetime
from html.parser import HTMLParser
from urllib.parse import unquote

import pytest

from usqlrw.failover import apply_plan, load_plan, load_state
from failover_support import DR, PROD, emu, fast, make_plan, project, run  # noqa: F401  (fixtures by name)


class Page(HTMLParser):
    """The tags, ids, links and text of a page."""

    def __init__(self, text):
        super().__init__()
        self.tags, self.ids, self.hrefs, self.srcs, self.text = [], set(), [], [], []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if a.get("id"):
            self.ids.add(a["id"])
        if "href" in a:
            self.hrefs.append(a["href"])
        if "src" in a:
            self.srcs.append(a["src"])

    def handle_data(self, data):
        self.text.append(data)


def _t(text):
    return datetime.fromisoformat(text)


def test_report_of_a_drill_with_a_retried_step(project, emu):
    plan_dir = make_plan(project)
    first = load_plan(plan_dir).steps[0]["id"]
    emu.inject(cancel=True, method="PUT", path=r"/jobs/", times=1)   # the first job is cancelled, then retried
    ok, _ = apply_plan(plan_dir, endpoint=emu.url, poll_interval=0.01, retry=fast(), max_parallel=2)
    assert ok
    state = load_state(plan_dir)["steps"]

    code, out, err = run("failover", "report", "--format", "json", plan_dir)
    assert code == 0, err
    rep = json.loads(out)
    assert rep["complete"] and rep["succeeded_steps"] == rep["total_steps"] == len(state)
    steps = {s["id"]: s for s in rep["steps"]}
    one = steps[first]
    assert one["attempts"] == 2 and [a["result"] for a in one["history"]] == ["Cancelled", "Succeeded"]
    assert [a["job_id"] for a in one["history"]] == [h["job_id"] for h in state[first]["history"]]
    for s in rep["steps"]:   # every job's start and end recorded, in order, each after what it needs
        assert s["job_id"] == state[s["id"]]["job_id"]
        for a in s["history"]:
            assert _t(a["started"]) <= _t(a["ended"]) and a["offset"] >= 0 and a["length"] >= 0
        for n in s["needs"]:
            assert _t(s["history"][0]["started"]) >= _t(steps[n]["ended"])
    assert _t(one["history"][0]["ended"]) <= _t(one["history"][1]["started"])
    assert one["started"] == one["history"][0]["started"] and one["ended"] == one["history"][1]["ended"]
    assert one["took"] == pytest.approx(sum(a["length"] for a in one["history"]), abs=0.002)
    assert rep["started"] == min(a["started"] for s in rep["steps"] for a in s["history"])
    t = {x["table"]: x for x in rep["tables"]}["Telemetry.ingest.DeviceEvents"]
    assert t["secondary"].startswith("rows imported by 03-import-") and "not known from a drill" in t["loss"]

    code, text, err = run("failover", "report", plan_dir)
    assert code == 0 and f"{len(state)}/{len(state)} steps succeeded" in text
    header, row = text.splitlines()[1], next(x for x in text.splitlines() if first in x)
    assert row[header.index("attempts"):].split()[0] == "2"
    assert "Telemetry.ingest.DeviceEvents: rows imported by 03-import-" in text

    code, _, err = run("failover", "report", "--html", plan_dir)
    assert code == 0 and f"report written to {plan_dir / 'report.html'}" in err
    html = (plan_dir / "report.html").read_text()
    page = Page(html)
    # self-contained: no script, no stylesheet or image to fetch, no link leaving the plan folder
    assert "script" not in page.tags and "link" not in page.tags and "img" not in page.tags and not page.srcs
    assert "@import" not in html and "url(" not in html
    assert all(not h.startswith(("http:", "https:", "//", "javascript:")) for h in page.hrefs)
    for s in rep["steps"]:
        assert f"step-{s['id']}" in page.ids and f"tl-{s['id']}" in page.ids
    assert html.count('class="seg failed') == 1 and html.count('class="seg succeeded') == len(state)
    # every link to a file resolves, relative to the page, to the plan's exact script (or plan file)
    files = [unquote(h) for h in page.hrefs if not h.startswith("#")]
    scripts = {s["script"] for s in load_plan(plan_dir).steps}
    assert {f for f in files if f.startswith("scripts/")} == scripts
    for f in files:
        assert (plan_dir / f).is_file()
    for h in (h for h in page.hrefs if h.startswith("#")):
        assert h[1:] in page.ids

    # elsewhere, the links still lead to the plan's files
    code, _, err = run("failover", "report", "--html", "-o", project / "out" / "drill.html", plan_dir)
    assert code == 0, err
    other = Page((project / "out" / "drill.html").read_text())
    for f in (unquote(h) for h in other.hrefs if not h.startswith("#")):
        assert (project / "out" / f).resolve().is_file() and plan_dir.resolve() in (project / "out" / f).resolve().parents
    code, out, _ = run("failover", "report", "--html", "-o", "-", plan_dir)
    assert code == 0 and out.startswith("<!DOCTYPE html>") and f"step-{first}" in out

    # a failback's report goes the other way
    code, _, err = run("failback", "-c", project / "dr.toml", "--from", plan_dir, "-o", project / "back")
    assert code == 0, err
    code, text, _ = run("failover", "report", project / "back")
    assert code == 0 and text.startswith(f"Failback {DR} -> {PROD}, run ")
    code, out, _ = run("failover", "report", "--html", "-o", "-", project / "back")
    assert f"<h1>Failback: {DR} → {PROD} " in out and "No times recorded yet" in out


def test_report_of_an_outage_plan_states_what_is_lost(project, emu):
    bundle = project / "bundle"
    code, _, err = run("replicate", "-c", project / "dr.toml", "-o", bundle, project / "project")
    assert code == 0, err
    code, _, err = run("submit", "--bundle", bundle, "--endpoint", emu.url, "--wait", "--poll-interval", "0.01")
    assert code == 0, err
    plan_dir = make_plan(project, "--primary-down", "--replication", bundle)
    rpo = load_plan(plan_dir).data["rpo"][0]
    code, out, _ = run("failover", "report", "--format", "json", plan_dir)
    t = {x["table"]: x for x in json.loads(out)["tables"]}["Telemetry.ingest.DeviceEvents"]
    assert t["rpo"]["last_replicated"] == rpo["last_replicated"] and t["loss"] == rpo["text"]
    assert "rows the primary took in after that are lost" in t["loss"]
    assert t["secondary"].startswith("import ") and t["secondary"].endswith("not done (pending)")
    code, _, err = run("failover", "report", "--html", plan_dir)
    html = (plan_dir / "report.html").read_text()
    assert code == 0 and "Failover (primary down)" in html and "rows the primary took in after that are lost" in html
    assert f'datetime="{rpo["last_replicated"]}"' in html and "not applied yet" in html
    assert "No times recorded yet" in html


def test_report_escapes_masks_and_keeps_only_web_links(project, emu):
    plan_dir = make_plan(project)
    ok, _ = apply_plan(plan_dir, endpoint=emu.url, poll_interval=0.01, retry=fast())
    assert ok
    first = load_plan(plan_dir).steps[0]["id"]
    st = json.loads((plan_dir / "state.json").read_text())
    secret = "sv=2022-11-02&sig=Zm9vYmFyc2VjcmV0MTIzNDU2"
    st["steps"][first].update(state="failed", link="javascript:alert(1)",
                              error=f'<script>alert("x")</script> https://acct.blob/x?{secret} Password=hunter22;')
    (plan_dir / "state.json").write_text(json.dumps(st))
    for args in (["--format", "json"], [], ["--html", "-o", "-"]):
        code, out, err = run("failover", "report", *args, plan_dir)
        assert code == 0, err
        assert "Zm9vYmFyc2VjcmV0MTIzNDU2" not in out + err and "hunter22" not in out + err
    html = out
    page = Page(html)
    assert "script" not in page.tags and "<script>" not in html and "&lt;script&gt;alert(&quot;x&quot;)" in html
    assert not [h for h in page.hrefs if "javascript" in h]
    assert 'id="outcome">failed<' in html
    st["steps"][first].update(state="succeeded", link="https://contosodr-adla.azuredatalakeanalytics.net/jobs/x")
    (plan_dir / "state.json").write_text(json.dumps(st))
    code, out, _ = run("failover", "report", "--html", "-o", "-", plan_dir)
    assert 'href="https://contosodr-adla.azuredatalakeanalytics.net/jobs/x"' in out


def test_report_refuses_what_it_cannot_trust(project):
    plan_dir = make_plan(project)
    code, out, err = run("failover", "report", plan_dir)                    # not applied: a report all the same
    assert code == 0 and "0/6 steps succeeded" in out
    code, _, err = run("failover", "report", "-o", project / "r.html", plan_dir)
    assert code == 2 and "-o/--out goes with --html" in err
    code, _, err = run("failover", "report", "--html", "--format", "json", plan_dir)
    assert code == 2 and "--format is for the report without --html" in err
    data = json.loads((plan_dir / "plan.json").read_text())
    bad = dict(data, rpo=[{"table": ["Telemetry"], "text": "x"}])
    (plan_dir / "plan.json").write_text(json.dumps(bad))
    code, _, err = run("failover", "report", "--html", plan_dir)
    assert code == 2 and f"{plan_dir / 'plan.json'}: rpo[0]: table: expected a string" in err
    assert len(err.strip().splitlines()) == 1
    steps = [dict(s, moves=[{"table": 5}]) if s["kind"] == "import" else s for s in data["steps"]]
    (plan_dir / "plan.json").write_text(json.dumps(dict(data, steps=steps)))
    code, _, err = run("failover", "report", plan_dir)
    assert code == 2 and ".moves[0]: table: expected a string" in err and "Traceback" not in err
    (plan_dir / "plan.json").write_text(json.dumps(data))
    (plan_dir / "state.json").write_text(json.dumps({"format": "usqlrw-failover-state/2", "run_id": data["run_id"],
                                                     "steps": {data["steps"][0]["id"]: {
                                                         "state": "succeeded", "attempt": 1, "started": "yesterday"}}}))
    code, _, err = run("failover", "report", plan_dir)
    assert code == 2 and "started" in err and "not a time" in err and not (plan_dir / "report.html").exists()
