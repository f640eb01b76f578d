"""Column inference for queries: the names and types of the columns a query produces, from the
rowsets assigned before it, the catalog model and literal types. Used by the catalog model (CREATE
TABLE AS, views) and by the replication jobs (what a write stages)."""
from __future__ import annotations

from .. import ast as A
from ..resolve import Context
from .model import Column, Model, norm_type, resolve_name

__all__ = ["infer_columns"]


def _literal_type(n) -> str | None:
    if isinstance(n, A.StringLiteral):
        return "string"
    if isinstance(n, A.BoolLiteral):
        return "bool"
    if isinstance(n, A.CharLiteral):
        return "char"
    if isinstance(n, A.NumberLiteral):
        t = n.text.lower()
        if t.endswith("ul") or t.endswith("lu"):
            return "ulong"
        if t.endswith("l"):
            return "long"
        if t.endswith("m"):
            return "decimal"
        if t.endswith("f"):
            return "float"
        if t.endswith("d") or "." in t or "e" in t:
            return "double"
        return "int"
    return None


def infer_columns(query, rowsets: dict, model: Model | None, ctx: Context | None):
    """[Column] (type may be None when unknown) of what ``query`` produces, or None if even the
    names cannot be told. ``rowsets`` maps rowset variables (lower) to their inferred columns."""
    ctx = ctx or Context()
    if isinstance(query, A.Extract):
        out = []
        for c in query.columns:
            if isinstance(c, A.ColumnDefinition):
                out.append(Column(c.name.name, norm_type(c.type)))
            elif isinstance(c, A.VirtualColumn):
                out.append(Column(c.name.name, None))
            else:
                return None
        return out
    if isinstance(query, A.SetOperation):
        # UNION/EXCEPT/INTERSECT: the columns are named by the left side (by position; BY NAME
        # too, OUTER UNION adds the right side's other columns, which cannot be told in order)
        op = query.operator
        if op is None or (op.operator is not None and "OUTER" in op.operator.text.upper()):
            return None
        left = infer_columns(query.left, rowsets, model, ctx)
        if left is None:
            return None
        right = infer_columns(query.right, rowsets, model, ctx) if op.by_name is None else None
        if right is not None and len(right) == len(left):
            return [Column(a.name, a.type or b.type) for a, b in zip(left, right)]
        return left
    if not isinstance(query, A.Select):
        return None
    frm = query.from_
    srcs = {}
    order = []
    if frm is not None:
        for it in _from_items(frm):
            cols, alias = _source_columns(it, rowsets, model, ctx)
            srcs[alias.lower() if alias else f"#{len(srcs)}"] = cols
            order.append(cols)
    if not query.items:
        return None
    out = []
    for item in query.items:
        expr, alias = item, None
        if isinstance(item, A.AliasedItem):
            expr = item.expr
            alias = item.alias.name if item.alias is not None else None
        if isinstance(expr, A.Star):
            if len(order) != 1 or order[0] is None:
                return None
            out += [Column(c.name, c.type) for c in order[0]]
            continue
        if isinstance(expr, A.QualifiedStar):
            q = next((x for x in A.walk(expr) if isinstance(x, A.Identifier)), None)
            cols = srcs.get(q.name.lower()) if q else None
            if cols is None:
                return None
            out += [Column(c.name, c.type) for c in cols]
            continue
        name, typ = alias, None
        if isinstance(expr, A.Name):
            name = name or expr.ident.name
            typ = _lookup(expr.ident.name, None, srcs, order)
        elif isinstance(expr, A.MemberAccess) and isinstance(expr.member, A.Identifier):
            name = name or expr.member.name
            if isinstance(expr.target, A.Name):
                typ = _lookup(expr.member.name, expr.target.ident.name, srcs, order)
        elif isinstance(expr, A.Cast):
            typ = norm_type(expr.type)
        elif isinstance(expr, A.Call) and isinstance(expr.func, A.Name):
            fn = expr.func.ident.name.upper()
            if fn in ("COUNT", "COUNT_BIG"):
                typ = "long"
            elif fn in ("SUM", "MIN", "MAX", "FIRST", "LAST", "ANY_VALUE") and len(expr.args) == 1:
                a = expr.args[0]
                if isinstance(a, A.Name):
                    typ = _lookup(a.ident.name, None, srcs, order)
                elif isinstance(a, A.MemberAccess) and isinstance(a.target, A.Name) and isinstance(
                        a.member, A.Identifier):
                    typ = _lookup(a.member.name, a.target.ident.name, srcs, order)
        else:
            typ = _literal_type(expr)
        if name is None:
            return None
        out.append(Column(name, typ))
    return out


def _from_items(frm):
    x = frm.source
    if x is None:
        return []
    if isinstance(x, (A.RowsetRef, A.TableRef, A.TvfCall, A.Subquery)):
        return [x]
    # joins and the like: their operands, in order
    return [y for y in A.walk(x) if y is not x and isinstance(y, (A.RowsetRef, A.TableRef))]


def _alias_name(node) -> str | None:
    a = getattr(node, "alias", None)
    return a.name.name if isinstance(a, A.Alias) and a.name is not None else None


def _source_columns(it, rowsets, model, ctx):
    if isinstance(it, A.RowsetRef):
        return rowsets.get(it.variable.name.lower()), _alias_name(it) or it.variable.name
    if isinstance(it, A.TableRef):
        names = it.table.names
        cols = None
        if model is not None:
            db, sch, nm = resolve_name(it.table, ctx, "table")
            t = model.table(db, sch, nm) or model.get("view", db, sch, nm)
            if t is not None and t.columns:
                cols = list(t.columns)
        return cols, _alias_name(it) or names[-1]
    if isinstance(it, A.TvfCall) and model is not None:
        db, sch, nm = resolve_name(it.function, ctx, "tvf")
        f = model.get("tvf", db, sch, nm)
        return (list(f.columns) if f is not None and f.columns else None), _alias_name(it)
    return None, _alias_name(it)


def _lookup(col, qualifier, srcs, order):
    pools = [srcs.get(qualifier.lower())] if qualifier else order
    for cols in pools:
        for c in cols or ():
            if c.name.lower() == col.lower():
                return c.type
    return None


# -- the plan -------------------------------------------------------------------------------------
