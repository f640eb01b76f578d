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
(user C#, UDOs, extensions, the catalog for now) becomes a ``TODO(usqlrw)`` comment at its place
with the original U-SQL text: never a silent drop."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from .. import ast as A
from .errors import CannotRun, EngineError
from .job import Job
from .rowset import Rowset
from .sqlbuild import col, exp, ident

__all__ = ["transpile", "Transpiled", "Todo"]

_ROOT = os.path.abspath(os.sep + "usqlrw-store")     # stands for the program's STORE while lowering


@dataclass
class Todo:
    line: int
    column: int
    message: str


@dataclass
class Transpiled:
    text: str
    todos: list = field(default_factory=list)


class _Recorder:
    """The engine the lowering talks to while a program is written: constants are evaluated on
    an in-memory DuckDB; queries are generated as Spark SQL; readers become program lines."""
    dialect = "spark"
    persistent = False

    def __init__(self, out):
        from .duckdb_engine import DuckDBEngine
        self.duck = DuckDBEngine(None)
        self.out = out
        self.root = _ROOT
        self._n = 0

    def sql(self, expr, pretty=True) -> str:
        from .spark_engine import _TWINS

        def fix(node):
            if isinstance(node, exp.Anonymous):
                name = node.name.lower()
                if name == "read_csv":
                    return exp.Table(this=ident(self.out.reader(node)))
                twin = _TWINS.get(name)
                if twin is not None:
                    return twin(*node.expressions)
            return node
        return expr.copy().transform(fix, copy=False).sql(dialect="spark", pretty=pretty)

    def scalar(self, expr, node=None):
        return self.duck.scalar(expr, node)

    def execute(self, expr, node=None, params=None):
        raise CannotRun("this statement is not transpiled yet", node)

    def begin(self):
        pass

    commit = rollback = begin

    def close(self):
        self.duck.close()


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
            args = ", ".join(f"{k}={v!r}" for k, v in sorted(kv.items()))
            self.lines.append(f"read_csv(spark, [{', '.join(f'os.path.join(STORE, {p!r})' for p in paths)}], "
                              f"{names!r}, {args}).createOrReplaceTempView({name!r})")
        else:
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

    def __init__(self, script, prog: _Program, params=None, path=None):
        from .store import Store
        self.prog = prog
        engine = _Recorder(prog)
        super().__init__(script, Store(_ROOT), engine, params, path)

    def input_files(self, globs, node, patterns=None) -> list:
        if any("*" in g for g in globs):
            raise CannotRun("a file set ({...} or {*} in the path) is not transpiled yet", node)
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

    def _no_catalog(self, s):
        raise CannotRun(f"{s.kind}: the catalog (tables, views, routines) is not transpiled yet", s)

    s_CreateDatabase = s_CreateSchema = s_CreateTable = s_Insert = s_TruncateTable = s_Drop = _no_catalog
    s_CreateView = s_AlterTableAddColumn = s_AlterTableDropColumn = _no_catalog
    s_AlterTableAddPartition = s_AlterTableDropPartition = s_CreateFunction = s_CreateProcedure = _no_catalog
    s_CreateType = s_ProcedureCall = s_UseDatabase = s_UseSchema = _no_catalog

    def table_rowset(self, name):
        raise CannotRun(f"the table {name.written if hasattr(name, 'written') else name}: the catalog is not "
                        "transpiled yet", name)

    def call_tvf(self, node):
        raise CannotRun("a table-valued function: the catalog is not transpiled yet", node)


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
            "# Needs pyspark, and usqlrw for U-SQL's file formats (usqlrw.engine.spark_io).",
            "import os",
            "import sys",
            "",
            "from pyspark.sql import SparkSession",
            "",
            "from usqlrw.engine.spark_io import read_csv, write_output",
            "",
            "",
            "def main(spark, STORE):",
            ""]
    return head + ["-- Run: spark-sql -d STORE=/path/to/store -f SCRIPT.sql", "SET spark.sql.session.timeZone=UTC;",
                   "SET spark.sql.timestampType=TIMESTAMP_NTZ;", ""]


def transpile(text: str, to: str = "pyspark", path: str | None = None, params: dict | None = None) -> Transpiled:
    """The program for one U-SQL script. Raises EngineError on a syntax error."""
    from ..errors import USqlSyntaxError
    from ..parser import parse
    if to not in ("pyspark", "spark-sql"):
        raise ValueError(f"unknown target {to!r}")
    try:
        script = parse(text)
    except USqlSyntaxError as e:
        raise EngineError(e.message, path=path, span=e) from None
    prog = _Program(to)
    job = _TranspileJob(script, prog, params, path)
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
                del prog.lines[mark:]
                todos.append(Todo(e.line, e.column, e.message))
                prog.lines.append(f"{c} TODO(usqlrw): {e.message} ({path or '<script>'}:{e.line}:{e.column})")
                prog.lines.extend(f"{c}   | {line}".rstrip() for line in s.span.text(text).splitlines())
        tail = _comments(text[pos:])
        if tail:
            prog.lines.append("")
            prog.lines.extend(f"{c} {x}".rstrip() for x in tail)
    finally:
        job.engine.close()
    if to == "pyspark":
        head = len(_header(to, path or "<script>"))
        body = prog.lines[head:]
        while body and body[0] == "":
            del body[0]
        if not any(x.strip() and not x.lstrip().startswith("#") for x in body):
            body.append("pass")
        prog.lines[head:] = [("    " + x) if x else "" for x in body]
        prog.lines += [
            "", "",
            'if __name__ == "__main__":',
            "    session = (SparkSession.builder.appName(" + repr(os.path.basename(path or "script")) + ")",
            '               .config("spark.sql.session.timeZone", "UTC")',
            '               .config("spark.sql.timestampType", "TIMESTAMP_NTZ")',
            '               .config("spark.sql.ansi.enabled", "true")',
            "               .getOrCreate())",
            "    try:",
            '        main(session, os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "."))',
            "    finally:",
            "        session.stop()"]
    return Transpiled("\n".join(prog.lines) + "\n", todos)
