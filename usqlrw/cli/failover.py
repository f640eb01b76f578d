"""usqlrw failover plan | apply | status."""
from __future__ import annotations

import json
import sys

import click

from .check import _use_color
from .options import dr_config_option, info, verbosity_options


@click.group("failover")
@verbosity_options
def failover():
    """Plan, apply and report a whole failover to the secondary region.

    \b
      usqlrw failover plan -c dr.toml --out PLAN jobs/        # check and lay out every step
      usqlrw failover apply PLAN                               # run it (resumable)
      usqlrw failover status PLAN                              # where it stands
    """


@failover.command("plan")
@verbosity_options
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@dr_config_option(required=True)
@click.option("-o", "--out", "out_dir", default="failover-plan", show_default=True, type=click.Path(file_okay=False),
              help="The plan folder to write (plan.json and the exact scripts).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def plan_cmd(paths, config_path, out_dir, fmt):
    """Check every script and show, in order, what a failover does: catalog objects to create or
    resync on the secondary, replication imports still to run, and the jobs to submit (rewritten,
    with their edit counts and every warning). Writes the plan to --out.

    Exit status 1 (and the plan is marked blocked) when anything would block the failover: a script
    that does not parse, a database the config does not cover, a type that cannot be replicated.
    """
    from ..config import ConfigError, load_config
    from ..failover import make_plan, write_plan
    try:
        config = load_config(config_path)
    except ConfigError as e:
        raise click.BadParameter(str(e), param_hint="--dr-config") from None
    plan = make_plan(config, paths, config_path)
    path = write_plan(plan, out_dir)
    if fmt == "json":
        click.echo(json.dumps(plan.data, indent=2, sort_keys=True))
    else:
        d = plan.data
        click.echo(f"Failover plan: {d['primary']['analytics_account']} -> {d['secondary']['analytics_account']}"
                   + (" (embedded emulator: a drill)" if d["emulator"] else ""))
        by_kind = {"catalog": "Catalog objects to create or resync", "import": "Replication imports to run",
                   "job": "Jobs to submit"}
        for kind, title in by_kind.items():
            steps = [s for s in d["steps"] if s["kind"] == kind]
            click.echo(f"\n{title}: {len(steps)}")
            for s in steps:
                extra = ""
                if kind == "job":
                    extra = f", {s['edits']} edit{'s' if s['edits'] != 1 else ''}"
                    if s["warnings"]:
                        extra += f", {len(s['warnings'])} warning{'s' if len(s['warnings']) != 1 else ''}"
                elif s.get("moves"):
                    tables = sorted({m.get("table", "") for m in s["moves"] if m.get("table")})
                    extra = f" ({', '.join(tables)})" if tables else ""
                click.echo(f"  {s['order']:>2}. {s['id']} on {s['account']}{extra}")
                for w in s.get("warnings", []):
                    click.echo(f"      warning: {w}")
        if d["manual"]:
            click.echo(f"\nBy hand first: {len(d['manual'])}")
            for m in d["manual"]:
                click.echo(f"  - {m if isinstance(m, str) else json.dumps(m, sort_keys=True)}")
        other = [w for w in d["warnings"] if w.startswith("replication:")]
        for w in other:
            click.echo(f"warning: {w}", err=True)
        if d["blockers"]:
            click.echo(f"\nBlockers: {len(d['blockers'])}", err=True)
            for b in d["blockers"]:
                click.echo(f"{b['path']}:{b['line']}:{b['column']}: {b['message']}", err=True)
        info(f"\nplan written to {path}" + (" (blocked)" if d["blockers"] else ""))
    sys.exit(1 if plan.blockers else 0)


@failover.command("apply")
@verbosity_options
@click.argument("plan_dir", type=click.Path(exists=True))
@click.option("--until", help="Stop after this step (its id, as `status` shows it).")
@click.option("--endpoint", envvar="USQLRW_ADLA_ENDPOINT",
              help="Send the jobs to an ADLA emulator at this URL instead of Azure.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def apply_cmd(plan_dir, until, endpoint, fmt):
    """Carry out a plan step by step, recording each step; run it again after a crash or a failed
    step and it resumes at the first unfinished one, never repeating a finished submission.

    Exit status 0 when every step (up to --until) succeeded, 1 otherwise, 2 on usage errors.
    """
    from ..failover import PlanError, apply_plan

    def progress(step, what, detail=""):
        if fmt == "text":
            info(f"[{step['order']:>2}/{total}] {step['id']}: {what} {detail}".rstrip())

    from ..failover import load_plan
    try:
        steps = load_plan(plan_dir).steps
        total = len(steps)
        if until is not None and until not in [s["id"] for s in steps]:   # a usage error: exit 2
            raise click.BadParameter(f"no step {until!r} in the plan (`usqlrw failover status` lists them)",
                                     param_hint="--until")
        ok, report = apply_plan(plan_dir, endpoint=endpoint, until=until, progress=progress)
    except PlanError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(1)
    if fmt == "json":
        click.echo(json.dumps(report, indent=2, sort_keys=True))
    else:
        ran = [s for s in report["steps"] if s.get("ran")]
        click.echo(f"\n{report['succeeded_steps']}/{report['total_steps']} steps done; this run: "
                   f"{len(ran)} ran, {len(report['steps']) - len(ran)} already done. Endpoint: {report['endpoint']}")
        for s in ran:
            click.echo(f"  {s['id']}: {s['state']} in {s['seconds']}s, job {s['job_id']}  {s['link']}")
            if s.get("error"):
                click.echo(f"    {s['error']}")
    sys.exit(0 if ok else 1)


@failover.command("status")
@verbosity_options
@click.argument("plan_dir", type=click.Path(exists=True))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def status_cmd(plan_dir, fmt):
    """Where a plan stands: each step's state, job id and result (JSON for runbooks and chat-ops).

    Exit status 0 when every step has succeeded, 1 otherwise."""
    from ..failover import PlanError, load_plan, load_state, status_rows
    try:
        plan = load_plan(plan_dir)
    except PlanError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(1)
    rows = status_rows(plan, load_state(plan_dir))
    done = all(r["state"] == "succeeded" for r in rows)
    if fmt == "json":
        click.echo(json.dumps({"complete": done, "blockers": plan.blockers, "steps": rows}, indent=2, sort_keys=True))
    else:
        for r in rows:
            click.echo(f"{r['id']:<40} {r['state']:<10} {r['account']:<20} {r['job_id'] or ''}")
        click.echo(f"{sum(r['state'] == 'succeeded' for r in rows)}/{len(rows)} steps succeeded"
                   + ("; blocked" if plan.blockers else ""))
    sys.exit(0 if done and not plan.blockers else 1)
