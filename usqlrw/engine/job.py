"""One U-SQL script run as one job: statements in order, all or nothing.

The catalog changes run in one transaction; outputs are written to temporary files beside their
targets. When every statement succeeded the transaction commits and the files are renamed into
place; otherwise both are rolled back: a failed job leaves no partial output and no partial table
change. Names are resolved with :func:`usqlrw.resolve.qualify`."""
from __future__ import annotations

import datetime as _dt
import glob
import os

from .. import ast as A
from ..resolve import Context, qualify
from . import types as Ty
from .catalog import Catalog
from .errors import CannotRun, EngineError, JobFailed
from .lower import Lowerer, Rowset, Scope
from .sqlbuild import exp, ident, lit
from .types import UType

__all__ = ["Job"]


class Job:
    def __init__(self, script: A.Script, store, engine, params: dict | None = None, path: str | None = None):
        self.script, self.store, self.engine = script, store, engine
        self.params = dict(params or {})
        self.path = path
        self.now = _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None)
        self.vars: dict = {}
        self.rowsets: dict = {}
        self.ctx = Context()
        self.lw = Lowerer(self)
        self.catalog = getattr(engine, "catalog_class", Catalog)(engine)
        self.outputs: list = []         # (temp path, final path)
        self.written: set = set()
        self.readers: dict = {}         # input file -> the EXTRACT that reads it (for errors)
        self.made_dirs: list = []       # folders the outputs created (removed again if the job fails)
        self.functions: dict = {}       # DECLARE FUNCTION @f
        self._uses: dict = {}           # rowset variable -> how many places read it
        for ref in A.find_all(script, A.RowsetRef):
            self._uses[ref.variable.name] = self._uses.get(ref.variable.name, 0) + 1

    # -- what the lowering asks ----------------------------------------------------------------
    def rowset(self, name: str, node) -> Rowset:
        rs = self.rowsets.get(name)
        if rs is None:
            raise EngineError(f"the rowset {name} is not defined before this statement", node)
        return rs

    def scalar(self, name: str, node):
        v = self.vars.get(name)
        if v is None:
            raise EngineError(f"the variable {name} is not declared before this statement", node)
        return v

    def table_rowset(self, name: A.ObjectName) -> Rowset:
        q = qualify(name, self.ctx, "table")
        return self.catalog.rowset(q, name, self)

    def call_tvf(self, node):
        from .routines import call_tvf
        return call_tvf(self, node)

    def location(self, e) -> str:
        v, t = self.lw.expr(e, Scope())
        if not t.is_string:
            raise EngineError(f"a file location must be a string, this is {t}", e)
        value = self.engine.scalar(exp.select(v), e)
        if value is None:
            raise JobFailed("the file location is null", e)
        return self.store.local(value, e)

    def input_files(self, globs, node, patterns=None) -> list:
        """The files of each glob (``patterns``: the same paths with their file set braces)."""
        files = []
        for i, g in enumerate(globs):
            if "*" in g:
                hit = sorted(p for p in glob.glob(g) if os.path.isfile(p))
            else:
                hit = [g] if os.path.isfile(g) else []
            if not hit:
                rel = os.path.relpath(patterns[i] if patterns else g, self.store.root)
                raise JobFailed(f"no input file {rel} in the store" if "*" not in g
                                else f"no input file matches the file set {rel}", node)
            files.extend(hit)
        for f in files:
            self.readers.setdefault(f, node)
        return files

    # -- running -----------------------------------------------------------------------------------
    def run(self) -> None:
        from .runnable import blockers
        found = blockers(self.script)
        if found:
            raise found[0]
        self.engine.begin()
        try:
            if self.engine.persistent:
                self.catalog.ensure()
            self.statements(self.script.statements)
        except BaseException:
            self.engine.rollback()
            for tmp, _ in self.outputs:
                try:
                    os.remove(tmp)
                except OSError:
                    pass
            for d in reversed(self.made_dirs):
                try:
                    os.rmdir(d)
                except OSError:
                    pass
            raise
        self.engine.commit()
        for tmp, final in self.outputs:
            os.replace(tmp, final)

    def statements(self, stmts) -> None:
        for s in stmts:
            m = getattr(self, "s_" + type(s).__name__, None)
            if m is None:
                raise CannotRun(f"the statement {s.kind} is not supported by the engine", s)
            try:
                m(s)
            except JobFailed as e:
                reader = self.readers.get(getattr(e, "file", None))
                if reader is not None:          # a bad input file: point at the EXTRACT that reads it
                    e.span = reader.span
                    for c in getattr(reader, "columns", ()):
                        if isinstance(c, A.ColumnDefinition) and c.name.name == getattr(e, "bad_column", None):
                            e.span = c.span     # ... and at the column that does not convert
                raise

    def s_UseDatabase(self, s):
        q = qualify(s.database, self.ctx)
        self.catalog.require_database(q.database, s)
        self.ctx = Context(q.database)

    def s_UseSchema(self, s):
        q = qualify(s.schema, self.ctx)
        self.catalog.require_schema(q.database, q.schema, s)
        self.ctx = Context(q.database, q.schema, True)

    def s_Declare(self, s: A.Declare):
        name = s.variable.name
        if name in self.vars and not s.external:
            raise EngineError(f"the variable {name} is declared twice", s.variable)
        if s.external and name in self.vars:
            return
        declared = Ty.from_ast(s.type) if s.type is not None else None
        if s.external and name.lstrip("@") in self.params:
            t = declared or Ty.STRING
            self.vars[name] = self._param(name, self.params[name.lstrip("@")], t, s)
            return
        e, t = self.lw.expr(s.value, Scope())
        if declared is not None:
            if declared.name != t.name and t.name != "null":
                if declared.is_numeric and t.is_numeric:
                    e = exp.Cast(this=e, to=exp.DataType.build(declared.sql()))
                else:
                    raise EngineError(f"the value of {name} is {t}, not {declared}", s.value)
            t = declared
        value = self.engine.scalar(exp.select(e), s)
        self.vars[name] = (self._literal(value, t), t)

    def _param(self, name, text: str, t: UType, node):
        try:
            if t.is_string:
                v = text
            elif t.name == "bool":
                if text.lower() not in ("true", "false"):
                    raise ValueError
                v = text.lower() == "true"
            elif t.is_integral:
                v = int(text)
            elif t.name in ("double", "float"):
                v = float(text)
            elif t.name == "decimal":
                import decimal
                v = decimal.Decimal(text)
            elif t.name == "DateTime":
                v = _dt.datetime.fromisoformat(text)
            else:
                raise CannotRun(f"a parameter of type {t} cannot be set with -p", node)
        except (ValueError, ArithmeticError):
            raise EngineError(f"-p {name.lstrip('@')}={text}: not a valid {t}", node) from None
        return self._literal(v, t), t

    def _literal(self, value, t: UType):
        if value is None:
            return exp.Cast(this=exp.Null(), to=exp.DataType.build(t.sql())) if t.name != "null" else exp.Null()
        if t.is_string or t.name == "char":
            return exp.Literal.string(value)
        if t.name == "bool":
            return exp.Boolean(this=bool(value))
        if t.name == "DateTime":
            return exp.Cast(this=lit(value.isoformat(sep=" ")), to=exp.DataType.build("TIMESTAMP"))
        if t.is_numeric:
            text = str(value)
            num = exp.Literal.string(text) if text in ("inf", "-inf", "nan") else exp.Literal.number(text)
            return exp.Cast(this=num, to=exp.DataType.build(t.sql()))
        if t.name == "array":
            return exp.Cast(this=exp.Array(expressions=[self._literal(x, t.args[0]) for x in value]),
                            to=exp.DataType.build(t.sql()))
        if t.name == "Guid":
            return exp.Cast(this=lit(str(value)), to=exp.DataType.build("UUID"))
        if t.name == "map":
            keys, vals = list(value.keys()), list(value.values())
            return exp.Cast(this=exp.Anonymous(this="map", expressions=[
                exp.Array(expressions=[self._literal(k, t.args[0]) for k in keys]),
                exp.Array(expressions=[self._literal(v, t.args[1]) for v in vals])]), to=exp.DataType.build(t.sql()))
        if t.name == "TimeSpan":
            return exp.Cast(this=lit(int(value)), to=exp.DataType.build("BIGINT"))
        return lit(value)

    def s_Return(self, s):
        from .routines import ReturnFromRoutine
        if getattr(self, "depth", 0) == 0:
            raise EngineError("RETURN outside a function or procedure", s)
        raise ReturnFromRoutine()

    def s_SetOption(self, s):
        return None

    def s_UsingDirective(self, s):
        return None

    def s_ReferenceAssembly(self, s):
        if not s.system:
            raise CannotRun(f"REFERENCE ASSEMBLY {s.assembly.written}: user code is not supported by the engine", s)

    def s_If(self, s: A.If):
        """The branch whose static condition holds runs; its DECLAREs end with it, its rowsets
        stay (if-else-u-sql.md)."""
        chosen = None
        for b in s.branches:
            c = self.lw.condition(b.condition, Scope())
            if self.engine.scalar(exp.select(c), b):
                chosen = b.statements
                break
        else:
            chosen = s.otherwise.statements if s.otherwise is not None else ()
        declared = set(self.vars)
        try:
            self.statements(chosen)
        finally:
            for name in set(self.vars) - declared:
                del self.vars[name]

    def s_RowsetAssignment(self, s: A.RowsetAssignment):
        if len(s.targets) != 1:
            raise CannotRun("a statement assigning several rowsets is not supported by the engine", s)
        rs = self.lw.query(s.query)
        target = s.targets[0].name
        if any(True for _ in A.find_all(s.query, A.TableRef)) or self._uses.get(target, 0) > 1:
            # a rowset that reads the catalog sees the tables as they are at this statement; one read
            # more than once is computed once (ROW_NUMBER, NewGuid and the files give one answer)
            name = self.lw.fresh("snap")
            self.engine.execute(exp.Create(this=exp.Table(this=ident(name)), kind="TABLE",
                                           properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
                                           expression=rs.expr), s)
            from .sqlbuild import col
            rs = Rowset(exp.select(*[col(c) for c, _ in rs.columns]).from_(exp.Table(this=ident(name))), rs.columns)
        self.rowsets[target] = rs

    def source_rowset(self, src) -> Rowset:
        if isinstance(src, A.RowsetRef):
            return self.rowset(src.variable.name, src)
        if isinstance(src, A.TableRef):
            return self.table_rowset(src.table)
        if isinstance(src, A.Subquery):
            return self.lw.query(src.query)
        if isinstance(src, A.TvfCall):
            return self.call_tvf(src)
        raise CannotRun(f"OUTPUT of {src.kind} is not supported by the engine", src)

    def s_Output(self, s: A.Output):
        from .formats import Writer, output_options
        opts = output_options(s.using)
        rs = self.source_rowset(s.rowset)
        if s.order_by is not None or s.offset_fetch is not None:
            rs = self.lw.order_fetch(rs, s.order_by, s.offset_fetch)
        final = self.location(s.target)
        if final in self.written:
            raise EngineError("the job writes this file twice", s.target)
        self.written.add(final)
        d, missing = os.path.dirname(final), []
        while not os.path.isdir(d):
            missing.append(d)
            d = os.path.dirname(d)
        tmp = os.path.join(os.path.dirname(final), f".{os.path.basename(final)}.usqlrw-{os.getpid()}.tmp")
        try:
            os.makedirs(os.path.dirname(final), exist_ok=True)
            self.made_dirs.extend(reversed(missing))
            self.outputs.append((tmp, final))
            w = Writer(tmp, rs.columns, opts, s)
        except OSError as e:
            raise JobFailed(f"cannot write {os.path.relpath(final, self.store.root)}: {e.strerror or e}", s.target) from None
        try:
            cur = self.engine.execute(rs.expr, s)
            while True:
                rows = self.engine.fetch(cur, 10000, s)
                if not rows:
                    break
                try:
                    w.write(rows)
                except UnicodeEncodeError as e:
                    raise JobFailed(f"a value cannot be written in the output encoding ({e.reason})", s) from None
        finally:
            w.close()

    # -- catalog statements ------------------------------------------------------------------------
    def s_CreateDatabase(self, s):
        self.catalog.create_database(qualify(s.database, self.ctx).database, bool(s.if_not_exists), s)

    def s_CreateSchema(self, s):
        q = qualify(s.schema, self.ctx)
        self.catalog.create_schema(q.database, q.schema, bool(s.if_not_exists), s)

    def s_CreateTable(self, s: A.CreateTable):
        self.catalog.create_table(self, s)

    def s_Insert(self, s: A.Insert):
        self.catalog.insert(self, s)

    def s_TruncateTable(self, s):
        self.catalog.truncate(self, s)

    def s_Drop(self, s: A.Drop):
        self.catalog.drop(self, s)

    def s_CreateView(self, s):
        self.catalog.create_view(self, s)

    def s_AlterTableAddColumn(self, s):
        self.catalog.add_columns(self, s)

    def s_AlterTableDropColumn(self, s):
        self.catalog.drop_columns(self, s)

    def s_AlterTableAddPartition(self, s):
        self.catalog.add_partitions(self, s)

    def s_AlterTableDropPartition(self, s):
        self.catalog.drop_partitions(self, s)

    # -- routines and types ------------------------------------------------------------------------
    def s_CreateFunction(self, s):
        from .routines import create_routine
        create_routine(self, s, "tvf")

    def s_CreateProcedure(self, s):
        from .routines import create_routine
        create_routine(self, s, "procedure")

    def s_CreateType(self, s):
        from .routines import create_type
        create_type(self, s)

    def s_DeclareFunction(self, s):
        from .routines import declare_function
        declare_function(self, s)

    def s_ProcedureCall(self, s):
        from .routines import call_procedure
        call_procedure(self, s)
