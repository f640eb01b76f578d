"""The U-SQL catalog on Spark: the same :class:`~usqlrw.engine.catalog.Catalog` (the same checks,
the same errors), with its tables stored as Parquet in a warehouse folder per catalog.

``STORE/catalog/spark/`` holds ``catalog.duckdb`` (the catalog's rows, as on the DuckDB engine:
databases, schemas, objects, partitions, plus ``spark_tables``: each table's Spark columns and its
segments) and ``warehouse/<db.schema>/<table>/<segment>/``: folders of Parquet files, partitioned
by the table's PARTITIONED BY columns. A segment is never changed once written: INSERT adds one,
DELETE (TRUNCATE, DROP PARTITION) and ALTER TABLE write the table's new rows as one new segment.
So a job is all or nothing as on DuckDB: the catalog's rows change inside one transaction; a failed
job rolls them back and removes the segments it wrote, a job that succeeds removes the segments it
replaced. Rows read by a statement are the segments listed when it is lowered (a snapshot)."""
from __future__ import annotations

import json
import os
import re
import shutil
import uuid

from .catalog import _META, Catalog
from .errors import JobFailed

__all__ = ["SparkCatalog", "Warehouse", "spark_type", "open_catalog", "UNSIGNED"]

#: DuckDB's unsigned integer types (which sqlglot keeps in Spark SQL) -> the Spark type holding them
UNSIGNED = {"UTINYINT": "SMALLINT", "USMALLINT": "INT", "UINT": "BIGINT", "UBIGINT": "DECIMAL(20,0)"}


def spark_type(dtype) -> str:
    """The Spark SQL text of a sqlglot DataType (DuckDB's unsigned integers widened)."""
    from sqlglot import exp

    def fix(n):
        if isinstance(n, exp.DataType) and n.this.name in UNSIGNED:
            return exp.DataType.build(UNSIGNED[n.this.name], dialect="spark")
        if isinstance(n, exp.DataType) and n.this.name in ("VARCHAR", "CHAR", "TEXT") and not n.expressions:
            return exp.DataType.build("STRING", dialect="spark")
        return n
    return dtype.copy().transform(fix).sql(dialect="spark")


class SparkCatalog(Catalog):
    """The catalog whose rows live in the warehouse's DuckDB file (``engine.con``)."""

    def ensure(self):
        for stmt in _META.strip().split(";"):
            if stmt.strip():
                self.e.con.execute(stmt)
        self.e.warehouse.ensure()

    def create_table(self, job, s):
        # the warehouse writes the table's segments partitioned by these columns
        self.e.warehouse.next_partition = [c.name for c in s.partitioned_by.columns] if s.partitioned_by else []
        super().create_table(job, s)


def _has_data(folder: str) -> bool:
    for _, _, files in os.walk(folder):
        if any(not f.startswith(("_", ".")) for f in files):
            return True
    return False


class Warehouse:
    """The tables of one store's catalog: Parquet segments under ``folder/warehouse``."""

    def __init__(self, engine, folder: str):
        import duckdb
        self.e = engine         # what has ``spark`` (the engine, or the program's session holder)
        self.folder = folder
        self.next_partition: list = []
        try:
            os.makedirs(os.path.join(folder, "warehouse"), exist_ok=True)
            self.con = duckdb.connect(os.path.join(folder, "catalog.duckdb"))
        except (OSError, duckdb.Error) as e:
            raise JobFailed(f"cannot open the Spark catalog {os.path.join(folder, 'catalog.duckdb')}: "
                            f"{str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
        self.written: list = []         # segments this job wrote (removed if it fails)
        self.replaced: list = []        # segments this job replaced (removed when it commits)

    def ensure(self):
        self.con.execute("CREATE SCHEMA IF NOT EXISTS usqlrw_meta")
        self.con.execute("CREATE TABLE IF NOT EXISTS usqlrw_meta.spark_tables (tbl VARCHAR, name VARCHAR, "
                         "columns VARCHAR, segments VARCHAR, partitioned VARCHAR, PRIMARY KEY (tbl, name))")

    # -- the registry ----------------------------------------------------------------------------
    def _row(self, db_schema, name):
        rows = self.con.execute("SELECT columns, segments FROM usqlrw_meta.spark_tables WHERE tbl = ? AND name = ?",
                                [db_schema, name]).fetchall()
        if not rows:
            return None
        return self._checked(db_schema, name, rows[0][0], rows[0][1])

    def _checked(self, db_schema, name, columns, segments):
        """A table's row of the registry, read back from disk: checked before it is trusted (its
        segments are folders of this table in the warehouse, nowhere else)."""
        try:
            cols, segs = json.loads(columns), json.loads(segments)
            ok = (isinstance(cols, list) and all(isinstance(c, list) and len(c) == 2 and all(isinstance(x, str) for x in c)
                                                 for c in cols)
                  and isinstance(segs, list) and all(isinstance(g, str) and _SEGMENT.fullmatch(g) and
                                                     g.startswith(os.path.join(_safe(db_schema), _safe(name)) + os.sep)
                                                     for g in segs))
        except ValueError:
            ok = False
        if not ok:
            raise JobFailed(f"the Spark catalog's entry of the table {db_schema}.{name} is damaged "
                            f"({os.path.join(self.folder, 'catalog.duckdb')})")
        return cols, segs

    def exists(self, db_schema, name) -> bool:
        try:
            return self._row(db_schema, name) is not None
        except Exception:
            return False

    def _partition(self, db_schema, name) -> list:
        rows = self.con.execute("SELECT partitioned FROM usqlrw_meta.spark_tables WHERE tbl = ? AND name = ?",
                                [db_schema, name]).fetchall()
        return json.loads(rows[0][0] or "[]") if rows else []

    def _save(self, db_schema, name, columns, segments, partition=None):
        partition = self._partition(db_schema, name) if partition is None else partition
        self.con.execute("DELETE FROM usqlrw_meta.spark_tables WHERE tbl = ? AND name = ?", [db_schema, name])
        self.con.execute("INSERT INTO usqlrw_meta.spark_tables VALUES (?, ?, ?, ?, ?)",
                         [db_schema, name, json.dumps(columns), json.dumps(segments), json.dumps(partition)])

    # -- table changes -------------------------------------------------------------------------------
    def create(self, db_schema, name, columns, partition=None, if_not_exists=False):
        """``columns``: (name, Spark SQL type) in order; ``partition``: the PARTITIONED BY columns."""
        if if_not_exists and self.exists(db_schema, name):
            return
        if partition is None:
            partition, self.next_partition = self.next_partition, []
        self._save(db_schema, name, [list(c) for c in columns], [], list(partition))

    def add_column(self, db_schema, name, column, type_, default_sql=None):
        """A new column: ``default_sql`` (Spark SQL) in the existing rows, else null."""
        from pyspark.sql import functions as F
        value = F.expr(default_sql) if default_sql is not None else F.lit(None)
        df = self.frame(db_schema, name).withColumn(column, value.cast(type_))
        self.replace(db_schema, name, df, self.columns(db_schema, name) + [[column, type_]])

    def delete(self, db_schema, name, condition_sql=None):
        """Removes the rows where ``condition_sql`` (Spark SQL over the table's columns) is true
        (every row without one)."""
        df = self.frame(db_schema, name)
        df = df.where(f"NOT coalesce(({condition_sql}), false)") if condition_sql else df.limit(0)
        self.replace(db_schema, name, df)

    def drop_column(self, db_schema, name, column):
        df = self.frame(db_schema, name).drop(column)
        self.replace(db_schema, name, df, [c for c in self.columns(db_schema, name) if c[0] != column])

    def drop(self, db_schema, name):
        row = self._row(db_schema, name)
        if row is not None:
            self.replaced.extend(row[1])
            self.con.execute("DELETE FROM usqlrw_meta.spark_tables WHERE tbl = ? AND name = ?", [db_schema, name])

    def drop_schema(self, db_schema):
        for (name,) in self.con.execute("SELECT name FROM usqlrw_meta.spark_tables WHERE tbl = ?",
                                        [db_schema]).fetchall():
            self.drop(db_schema, name)

    def frame(self, db_schema, name):
        """The table's rows as a DataFrame (its segments as they are now)."""
        columns, segments = self._row(db_schema, name)
        ddl = ", ".join(f"`{c}` {t}" for c, t in columns)
        names = [c for c, _ in columns]
        spark = self.e.spark
        if not segments:
            return spark.createDataFrame([], ddl)
        df = None
        for seg in segments:
            part = spark.read.schema(ddl).parquet(os.path.join(self.folder, "warehouse", seg)).select(*names)
            df = part if df is None else df.unionAll(part)
        return df

    def columns(self, db_schema, name) -> list:
        return self._row(db_schema, name)[0]

    def _write(self, db_schema, name, df, columns) -> str | None:
        """Writes ``df`` (the table's columns) as a new segment; None when it has no rows."""
        from pyspark.sql import functions as F
        df = df.toDF(*[c for c, _ in columns]).select(
            *[F.col(f"`{c}`").cast(t).alias(c) for c, t in columns])
        rel = os.path.join(_safe(db_schema), _safe(name), uuid.uuid4().hex)
        path = os.path.join(self.folder, "warehouse", rel)
        self.written.append(rel)
        part = [c for c in self._partition(db_schema, name) if c in dict(columns)]
        w = df.write.mode("errorifexists")
        if part:
            w = w.partitionBy(*part)
        w.parquet(path)
        if not _has_data(path):
            shutil.rmtree(path, ignore_errors=True)
            return None
        return rel

    def append(self, db_schema, name, df):
        columns, segments = self._row(db_schema, name)
        seg = self._write(db_schema, name, df, columns)
        if seg is not None:
            self._save(db_schema, name, columns, segments + [seg])

    def replace(self, db_schema, name, df, columns=None):
        """The table's rows become ``df`` (with ``columns`` when they change)."""
        old_columns, segments = self._row(db_schema, name)
        columns = columns or old_columns
        seg = self._write(db_schema, name, df, columns)
        self.replaced.extend(segments)
        self._save(db_schema, name, columns, [seg] if seg is not None else [])

    # -- the job's end -------------------------------------------------------------------------------
    def begin(self):
        self.con.execute("BEGIN TRANSACTION")

    def commit(self):
        self.con.execute("COMMIT")
        self._remove(self.replaced)
        self.written, self.replaced = [], []

    def rollback(self):
        try:
            self.con.execute("ROLLBACK")
        except Exception:
            pass
        self._remove(self.written)
        self.written, self.replaced = [], []

    def _remove(self, segments):
        base = os.path.join(self.folder, "warehouse")
        for rel in segments:
            shutil.rmtree(os.path.join(base, rel), ignore_errors=True)
            d = os.path.dirname(os.path.join(base, rel))
            while d != base and d.startswith(base + os.sep):
                try:
                    os.rmdir(d)
                except OSError:
                    break
                d = os.path.dirname(d)

    def close(self):
        self.con.close()


_SEGMENT = re.compile(r"[^/\\]+[/\\][^/\\]+[/\\][0-9a-f]{32}")


def _safe(name: str) -> str:
    """A folder name for a catalog name (never ``.``, ``..`` or empty)."""
    from urllib.parse import quote
    q = quote(name, safe="")
    return "%2E" + q[1:] if q.startswith(".") else q or "_"


def _db_schema_name(table) -> tuple | None:
    """(``db.schema``, name) of a catalog table reference of the lowering, None for other tables."""
    db = table.args.get("db")
    if db is None or table.args.get("catalog") is not None or not table.name:
        return None
    return db.name, table.name


def run_statement(engine, expr, node):
    """Runs a catalog statement of :class:`Catalog` on the warehouse; False when ``expr`` is not one."""
    from sqlglot import exp
    wh = engine.warehouse
    if isinstance(expr, str):
        import sqlglot
        try:
            expr = sqlglot.parse_one(expr, dialect="spark")
        except sqlglot.errors.ParseError:
            return False
    if isinstance(expr, exp.Create) and expr.args.get("kind") == "SCHEMA":
        return True
    if isinstance(expr, exp.Drop) and expr.args.get("kind") in ("SCHEMA", "TABLE"):
        t = expr.this if expr.this is not None else (expr.args.get("tables") or [None])[0]
        if expr.args.get("kind") == "SCHEMA":
            wh.drop_schema((t.args.get("db") or t.this).name if isinstance(t, exp.Table) else t.name)
        else:
            key = _db_schema_name(t)
            if key is not None:
                wh.drop(*key)
        return True
    if isinstance(expr, exp.Create) and expr.args.get("kind") == "TABLE" and isinstance(expr.this, exp.Schema) \
            and expr.expression is None:
        key = _db_schema_name(expr.this.this)
        if key is None:
            return False
        wh.create(*key, [(cd.name, spark_type(cd.args["kind"])) for cd in expr.this.expressions])
        return True
    if isinstance(expr, exp.Insert) and isinstance(expr.this, exp.Table):
        key = _db_schema_name(expr.this)
        if key is None:
            return False
        wh.append(*key, engine._df(expr.expression, node))
        return True
    if isinstance(expr, exp.Delete):
        key = _db_schema_name(expr.this)
        if key is None:
            return False
        where = expr.args.get("where")
        wh.delete(*key, engine.sql(where.this) if where is not None else None)
        return True
    if isinstance(expr, exp.Alter) and len(expr.args.get("actions") or []) == 1:
        key = _db_schema_name(expr.this)
        act = expr.args["actions"][0]
        if key is None:
            return False
        if isinstance(act, exp.ColumnDef):
            wh.add_column(*key, act.name, spark_type(act.args["kind"]), _default_sql(engine, act))
            return True
        if isinstance(act, exp.Drop) and act.args.get("kind") == "COLUMN":
            wh.drop_column(*key, act.args["tables"][0].name)
            return True
    return False


def _default_sql(engine, coldef) -> str | None:
    """The Spark SQL of a column definition's DEFAULT, None without one."""
    from sqlglot import exp
    default = next((c.args["kind"].this for c in coldef.args.get("constraints") or []
                    if isinstance(c.args.get("kind"), exp.DefaultColumnConstraint)), None)
    return engine.sql(default) if default is not None else None


class _Session:
    def __init__(self, spark):
        self.spark = spark


def open_catalog(spark, store: str) -> Warehouse:
    """The warehouse of ``STORE/catalog/spark`` for a transpiled program, its transaction begun:
    ``commit()`` when the program is done, ``rollback()`` when it fails."""
    wh = Warehouse(_Session(spark), os.path.join(os.path.abspath(store), "catalog", "spark"))
    wh.ensure()
    wh.begin()
    return wh
