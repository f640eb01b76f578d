"""U-SQL to PySpark (or a Spark SQL script): the lowering of ``usqlrw run`` written out as a
program instead of run.

    >>> from usqlrw.engine.transpile import transpile
    >>> r = transpile('@r = SELECT * FROM (VALUES (1)) AS T(a);\\nOUTPUT @r TO "/o.csv" USING Outputters.Csv();')
    >>> r.todos
    []

Each rowset becomes a temporary view named after its variable, each EXTRACT a call of
:func:`usqlrw.engine.spark_io.read_csv`, each OUTPUT a call of
:func:`~usqlrw.engine.spark_io.write_output` (one file in U-SQL's format). Constants (DECLARE,
file paths, IF conditions) are folded when the program is written, as ADLA folds them at compile
time. The script's comments are kept before the statement they precede. What cannot be lowered
(user C#, UDOs, extensions) becomes a ``TODO(usqlrw)`` comment at its place with the original
U-SQL text: never a silent drop.

The catalog (PySpark only): a program is compiled against a catalog, as ADLA compiles a job
against the account's: :class:`CatalogModel` holds the definitions the scripts transpiled before
made (``usqlrw transpile`` shares one across the scripts of a command, in their order). Views,
table-valued functions and procedures are compiled into the programs that use them; tables are
the warehouse of :mod:`usqlrw.engine.spark_catalog` (``STORE/catalog/spark``, Parquet), which the
program changes (``catalog.create``, ``append``, ``delete``...) in one transaction committed at
its end. File sets are listed when the program runs (:func:`~usqlrw.engine.spark_io.store_files`)."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from .. import ast as A
from .errors import CannotRun, EngineError
from .job import Job
from .rowset import Rowset
from .sqlbuild import col, exp, ident

__all__ = ["transpile", "Transpiled", "Todo", "CatalogModel"]

from .spark_io import TRANSPILE_ROOT as _ROOT      # stands for the program's STORE while lowering


@dataclass
class Todo:
    line: int
    column: int
    message: str


@dataclass
class Transpiled:
    text: str
    todos: list = field(default_factory=list)


class CatalogModel:
    """The catalog programs are compiled against: the catalog's rows (databases, schemas, tables'
    columns and partitions, views, routines, types) in an in-memory DuckDB, without table rows.
    One model serves the scripts of one ``usqlrw transpile`` in order: a later script sees what an
    earlier one created."""

    def __init__(self):
        from .catalog import _META
        from .duckdb_engine import DuckDBEngine
        self.duck = DuckDBEngine(None)
        for stmt in _META.strip().split(";"):
            if stmt.strip():
                self.duck.con.execute(stmt)

    def close(self):
        self.duck.close()


def _compile_catalog():
    from .catalog import Catalog

    class _CompileCatalog(Catalog):
        def ensure(self):
            pass

        def create_table(self, job, s):
            self.e.next_table = ([c.name for c in s.partitioned_by.columns] if s.partitioned_by else [],
                                 bool(s.if_not_exists))
            super().create_table(job, s)
    return _CompileCatalog


class _Recorder:
    """The engine the lowering talks to while a program is written: constants are evaluated on
    an in-memory DuckDB (which also holds the catalog model); queries are generated as Spark SQL;
    readers, table reads and table changes become program lines."""
    dialect = "spark"
    persistent = True

    def __init__(self, out, model: CatalogModel):
        self.duck = model.duck
        self.con = self.duck.con
        self.catalog_class = _compile_catalog()
        self.out = out
        self.root = _ROOT
        self._n = 0
        self.next_table = ([], False)

    def sql(self, expr, pretty=True) -> str:
        from .spark_catalog import _db_schema_name
        from .spark_engine import spark_twin
        if isinstance(expr, str):
            return expr
        if isinstance(expr, exp.Table):
            return expr.sql(dialect="spark")

        def fix(node):
            if isinstance(node, exp.Table):
                key = _db_schema_name(node)
                if key is not None:
                    view = exp.Table(this=ident(self.out.table(*key, node)))
                    if node.alias:
                        view.set("alias", node.args["alias"])
                    return view
            if isinstance(node, exp.Anonymous) and node.name.lower() == "read_csv":
                return exp.Table(this=ident(self.out.reader(node)))
            twin = spark_twin(node, fix)
            if twin is not None:
                return twin
            return node
        return expr.copy().transform(fix, copy=False).sql(dialect="spark", pretty=pretty)

    def scalar(self, expr, node=None):
        return self.duck.scalar(expr, node)

    def execute(self, expr, node=None, params=None):
        """A change of the catalog (from :class:`~usqlrw.engine.catalog.Catalog`): a program line."""
        import sqlglot

        from .spark_catalog import _db_schema_name, _default_sql, spark_type
        if isinstance(expr, str):
            expr = sqlglot.parse_one(expr, dialect="spark")
        kind = expr.args.get("kind")
        if isinstance(expr, exp.Create) and kind == "SCHEMA":
            return None
        if self.out.to != "pyspark":
            raise CannotRun("the catalog is transpiled --to pyspark only", node)
        line = None
        if isinstance(expr, exp.Drop) and kind == "SCHEMA":
            t = (expr.args.get("tables") or [expr.this])[0]
            line = f"catalog.drop_schema({(t.args.get('db') or t.this).name!r})"
        elif isinstance(expr, exp.Drop) and kind == "TABLE":
            key = _db_schema_name((expr.args.get("tables") or [expr.this])[0])
            line = f"catalog.drop({key[0]!r}, {key[1]!r})"
        elif isinstance(expr, exp.Create) and kind == "TABLE" and isinstance(expr.this, exp.Schema):
            key = _db_schema_name(expr.this.this)
            cols = [(cd.name, spark_type(cd.args["kind"])) for cd in expr.this.expressions]
            part, if_not_exists = self.next_table
            line = (f"catalog.create({key[0]!r}, {key[1]!r}, {cols!r},\n"
                    f"               partition={part!r}, if_not_exists={if_not_exists!r})")
        elif isinstance(expr, exp.Insert):
            key = _db_schema_name(expr.this)
            line = f"catalog.append({key[0]!r}, {key[1]!r}, spark.sql({_pystr(self.sql(expr.expression))}))"
        elif isinstance(expr, exp.Delete):
            key = _db_schema_name(expr.this)
            where = expr.args.get("where")
            cond = f", {self.sql(where.this, pretty=False)!r}" if where is not None else ""
            line = f"catalog.delete({key[0]!r}, {key[1]!r}{cond})"
        elif isinstance(expr, exp.Alter) and len(expr.args.get("actions") or []) == 1:
            key = _db_schema_name(expr.this)
            act = expr.args["actions"][0]
            if isinstance(act, exp.ColumnDef):
                line = (f"catalog.add_column({key[0]!r}, {key[1]!r}, {act.name!r}, {spark_type(act.args['kind'])!r}, "
                        f"{_default_sql(self, act)!r})")
            elif isinstance(act, exp.Drop):
                line = f"catalog.drop_column({key[0]!r}, {key[1]!r}, {act.args['tables'][0].name!r})"
        if line is None:
            raise CannotRun("this statement is not transpiled yet", node)
        self.out.lines.append(line)
        self.out.uses_catalog = True
        return None

    def begin(self):
        pass

    commit = rollback = begin

    def close(self):
        pass


def _store_path(path: str) -> str:
    rel = os.path.relpath(path, _ROOT).replace(os.sep, "/")
    return rel


def _pystr(s: str) -> str:
    """A Python literal for SQL text: a raw triple-quoted block where it can be one."""
    if '"""' not in s and not s.endswith("\\") and "\r" not in s:
        return 'r"""\n' + s + '\n"""'
    return repr(s)


class _Program:
    def __init__(self, to: str):
        self.to = to
        self.lines: list = []
        self._views: set = set()
        self._n = 0
        self.uses_catalog = False

    def table(self, db_schema: str, name: str, node=None) -> str:
        """A view of a catalog table's rows as they are at this point of the program."""
        if self.to != "pyspark":
            raise CannotRun("the catalog is transpiled --to pyspark only", node)
        view = self.view(f"{db_schema}_{name}")
        self.lines.append(f"catalog.frame({db_schema!r}, {name!r}).createOrReplaceTempView({view!r})")
        self.uses_catalog = True
        return view

    def view(self, hint: str) -> str:
        name = re.sub(r"\W", "_", hint.lstrip("@")) or "v"
        base, i = name, 1
        while name in self._views:
            i += 1
            name = f"{base}_{i}"
        self._views.add(name)
        return name

    def reader(self, call) -> str:
        from .spark_engine import read_csv_args
        files, names, kv = read_csv_args(call)
        kv = {k: v for k, v in kv.items() if k not in ("auto_detect", "header", "strict_mode", "null_padding")}
        self._n += 1
        name = self.view(f"_extract{self._n}")
        paths = [_store_path(f) for f in files]
        if self.to == "pyspark":
            if kv.get("filename"):
                kv["store"] = "STORE"
            args = ", ".join(f"{k}={v!r}" if k != "store" else "store=STORE" for k, v in sorted(kv.items()))
            if any("*" in p for p in paths):
                where = f"store_files(STORE, {', '.join(repr(p) for p in paths)})"
            else:
                where = f"[{', '.join(f'os.path.join(STORE, {p!r})' for p in paths)}]"
            self.lines.append(f"read_csv(spark, {where}, {names!r}, {args}).createOrReplaceTempView({name!r})")
        else:
            if any("*" in p for p in paths):
                raise CannotRun("a file set ({...} or {*} in the path) is transpiled --to pyspark only")
            opts = {"sep": kv.get("delim", ","), "header": "false", "quote": kv.get("quote", '"') or "\u0000",
                    "escape": kv.get("escape") or "\\", "nullValue": kv.get("nullstr", ""),
                    "mode": "DROPMALFORMED" if kv.get("ignore_errors") else "FAILFAST",
                    "path": ",".join("${STORE}/" + p for p in paths)}
            if kv.get("skip"):
                self.lines.append(f"-- TODO(usqlrw): skip the first {kv['skip']} line(s) of each file "
                                  "(Spark's CSV reader has no skip; the PySpark form does it)")
            cols = ", ".join(f"`{n}` STRING" for n, _ in names)
            o = ", ".join(f"{k} '{v}'" for k, v in opts.items())
            self.lines.append(f"CREATE OR REPLACE TEMPORARY VIEW `{name}` ({cols}) USING csv OPTIONS ({o});")
        return name


class _TranspileJob(Job):
    """The run's Job, with statements written out instead of executed."""

    def __init__(self, script, prog, params=None, path=None, model=None):
        from .store import Store
        if not isinstance(prog, _Program):      # a routine's body: type(job)(script, store, engine, ...)
            store, engine = prog, params
            self.prog = engine.out
            super().__init__(script, store, engine, {}, path)
            return
        self.prog = prog
        engine = _Recorder(prog, model)
        super().__init__(script, Store(_ROOT), engine, params, path)

    def input_files(self, globs, node, patterns=None) -> list:
        self.files_at_run_time = any("*" in g for g in globs)
        for f in globs:
            self.readers.setdefault(f, node)
        return list(globs)

    def s_RowsetAssignment(self, s: A.RowsetAssignment):
        if len(s.targets) != 1:
            raise CannotRun("a statement assigning several rowsets is not transpiled", s)
        rs = self.lw.query(s.query)
        name = self.prog.view(s.targets[0].name)
        sql = self.engine.sql(rs.expr)
        if self.prog.to == "pyspark":
            self.prog.lines.append(f"spark.sql({_pystr(sql)}).createOrReplaceTempView({name!r})")
        else:
            self.prog.lines.append(f"CREATE OR REPLACE TEMPORARY VIEW `{name}` AS\n{sql};")
        self.rowsets[s.targets[0].name] = Rowset(
            exp.select(*[col(c) for c, _ in rs.columns]).from_(exp.Table(this=ident(name))), rs.columns)

    def s_Output(self, s: A.Output):
        from dataclasses import asdict

        from .formats import output_options
        opts = output_options(s.using)
        rs = self.source_rowset(s.rowset)
        if s.order_by is not None or s.offset_fetch is not None:
            rs = self.lw.order_fetch(rs, s.order_by, s.offset_fetch)
        target = _store_path(self.location(s.target))
        for c, t in rs.columns:
            if t.name in ("array", "map", "byte[]", "TimeSpan", "kvp"):
                raise EngineError(f"the built-in outputters cannot write column {c} of type {t}", s)
        sql = self.engine.sql(rs.expr)
        if self.prog.to == "pyspark":
            cols = [(c, t.name) for c, t in rs.columns]
            self.prog.lines.append(f"write_output(spark.sql({_pystr(sql)}),\n             "
                                   f"os.path.join(STORE, {target!r}), {cols!r},\n             "
                                   f"**{asdict(opts)!r})")
        else:
            self.prog.lines.append(
                f"-- U-SQL wrote one file {target}; Spark writes a folder of part files there: merge them\n"
                f"-- (or use the PySpark form, whose write_output writes U-SQL's format exactly).\n"
                f"INSERT OVERWRITE DIRECTORY '${{STORE}}/{target}' USING csv\n"
                f"OPTIONS (sep '{opts.delimiter}', header '{str(opts.header).lower()}', "
                f"quoteAll '{str(opts.quoting).lower()}')\n{sql};")

    def _compiled(self, s, why="compiled into the programs that use it"):
        """A view, routine or type (or a partition): kept in the catalog model the programs are
        compiled against, nothing to do when this one runs."""
        mark = len(self.prog.lines)
        getattr(Job, "s_" + type(s).__name__)(self, s)
        del self.prog.lines[mark:]
        c = "#" if self.prog.to == "pyspark" else "--"
        src = self.script.source.text if self.script.source is not None else ""
        first = src[s.span.start:s.span.end].splitlines()[0].strip() if src else s.kind
        self.prog.lines.append(f"{c} {first}: {why}")

    s_CreateView = s_CreateFunction = s_CreateProcedure = s_CreateType = _compiled

    def s_AlterTableAddPartition(self, s):
        self._compiled(s, "the partitions are checked when the programs that insert are written")


def _comments(text: str) -> list:
    """The comments of a stretch of U-SQL between statements, line by line."""
    out = []
    for m in re.finditer(r"//[^\n]*|/\*.*?\*/", text, re.S):
        for line in m.group(0).splitlines():
            line = line.strip()
            line = re.sub(r"^(//|/\*+|\*+/?)\s?", "", line)
            line = re.sub(r"\s*\*/$", "", line)
            out.append(line)
    return out


def _header(to: str, source: str) -> list:
    from .. import __version__
    c = "#" if to == "pyspark" else "--"
    head = [f"{c} Generated by usqlrw {__version__} (usqlrw transpile --to {to}) from {source}.",
            f"{c} TODO(usqlrw) marks what could not be lowered; the U-SQL it stands for is quoted there."]
    if to == "pyspark":
        return ["#!/usr/bin/env python3"] + head + [
            "# Run: spark-submit PROGRAM.py [STORE]  or  python PROGRAM.py [STORE]",
            "# STORE: the folder that stands for the job's default Data Lake Store (default: the current one).",
            "# Needs pyspark, and usqlrw for U-SQL's file formats and the catalog's tables (spark_io, spark_catalog).",
            "import os",
            "import sys",
            "",
            "from pyspark.sql import SparkSession",
            "",
            "from usqlrw.engine.spark_catalog import open_catalog",
            "from usqlrw.engine.spark_io import read_csv, store_files, write_output",
            "",
            "",
            "def main(spark, STORE):",
            ""]
    return head + ["-- Run: spark-sql -d STORE=/path/to/store -f SCRIPT.sql", "SET spark.sql.session.timeZone=UTC;",
                   "SET spark.sql.timestampType=TIMESTAMP_NTZ;", ""]


def transpile(text: str, to: str = "pyspark", path: str | None = None, params: dict | None = None,
              catalog: CatalogModel | None = None) -> Transpiled:
    """The program for one U-SQL script, compiled against ``catalog`` (a new, empty one by
    default: then only the script's own catalog objects are known). Raises EngineError on a
    syntax error."""
    from ..errors import USqlSyntaxError
    from ..parser import parse
    if to not in ("pyspark", "spark-sql"):
        raise ValueError(f"unknown target {to!r}")
    try:
        script = parse(text)
    except USqlSyntaxError as e:
        raise EngineError(e.message, path=path, span=e) from None
    prog = _Program(to)
    model = catalog if catalog is not None else CatalogModel()
    job = _TranspileJob(script, prog, params, path, model)
    c = "#" if to == "pyspark" else "--"
    todos: list = []
    prog.lines.extend(_header(to, path or "<script>"))
    pos = 0
    try:
        for s in script.statements:
            comments = _comments(text[pos:s.span.start])
            pos = s.span.end
            if comments:
                prog.lines.append("")
                prog.lines.extend(f"{c} {x}".rstrip() for x in comments)
            elif prog.lines and prog.lines[-1] != "":
                prog.lines.append("")
            mark = len(prog.lines)
            try:
                job.statements([s])
            except EngineError as e:
                if e.span is None:
                    e.span = s.span
                del prog.lines[mark:]
                todos.append(Todo(e.line, e.column, e.message))
                prog.lines.append(f"{c} TODO(usqlrw): {e.message} ({path or '<script>'}:{e.line}:{e.column})")
                prog.lines.extend(f"{c}   | {line}".rstrip() for line in s.span.text(text).splitlines())
        tail = _comments(text[pos:])
        if tail:
            prog.lines.append("")
            prog.lines.extend(f"{c} {x}".rstrip() for x in tail)
    finally:
        if catalog is None:
            model.close()
    if to == "pyspark":
        head = len(_header(to, path or "<script>"))
        body = prog.lines[head:]
        while body and body[0] == "":
            del body[0]
        if not any(x.strip() and not x.lstrip().startswith("#") for x in body):
            body.append("pass")
        if prog.uses_catalog:       # the catalog's changes: all or nothing
            body = (["catalog = open_catalog(spark, STORE)", "try:"] + [("    " + x) if x else "" for x in body] +
                    ["except BaseException:", "    catalog.rollback()", "    raise", "catalog.commit()"])
        prog.lines[head:] = [("    " + x) if x else "" for x in body]
        prog.lines += [
            "", "",
            'if __name__ == "__main__":',
            "    session = (SparkSession.builder.appName(" + repr(os.path.basename(path or "script")) + ")",
            '               .config("spark.sql.session.timeZone", "UTC")',
            '               .config("spark.sql.timestampType", "TIMESTAMP_NTZ")',
            '               .config("spark.sql.ansi.enabled", "true")',
            '               .config("spark.ui.showConsoleProgress", "false")',
            "               .getOrCreate())",
            "    try:",
            '        main(session, os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "."))',
            "    finally:",
            "        session.stop()"]
    return Transpiled("\n".join(prog.lines) + "\n", todos)
