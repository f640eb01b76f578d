"""The click group of ``usqlrw`` and :func:`main`; ``usqlrw.cli`` re-exports both.

Kept out of ``usqlrw/cli/__init__.py`` so that the fast path of ``usqlrw check`` (``usqlrw.cli.fast``)
starts without importing click.
"""
from __future__ import annotations

import importlib
import importlib.util

import click

from . import COMMANDS, parser_core
from .options import verbosity_options


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return [n for n, (mod, _, _) in COMMANDS.items() if importlib.util.find_spec(mod) is not None]

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        from . import _ran_command
        _ran_command(name)
        mod, attr, _ = COMMANDS[name]
        try:
            return getattr(importlib.import_module(mod), attr)
        except ModuleNotFoundError as e:
            if e.name == mod:
                return None
            raise

    def format_commands(self, ctx, formatter):
        rows = [(n, COMMANDS[n][2]) for n in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(None, "-V", "--version", package_name="usqlrw",
                      message=f"%(prog)s, version %(version)s ({parser_core()})")
@verbosity_options
def cli():
    """Parse, check and rewrite U-SQL scripts for Azure Data Lake Analytics disaster recovery.

    \b
    Typical uses:
      usqlrw check jobs/                                  pre-commit: syntax, semantic and DR rules
      usqlrw rewrite -c dr.toml --diff jobs/              what a failover changes in the scripts
      usqlrw replicate -c dr.toml -o bundle/ jobs/        catalog sync and replication scripts
      usqlrw submit -c dr.toml --wait jobs/               run the jobs on the secondary
      usqlrw sync-files -c dr.toml jobs/                  copy the files the jobs read to the secondary
      usqlrw failover plan -c dr.toml -o plan/ jobs/      all of it, planned; then `failover apply plan/`
      usqlrw run --store data/ jobs/daily.usql            run a job locally on the embedded engine
      usqlrw transpile --to pyspark -o spark/ jobs/       the same jobs as PySpark programs

    \b
    -c/--dr-config is the DR config in every command; -q/-v work before or after the command.
    Exit status: 0 ok, 1 findings or errors, 2 usage errors, 130 interrupted.
    Environment: USQLRW_CACHE_DIR (parser cache), USQLRW_STATE_DIR (emulator state, ledger),
    USQLRW_ADLA_ENDPOINT (emulator URL), USQLRW_ADLA_TOKEN (bearer token), NO_COLOR.
    `usqlrw COMMAND --help` explains each command.
    """


def main(argv=None):
    """Entry point: click's usage errors exit 2, everything else as the command says."""
    import importlib.util  # noqa: F401  (used by LazyGroup.list_commands)
    try:
        rc = cli.main(args=argv, prog_name="usqlrw", standalone_mode=False)
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.ClickException as e:
        e.show()
        return 2 if isinstance(e, click.UsageError) else 1
    except click.exceptions.Abort as e:
        if isinstance(e.__context__, KeyboardInterrupt):   # click turns Ctrl-C into Abort
            click.echo("Interrupted.", err=True)
            return 130
        click.echo("Aborted.", err=True)
        return 1
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return 130
    return rc or 0
