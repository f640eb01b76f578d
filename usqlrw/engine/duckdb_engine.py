"""The DuckDB engine: embedded, in-process. Everything DuckDB-specific is here; the lowering
(:mod:`usqlrw.engine.lower`) is engine-neutral sqlglot. A second engine (Spark) overrides the
same few methods: ``connect``, ``execute``, ``scalar``, ``begin``/``commit``/``rollback``."""
from __future__ import annotations

import os
import re

from .errors import JobFailed

__all__ = ["DuckDBEngine"]

_OUR_ERROR = re.compile(r"(\d+):(\d+): (.*)")


class _Where:
    def __init__(self, line, column):
        self.line, self.column = line, column


class DuckDBEngine:
    dialect = "duckdb"

    def __init__(self, catalog_dir: str | None, root: str | None = None):
        self.root = root
        self.persistent = catalog_dir is not None
        import duckdb
        self._duckdb = duckdb
        if catalog_dir is None:
            self.con = duckdb.connect()
        else:
            os.makedirs(catalog_dir, exist_ok=True)
            self.con = duckdb.connect(os.path.join(catalog_dir, "usql.duckdb"))

    def sql(self, expr) -> str:
        return expr if isinstance(expr, str) else expr.sql(dialect=self.dialect)

    def execute(self, expr, node=None, params=None):
        try:
            return self.con.execute(self.sql(expr), params) if params is not None else self.con.execute(self.sql(expr))
        except self._duckdb.Error as e:
            raise self.translate(e, node) from None

    def translate(self, e, node) -> JobFailed:
        msg = str(e).strip()
        first = msg.splitlines()[0] if msg else type(e).__name__
        first = re.sub(r"^[A-Za-z ]*Error: ", "", first)
        m = _OUR_ERROR.match(first)
        if m:
            return JobFailed(m.group(3), span=_Where(int(m.group(1)), int(m.group(2))))
        csv = re.search(r"CSV Error on Line: (\d+)", msg)
        if csv:
            f = re.search(r"^\s*file = (.*)$", msg, re.M)
            where = full = f.group(1).strip() if f else "an input file"
            if self.root and where.startswith(self.root + os.sep):
                where = os.path.relpath(where, self.root)
            conv = re.search(r'Error when converting column "([^"]*)"\. Could not convert string "(.*?)" to', msg)
            if conv:
                err = JobFailed(f"E_RUNTIME_USER_EXTRACT_COLUMN_CONVERSION: the value \"{conv.group(2)}\" of column "
                                f"{conv.group(1)} does not convert (input file {where}, line {csv.group(1)})", node)
                err.file, err.bad_column = full, conv.group(1)
                return err
            cols = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", msg)
            why = (("more" if int(cols.group(2)) > int(cols.group(1)) else "fewer") +
                   f" columns than the EXTRACT's {cols.group(1)} (silent: true skips such rows)"
                   if cols else msg.splitlines()[1].strip() if len(msg.splitlines()) > 1 else "cannot be read")
            err = JobFailed(f"input file {where}, line {csv.group(1)}: {why}", node)
            err.file = full
            return err
        return JobFailed(f"the job failed: {first}", node)

    def fetch(self, cursor, n: int, node=None) -> list:
        try:
            return cursor.fetchmany(n)
        except self._duckdb.Error as e:
            raise self.translate(e, node) from None

    def scalar(self, expr, node=None):
        row = self.execute(expr, node).fetchone()
        return row[0] if row else None

    def begin(self):
        self.con.execute("BEGIN TRANSACTION")

    def commit(self):
        self.con.execute("COMMIT")

    def rollback(self):
        try:
            self.con.execute("ROLLBACK")
        except self._duckdb.Error:
            pass

    def close(self):
        self.con.close()
