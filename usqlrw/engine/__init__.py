"""Run U-SQL: the typed tree lowered through sqlglot onto an embedded engine (DuckDB).

    >>> from usqlrw.engine import run_text
    >>> # run_text('@r = SELECT * FROM (VALUES (1)) AS T(a); OUTPUT @r TO "/o.csv" USING Outputters.Csv();', store)

Modules: :mod:`~usqlrw.engine.types` (U-SQL types, C# typing), :mod:`~usqlrw.engine.lower`
(queries and expressions to sqlglot), :mod:`~usqlrw.engine.csharp` (the C# member subset),
:mod:`~usqlrw.engine.formats` (extractors, outputters), :mod:`~usqlrw.engine.store` (paths),
:mod:`~usqlrw.engine.catalog`, :mod:`~usqlrw.engine.job` (statements, all or nothing),
:mod:`~usqlrw.engine.duckdb_engine` (the DuckDB runner), :mod:`~usqlrw.engine.runnable`
(what cannot run, found before a job starts).
"""
from __future__ import annotations

import os

from .errors import CannotRun, EngineError, JobFailed

__all__ = ["run_text", "run_file", "runnable", "construct_key", "EngineError", "CannotRun", "JobFailed"]


def run_text(text: str, store: str, params: dict | None = None, path: str | None = None, *,
             engine: str = "duckdb", master: str | None = None) -> None:
    """Run one script as one job against the store folder ``store``. Raises EngineError (with
    path:line:col) when it cannot run or fails; then nothing was written. ``engine``: ``duckdb``
    (embedded, the default) or ``spark`` (PySpark on ``master``, ``local[*]`` by default)."""
    from ..errors import USqlSyntaxError
    from ..parser import parse
    from .duckdb_engine import DuckDBEngine
    from .job import Job
    from .store import Store
    try:
        script = parse(text)
    except USqlSyntaxError as e:
        raise EngineError(e.message, path=path, span=e) from None
    from .runnable import blockers
    found = blockers(script)
    if found:
        raise found[0].with_path(path or "<script>")
    st = Store(store)
    # a job that never touches the catalog runs on an in-memory database: no catalog file opened
    catalog_dir = st.catalog_dir if uses_catalog(script) else None
    if engine == "spark":
        from .spark_engine import SparkEngine
        try:
            engine = SparkEngine(catalog_dir, st.root, master or "local[*]")
        except EngineError as e:
            raise e.with_path(path or "<script>") from None
    elif engine == "duckdb":
        engine = DuckDBEngine(catalog_dir, st.root)
    else:
        raise ValueError(f"unknown engine {engine!r}")
    try:
        Job(script, st, engine, params, path).run()
    except EngineError as e:
        raise e.with_path(path or "<script>") from None
    except OSError as e:
        raise JobFailed(f"the job failed: {e.strerror or e}" + (f": {os.path.relpath(e.filename, st.root)}"
                        if getattr(e, "filename", None) else ""), path=path or "<script>") from None
    finally:
        engine.close()


def uses_catalog(script) -> bool:
    """Whether a script reads or changes the catalog (tables, views, routines, types, USE)."""
    from .. import ast as A
    for n in A.walk(script):
        if isinstance(n, (A.DdlStatement, A.Insert, A.TableRef, A.ProcedureCall, A.UseDatabase, A.UseSchema)):
            return True
        if isinstance(n, A.TvfCall) and n.function is not None and n.function.variable is None:
            return True
    return False


def run_file(path: str, store: str, params: dict | None = None, *, engine: str = "duckdb",
             master: str | None = None) -> None:
    from ..source import decode
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise JobFailed(f"cannot read the script: {e.strerror}", path=path) from None
    try:
        text = decode(data).text
    except ValueError as e:
        raise JobFailed(f"cannot decode the script: {e}", path=path) from None
    run_text(text, store, params, path, engine=engine, master=master)


def runnable(text: str, path: str | None = None) -> list:
    """The blockers (CannotRun, with path) of a script, empty when the engine can run it."""
    from ..errors import USqlSyntaxError
    from ..parser import parse
    from .runnable import blockers
    try:
        script = parse(text)
    except USqlSyntaxError as e:
        return [EngineError(e.message, path=path, span=e)]
    return [b.with_path(path or "<script>") for b in blockers(script)]


def construct_key(err: EngineError) -> str:
    """A short name of what blocks a script (for counting by construct)."""
    import re
    if not isinstance(err, CannotRun):
        return "syntax error"
    m = err.message
    if m.startswith("REFERENCE ASSEMBLY"):
        return "REFERENCE ASSEMBLY: " + ("Python/R/Cognitive extension" if "extension" in m else "user assembly")
    if m.startswith("USING "):
        return "USING " + ("Python/R/Cognitive extension" if "extension" in m else "user-defined operator")
    if m.startswith("the C# member") or m.startswith("the C# method"):
        return "C# member outside the subset"
    if m.startswith("the function"):
        return "user function (C#)"
    return re.sub(r"\s+is not supported.*$", "", err.construct)
