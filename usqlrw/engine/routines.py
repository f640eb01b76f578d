"""Table-valued functions (catalog and DECLARE FUNCTION), procedures and table types.

A routine's body runs in a job of its own that shares the engine, the store, the transaction
and the outputs of the calling job: its parameters are its only variables, and its names
resolve in the context of its CREATE statement (create-function-u-sql-table-valued-function.md,
create-procedure-u-sql.md). The catalog keeps a routine's source text and context and parses it
again where it is called."""
from __future__ import annotations

import json

from .. import ast as A
from ..resolve import Context, qualify
from . import types as Ty
from .errors import CannotRun, EngineError, JobFailed
from .lower import Rowset, Scope
from .sqlbuild import col, exp, ident

__all__ = ["create_routine", "create_type", "call_tvf", "call_procedure", "declare_function", "type_columns"]


class ReturnFromRoutine(Exception):
    """RETURN in a routine body: the body ends there."""


def _body(sub, routine):
    try:
        sub.statements(routine.body)
    except ReturnFromRoutine:
        pass


def _source(job, node) -> str:
    src = job.script.source.text if job.script.source is not None else None
    if src is None:
        raise CannotRun(f"{node.kind} needs the script's text", node)
    return src[node.span.start:node.span.end]


def create_routine(job, s: A.Routine, kind: str):
    cat = job.catalog
    q = qualify(s.routine, job.ctx)
    cat.require_schema(q.database, q.schema, s)
    if cat._object(q) is not None:
        if s.if_not_exists:
            return
        raise JobFailed(f"the {kind} {q} already exists", s.routine)
    for p in s.params:
        if not isinstance(p.type, A.Type):
            raise CannotRun("table-typed parameters are not supported by the engine", p)
        Ty.from_ast(p.type)
    text = _source(job, s) + ";"
    ctx = json.dumps([job.ctx.database, job.ctx.schema])
    cat._q("INSERT INTO usqlrw_meta.objects VALUES (?, ?, ?, ?, ?, ?, ?)", q.database, q.schema, q.name, kind,
           "[]", text, ctx)


def create_type(job, s: A.CreateType):
    cat = job.catalog
    q = qualify(s.type, job.ctx)
    cat.require_schema(q.database, q.schema, s)
    if cat._object(q) is not None:
        if s.if_not_exists:
            return
        raise JobFailed(f"the type {q} already exists", s.type)
    cols = [[c.name.name, str(Ty.from_ast(c.type))] for c in s.columns]
    cat._q("INSERT INTO usqlrw_meta.objects VALUES (?, ?, ?, 'type', ?, NULL, '[]')", q.database, q.schema,
           q.name, json.dumps(cols))


def type_columns(job, ref) -> list | None:
    """The declared columns of a RETURNS rowset or parameter type (None when not declared)."""
    if ref is None:
        return None
    if isinstance(ref, A.AnonymousTableType):
        return [(c.name.name, Ty.from_ast(c.type)) for c in ref.columns]
    if isinstance(ref, A.TableTypeRef):
        q = qualify(ref.name, job.ctx)
        row = job.catalog._object(q)
        if row is None or row[0] != "type":
            raise JobFailed(f"the table type {q} does not exist", ref)
        return job.catalog._columns(row)
    raise CannotRun(f"{ref.kind} is not supported by the engine", ref)


def _load(job, name: A.ObjectName, kind: str, node):
    q = qualify(name, job.ctx, kind)
    row = job.catalog._object(q)
    if row is None or row[0] != kind:
        what = "table-valued function" if kind == "tvf" else kind
        raise JobFailed(f"the {what} {q} does not exist", node)
    import usqlrw
    script = usqlrw.parse(row[2])
    db, sch = json.loads(row[3])
    return script, script.statements[0], Context(db, sch, sch != "dbo")


def _sub_job(job, script, routine, ctx, args, node):
    sub = type(job)(script, job.store, job.engine, {}, job.path)   # a job of the caller's kind
    sub.now, sub.catalog, sub.outputs, sub.written, sub.readers = job.now, job.catalog, job.outputs, job.written, job.readers
    sub.made_dirs = job.made_dirs
    sub.lw._n = job.lw._n + 1000
    sub.ctx = ctx
    sub.depth = getattr(job, "depth", 0) + 1
    if sub.depth > 32:
        raise JobFailed("routines call each other more than 32 deep", node)
    params = routine.params
    if len(args) > len(params):
        raise EngineError(f"{len(args)} arguments for {len(params)} parameters", node)
    for i, p in enumerate(params):
        t = Ty.from_ast(p.type)
        a = args[i] if i < len(args) else None
        src = p.default if a is None or isinstance(a, A.DefaultArgument) else a
        lw = sub.lw if src is p.default else job.lw
        if src is None:
            raise EngineError(f"no value for the parameter {p.variable.name}", node)
        e, et = lw.expr(src, Scope())
        if et.name != t.name and not (et.is_numeric and t.is_numeric) and et.name != "null":
            raise EngineError(f"the parameter {p.variable.name} is {t}, the argument is {et}", src)
        value = job.engine.scalar(exp.select(exp.Cast(this=e, to=exp.DataType.build(t.sql()))), src)
        sub.vars[p.variable.name] = (sub._literal(value, t), t)
    return sub


def _finish(job, sub):
    job.lw._n = max(job.lw._n, sub.lw._n)


def call_tvf(job, node: A.TvfCall) -> Rowset:
    fn = node.function
    if fn.variable is not None:
        decl = job.functions.get(fn.variable.name)
        if decl is None:
            raise EngineError(f"the function {fn.variable.name} is not declared before this statement", node)
        script, routine, ctx = job.script, decl, job.ctx.copy()
    else:
        script, routine, ctx = _load(job, fn, "tvf", node)
    sub = _sub_job(job, script, routine, ctx, list(node.args), node)
    try:
        _body(sub, routine)
    finally:
        _finish(job, sub)
    if routine.returns is None or len(routine.returns.rowsets) != 1:
        raise CannotRun("a function returning several rowsets is not supported by the engine", node)
    ret = routine.returns.rowsets[0]
    rs = sub.rowsets.get(ret.variable.name)
    if rs is None:
        raise JobFailed(f"the function does not assign its result {ret.variable.name}", node)
    declared = type_columns(sub, ret.type)
    if declared is not None:
        if [c for c, _ in declared] != [c for c, _ in rs.columns]:
            raise JobFailed(f"the function's result has columns {', '.join(rs.names())}, RETURNS declares "
                            f"{', '.join(c for c, _ in declared)}", node)
        sub_alias = job.lw.fresh("f")
        rs = Rowset(exp.select(*[exp.alias_(exp.Cast(this=col(c, sub_alias), to=exp.DataType.build(t.sql())), ident(c))
                                 for c, t in declared]).from_(exp.Subquery(this=rs.expr, alias=ident(sub_alias))),
                    declared)
    return rs


def call_procedure(job, s: A.ProcedureCall):
    script, routine, ctx = _load(job, s.procedure, "procedure", s)
    sub = _sub_job(job, script, routine, ctx, list(s.args), s)
    try:
        _body(sub, routine)
    finally:
        _finish(job, sub)


def declare_function(job, s: A.DeclareFunction):
    job.functions[s.variable.name] = s
