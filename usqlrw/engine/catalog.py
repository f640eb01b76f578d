"""The U-SQL catalog of a store, kept in the engine's database inside the store.

Databases and schemas are rows of ``usqlrw_meta``; a U-SQL table ``db.schema.T`` is the engine's
table ``"db.schema"."T"`` with its U-SQL column types and partitions in ``usqlrw_meta.objects``
(``extra``: the partition columns) and ``partitions``; a view keeps its query's text and is lowered
where it is read; functions and procedures keep their text (``extra``: the context they were
created in), table types their columns. Every change runs inside the job's transaction."""
from __future__ import annotations

import json

from .. import ast as A
from ..resolve import qualify
from . import types as Ty
from .errors import CannotRun, JobFailed
from .lower import Rowset, Scope
from .sqlbuild import col, exp, ident

__all__ = ["Catalog"]

_META = """
CREATE SCHEMA IF NOT EXISTS usqlrw_meta;
CREATE TABLE IF NOT EXISTS usqlrw_meta.databases (name VARCHAR PRIMARY KEY);
CREATE TABLE IF NOT EXISTS usqlrw_meta.schemas (db VARCHAR, name VARCHAR, PRIMARY KEY (db, name));
CREATE TABLE IF NOT EXISTS usqlrw_meta.objects (db VARCHAR, sch VARCHAR, name VARCHAR, kind VARCHAR,
    columns VARCHAR, definition VARCHAR, extra VARCHAR, PRIMARY KEY (db, sch, name));
CREATE TABLE IF NOT EXISTS usqlrw_meta.partitions (db VARCHAR, sch VARCHAR, name VARCHAR, label VARCHAR);
INSERT OR IGNORE INTO usqlrw_meta.databases VALUES ('master');
INSERT OR IGNORE INTO usqlrw_meta.schemas VALUES ('master', 'dbo');
"""


_DEFAULTS = {"bool": "false", "DateTime": "TIMESTAMP '0001-01-01 00:00:00'", "char": "chr(0)",
             "Guid": "'00000000-0000-0000-0000-000000000000'::UUID"}


def _tbl(db, sch, name) -> exp.Table:
    return exp.Table(this=ident(name), db=ident(f"{db}.{sch}"))


class Catalog:
    def __init__(self, engine):
        self.e = engine

    def ensure(self):
        for stmt in _META.strip().split(";"):
            if stmt.strip():
                self.e.execute(stmt)
        if not self.e.scalar("SELECT count(*) FROM information_schema.schemata WHERE schema_name = 'master.dbo'"):
            self.e.execute('CREATE SCHEMA IF NOT EXISTS "master.dbo"')

    def _q(self, sql, *params):
        return self.e.con.execute(sql, list(params)).fetchall()

    # databases and schemas
    def require_database(self, db, node):
        if not self._q("SELECT 1 FROM usqlrw_meta.databases WHERE name = ?", db):
            raise JobFailed(f"the database {db} does not exist", node)

    def require_schema(self, db, sch, node):
        self.require_database(db, node)
        if not self._q("SELECT 1 FROM usqlrw_meta.schemas WHERE db = ? AND name = ?", db, sch):
            raise JobFailed(f"the schema {db}.{sch} does not exist", node)

    def create_database(self, db, if_not_exists, node):
        if self._q("SELECT 1 FROM usqlrw_meta.databases WHERE name = ?", db):
            if if_not_exists:
                return
            raise JobFailed(f"the database {db} already exists", node)
        self._q("INSERT INTO usqlrw_meta.databases VALUES (?)", db)
        self._q("INSERT INTO usqlrw_meta.schemas VALUES (?, 'dbo')", db)
        self.e.execute(exp.Create(this=exp.Table(this=ident(f"{db}.dbo")), kind="SCHEMA"), node)

    def create_schema(self, db, sch, if_not_exists, node):
        self.require_database(db, node)
        if self._q("SELECT 1 FROM usqlrw_meta.schemas WHERE db = ? AND name = ?", db, sch):
            if if_not_exists:
                return
            raise JobFailed(f"the schema {db}.{sch} already exists", node)
        self._q("INSERT INTO usqlrw_meta.schemas VALUES (?, ?)", db, sch)
        self.e.execute(exp.Create(this=exp.Table(this=ident(f"{db}.{sch}")), kind="SCHEMA"), node)

    # objects
    def _object(self, q):
        rows = self._q("SELECT kind, columns, definition, extra FROM usqlrw_meta.objects "
                       "WHERE db = ? AND sch = ? AND name = ?", q.database, q.schema, q.name)
        return rows[0] if rows else None

    def _columns(self, row):
        return [(n, Ty.from_text(t)) for n, t in json.loads(row[1])]

    def rowset(self, q, node, job) -> Rowset:
        row = self._object(q)
        if row is None:
            raise JobFailed(f"the table or view {q} does not exist", node)
        if row[0] == "view":
            import usqlrw
            from ..resolve import Context
            script = usqlrw.parse(row[2])
            saved = job.ctx
            job.ctx = Context(q.database, q.schema, True)
            try:
                return job.lw.query(script.statements[0].query)
            finally:
                job.ctx = saved
        cols = self._columns(row)
        sub = job.lw.fresh("tbl")
        sel = exp.select(*[col(c, sub) for c, _ in cols]).from_(_tbl(q.database, q.schema, q.name).as_(ident(sub)))
        return Rowset(sel, cols)

    def _table(self, job, name, node):
        q = qualify(name, job.ctx, "table")
        row = self._object(q)
        if row is None or row[0] != "table":
            raise JobFailed(f"the table {q} does not exist", node)
        return q, self._columns(row), json.loads(row[3] or "{}").get("partition", [])

    def _keys(self, q) -> set:
        """The columns a table's index, partitioning and distribution use (they cannot be dropped)."""
        extra = json.loads(self._object(q)[3] or "{}")
        return set(extra.get("partition", [])) | set(extra.get("index", [])) | set(extra.get("distribution", []))

    def create_table(self, job, s: A.CreateTable):
        q = qualify(s.table, job.ctx)
        self.require_schema(q.database, q.schema, s)
        if self._object(q) is not None:
            if s.if_not_exists:
                return
            raise JobFailed(f"the table {q} already exists", s.table)
        if s.query is not None:
            rs = job.lw.query(s.query)
            cols = rs.columns
        else:
            cols = []
            for c in s.columns:
                if not isinstance(c, A.ColumnDefinition) or c.type is None:
                    raise CannotRun(f"{c.kind} in CREATE TABLE is not supported by the engine", c)
                cols.append((c.name.name, Ty.from_ast(c.type)))
            rs = None
        names = [c for c, _ in cols]
        for clause in (s.partitioned_by, s.distributed_by and s.distributed_by.scheme,
                       s.index):
            for c in getattr(clause, "columns", ()) or ():
                n = c.name if isinstance(c, A.Identifier) else c.expr.ident.name if isinstance(c, A.SortItem) \
                    and isinstance(c.expr, A.Name) else None
                if n is not None and n not in names:
                    raise JobFailed(f"the column {n} is not a column of the table", c)
        if s.query is None and s.index is None:
            raise JobFailed("a table with a schema needs an INDEX ... CLUSTERED clause", s)
        part = [c.name for c in s.partitioned_by.columns] if s.partitioned_by else []
        index = [c.expr.ident.name for c in (s.index.columns if s.index else ()) if isinstance(c.expr, A.Name)]
        scheme = s.distributed_by.scheme if s.distributed_by else None
        dist = [c.name if isinstance(c, A.Identifier) else c.expr.ident.name if isinstance(c, A.SortItem)
                and isinstance(c.expr, A.Name) else "" for c in getattr(scheme, "columns", ()) or ()]
        table = _tbl(q.database, q.schema, q.name)
        schema = exp.Schema(this=table, expressions=[exp.ColumnDef(this=ident(c), kind=exp.DataType.build(t.sql()))
                                                     for c, t in cols])
        self.e.execute(exp.Create(this=schema, kind="TABLE"), s)
        if rs is not None:
            self.e.execute(exp.Insert(this=table, expression=rs.expr), s)
        self._q("INSERT INTO usqlrw_meta.objects VALUES (?, ?, ?, 'table', ?, NULL, ?)", q.database, q.schema,
                q.name, json.dumps([[c, str(t)] for c, t in cols]),
                json.dumps({"partition": part, "index": index, "distribution": dist}))

    def create_view(self, job, s: A.CreateView):
        q = qualify(s.view, job.ctx)
        self.require_schema(q.database, q.schema, s)
        if self._object(q) is not None:
            if s.if_not_exists:
                return
            raise JobFailed(f"the view {q} already exists", s.view)
        rs = job.lw.query(s.query)       # checks the query now
        src = job.script.source.text if job.script.source is not None else None
        if src is None:
            raise CannotRun("CREATE VIEW needs the script's text", s)
        text = "@v = " + src[s.query.span.start:s.query.span.end] + ";"
        self._q("INSERT INTO usqlrw_meta.objects VALUES (?, ?, ?, 'view', ?, ?, '[]')", q.database, q.schema,
                q.name, json.dumps([[c, str(t)] for c, t in rs.columns]), text)

    def drop(self, job, s: A.Drop):
        k = s.object_kind
        if k in (A.ObjectKind.DATABASE,):
            db = qualify(s.object, job.ctx).database
            if not self._q("SELECT 1 FROM usqlrw_meta.databases WHERE name = ?", db):
                if s.if_exists:
                    return
                raise JobFailed(f"the database {db} does not exist", s.object)
            for (sch,) in self._q("SELECT name FROM usqlrw_meta.schemas WHERE db = ?", db):
                self.e.execute("DROP SCHEMA IF EXISTS " + self.e.sql(ident(f"{db}.{sch}")) + " CASCADE", s)
            for t in ("objects", "partitions"):
                self._q(f"DELETE FROM usqlrw_meta.{t} WHERE db = ?", db)
            self._q("DELETE FROM usqlrw_meta.schemas WHERE db = ?", db)
            self._q("DELETE FROM usqlrw_meta.databases WHERE name = ?", db)
            return
        if k is A.ObjectKind.SCHEMA:
            q = qualify(s.object, job.ctx)
            if not self._q("SELECT 1 FROM usqlrw_meta.schemas WHERE db = ? AND name = ?", q.database, q.schema):
                if s.if_exists:
                    return
                raise JobFailed(f"the schema {q.database}.{q.schema} does not exist", s.object)
            if self._q("SELECT 1 FROM usqlrw_meta.objects WHERE db = ? AND sch = ?", q.database, q.schema):
                raise JobFailed(f"the schema {q.database}.{q.schema} is not empty", s.object)
            self.e.execute("DROP SCHEMA IF EXISTS " + self.e.sql(ident(f"{q.database}.{q.schema}")), s)
            self._q("DELETE FROM usqlrw_meta.schemas WHERE db = ? AND name = ?", q.database, q.schema)
            return
        if k not in (A.ObjectKind.TABLE, A.ObjectKind.VIEW, A.ObjectKind.TVF, A.ObjectKind.PROCEDURE,
                     A.ObjectKind.TYPE):
            raise CannotRun(f"DROP {k} is not supported by the engine", s)
        q = qualify(s.object, job.ctx)
        row = self._object(q)
        if row is None or row[0] != k.value:
            if s.if_exists:
                return
            what = {"tvf": "function"}.get(k.value, k.value)
            raise JobFailed(f"the {what} {q} does not exist", s.object)
        if k is A.ObjectKind.TABLE:
            self.e.execute("DROP TABLE " + self.e.sql(_tbl(q.database, q.schema, q.name)), s)
            self._q("DELETE FROM usqlrw_meta.partitions WHERE db = ? AND sch = ? AND name = ?", q.database,
                    q.schema, q.name)
        self._q("DELETE FROM usqlrw_meta.objects WHERE db = ? AND sch = ? AND name = ?", q.database, q.schema, q.name)

    # data
    def _labels(self, job, labels, part, node):
        out = []
        for lab in labels:
            vals = []
            for v in lab.values:
                e, _ = job.lw.expr(v, Scope())
                vals.append(self.e.scalar(exp.select(e), v))
            if len(vals) != len(part):
                raise JobFailed(f"the partition label needs {len(part)} values", lab)
            out.append(json.dumps(vals, default=str))
        return out

    def _has_partition(self, q, label):
        return bool(self._q("SELECT 1 FROM usqlrw_meta.partitions WHERE db = ? AND sch = ? AND name = ? AND label = ?",
                            q.database, q.schema, q.name, label))

    def add_partitions(self, job, s):
        q, cols, part = self._table(job, s.table, s)
        if not part:
            raise JobFailed(f"the table {q} is not partitioned", s)
        for label in self._labels(job, s.partitions, part, s):
            if self._has_partition(q, label):
                if s.if_not_exists:
                    continue
                raise JobFailed(f"the partition {label} of {q} already exists", s)
            self._q("INSERT INTO usqlrw_meta.partitions VALUES (?, ?, ?, ?)", q.database, q.schema, q.name, label)

    def drop_partitions(self, job, s):
        q, cols, part = self._table(job, s.table, s)
        types = dict(cols)
        for label, lab in zip(self._labels(job, s.partitions, part, s), s.partitions):
            if not self._has_partition(q, label):
                if s.if_exists:
                    continue
                raise JobFailed(f"the partition {label} of {q} does not exist", lab)
            self._delete_partition(q, part, types, label, s)
            self._q("DELETE FROM usqlrw_meta.partitions WHERE db = ? AND sch = ? AND name = ? AND label = ?",
                    q.database, q.schema, q.name, label)

    def _partition_match(self, part, types, label, alias=None):
        vals = json.loads(label)
        conds = [exp.NullSafeEQ(this=col(c, alias), expression=exp.Cast(this=exp.Literal.string(str(v)) if v is not None
                                                                       else exp.Null(), to=exp.DataType.build(types[c].sql())))
                 for c, v in zip(part, vals)]
        return exp.and_(*conds) if conds else exp.true()

    def _delete_partition(self, q, part, types, label, node):
        self.e.execute(exp.Delete(this=_tbl(q.database, q.schema, q.name),
                                  where=exp.Where(this=self._partition_match(part, types, label))), node)

    def truncate(self, job, s):
        q, cols, part = self._table(job, s.table, s)
        if s.partitions:
            for label, lab in zip(self._labels(job, s.partitions, part, s), s.partitions):
                if not self._has_partition(q, label):
                    raise JobFailed(f"the partition {label} of {q} does not exist", lab)
                self._delete_partition(q, part, dict(cols), label, s)
            return
        self.e.execute(exp.Delete(this=_tbl(q.database, q.schema, q.name)), s)

    def insert(self, job, s: A.Insert):
        q, cols, part = self._table(job, s.table, s)
        types = dict(cols)
        rs = job.lw.query(s.source)
        target = [c.name for c in s.columns] if s.columns else [c for c, _ in cols]
        for c in target:
            if c not in types:
                raise JobFailed(f"the table {q} has no column {c}", s)
        label = None
        if s.partition is not None:
            if not part:
                raise JobFailed(f"the table {q} is not partitioned: remove PARTITION", s.partition)
            label = self._labels(job, [s.partition], part, s)[0]
            if not self._has_partition(q, label):
                raise JobFailed(f"the partition {label} of {q} does not exist: ALTER TABLE ADD PARTITION first",
                                s.partition)
            target = [c for c in target if c not in part] if not s.columns else target
        elif part and s.integrity is None:
            raise JobFailed(f"the table {q} is partitioned: INSERT needs PARTITION (...) or ON INTEGRITY VIOLATION", s)
        if len(target) != len(rs.columns):
            raise JobFailed(f"INSERT names {len(target)} columns, the source has {len(rs.columns)}", s)
        for c, (_, st) in zip(target, rs.columns):
            tt = types[c]
            if st.name != tt.name and not (st.is_numeric and tt.is_numeric) and st.name != "null":
                raise JobFailed(f"column {c} is {tt}, the source gives {st}", s)
        sub = job.lw.fresh("ins")
        items = {c: col(sc, sub) for c, (sc, _) in zip(target, rs.columns)}
        if label is not None:
            for c, v in zip(part, json.loads(label)):
                items[c] = exp.Cast(this=exp.Literal.string(str(v)) if v is not None else exp.Null(),
                                    to=exp.DataType.build(types[c].sql()))
        select_items = []
        for c, t in cols:
            v = items.get(c)
            if v is None:
                if not t.may_be_null:
                    raise JobFailed(f"the non-nullable column {c} gets no value", s)
                v = exp.Null()
            if not t.may_be_null:
                v = exp.Case(ifs=[exp.If(this=exp.Is(this=v, expression=exp.Null()),
                                         true=job.lw.error(f"null inserted into the non-nullable column {c}", s))],
                             default=v)
            select_items.append(exp.alias_(exp.Cast(this=v, to=exp.DataType.build(t.sql())), ident(c)))
        sel = exp.select(*select_items).from_(exp.Subquery(this=rs.expr, alias=ident(sub)))
        if s.integrity is not None and label is None:
            labels = [json.loads(r[0]) for r in self._q(
                "SELECT label FROM usqlrw_meta.partitions WHERE db = ? AND sch = ? AND name = ?", q.database, q.schema, q.name)]
            fits = [self._partition_match(part, types, json.dumps(lb), None) for lb in labels]
            inner = exp.Subquery(this=sel, alias=ident(job.lw.fresh("chk")))
            ok = exp.or_(*fits) if fits else exp.false()
            act = s.integrity.action
            if isinstance(act, A.MoveViolation):
                mv = self._labels(job, [act.partition], part, s)[0]
                if not self._has_partition(q, mv):
                    raise JobFailed(f"the partition {mv} of {q} does not exist", act)
                mvals = json.loads(mv)
                proj = []
                for c, t in cols:
                    if c in part:
                        v = exp.Cast(this=exp.Literal.string(str(mvals[part.index(c)])), to=exp.DataType.build(t.sql()))
                        proj.append(exp.alias_(exp.Case(ifs=[exp.If(this=ok, true=col(c))], default=v), ident(c)))
                    else:
                        proj.append(col(c))
                sel = exp.select(*proj).from_(inner)
            else:
                sel = exp.select(*[col(c) for c, _ in cols]).from_(inner).where(ok)
        self.e.execute(exp.Insert(this=_tbl(q.database, q.schema, q.name), expression=sel), s)

    def add_columns(self, job, s):
        """New columns: null in the existing rows, or the type's default for a not-nullable type
        (alter-table-u-sql.md)."""
        q, cols, part = self._table(job, s.table, s)
        table = self.e.sql(_tbl(q.database, q.schema, q.name))
        for c in s.columns:
            t = Ty.from_ast(c.type)
            if c.name.name in dict(cols):
                raise JobFailed(f"the table {q} already has a column {c.name.name}", c)
            default = "" if t.may_be_null else " DEFAULT " + _DEFAULTS.get(t.name, "0")
            self.e.execute(f"ALTER TABLE {table} ADD COLUMN {self.e.sql(ident(c.name.name))} {t.sql()}{default}", s)
            cols.append((c.name.name, t))
        self._save_columns(q, cols)

    def drop_columns(self, job, s):
        q, cols, part = self._table(job, s.table, s)
        for c in s.columns:
            if c.name not in dict(cols):
                raise JobFailed(f"the table {q} has no column {c.name}", c)
            if c.name in self._keys(q):
                raise JobFailed(f"the column {c.name} is used by the table's index, partitioning or "
                                "distribution and cannot be dropped", c)
            self.e.execute(f"ALTER TABLE {self.e.sql(_tbl(q.database, q.schema, q.name))} DROP COLUMN "
                           f"{self.e.sql(ident(c.name))}", s)
            cols = [x for x in cols if x[0] != c.name]
        self._save_columns(q, cols)

    def _save_columns(self, q, cols):
        self._q("UPDATE usqlrw_meta.objects SET columns = ? WHERE db = ? AND sch = ? AND name = ?",
                json.dumps([[c, str(t)] for c, t in cols]), q.database, q.schema, q.name)
