"""The ``usqlrw`` command: a thin click shell over the Python API.

Each subcommand lives in its own module and is imported only when it runs, so ``usqlrw check``
on one file starts without loading the Azure SDK, Pygments or the rewrite engine.
Exit codes: 0 ok, 1 findings or errors, 2 usage.
"""
from __future__ import annotations

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


def parser_core() -> str:
    """Which parser core runs: the compiled one (mypyc extension modules beside the sources, as
    sqlglot[c] ships them) or the pure-Python one, the fallback that always works."""
    import importlib.util
    spec = importlib.util.find_spec("usqlrw.parser")
    origin = (spec.origin or "") if spec else ""
    return "compiled parser core (mypyc)" if origin.endswith((".so", ".pyd")) else "pure-Python parser core"


_LAZY = {"cli", "main", "LazyGroup"}


def __getattr__(name):
    """``cli``, ``main`` and ``LazyGroup`` live in ``usqlrw.cli.group`` (it imports click)."""
    if name in _LAZY:
        from . import group
        return getattr(group, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _ran_command(name: str) -> None:
    global _ran
    _ran = name


#: Commands that hold no files, threads or servers once their output is written: the process ends
#: right after flushing it, without the interpreter's teardown (a tenth of a `check` hook's time).
_EXIT_WITHOUT_TEARDOWN = frozenset({"check", "rules", "ast"})
_ran = None


def run():
    """The ``usqlrw`` program: :func:`main` (or, for the pre-commit hook's command lines, the fast
    path of ``check`` in ``usqlrw.cli.fast``, which does not import click), then, for a command that is done once its output is
    flushed, ``os._exit`` (no module teardown, no garbage collection of everything loaded)."""
    import os
    import sys
    global _ran
    try:
        from .fast import parse
        fast = parse(sys.argv[1:])
        if fast is not None:          # the pre-commit hook's `check FILE...`: no click
            from .fast import run as run_fast
            _ran = "check"
            rc = run_fast(fast)
        else:
            from .group import main
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
