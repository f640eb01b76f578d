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

    def __init__(self, catalog_dir: str | None):
        import duckdb
        self._duckdb = duckdb
        if catalog_dir is None:
            self.con = duckdb.connect()
        else:
            os.makedirs(catalog_dir, exist_ok=True)
            self.con = duckdb.connect(os.path.join(catalog_dir, "usql.duckdb"))
        self.con.execute("SET TimeZone = 'UTC'") if False else None

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
        return JobFailed(f"the job failed: {first}", node)

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
