"""usqlrw failover plan | apply | status."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .check import _use_color
from .options import dr_config_option, info, level, verbosity_options

def _fail(msg: str, code: int = 2):
    click.echo(f"error: {msg}", err=True)
    sys.exit(code)


@click.group("failover")
@verbosity_options
def failover():
    """Plan, apply and report a whole failover to the secondary region.

    \b
      usqlrw failover plan -c dr.toml      --out PLAN jobs/   # check and lay out every step
      usqlrw failover apply PLAN                               # run it (resumable, retried, locked)
      usqlrw failover status PLAN                              # where it stands
      usqlrw failover report PLAN --html                       # PLAN/report.html: the timeline, tables, RPO
      usqlrw failover verify PLAN                              # tables and job outputs, both sides
      usqlrw failover drill -c dr.toml     --out DIR jobs/     # all of it rehearsed, ending with verify
    """


@failover.command("plan")
@verbosity_options
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@dr_config_option(required=True)
@click.option("-o", "--out", "out_dir", default="failover-plan", show_default=True, type=click.Path(file_okay=False),
              help="The plan folder to write (plan.json, plan.md and the exact scripts).")
@click.option("--force", is_flag=True, help="Replace the plan already in --out (and its state). Files usqlrw did "
              "not write are never touched.")
@click.option("-p", "--param", "params", multiple=True, metavar="NAME=VALUE",
              help="A value for every step that declares @NAME with DECLARE EXTERNAL, typed by that "
                   "declaration (repeatable). Per job: [jobs.NAME.parameters] in the DR config.")
@click.option("--primary-down", is_flag=True,
              help="Outage mode: a plan that needs nothing from the primary (no step runs there, no "
                   "manual step touches it).")
@click.option("--replication", "records", type=click.Path(file_okay=False, exists=True),
              help="With --primary-down: the replication bundle folder whose submission ledger says what "
                   "the secondary last received (the RPO per table).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def plan_cmd(paths, config_path, out_dir, force, params, primary_down, records, fmt):
    """Check every script and show, in order, what a failover does: catalog objects to create or
    resync on the secondary, replication imports still to run, and the jobs to submit (rewritten,
    with their edit counts, parameters and every warning). Writes the plan to --out.

    Exit status 1 (and the plan is marked blocked) when anything would block the failover: a script
    that does not parse, a database the config does not cover, a type that cannot be replicated, a
    parameter no script declares or whose value does not fit its type. Exit status 2 when --out
    holds a plan (without --force) or anything else.
    """
    from ..config import ConfigError, load_config
    from ..failover import PlanError, make_plan, manual_lines, previous_model, table, write_plan
    try:
        config = load_config(config_path)
    except ConfigError as e:
        raise click.BadParameter(str(e), param_hint="--dr-config") from None
    previous, service = (previous_model(out_dir) if force and (Path(out_dir) / "plan.json").is_file()
                         else (None, None))
    if records and not primary_down:
        raise click.UsageError("--replication goes with --primary-down")
    try:
        plan = make_plan(config, paths, config_path, params=params, previous=previous, previous_service=service,
                         mode="outage" if primary_down else "drill", records=records)
        path = write_plan(plan, out_dir, force=force)
    except PlanError as e:
        _fail(str(e), e.code)
    if fmt == "json":
        click.echo(json.dumps(plan.data, indent=2, sort_keys=True))
    else:
        d = plan.data
        click.echo(f"Failover plan ({d['mode']}): {d['primary']['analytics_account']} -> "
                   f"{d['secondary']['analytics_account']}" + (" (embedded emulator: a drill)" if d["emulator"] else ""))
        if d["catalog"].get("incremental"):
            click.echo("Catalog: only what changed since the plan this one replaces"
                       + (f" (applied to {d['catalog']['base_service']})" if d["catalog"].get("base_service") else ""))
        if d["manual"]:
            click.echo(f"\nBy hand, before `usqlrw failover apply`: {len(d['manual'])}")
            for line in manual_lines(d["manual"]):
                click.echo(f"  {line}")
        rows = []
        for s in d["steps"]:
            what = ""
            if s["kind"] == "job":
                what = f"{s['edits']} edit{'s' if s['edits'] != 1 else ''}"
                if s["warnings"]:
                    what += f", {len(s['warnings'])} warning{'s' if len(s['warnings']) != 1 else ''}"
            elif s.get("moves"):
                what = ", ".join(sorted({m.get("table", "") for m in s["moves"] if m.get("table")}))
            params_text = ", ".join(f"@{p['name']}={p['value']}" for p in s["parameters"])
            needs = ",".join(n.split("-", 1)[0] for n in s["needs"]) or "-"
            rows.append([f"{s['order']}.", s["id"], s["kind"], needs, "; ".join(x for x in (what, params_text) if x)])
        click.echo(f"\nSteps: {len(rows)} on {d['secondary']['analytics_account']}")
        for line in table(rows, ["#", "step", "kind", "after", "what"]):
            click.echo(f"  {line}")
        if d["rpo"]:
            click.echo("\nWhat the secondary has (the primary is down: nothing more can be copied):")
            for r in d["rpo"]:
                click.echo(f"  {r['table']}: {r['text']}")
        for s in d["steps"]:
            for w in s.get("warnings", []):
                click.echo(f"warning: {w}", err=True)
        for w in d["warnings"]:
            if w.startswith("replication:") or w.startswith("[jobs."):
                click.echo(f"warning: {w}", err=True)
        if d["blockers"]:
            click.echo(f"\nBlockers: {len(d['blockers'])}", err=True)
            for b in d["blockers"]:
                click.echo(f"{b['path']}:{b['line']}:{b['column']}: {b['message']}", err=True)
        info(f"\nplan written to {path} (run {d['run_id']}; read it in {Path(path).parent / 'plan.md'})"
                   + (" (blocked)" if d["blockers"] else ""))
    sys.exit(1 if plan.blockers else 0)


@failover.command("apply")
@verbosity_options
@click.argument("plan_dir", type=click.Path(exists=True))
@click.option("--until", help="Stop after this step (its id, as `status` shows it).")
@click.option("--endpoint", envvar="USQLRW_ADLA_ENDPOINT",
              help="Send the jobs to an ADLA emulator at this URL instead of Azure.")
@click.option("--retry-failed/--no-retry", default=True, show_default=True,
              help="Submit again (as a new job) a step whose job ended Failed or Cancelled.")
@click.option("--attempts", type=click.IntRange(1, 20), default=2, show_default=True,
              help="With --retry-failed: at most this many jobs per step in one run.")
@click.option("--max-parallel", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Steps that do not depend on each other run this many at once.")
@dr_config_option(help="The DR config, when it is no longer where the plan says (it must be unchanged).")
@click.option("--allow-changed-sources", is_flag=True,
              help="Run although a source script changed since the plan was made.")
@click.option("--accept-only", is_flag=True,
              help="The embedded emulator accepts the jobs and marks them succeeded without running them "
                   "(a dry rehearsal of the submissions; by default it runs them).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def apply_cmd(plan_dir, until, endpoint, retry_failed, attempts, max_parallel, config_path,
              allow_changed_sources, accept_only, fmt):
    """Carry out a plan, recording each step; run it again after a crash, Ctrl-C or a failed step
    and it resumes, never submitting a step's job twice. A step whose job ended Failed or Cancelled
    is submitted again as a new job (attempts are recorded) unless --no-retry.

    Exit status 0 when every step (up to --until) succeeded, 1 otherwise, 2 when the plan cannot be
    trusted (tampered, stale, another apply holds it), 130 when interrupted.
    """
    from ..failover import PlanError, apply_plan
    from .step_table import StepTable

    total = [0]
    show = fmt == "text" and level() >= 0   # read here: steps may report from worker threads
    live = StepTable([], enabled=False)

    def progress(step, what, detail=""):
        if live.on:        # a terminal: the live table
            live.event(step, what, detail)
        elif show:         # piped: one line per event, for logs
            click.echo(f"[{step['order']:>2}/{total[0]}] {step['id']}: {what} {detail}".rstrip(), err=True)

    from ..failover import load_plan
    try:
        steps = load_plan(plan_dir).steps
        total[0] = len(steps)
        if until is not None and until not in [s["id"] for s in steps]:   # a usage error: exit 2
            raise click.BadParameter(f"no step {until!r} in the plan (`usqlrw failover status` lists them)",
                                     param_hint="--until")
        wanted = steps if until is None else steps[:[s["id"] for s in steps].index(until) + 1]
        live = StepTable(wanted, enabled=show, color=_use_color("auto", sys.stderr))
        with live:
            ok, report = apply_plan(plan_dir, endpoint=endpoint, until=until, progress=progress,
                                    retry_failed=retry_failed, attempts=attempts, max_parallel=max_parallel,
                                    config_path=config_path, allow_changed_sources=allow_changed_sources,
                                    execute=not accept_only)
    except PlanError as e:
        _fail(str(e), e.code)
    except KeyboardInterrupt:
        click.echo(f"interrupted: what was submitted is recorded; `usqlrw failover status {plan_dir}` shows the "
                   "job ids, `usqlrw failover apply` resumes", err=True)
        sys.exit(130)
    if fmt == "json":
        click.echo(json.dumps(report, indent=2, sort_keys=True))
    else:
        ran = [s for s in report["steps"] if s.get("ran")]
        click.echo(f"\n{report['succeeded_steps']}/{report['total_steps']} steps done; this run: "
                   f"{len(ran)} ran, {len(report['steps']) - len(ran)} already done. Endpoint: {report['endpoint']}")
        for s in ran:
            click.echo(f"  {s['id']}: {s['state']} in {s['seconds']}s, job {s['job_id']}"
                       + (f" (attempt {s['attempt']})" if (s.get("attempt") or 1) > 1 else "")
                       + (f"  {s['link']}" if s.get("link") else ""))
            if s.get("error"):
                click.echo(f"    {s['error']}")
    sys.exit(0 if ok else 1)


@failover.command("status")
@verbosity_options
@click.argument("plan_dir", type=click.Path(exists=True))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def status_cmd(plan_dir, fmt):
    """Where a plan stands: each step's state, attempts, job id and result (JSON for runbooks and
    chat-ops).

    Exit status 0 when every step has succeeded, 1 otherwise, 2 when the plan or its state cannot
    be read or trusted."""
    from ..failover import PlanError, load_plan, load_state, status_rows, table
    try:
        plan = load_plan(plan_dir)
        rows = status_rows(plan, load_state(plan_dir, plan))
    except PlanError as e:
        _fail(str(e), e.code)
    done = all(r["state"] == "succeeded" for r in rows)
    if fmt == "json":
        click.echo(json.dumps({"complete": done, "run_id": plan.run_id, "mode": plan.data["mode"],
                               "blockers": plan.blockers, "steps": rows}, indent=2, sort_keys=True))
    else:
        body = [[f"{r['order']}.", r["id"], r["kind"], r["state"], str(r["attempts"]), r["job_id"] or "-",
                 r["result"] or "-"] for r in rows]
        for line in table(body, ["#", "step", "kind", "state", "attempts", "job id", "result"]):
            click.echo(line)
        for r in rows:
            if r["error"] and r["state"] != "succeeded":
                click.echo(f"{r['id']}: {r['error']}")
        click.echo(f"{sum(r['state'] == 'succeeded' for r in rows)}/{len(rows)} steps succeeded"
                   f" (run {plan.run_id})" + ("; blocked" if plan.blockers else ""))
    sys.exit(0 if done and not plan.blockers else 1)


@failover.command("verify")
@verbosity_options
@click.argument("plan_dir", type=click.Path(exists=True))
@click.option("--endpoint", default=None, metavar="URL|emulator",
              help="Where the accounts are (default: the DR config's; `emulator` for a drill's embedded one).")
@click.option("--sample", type=click.IntRange(0, 1000), default=5, show_default=True,
              help="Rows shown of each side's differences.")
@click.option("--tables/--no-tables", default=True, show_default=True, help="Compare the replicated tables.")
@click.option("--outputs/--no-outputs", default=True, show_default=True, help="Compare the files the jobs write.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def verify_cmd(plan_dir, endpoint, sample, tables, outputs, fmt):
    """Compare the primary and the secondary: every replicated table row for row (as multisets), and
    every file the plan's jobs write (on the primary as the source job names it, on the secondary as
    rewritten; in order when the OUTPUT has an ORDER BY, else as multisets of rows).

    One export job per table on each account writes its rows to that account's store; the two
    files are compared. Exit status 0 when everything compared is equal, 1 when a table or output
    differs, is missing or cannot be exported, 2 when the plan cannot be used or the stores cannot
    be read."""
    from ..failover import PlanError
    from ..failover.verify import verify
    try:
        result = verify(plan_dir, endpoint=endpoint, sample=sample, tables=tables, outputs=outputs)
    except PlanError as e:
        _fail(str(e), e.code)
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), indent=2, sort_keys=True))
    else:
        for line in result.lines():
            click.echo(line)
        click.echo(result.summary(), err=True)
    sys.exit(0 if result.equal else 1)


@failover.command("drill")
@verbosity_options
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@dr_config_option(required=True)
@click.option("-o", "--out", "out_dir", default="failover-drill", show_default=True,
              type=click.Path(file_okay=False),
              help="The drill's plan folder (the plan, its state and report, and the embedded emulator's state).")
@click.option("--force", is_flag=True, help="Replace the plan (and the embedded emulator's state) already in --out.")
@click.option("-p", "--param", "params", multiple=True, metavar="NAME=VALUE",
              help="As for `failover plan`: a value for every step that declares @NAME (repeatable).")
@click.option("--endpoint", default=None, metavar="URL|emulator",
              help="Where the accounts are (default: the DR config's; `emulator` for the embedded one).")
@click.option("--run-on-primary", is_flag=True,
              help="Allow the drill to run jobs on a primary account that is not an emulator's.")
@click.option("--max-parallel", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Steps of the failover that do not depend on each other run this many at once.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def drill_cmd(paths, config_path, out_dir, force, params, endpoint, run_on_primary, max_parallel, fmt):
    """Rehearse a failover end to end, with the primary alive, and compare both sides.

    \b
      plan          the failover plan, written to --out
      seed          the embedded emulator's primary stores get the config's options.emulator_data
      primary       production on the primary: the DDL, then each job's DR copy (it stages the
                    rows it inserts for replication)
      sync          the files the jobs read copied to the secondary's stores
      apply         the plan on the secondary: catalog sync, replication imports, rewritten jobs
      primary-jobs  the same jobs, parameters and order on the primary
      verify        every replicated table and every job output compared (`failover verify`)

    It runs jobs on the primary account: against anything but an emulator it refuses unless
    --run-on-primary. `failover status`, `report` and `verify` read its folder afterwards.

    Exit status 0 when every phase succeeded and every table and output is equal, 1 when a phase
    failed (named, with the job's error) or something differs, 2 when it cannot start, 130 when
    interrupted."""
    from ..failover import PlanError
    from ..failover.drill import run_drill
    show = fmt == "text"

    def progress(phase, text):
        if show and (level() >= 0 or phase == "verify") and not text.startswith("failed:"):
            click.echo(f"[{phase}] {text}")   # a failure: the one error line at the end
    try:
        result = run_drill(config_path, paths, out_dir, params=params, endpoint=endpoint, force=force,
                           run_on_primary=run_on_primary, progress=progress, max_parallel=max_parallel)
    except PlanError as e:
        _fail(str(e), e.code)
    except KeyboardInterrupt:
        click.echo(f"interrupted: `usqlrw failover status {out_dir}` shows what the failover submitted", err=True)
        sys.exit(130)
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), indent=2, sort_keys=True))
    for b in result.blockers:
        click.echo(b, err=True)
    if result.ok:
        info(f"drill complete: {result.verification.summary()} (plan folder {out_dir})")
    else:
        click.echo(f"error: the drill failed in its {result.failed_phase} phase: {result.error}", err=True)
    sys.exit(0 if result.ok else 1)


@failover.command("report")
@verbosity_options
@click.argument("plan_dir", type=click.Path(exists=True))
@click.option("--html", "as_html", is_flag=True,
              help="Write the report as one self-contained HTML page (to -o, default PLAN/report.html).")
@click.option("-o", "--out", "out_path", type=click.Path(dir_okay=False, allow_dash=True), metavar="FILE",
              help="With --html: the page to write (- for standard output).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Without --html: the report as text or JSON.")
def report_cmd(plan_dir, as_html, out_path, fmt):
    """What a plan did: every step with its attempts, start, end and duration, job ids and results;
    per table what reached the secondary and what an outage would lose (the RPO of a --primary-down
    plan with --replication); the manual steps, blockers and warnings.

    \b
      usqlrw failover report PLAN                # as text
      usqlrw failover report PLAN --html         # PLAN/report.html: a timeline to look at or attach

    The page needs no network and no JavaScript; its links to the scripts are relative, so the plan
    folder can be archived whole. Secrets are masked. Exit status 0 when the report is written
    (whatever the plan's state: `status` tells), 2 when the plan or its state cannot be read or
    trusted or the page cannot be written.
    """
    from ..failover import PlanError
    from ..failover.history import drill_report, report_lines
    if out_path and not as_html:
        raise click.UsageError("-o/--out goes with --html")
    if as_html and fmt != "text":
        raise click.UsageError("--format is for the report without --html")
    try:
        rep = drill_report(plan_dir)
    except PlanError as e:
        _fail(str(e), e.code)
    if not as_html:
        if fmt == "json":
            click.echo(json.dumps(rep, indent=2, sort_keys=True))
        else:
            for line in report_lines(rep):
                click.echo(line)
        sys.exit(0)
    from ..failover.html import render_html
    from ..files import write_atomic
    from ..failover.folder import _plan_dir
    target = Path(out_path) if out_path and out_path != "-" else _plan_dir(plan_dir) / "report.html"
    page = render_html(rep, target if out_path != "-" else _plan_dir(plan_dir) / "report.html")
    if out_path == "-":
        click.echo(page, nl=False)
        sys.exit(0)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, page.encode("utf-8"))
    except OSError as e:
        _fail(f"{target}: cannot write: {e.strerror or e}")
    info(f"report written to {target} ({rep['succeeded_steps']}/{rep['total_steps']} steps succeeded)")
    sys.exit(0)


@click.command("failback")
@verbosity_options
@dr_config_option(required=True, help="The DR config of the failover (unchanged).")
@click.option("--from", "failover_dir", required=True, type=click.Path(exists=True, file_okay=False),
              help="The failover plan folder that ran.")
@click.option("-o", "--out", "out_dir", default="failback-plan", show_default=True, type=click.Path(file_okay=False),
              help="The failback plan folder to write; run it with `usqlrw failover apply`.")
@click.option("--force", is_flag=True, help="Replace the plan already in --out.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def failback(config_path, failover_dir, out_dir, force, fmt):
    """Plan the way back once the primary returns: the catalog objects on the primary, then what the
    failover's jobs wrote on the secondary (their partitions, with the values they ran with, or whole
    tables) exported there and imported into the primary, then, by hand, the job schedules moved
    back. Apply it with `usqlrw failover apply OUT`.

    Exit status 1 when something blocks the failback, 2 when the failover plan or config cannot be
    used or --out holds something else.
    """
    from ..config import ConfigError, load_config
    from ..failback import make_failback_plan
    from ..failover import PlanError, manual_lines, table, write_plan
    try:
        config = load_config(config_path)
    except ConfigError as e:
        raise click.BadParameter(str(e), param_hint="--dr-config") from None
    try:
        plan = make_failback_plan(config, config_path, failover_dir)
        path = write_plan(plan, out_dir, force=force)
    except PlanError as e:
        _fail(str(e), e.code)
    d = plan.data
    if fmt == "json":
        click.echo(json.dumps(d, indent=2, sort_keys=True))
    else:
        click.echo(f"Failback plan: {d['secondary']['analytics_account']} -> {d['primary']['analytics_account']} "
                   f"(after failover run {d['failover']['run_id']})")
        rows = [[f"{s['order']}.", s["id"], s["kind"], s["account"],
                 ",".join(n.split("-", 1)[0] for n in s["needs"]) or "-"] for s in d["steps"]]
        click.echo(f"\nSteps: {len(rows)}")
        for line in table(rows, ["#", "step", "kind", "account", "after"]):
            click.echo(f"  {line}")
        if d["manual"]:
            click.echo(f"\nBy hand: {len(d['manual'])}")
            for line in manual_lines(d["manual"]):
                click.echo(f"  {line}")
        for b in d["blockers"]:
            click.echo(f"{b['path']}:{b['line']}:{b['column']}: {b['message']}", err=True)
        click.echo(f"\nplan written to {path}; run it with `usqlrw failover apply {Path(path).parent}`"
                   + (" (blocked)" if d["blockers"] else ""), err=True)
    sys.exit(1 if plan.blockers else 0)
