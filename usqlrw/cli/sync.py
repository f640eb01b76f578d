"""usqlrw sync-files: copy what the jobs read from the primary's stores to the secondary's."""
from __future__ import annotations

import json
import sys

import click

from .options import detail, dr_config_option, info, verbosity_options


def _fail(msg: str, code: int = 2):
    click.echo(f"error: {msg}", err=True)
    sys.exit(code)


@click.command("sync-files")
@verbosity_options
@dr_config_option(help="The DR config (TOML): which stores are the primary's and the secondary's. "
                       "With --plan, the plan's own config is used (it must be unchanged).")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--plan", "plan_dir", type=click.Path(exists=True, file_okay=False), metavar="PLAN",
              help="Copy the inputs of a failover plan's jobs (instead of SCRIPTS).")
@click.option("--endpoint", envvar="USQLRW_ADLA_ENDPOINT", metavar="URL|emulator",
              help="Reach the stores of an ADLA emulator at this URL ('emulator': the embedded one) "
                   "instead of Azure (https://STORE.azuredatalakestore.net).")
@click.option("--dry-run", is_flag=True, help="Compare and list what would be copied; write nothing.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def sync_files_cmd(config_path, paths, plan_dir, endpoint, dry_run, fmt):
    """Copy the files the jobs read (EXTRACT inputs, file sets expanded; DEPLOY RESOURCE) from the primary's
    Data Lake Stores to the secondary's, where the rewritten jobs will read them.

    \b
      usqlrw sync-files -c dr.toml jobs/              # the inputs of these scripts
      usqlrw sync-files --plan PLAN --dry-run         # the inputs of a failover plan's jobs

    Incremental: a file the secondary already has is skipped (same length and modification time as
    recorded at its last copy, else same length and SHA-256), a changed one is copied again;
    nothing on the secondary is deleted. Locations computed at run time are listed as skipped.
    Azure credentials: $USQLRW_ADLA_TOKEN, else azure-identity (DefaultAzureCredential).

    Exit status 0 when every file is copied or already there, 1 when one failed (or a script does
    not parse), 2 for usage errors, 130 when interrupted.
    """
    from ..config import ConfigError, load_config
    from ..datalake import StoreError, open_store
    from ..failover import PlanError
    from ..syncfiles import inputs_of_plan, inputs_of_scripts, sync_files

    if plan_dir and paths:
        raise click.UsageError("give SCRIPTS or --plan, not both")
    if not plan_dir and not paths:
        raise click.UsageError("give the SCRIPTS whose inputs to copy, or --plan PLAN")
    if not plan_dir and not config_path:
        raise click.UsageError("-c/--dr-config is required with SCRIPTS")
    errors: list = []
    state_file = None
    try:
        if plan_dir:
            from ..failover.folder import _plan_dir, load_plan, plan_config
            d = _plan_dir(plan_dir)
            plan = load_plan(d)
            config = plan_config(plan, d, config_path)
            inputs = inputs_of_plan(d, config_path)
            state_file = plan.data.get("emulator_state") or str(d / "emulator.sqlite")
        else:
            config = load_config(config_path)
            inputs = inputs_of_scripts(paths, config, errors)
    except ConfigError as e:
        _fail(str(e))
    except PlanError as e:
        _fail(str(e), e.code)
    except OSError as e:
        _fail(f"{e.filename or ''}: {e.strerror or e}", 1)
    for msg in errors:
        click.echo(msg.splitlines()[0], err=True)

    from ..jobs.client import resolve_endpoint
    if endpoint is None and config.emulator:
        endpoint = "emulator"
    try:
        ep = resolve_endpoint(endpoint, state_file=state_file)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--endpoint") from None
    show = fmt == "text"

    def progress(item):
        if not show:
            return
        if item.status in ("copied", "would-copy", "failed") or (item.status == "skipped" and not item.target):
            click.echo(str(item))
        else:
            detail(str(item))
    try:
        stores: dict = {}

        def opener(name):
            if name not in stores:
                stores[name] = open_store(name, ep)
            return stores[name]
        try:
            report = sync_files(inputs, opener, opener, dry_run=dry_run, progress=progress)
        except StoreError as e:
            _fail(str(e), 1)
    except KeyboardInterrupt:
        click.echo("interrupted: files copied so far are complete; run it again to go on", err=True)
        sys.exit(130)
    finally:
        ep.close()
    if fmt == "json":
        out = report.to_json()
        out["errors"] = [m.splitlines()[0] for m in errors]
        click.echo(json.dumps(out, indent=2, sort_keys=True))
    for note in report.notes:
        click.echo(f"note: {note}", err=True)
    info(("dry run: " if dry_run else "") + report.summary()
         + (f"; {len(errors)} script(s) not read" if errors else ""))
    sys.exit(0 if report.ok and not errors else 1)
