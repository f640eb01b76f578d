"""The Spark engine: the same lowered sqlglot trees, generated as Spark SQL and run with PySpark
(the optional extra ``usqlrw[spark]``). It overrides only what differs from
:class:`~usqlrw.engine.duckdb_engine.DuckDBEngine`:

* ``read_csv(...)`` of an EXTRACT becomes Spark's CSV reader with the same parameters (every
  column read as text, converted in SQL with safe casts), registered as a temporary view;
* ``error(msg)`` (a run-time failure at a line and column) is Spark's ``raise_error``;
* a snapshot table (``CREATE TEMPORARY TABLE``) is a locally checkpointed DataFrame under a
  temporary view;
* a few DuckDB functions of the lowering that sqlglot does not translate (``_TWINS``);
* timestamps are ``TIMESTAMP_NTZ`` in UTC, as U-SQL's DateTime has no time zone.

Spark 4 runs in ANSI mode: a plain CAST of a bad value fails, so the lowering builds safe casts
(``TRY_CAST``) where U-SQL yields null. One SparkSession per master is shared by every job of
the process (starting one takes seconds); ``local[*]`` by default, any master by URL.
The catalog (tables, views, routines) is :mod:`usqlrw.engine.spark_catalog`: the same catalog
as on DuckDB, its tables stored as Parquet segments in ``STORE/catalog/spark/warehouse``."""
from __future__ import annotations

import os
import re

from .errors import CannotRun, JobFailed

__all__ = ["SparkEngine", "session", "available"]

_SESSIONS: dict = {}



def available() -> bool:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return False
    return True


def session(master: str = "local[*]"):
    """The process's SparkSession for ``master`` (created on first use)."""
    s = _SESSIONS.get(master)
    if s is not None and not s.sparkContext._jsc.sc().isStopped():
        return s
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise CannotRun("--engine spark needs PySpark: pip install 'usqlrw[spark]'") from None
    os.environ.setdefault("PYSPARK_PYTHON", __import__("sys").executable)
    s = (SparkSession.builder.master(master).appName("usqlrw")
         .config("spark.ui.enabled", "false")
         .config("spark.ui.showConsoleProgress", "false")
         .config("spark.sql.session.timeZone", "UTC")
         .config("spark.sql.timestampType", "TIMESTAMP_NTZ")
         .config("spark.sql.shuffle.partitions", "4")
         .config("spark.sql.ansi.enabled", "true")
         .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
         .getOrCreate())
    s.sparkContext.setLogLevel("ERROR")
    _SESSIONS[master] = s
    return s


_JAVA = {"%Y": "yyyy", "%m": "MM", "%d": "dd", "%H": "HH", "%I": "hh", "%M": "mm", "%S": "ss", "%f": "SSSSSS",
         "%p": "a"}
# DuckDB's strptime reads %m, %d, %H, %I with one digit too; Java's MM, dd... need two (M, d... read
# one or two where a separator ends the field)
_ONE_OR_TWO = {"%m": "M", "%d": "d", "%H": "H", "%I": "h"}


def _strftime_to_java(f: str) -> str:
    out = []
    parts = re.split(r"(%[A-Za-z])", f)
    for i, part in enumerate(parts):
        if i % 2:
            adjacent = (i + 2 < len(parts) and parts[i + 1] == "") or (i >= 2 and parts[i - 1] == "")
            out.append(_ONE_OR_TWO[part] if part in _ONE_OR_TWO and not adjacent else _JAVA.get(part, part))
        elif part:
            out.append("'" + part.replace("'", "''") + "'")
    return "".join(out)


def _fn(name, *args):
    from sqlglot import exp
    return exp.Anonymous(this=name, expressions=list(args))


def _try_strptime(x, fmts):
    """DuckDB try_strptime(text, [formats]): the first format that parses (Spark: try_to_timestamp)."""
    from sqlglot import exp
    return _fn("coalesce", *[_fn("try_to_timestamp", x, exp.Literal.string(_strftime_to_java(f.name)))
                             for f in fmts.expressions])


def _to_us(n):
    from sqlglot import exp
    return exp.Anonymous(this="make_dt_interval", expressions=[
        exp.Literal.number(0), exp.Literal.number(0), exp.Literal.number(0),
        exp.Div(this=exp.Cast(this=n, to=exp.DataType.build("DECIMAL(38,6)")), expression=exp.Literal.number(1000000))])


def _epoch_us(x):
    from sqlglot import exp
    return _fn("unix_micros", exp.Cast(this=x, to=exp.DataType.build("TIMESTAMP_LTZ", dialect="spark")))


def _map_explode(sel):
    """(map, key alias, value alias) of the lowering's EXPLODE of a map, ``SELECT
    unnest(map_keys(m)) AS k, unnest(map_values(m)) AS v`` (Spark: ``SELECT explode(m) AS (k, v)``)."""
    from sqlglot import exp
    items = sel.expressions
    if len(items) != 2 or sel.args.get("from_") is not None or sel.args.get("from") is not None:
        return None
    if not all(isinstance(i, exp.Alias) and isinstance(i.this, exp.Explode) for i in items):
        return None
    k, v = items[0].this.this, items[1].this.this
    if isinstance(k, exp.MapKeys) and isinstance(v, exp.Anonymous) and v.name.lower() == "map_values" \
            and v.expressions and k.this == v.expressions[0]:
        return k.this, items[0].args["alias"], items[1].args["alias"]
    return None


def _percentile(node, window=None):
    """DuckDB's quantile_cont(x, p): Spark's percentile(x, p) (linear interpolation, as
    PERCENTILE_CONT). quantile_disc(x, p), the smallest value whose cumulative distribution is at
    least p, of x's type (Spark's percentile_disc gives a double): the ceil(p * n)th of the sorted
    values (``window``: over the window of the call)."""
    from sqlglot import exp
    x, p = node.this, node.expression
    if isinstance(node, exp.PercentileCont):
        return _fn("percentile", x, p)

    def over(e):
        if window is None:
            return e
        w = window.copy()
        w.set("this", e)
        return w
    values = _fn("array_sort", over(_fn("collect_list", x)))
    n = over(exp.Count(this=x.copy()))
    at = _fn("greatest", exp.Literal.number(1), exp.Cast(this=_fn("ceil", exp.Mul(this=exp.Paren(this=p), expression=n)),
                                                          to=exp.DataType.build("INT")))
    return _fn("try_element_at", values, at)


def _printf(fmt, *args):
    """printf('%.2f' or '%,.2f', x) of a rounded number: Spark's format_string refuses a DECIMAL
    argument for %f; the decimal's own text (exact) or format_number (with grouping)."""
    from sqlglot import exp
    text = fmt.name if isinstance(fmt, exp.Literal) and fmt.is_string else ""
    if re.fullmatch(r"%\.\d+G", text) and len(args) == 1:
        # C's %G drops the fraction's trailing zeros, Java's keeps them
        s = _fn("format_string", fmt, args[0])
        s = _fn("regexp_replace", s, exp.Literal.string(r"(\.\d*?)0+(?=E|$)"), exp.Literal.string("$1"))
        return _fn("regexp_replace", s, exp.Literal.string(r"\.(?=E|$)"), exp.Literal.string(""))
    m = re.fullmatch(r"%(,?)\.(\d+)f", text)
    if m is None or len(args) != 1:
        return _fn("printf", fmt, *args)
    d = int(m.group(2))
    x = exp.Cast(this=args[0], to=exp.DataType.build(f"DECIMAL(38,{d})"))
    if m.group(1):
        return _fn("format_number", x, exp.Literal.number(d))
    return exp.Cast(this=x, to=exp.DataType.build("STRING"))


# DuckDB functions of the lowering that Spark spells differently (what sqlglot does not translate)
_TWINS = {
    "printf": _printf,
    "error": lambda m: _fn("raise_error", m),
    "roundbankers": lambda x, d=None: _fn("bround", x, *([d] if d is not None else [])),
    "starts_with": lambda s, p: _fn("startswith", s, p),
    "epoch_us": _epoch_us,
    "to_microseconds": _to_us,
    "try_strptime": _try_strptime,
}


def read_csv_args(call):
    """(files, column names, parameters) of the lowering's ``read_csv(files, key := value, ...)``."""
    from sqlglot import exp
    files = [e.name for e in call.expressions[0].expressions]
    kv, names = {}, []
    for a in call.expressions[1:]:
        key, v = a.this.name, a.expression
        if isinstance(v, exp.Struct):
            names = [(p.this.name, p.expression.name) for p in v.expressions]
        elif isinstance(v, exp.Boolean):
            kv[key] = v.this
        elif isinstance(v, exp.Literal):
            kv[key] = int(v.this) if not v.is_string else v.this
        else:
            kv[key] = v.name
    return files, names, kv


def spark_twin(node, fix):
    """What Spark runs for a node of the lowering that sqlglot does not translate (None: the node
    as it is). A replaced node is not visited by ``transform``: its children are fixed here."""
    from sqlglot import exp
    if isinstance(node, exp.Window) and isinstance(node.this, exp.PercentileDisc):
        w = node.copy()
        w.set("this", exp.Null())
        q = node.this
        return _percentile(type(q)(this=q.this.transform(fix), expression=q.expression.transform(fix)),
                           w.transform(fix))
    if isinstance(node, exp.Div):
        # DuckDB's / gives a DOUBLE (integers and decimals alike); Spark's keeps DECIMAL
        return exp.Div(this=exp.Cast(this=node.this.transform(fix), to=exp.DataType.build("DOUBLE")),
                       expression=node.expression.transform(fix))
    if isinstance(node, exp.Select) and _map_explode(node) is not None:
        m, k, v = _map_explode(node)
        return exp.select(exp.Aliases(this=exp.Explode(this=m.transform(fix)), expressions=[k.copy(), v.copy()]))
    if isinstance(node, (exp.PercentileCont, exp.PercentileDisc)):
        return _percentile(type(node)(this=node.this.transform(fix), expression=node.expression.transform(fix)))
    if isinstance(node, exp.DataType):
        from .spark_catalog import UNSIGNED
        if node.this.name in UNSIGNED:
            return exp.DataType.build(UNSIGNED[node.this.name], dialect="spark")
    if isinstance(node, exp.Anonymous):
        twin = _TWINS.get(node.name.lower())
        if twin is not None:
            return twin(*[a.transform(fix) for a in node.expressions])
    return None


class _Where:
    def __init__(self, line, column):
        self.line, self.column = line, column


class _Cursor:
    """DuckDB's ``fetchmany`` over a DataFrame (rows streamed partition by partition)."""

    def __init__(self, df):
        self.df = df
        self._it = None

    def fetchmany(self, n):
        if self.df is None:
            return []
        if self._it is None:
            self._it = self.df.toLocalIterator()
        out = []
        for r in self._it:
            out.append(tuple(r))
            if len(out) >= n:
                break
        return out

    def fetchone(self):
        if self.df is None:
            return None
        rows = self.df.take(1)
        return tuple(rows[0]) if rows else None

    def fetchall(self):
        if self.df is None:
            return []
        return [tuple(r) for r in self.df.collect()]


class SparkEngine:
    dialect = "spark"

    def __init__(self, catalog_dir: str | None, root: str | None = None, master: str = "local[*]"):
        self.root = root
        self.persistent = catalog_dir is not None
        self.spark = session(master)
        self._views: list = []
        self._n = 0
        self._inputs: dict = {}         # input file -> (columns, reader parameters), for error lines
        self.warehouse = None
        if catalog_dir is not None:
            from .spark_catalog import SparkCatalog, Warehouse
            self.catalog_class = SparkCatalog
            self.warehouse = Warehouse(self, os.path.join(catalog_dir, "spark"))
            self.con = self.warehouse.con

    # -- SQL generation ---------------------------------------------------------------------------
    def _fresh(self) -> str:
        self._n += 1
        return f"_usqlrw_{os.getpid()}_{id(self)}_{self._n}"

    def sql(self, expr) -> str:
        if isinstance(expr, str):
            return expr
        from sqlglot import exp
        if isinstance(expr, exp.Table):         # a name (the catalog builds statements with it)
            return expr.sql(dialect=self.dialect)

        def fix(node):
            if isinstance(node, exp.Table) and self.warehouse is not None:
                from .spark_catalog import _db_schema_name
                key = _db_schema_name(node)
                if key is not None and self.warehouse.exists(*key):
                    view = exp.Table(this=exp.Identifier(this=self.table_view(*key), quoted=True))
                    if node.alias:
                        view.set("alias", node.args["alias"])
                    return view
            if isinstance(node, exp.Anonymous) and node.name.lower() == "read_csv":
                return exp.Table(this=exp.Identifier(this=self._read_csv(node), quoted=True))
            twin = spark_twin(node, fix)
            if twin is not None:
                return twin
            return node
        return expr.copy().transform(fix, copy=False).sql(dialect=self.dialect)

    def table_view(self, db_schema: str, name: str) -> str:
        """A temporary view of a catalog table's rows as they are now."""
        df = self.warehouse.frame(db_schema, name)
        view = self._fresh()
        df.createOrReplaceTempView(view)
        self._views.append(view)
        return view

    def _read_csv(self, call) -> str:
        """Registers Spark's CSV reader for a ``read_csv(files, key := value, ...)`` call."""
        files, names, kv = read_csv_args(call)
        from .spark_io import read_csv
        df = read_csv(self.spark, files, names, **kv)
        for f in files:
            self._inputs[os.path.abspath(f)] = (names, kv)
        name = self._fresh()
        df.createOrReplaceTempView(name)
        self._views.append(name)
        return name

    # -- running --------------------------------------------------------------------------------------
    def execute(self, expr, node=None, params=None):
        from sqlglot import exp
        if self.warehouse is not None and not params:
            from .spark_catalog import run_statement
            try:
                done = run_statement(self, expr, node)
            except JobFailed:
                raise
            except Exception as e:
                raise self.translate(e, node) from None
            if done:
                return _Cursor(None)
        if isinstance(expr, exp.Create) and expr.args.get("kind") == "TABLE" and expr.expression is not None:
            props = expr.args.get("properties")
            if props is not None and any(isinstance(p, exp.TemporaryProperty) for p in props.expressions):
                df = self._df(expr.expression, node)
                try:
                    df = df.localCheckpoint(eager=True)
                except Exception as e:
                    raise self.translate(e, node) from None
                name = expr.this.name
                df.createOrReplaceTempView(name)
                self._views.append(name)
                return _Cursor(df)
        if params:
            raise CannotRun("parameterised statements are not supported on --engine spark", node)
        return _Cursor(self._df(expr, node))

    def _df(self, expr, node):
        try:
            return self.spark.sql(self.sql(expr))
        except JobFailed:
            raise
        except Exception as e:
            raise self.translate(e, node) from None

    def translate(self, e, node) -> JobFailed:
        msg = str(e).strip()
        first = msg.splitlines()[0] if msg else type(e).__name__
        raised = re.search(r"\[USER_RAISED_EXCEPTION\] (\d+):(\d+): (.*?)(?:\s*SQLSTATE: \w+)?$", msg, re.M)
        if raised:
            return JobFailed(raised.group(3).strip(), span=_Where(int(raised.group(1)), int(raised.group(2))))
        raised = re.search(r"\[USER_RAISED_EXCEPTION\] (.*?)(?:\s*SQLSTATE: \w+)?$", msg, re.M)
        if raised:
            text = raised.group(1).strip()
            conv = re.match(r'E_RUNTIME_USER_EXTRACT_COLUMN_CONVERSION: the value ".*" of column (\S+) does not '
                            r'convert \(input file (.*)\)$', text)
            if conv:
                full = conv.group(2)
                if self.root and full.startswith(self.root + os.sep):
                    text = text.replace(full, os.path.relpath(full, self.root))
                line = self._line(full, conv.group(1), text)
                if line is not None:
                    text = text[:-1] + f", line {line})"
            err = JobFailed(text, node)
            if conv:        # the job points at the EXTRACT's column (as on DuckDB)
                err.file, err.bad_column = conv.group(2), conv.group(1)
            return err
        first = re.sub(r"\s*SQLSTATE: \w+.*$", "", first)
        return JobFailed(f"the job failed on Spark: {first}", node)

    def _line(self, path, column, text):
        """The line of the value that does not convert (as DuckDB's reader reports it)."""
        from .spark_io import find_line
        m = re.match(r'E_RUNTIME_USER_EXTRACT_COLUMN_CONVERSION: the value "(.*)" of column', text)
        read = self._inputs.get(path)
        if m is None or read is None:
            return None
        return find_line(path, column, m.group(1), read[0], **read[1])

    def fetch(self, cursor, n: int, node=None) -> list:
        try:
            return cursor.fetchmany(n)
        except Exception as e:
            raise self.translate(e, node) from None

    def scalar(self, expr, node=None):
        cur = self.execute(expr, node)
        try:
            row = cur.fetchone()
        except Exception as e:
            raise self.translate(e, node) from None
        return row[0] if row else None

    def begin(self):
        if self.warehouse is not None:
            self.warehouse.begin()

    def commit(self):
        if self.warehouse is not None:
            self.warehouse.commit()

    def rollback(self):
        if self.warehouse is not None:
            self.warehouse.rollback()

    def close(self):
        if self.warehouse is not None:
            self.warehouse.close()
        for v in self._views:
            try:
                self.spark.catalog.dropTempView(v)
            except Exception:
                pass
        self._views.clear()
