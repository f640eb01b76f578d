"""``usqlrw transpile --to pyspark|spark-sql [-o DIR] [-p NAME=VALUE]... SCRIPT...``: each U-SQL
script as a PySpark program (``NAME.py``) or a Spark SQL script (``NAME.sql``), written to DIR
(or to standard output for one script without -o), compiled in order against one catalog model
(:class:`usqlrw.engine.transpile.CatalogModel`). What cannot be lowered is a ``TODO(usqlrw)``
in the program and a ``path:line:col: TODO: reason`` line on standard error. Exit status: 0 when
every script was transpiled whole, 1 when one has a TODO or an error, 2 on usage errors."""
from __future__ import annotations

import os
import sys

import click

from .options import info
from .options import verbosity_options
from .run import _params


@click.command("transpile")
@click.argument("scripts", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--to", "to", type=click.Choice(["pyspark", "spark-sql"]), default="pyspark", show_default=True,
              help="pyspark: a runnable program (spark-submit or python); spark-sql: a Spark SQL script.")
@click.option("-o", "--out", "out", type=click.Path(file_okay=False), default=None,
              help="Folder for the programs (NAME.py / NAME.sql); standard output for one script without it.")
@click.option("-p", "--param", "params", multiple=True, metavar="NAME=VALUE",
              help="Set DECLARE EXTERNAL @NAME while writing the program (constants are folded). Repeatable.")
@verbosity_options
def transpile(scripts, to, out, params):
    """Write U-SQL scripts as PySpark programs or Spark SQL scripts (the lowering of `usqlrw run`).

    Comments and names are kept; user C#, UDOs and extensions become clearly marked TODOs quoting
    the U-SQL, listed on standard error (exit 1). The scripts are compiled in the order given
    against one catalog: a script sees the tables, views and routines an earlier one created.
    """
    from ..engine import EngineError
    from ..engine.transpile import CatalogModel
    from ..engine.transpile import transpile as do
    from ..source import decode
    p = _params(params)
    if out is None and len(scripts) > 1:
        raise click.UsageError("several scripts need -o/--out DIR")
    ext = ".py" if to == "pyspark" else ".sql"
    failed = 0
    names: set = set()
    model = CatalogModel()
    for path in scripts:
        try:
            with open(path, "rb") as f:
                text = decode(f.read()).text
            r = do(text, to, path, p, model)
        except OSError as e:
            failed += 1
            click.echo(f"{path}: cannot read the script: {e.strerror}", err=True)
            continue
        except (ValueError, EngineError) as e:
            failed += 1
            msg = str(e.with_path(path)) if isinstance(e, EngineError) else f"{path}: {e}"
            click.echo(msg, err=True)
            continue
        except Exception as e:   # a bug: one line, and the batch goes on
            failed += 1
            click.echo(f"{path}:1:1: internal error of the transpiler ({type(e).__name__}: {e}); please report it",
                       err=True)
            continue
        for t in r.todos:
            click.echo(f"{path}:{t.line}:{t.column}: TODO: {t.message}", err=True)
        if r.todos:
            failed += 1
        if out is None:
            click.echo(r.text, nl=False)
            continue
        stem = os.path.splitext(os.path.basename(path))[0]
        name, i = stem, 1
        while name in names:
            i += 1
            name = f"{stem}_{i}"
        names.add(name)
        try:
            os.makedirs(out, exist_ok=True)
            with open(os.path.join(out, name + ext), "w", encoding="utf-8", newline="\n") as f:
                f.write(r.text)
        except OSError as e:
            failed += 1
            click.echo(f"{os.path.join(out, name + ext)}: cannot write: {e.strerror}", err=True)
            continue
        info(f"{path}: {os.path.join(out, name + ext)}" + (f" ({len(r.todos)} TODO)" if r.todos else ""))
    model.close()
    sys.exit(1 if failed else 0)
