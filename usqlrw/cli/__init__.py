"""The ``usqlrw`` command: a thin click shell over the Python API.

Each subcommand lives in its own module and is imported only when it runs, so ``usqlrw check``
on one file starts without loading the Azure SDK, Pygments or the rewrite engine.
Exit codes: 0 ok, 1 findings or errors, 2 usage.
"""
from __future__ import annotations

import importlib
import importlib.util

import click

from .options import verbosity_options

# name -> (module, attribute, one-line help). The help is here so `usqlrw --help` imports nothing.
COMMANDS = {
    "check": ("usqlrw.cli.check", "check", "Parse and lint U-SQL scripts; report errors with file:line:col."),
    "ast": ("usqlrw.cli.ast_cmd", "ast_cmd", "Print the typed AST of a script as JSON."),
    "rewrite": ("usqlrw.cli.rewrite", "rewrite", "Rewrite scripts for failover with a DR config."),
    "refs": ("usqlrw.cli.rewrite", "refs", "List every catalog reference and location in scripts."),
    "rules": ("usqlrw.cli.check", "rules", "List the lint rules, or explain one."),
    "replicate": ("usqlrw.cli.replicate", "replicate", "Generate catalog-sync and replication scripts."),
    "submit": ("usqlrw.cli.jobs", "submit", "Submit scripts as jobs to an ADLA account."),
    "dr-copy": ("usqlrw.cli.jobs", "dr_copy", "Copy the primary's recurring jobs for the secondary."),
    "emulator": ("usqlrw.cli.jobs", "emulator", "Run a local ADLA REST emulator."),
    "sync-files": ("usqlrw.cli.sync", "sync_files_cmd", "Copy what the jobs read from the primary's stores to the secondary's."),
    "failover": ("usqlrw.cli.failover", "failover", "Plan, apply and report a whole failover."),
    "failback": ("usqlrw.cli.failover", "failback", "Plan the way back to the primary after a failover."),
    "run": ("usqlrw.cli.run", "run", "Run U-SQL scripts locally on the embedded engine (DuckDB) or Spark."),
    "transpile": ("usqlrw.cli.transpile", "transpile", "Write U-SQL scripts as PySpark programs or Spark SQL."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return [n for n, (mod, _, _) in COMMANDS.items() if importlib.util.find_spec(mod) is not None]

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        global _ran
        _ran = name
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


def parser_core() -> str:
    """Which parser core runs: the compiled one (mypyc extension modules beside the sources, as
    sqlglot[c] ships them) or the pure-Python one, the fallback that always works."""
    spec = importlib.util.find_spec("usqlrw.parser")
    origin = (spec.origin or "") if spec else ""
    return "compiled parser core (mypyc)" if origin.endswith((".so", ".pyd")) else "pure-Python parser core"


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


#: Commands that hold no files, threads or servers once their output is written: the process ends
#: right after flushing it, without the interpreter's teardown (a tenth of a `check` hook's time).
_EXIT_WITHOUT_TEARDOWN = frozenset({"check", "rules", "ast"})
_ran = None


def run():
    """The ``usqlrw`` program: :func:`main`, then, for a command that is done once its output is
    flushed, ``os._exit`` (no module teardown, no garbage collection of everything loaded)."""
    import os
    import sys
    try:
        rc = main()
    except SystemExit as e:
        rc = e.code
    if rc is None:
        rc = 0
    if _ran in _EXIT_WITHOUT_TEARDOWN and isinstance(rc, int):
        import threading
        if threading.active_count() == 1:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            except Exception:   # a closed pipe: let the normal exit report it
                raise SystemExit(rc) from None
            os._exit(rc)
    raise SystemExit(rc)


if __name__ == "__main__":
    run()
