"""``usqlrw run [--store DIR] [-p NAME=VALUE]... [--engine duckdb|spark [--master URL]] SCRIPT...``:
run U-SQL scripts on the embedded engine (or on Apache Spark), each as one job, in order. Exit status: 0 when every job succeeded, 1 when one failed or
cannot run (path:line:col and the reason), 2 on usage errors."""
from __future__ import annotations

import os
import sys

import click

from .options import info, verbosity_options


def _params(values) -> dict:
    out = {}
    for v in values:
        name, sep, value = v.partition("=")
        name = name.strip().lstrip("@")
        if not sep or not name:
            raise click.UsageError(f"-p {v!r}: expected NAME=VALUE")
        out[name] = value
    return out


@click.command("run")
@click.argument("scripts", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--store", default=".", show_default=True, type=click.Path(file_okay=False),
              help="The job's default Data Lake Store: /in/x.csv is STORE/in/x.csv; the catalog lives in "
                   "STORE/catalog; adl://ACCOUNT... and wasb[s]://CONTAINER@ACCOUNT... are STORE/accounts/ACCOUNT/.")
@click.option("-p", "--param", "params", multiple=True, metavar="NAME=VALUE",
              help="Set DECLARE EXTERNAL @NAME (typed by its declaration). Repeatable.")
@click.option("--engine", type=click.Choice(["duckdb", "spark"]), default="duckdb", show_default=True,
              help="duckdb: embedded, in-process. spark: the same lowering as Spark SQL on PySpark "
                   "(pip install 'usqlrw[spark]'; Java 17).")
@click.option("--master", default=None, metavar="URL",
              help="With --engine spark: the Spark master (default local[*]; spark://host:7077, yarn, ...).")
@verbosity_options
def run(scripts, store, params, engine, master):
    """Run U-SQL scripts locally, each as one job, in order (embedded DuckDB engine, or Spark).

    A job that fails leaves no output file and no catalog change. What the engine cannot run
    (user code, extensions, C# members outside the subset) fails before the job starts.
    """
    from ..engine import EngineError, run_file
    p = _params(params)
    if master is not None and engine != "spark":
        raise click.UsageError("--master needs --engine spark")
    if engine == "spark":
        from ..engine.spark_engine import available
        if not available():
            raise click.UsageError("--engine spark needs PySpark: pip install 'usqlrw[spark]'")
    if not os.path.isdir(store):
        raise click.UsageError(f"--store {store}: no such folder")
    failed = 0
    for path in scripts:
        try:
            run_file(path, store, p, engine=engine, master=master)
        except EngineError as e:
            failed += 1
            click.echo(str(e.with_path(path)), err=True)
            continue
        except Exception as e:   # a bug of the engine: one line, and the batch goes on
            failed += 1
            click.echo(f"{path}:1:1: internal error of the engine ({type(e).__name__}: {e}); please report it",
                       err=True)
            continue
        info(f"{path}: ok")
    sys.exit(1 if failed else 0)
