"""Lowering: the typed U-SQL tree -> engine-neutral sqlglot trees, with C# types inferred.

One visitor per construct (``q_Select``, ``e_BinaryOp``...); a construct without one fails with
:class:`CannotRun` naming it. The semantics traps of U-SQL each have one named lowering here:
two-valued ``==``/``!=`` (:meth:`Lowerer.equals`), comparisons false on null
(:meth:`Lowerer.two_valued`), ``"a" + null`` (:meth:`Lowerer.concat`), integer division
(:meth:`Lowerer.divide`), nulls sorted last (:meth:`Lowerer.ordered`). C# members are in
:mod:`usqlrw.engine.csharp`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .. import ast as A
from . import types as Ty
from .errors import CannotRun, EngineError
from .sqlbuild import T, col, exp, ident, lit
from .rowset import Rowset
from .types import UType

__all__ = ["Rowset", "Relation", "Scope", "Lowerer", "AGGREGATES", "WINDOW_ONLY"]


@dataclass
class Relation:
    """A source visible in a FROM scope: its U-SQL name, its SQL alias and its columns
    (``rename``: U-SQL column -> SQL column where they differ)."""
    name: str
    alias: str
    columns: list
    rename: dict = field(default_factory=dict)

    def ref(self, c: str) -> exp.Column:
        return col(self.rename.get(c, c), self.alias)


@dataclass
class Scope:
    relations: list = field(default_factory=list)
    lambdas: dict = field(default_factory=dict)     # lambda parameter -> (expression, type)

    def find(self, name: str, node) -> tuple:
        if name in self.lambdas:
            return self.lambdas[name]
        hits = [(r, t) for r in self.relations for c, t in r.columns if c == name]
        if not hits:
            raise EngineError(f"unknown column {name}", node)
        if len(hits) > 1:
            raise EngineError(f"column {name} is ambiguous: qualify it with a rowset alias", node)
        r, t = hits[0]
        return r.ref(name), t

    def relation(self, name: str) -> Relation | None:
        for r in self.relations:
            if r.name == name:
                return r
        return None


# U-SQL built-in aggregates and analytic functions: name -> result type rule
AGGREGATES = {"COUNT", "SUM", "AVG", "MIN", "MAX", "ARRAY_AGG", "MAP_AGG", "ANY_VALUE", "STDEV", "STDEVP",
              "VAR", "VARP", "FIRST_VALUE", "LAST_VALUE", "LAG", "LEAD", "ROW_NUMBER", "RANK", "DENSE_RANK",
              "NTILE", "CUME_DIST", "PERCENT_RANK", "PERCENTILE_CONT", "PERCENTILE_DISC"}
WINDOW_ONLY = {"FIRST_VALUE", "LAST_VALUE", "LAG", "LEAD", "ROW_NUMBER", "RANK", "DENSE_RANK", "NTILE",
               "CUME_DIST", "PERCENT_RANK"}
_SIMPLE_AGG = {"STDEV": "stddev_samp", "STDEVP": "stddev_pop", "VAR": "var_samp", "VARP": "var_pop",
               "MIN": "min", "MAX": "max", "ROW_NUMBER": "row_number", "RANK": "rank",
               "DENSE_RANK": "dense_rank", "NTILE": "ntile", "CUME_DIST": "cume_dist",
               "PERCENT_RANK": "percent_rank", "FIRST_VALUE": "first_value", "LAST_VALUE": "last_value",
               "LAG": "lag", "LEAD": "lead"}
_COMPARE = {"<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}


def _name(n) -> str:
    return n.name if isinstance(n, A.Identifier) else n.ident.name


class Lowerer:
    """Lowers queries and expressions of one job. ``job`` answers what the tree alone does not:
    rowset variables, scalar variables, catalog tables and views, files of the store."""

    def __init__(self, job):
        self.job = job
        self._n = 0
        self._groups: list = []      # (GROUP BY expression, its lowering) while a grouped SELECT is lowered

    # -- helpers ---------------------------------------------------------------------------------
    def fresh(self, prefix: str = "t") -> str:
        self._n += 1
        return f"_{prefix}{self._n}"

    def fail(self, node, what: str | None = None):
        raise CannotRun(f"{what or node.kind} is not supported by the engine", node)

    def error(self, message: str, node) -> exp.Expression:
        """An expression that fails the job at run time with ``message`` at ``node``."""
        sp = node.span
        return T("error({m})", m=f"{sp.line}:{sp.column}: {message}")

    def deref(self, e: exp.Expression, t: UType, node, what: str) -> exp.Expression:
        """C# ``x.Member`` on a null reference throws: the job fails (NullReferenceException)."""
        if not t.may_be_null:
            return e
        return T("CASE WHEN {x} IS NULL THEN {err} ELSE {x} END", x=e,
                 err=self.error(f"NullReferenceException: {what} on a null value", node))

    # -- queries ----------------------------------------------------------------------------------
    def query(self, q: A.Node) -> Rowset:
        m = getattr(self, "q_" + type(q).__name__, None)
        if m is None:
            self.fail(q)
        return m(q)

    def q_ParenQuery(self, q):
        return self.query(q.query)

    def q_Extract(self, q):
        from .formats import extract
        return extract(self, q)

    def q_TvfCall(self, q):
        return self.job.call_tvf(q)

    def q_Values(self, q, names=None):
        if not q.rows:
            raise EngineError("VALUES needs at least one row", q)
        width = len(q.rows[0].values)
        rows, types = [], [None] * width
        for r in q.rows:
            if len(r.values) != width:
                raise EngineError(f"every row of VALUES needs {width} values", r)
            vals = []
            for i, v in enumerate(r.values):
                e, t = self.expr(v, Scope())
                vals.append(e)
                types[i] = t if types[i] is None or types[i].name == "null" else (
                    types[i].null() if t.may_be_null else types[i])
            rows.append(vals)
        names = names or [f"Column_{i}" for i in range(width)]
        if len(names) != width:
            raise EngineError(f"the alias names {len(names)} columns, VALUES has {width}", q)
        types = [t if t.name != "null" else Ty.STRING.null() for t in types]
        values = exp.Values(expressions=[exp.Tuple(expressions=[exp.Cast(this=e, to=exp.DataType.build(t.sql()))
                                                                 for e, t in zip(r, types)]) for r in rows],
                            alias=exp.TableAlias(this=ident("v"), columns=[ident(n) for n in names]))
        sel = exp.select(*[col(n, "v") for n in names]).from_(values)
        return Rowset(sel, list(zip(names, types)))

    def q_Select(self, q: A.Select) -> Rowset:
        scope = Scope()
        sel = exp.Select()
        if q.from_ is not None:
            src = self.source(q.from_.source, scope)
            sel = sel.from_(src[0])
            for j in src[1]:
                sel.append("joins", j)
        has_group = q.group_by is not None
        groups = [(g, self.expr(g, scope)) for g in q.group_by.exprs] if has_group else []
        saved, self._groups = self._groups, groups + self._groups
        try:
            return self._select_rest(q, scope, sel, groups)
        finally:
            self._groups = saved

    def _select_rest(self, q, scope, sel, groups) -> Rowset:
        has_group = q.group_by is not None
        cols, outs = [], []
        for item in q.items:
            if isinstance(item, A.Star):
                for r in scope.relations:
                    for c, t in r.columns:
                        cols.append(exp.alias_(r.ref(c), ident(c)))
                        outs.append((c, t))
                continue
            if isinstance(item, A.QualifiedStar):
                r = scope.relation(self._qualifier(item.qualifier))
                if r is None:
                    raise EngineError("unknown rowset alias in .*", item)
                for c, t in r.columns:
                    cols.append(exp.alias_(r.ref(c), ident(c)))
                    outs.append((c, t))
                continue
            if isinstance(item, A.AliasedItem):
                e, t = self.expr(item.expr, scope)
                name = item.alias.name
            else:
                e, t = self.expr(item, scope)
                name = self._item_name(item)
            cols.append(exp.alias_(e, ident(name)))
            outs.append((name, t))
        seen = set()
        for n, _ in outs:
            if n in seen:
                raise EngineError(f"the SELECT list names column {n} twice", q)
            seen.add(n)
        sel = sel.select(*cols, copy=False)
        if q.quantifier is not None and q.quantifier.text == "DISTINCT":
            sel = sel.distinct(copy=False)
        if q.where is not None:
            sel = sel.where(self.condition(q.where.condition, scope), copy=False)
        if has_group:
            sel = sel.group_by(*[lowered[0] for _, lowered in groups], copy=False)
        if q.having is not None:
            sel = sel.having(self.condition(q.having.condition, scope), copy=False)
        return Rowset(sel, outs)

    def _qualifier(self, e) -> str:
        if isinstance(e, A.Name):
            return e.ident.name
        if isinstance(e, A.Variable):
            return e.name
        raise EngineError("a rowset alias was expected", e)

    def _item_name(self, item) -> str:
        if isinstance(item, A.Name):
            return item.ident.name
        if isinstance(item, A.MemberAccess) and isinstance(item.member, A.Identifier):
            return item.member.name
        raise EngineError("this SELECT expression needs a column name: add AS name", item)

    def q_OrderedQuery(self, q: A.OrderedQuery) -> Rowset:
        rs = self.query(q.query)
        return self.order_fetch(rs, q.order_by, q.offset_fetch)

    def order_fetch(self, rs: Rowset, order_by, offset_fetch) -> Rowset:
        sub = self.fresh()
        scope = Scope([Relation("", sub, rs.columns)])
        sel = exp.select(*[col(c, sub) for c, _ in rs.columns]).from_(exp.Subquery(this=rs.expr, alias=ident(sub)))
        if order_by is not None:
            sel = sel.order_by(*[self.ordered(i, scope) for i in order_by.items], copy=False)
        if offset_fetch is not None:
            if offset_fetch.offset is not None:
                sel = sel.offset(self.expr(offset_fetch.offset, Scope())[0], copy=False)
            if offset_fetch.fetch is not None:
                sel = sel.limit(self.expr(offset_fetch.fetch.count, Scope())[0], copy=False)
        return Rowset(sel, rs.columns)

    def ordered(self, item: A.SortItem, scope: Scope) -> exp.Ordered:
        """U-SQL orders nulls last whatever the direction (order-by-and-offset-fetch-clause)."""
        desc = item.direction is not None and item.direction.text == "DESC"
        return exp.Ordered(this=self.expr(item.expr, scope)[0], desc=desc, nulls_first=False)

    def q_SetOperation(self, q: A.SetOperation) -> Rowset:
        left, right = self.query(q.left), self.query(q.right)
        op = q.operator
        word = op.operator.text if op.operator else "UNION"
        distinct = not (op.quantifier is not None and op.quantifier.text == "ALL")
        outer = word == "OUTER UNION"
        if op.by_name is not None or outer:
            cols = self._by_name(left, right, op, outer, q)
            left = self._project(left, cols)
            right = self._project(right, cols)
        elif len(left.columns) != len(right.columns):
            raise EngineError(f"{word} needs the same number of columns on both sides "
                              f"({len(left.columns)} and {len(right.columns)})", q)
        cls = {"UNION": exp.Union, "OUTER UNION": exp.Union, "EXCEPT": exp.Except,
               "INTERSECT": exp.Intersect}[word]
        e = cls(this=left.expr, expression=right.expr, distinct=distinct)
        columns = [(n, t.null() if rt.may_be_null else t) for (n, t), (_, rt) in zip(left.columns, right.columns)]
        return Rowset(e, columns)

    def _by_name(self, left, right, op, outer, q):
        lt, rt = dict(left.columns), dict(right.columns)
        on = op.by_name.on if op.by_name is not None else ()
        if on and not any(isinstance(x, A.Star) for x in on):
            names = [x.column.name if isinstance(x, A.ColumnRef) else _name(x) for x in on]
            missing = [n for n in names if n not in lt or n not in rt]
            if missing:
                raise EngineError(f"BY NAME ON names {', '.join(missing)}, not on both sides", q)
            if not outer:
                return [(n, lt[n]) for n in names]
            keys = names
        else:
            keys = [n for n in lt if n in rt]
        if not outer:
            if set(lt) != set(rt):
                raise EngineError("UNION BY NAME needs the same column names on both sides "
                                  "(OUTER UNION fills the missing ones with null)", q)
            return [(n, lt[n]) for n in lt]
        cols = [(n, lt[n]) for n in lt] + [(n, rt[n]) for n in rt if n not in lt]
        for k in keys:
            if k not in lt or k not in rt:
                raise EngineError(f"OUTER UNION ON column {k} is not on both sides", q)
        return [(n, t if (n in lt and n in rt) else t.null()) for n, t in cols]

    def _project(self, rs: Rowset, cols) -> Rowset:
        sub = self.fresh()
        have = dict(rs.columns)
        items = [exp.alias_(col(n, sub) if n in have else exp.Cast(this=exp.Null(), to=exp.DataType.build(t.sql())),
                            ident(n)) for n, t in cols]
        return Rowset(exp.select(*items).from_(exp.Subquery(this=rs.expr, alias=ident(sub))), cols)

    # -- FROM ---------------------------------------------------------------------------------------
    def source(self, s: A.Node, scope: Scope):
        """(from-expression, joins) for a FROM source; fills ``scope``."""
        if isinstance(s, A.Join):
            return self._join(s, scope)
        if isinstance(s, A.Apply):
            return self._apply(s, scope)
        return self._leaf(s, scope), []

    def _leaf(self, s, scope: Scope) -> exp.Expression:
        if isinstance(s, A.RowsetRef):
            rs = self.job.rowset(s.variable.name, s)
            name = s.alias.name.name if s.alias else s.variable.name
        elif isinstance(s, A.TableRef):
            rs = self.job.table_rowset(s.table)
            name = s.alias.name.name if s.alias else s.table.object.name
        elif isinstance(s, A.Subquery):
            rs = self.query(s.query)
            name = s.alias.name.name if s.alias else ""
            if s.alias is not None and s.alias.columns and isinstance(s.query, A.Values):
                rs = self.q_Values(s.query, [c.name.name for c in s.alias.columns])
        elif isinstance(s, A.TvfCall):
            rs = self.job.call_tvf(s)
            name = s.alias.name.name if s.alias else s.function.object.name if s.function.object else ""
        else:
            self.fail(s)
        alias = getattr(s, "alias", None)
        if alias is not None and alias.columns and not (isinstance(s, A.Subquery) and isinstance(s.query, A.Values)):
            if len(alias.columns) != len(rs.columns):
                raise EngineError(f"the alias names {len(alias.columns)} columns, the rowset has {len(rs.columns)}", alias)
            rs = Rowset(rs.expr, [(c.name.name, t) for c, (_, t) in zip(alias.columns, rs.columns)])
            rs = self._rename(rs)
        if scope.relation(name) is not None and name:
            raise EngineError(f"the rowset name {name} is used twice in FROM: give one an alias", s)
        sql_alias = self.fresh()
        scope.relations.append(Relation(name, sql_alias, rs.columns))
        return exp.Subquery(this=rs.expr, alias=ident(sql_alias)) if not isinstance(rs.expr, exp.Table) \
            else rs.expr.as_(ident(sql_alias))

    def _rename(self, rs: Rowset) -> Rowset:
        sub = self.fresh()
        inner = exp.Subquery(this=rs.expr, alias=exp.TableAlias(this=ident(sub), columns=[ident(n) for n, _ in rs.columns]))
        return Rowset(exp.select(*[col(n, sub) for n, _ in rs.columns]).from_(inner), rs.columns)

    def _join(self, j: A.Join, scope: Scope):
        first, joins = self.source(j.left, scope)
        op = j.operator
        side = op.side.text if op.side else "INNER"
        word = op.join.text if op.join else "JOIN"
        if word in ("SEMIJOIN", "ANTISEMIJOIN") and side == "RIGHT":
            # the right rows that have (no) match: right SEMI JOIN (the left side as one subquery)
            left_alias = self.fresh()
            items, rels = [], []
            for r in scope.relations:
                rename = {c: f"{r.alias}_{i}" for i, (c, _) in enumerate(r.columns)}
                items += [exp.alias_(r.ref(c), ident(rename[c])) for c, _ in r.columns]
                rels.append(Relation(r.name, left_alias, r.columns, rename))
            left_q = exp.select(*items).from_(first)
            for jn in joins:
                left_q.append("joins", jn)
            inner = Scope()
            right = self._leaf(j.right, inner)
            cond = self.condition(j.condition, Scope(rels + inner.relations))
            scope.relations[:] = inner.relations
            return right, [exp.Join(this=exp.Subquery(this=left_q, alias=ident(left_alias)),
                                    kind="SEMI" if word == "SEMIJOIN" else "ANTI", on=cond)]
        if word in ("SEMIJOIN", "ANTISEMIJOIN"):
            inner = Scope()
            right = self._leaf(j.right, inner)
            both = Scope(scope.relations + inner.relations)
            cond = self.condition(j.condition, both)
            joins.append(exp.Join(this=right, kind="SEMI" if word == "SEMIJOIN" else "ANTI", on=cond))
            return first, joins
        right = self._leaf(j.right, scope)
        if side == "CROSS":
            joins.append(exp.Join(this=right, kind="CROSS"))
            return first, joins
        cond = self.condition(j.condition, scope) if j.condition is not None else None
        if side in ("LEFT", "RIGHT", "FULL"):
            joins.append(exp.Join(this=right, side=side, kind="OUTER", on=cond))
            # the outer side's columns become nullable
            rels = scope.relations
            if side in ("LEFT", "FULL"):
                rels[-1].columns = [(c, t.null()) for c, t in rels[-1].columns]
            if side in ("RIGHT", "FULL"):
                for r in rels[:-1]:
                    r.columns = [(c, t.null()) for c, t in r.columns]
        else:
            joins.append(exp.Join(this=right, on=cond))
        return first, joins

    def _apply(self, a: A.Apply, scope: Scope):
        first, joins = self.source(a.left, scope)
        tgt = a.target
        outer = a.operator is not None and a.operator.text == "OUTER APPLY"
        if isinstance(tgt, A.Explode):
            e, t = self.expr(tgt.expr, scope)
            cols = [c.name.name for c in tgt.alias.columns] if tgt.alias else []
            alias = tgt.alias.name.name if tgt.alias else ""
            if t.name == "array":
                if len(cols) != 1:
                    raise EngineError("EXPLODE of an array gives one column: AS alias(column)", tgt)
                inner = T("SELECT unnest({a}) AS __c", a=e)
                inner.selects[0].set("alias", ident(cols[0]))
                types = [t.args[0].null() if outer else t.args[0]]
            elif t.name == "map":
                if len(cols) != 2:
                    raise EngineError("EXPLODE of a map gives two columns: AS alias(key, value)", tgt)
                inner = T("SELECT unnest(map_keys({m})) AS __k, unnest(map_values({m})) AS __v", m=e)
                inner.selects[0].set("alias", ident(cols[0]))
                inner.selects[1].set("alias", ident(cols[1]))
                types = [t.args[0], t.args[1]]
                if outer:
                    types = [x.null() for x in types]
            else:
                raise EngineError(f"EXPLODE needs a SQL.ARRAY or SQL.MAP, not {t}", tgt.expr)
            sql_alias = self.fresh()
            lateral = exp.Lateral(this=exp.Subquery(this=inner), alias=exp.TableAlias(this=ident(sql_alias)))
            if outer:
                joins.append(exp.Join(this=lateral, side="LEFT", on=exp.true()))
            else:
                joins.append(exp.Join(this=lateral, kind="CROSS"))
            scope.relations.append(Relation(alias, sql_alias, list(zip(cols, types))))
            return first, joins
        if isinstance(tgt, A.ValuesRef):
            rs = self.q_Values(tgt.values, [c.name.name for c in tgt.alias.columns] if tgt.alias else None)
            sql_alias = self.fresh()
            joins.append(exp.Join(this=exp.Subquery(this=rs.expr, alias=ident(sql_alias)),
                                  **({"side": "LEFT", "on": exp.true()} if outer else {"kind": "CROSS"})))
            scope.relations.append(Relation(tgt.alias.name.name if tgt.alias else "", sql_alias, rs.columns))
            return first, joins
        raise CannotRun("an applier (user code) in CROSS/OUTER APPLY is not supported by the engine", tgt)

    # -- expressions ----------------------------------------------------------------------------
    def expr(self, e: A.Node, scope: Scope) -> tuple:
        for g, lowered in self._groups:
            # a select item written as a GROUP BY expression is that expression (the same SQL)
            if not isinstance(e, (A.Name, A.Paren)) and A.same_tree(e, g) is None:
                return lowered[0].copy(), lowered[1]
        m = getattr(self, "e_" + type(e).__name__, None)
        if m is None:
            self.fail(e, f"the expression {e.kind}")
        return m(e, scope)

    def condition(self, e, scope) -> exp.Expression:
        x, t = self.expr(e, scope)
        if t.name != "bool":
            raise EngineError(f"a condition must be bool, this is {t}", e)
        return x

    def e_Paren(self, e, scope):
        x, t = self.expr(e.expr, scope)
        return exp.Paren(this=x), t

    def e_StringLiteral(self, e, scope):
        return exp.Literal.string(e.value), Ty.STRING

    def e_CharLiteral(self, e, scope):
        return exp.Literal.string(e.value), UType("char")

    def e_BoolLiteral(self, e, scope):
        return exp.Boolean(this=e.value), Ty.BOOL

    def e_NullLiteral(self, e, scope):
        return exp.Null(), Ty.NULL

    def e_NumberLiteral(self, e, scope):
        text = e.text.replace("_", "")
        low = text.lower()
        if low.startswith("0x"):
            v = int(low.rstrip("ul"), 16)
            return lit(v), Ty.INT if v < 2 ** 31 else Ty.LONG
        suffix = ""
        while low and low[-1] in "lumfd" and not low.startswith("0x"):
            suffix = low[-1] + suffix
            low = low[:-1]
        if "m" in suffix:
            return exp.Cast(this=exp.Literal.number(low), to=exp.DataType.build("DECIMAL(38,10)")), Ty.DECIMAL
        if "f" in suffix:
            return exp.Cast(this=exp.Literal.number(low), to=exp.DataType.build("FLOAT")), UType("float")
        if "d" in suffix or "." in low or "e" in low:
            return exp.Cast(this=exp.Literal.number(low), to=exp.DataType.build("DOUBLE")), Ty.DOUBLE
        v = int(low)
        if "l" in suffix or v >= 2 ** 31:
            return exp.Cast(this=lit(v), to=exp.DataType.build("BIGINT")), Ty.LONG
        return lit(v), Ty.INT

    def e_Variable(self, e, scope):
        if e.system:
            self.fail(e, f"the system variable {e.name}")
        return self.job.scalar(e.name, e)

    def e_Name(self, e, scope):
        name = e.ident.name
        try:
            return scope.find(name, e)
        except EngineError:
            from . import csharp
            r = csharp.static_member(self, None, name, e)
            if r is not None:
                return r
            raise

    def e_MemberAccess(self, e, scope):
        from . import csharp
        m = e.member
        if isinstance(m, A.Identifier):
            # alias.column
            if isinstance(e.target, (A.Name, A.Variable)):
                q = e.target.ident.name if isinstance(e.target, A.Name) else e.target.name
                r = scope.relation(q)
                if r is not None:
                    for c, t in r.columns:
                        if c == m.name:
                            return r.ref(c), t
                    raise EngineError(f"rowset {q} has no column {m.name}", m)
            static = csharp.static_target(e.target)
            if static is not None and not self._is_column(e.target, scope):
                r = csharp.static_member(self, static, m.name, e)
                if r is not None:
                    return r
                raise CannotRun(f"the C# member {static}.{m.name} is not supported by the engine", e)
        x, t = self.expr(e.target, scope)
        return csharp.property(self, x, t, m.name if isinstance(m, A.Identifier) else "?", e)

    def _is_column(self, target, scope) -> bool:
        if isinstance(target, A.Name):
            return any(c == target.ident.name for r in scope.relations for c, _ in r.columns)
        return False

    def e_Call(self, e: A.Call, scope):
        from . import csharp
        from .formats import _FILE_TYPES, _file_function, file_property
        f = e.func
        fn = _file_function(e)
        if fn is not None and fn != "URI":
            # FILE.EXISTS/LENGTH/CREATED/MODIFIED(path): evaluated when the job starts
            if len(e.args) != 1:
                raise EngineError(f"FILE.{fn} takes one path", e)
            v, t = self.expr(e.args[0], Scope())
            path = self.job.engine.scalar(exp.select(v), e) if t.is_string else None
            if not path:
                raise EngineError("E_CSC_USER_EMPTYFILEPATH: the path of a FILE function is empty", e)
            return file_property(self.job, fn, self.job.store.local(path, e)), _FILE_TYPES[fn]
        if isinstance(f, (A.Name, A.GenericName)) and f.ident.name in AGGREGATES:
            return self.aggregate(e, f.ident.name, scope)     # ARRAY_AGG<string>(x) too
        if isinstance(f, A.MemberAccess) and isinstance(f.member, (A.Identifier, A.GenericName)):
            mname = f.member.name if isinstance(f.member, A.Identifier) else f.member.ident.name
            static = csharp.static_target(f.target)
            if static is not None and not self._is_column(f.target, scope) and not (
                    isinstance(f.target, A.Name) and scope.relation(f.target.ident.name)):
                return csharp.static_call(self, static, mname, e, scope)
            x, t = self.expr(f.target, scope)
            return csharp.method(self, x, t, mname, e, scope)
        if isinstance(f, A.Name):
            raise CannotRun(f"the function {f.ident.name} is not a U-SQL built-in the engine knows "
                            "(user code is not supported)", e)
        self.fail(e, "this call")

    def e_New(self, e, scope):
        from . import csharp
        return csharp.new(self, e, scope)

    def e_Index(self, e, scope):
        from . import csharp
        return csharp.index(self, e, scope)

    def e_Cast(self, e: A.Cast, scope):
        from . import csharp
        return csharp.cast(self, e, scope)

    def e_UnaryOp(self, e, scope):
        x, t = self.expr(e.operand, scope)
        if e.op in ("!", "NOT"):
            return exp.Not(this=exp.Paren(this=x)), t
        if e.op == "-":
            return exp.Neg(this=exp.Paren(this=x)), t
        if e.op == "+":
            return x, t
        if e.op == "~":
            return exp.BitwiseNot(this=x), t
        self.fail(e, f"the operator {e.op}")

    def e_Conditional(self, e, scope):
        c = self.condition(e.condition, scope)
        a, ta = self.expr(e.then, scope)
        b, tb = self.expr(e.otherwise, scope)
        t = self.unify(ta, tb, e)
        return exp.Case(ifs=[exp.If(this=c, true=self.coerce(a, ta, t))], default=self.coerce(b, tb, t)), t

    def e_Case(self, e: A.Case, scope):
        ifs, types = [], []
        results = []
        for w in e.whens:
            if e.operand is not None:
                c = self.equals(*self.expr(e.operand, scope), *self.expr(w.condition, scope))
            else:
                c = self.condition(w.condition, scope)
            r, t = self.expr(w.result, scope)
            results.append((c, r, t))
            types.append(t)
        d = dt = None
        if e.otherwise is not None:
            d, dt = self.expr(e.otherwise, scope)
            types.append(dt)
        t = types[0]
        for x in types[1:]:
            t = self.unify(t, x, e)
        if e.otherwise is None:
            t = t.null()
        for c, r, rt in results:
            ifs.append(exp.If(this=c, true=self.coerce(r, rt, t)))
        return exp.Case(ifs=ifs, default=self.coerce(d, dt, t) if d is not None else None), t

    def unify(self, a: UType, b: UType, node) -> UType:
        if a.name == "null":
            return b.null()
        if b.name == "null":
            return a.null()
        if a.name == b.name:
            return a.null() if (a.nullable or b.nullable) else a
        if a.is_numeric and b.is_numeric:
            return Ty.numeric_result(a, b)
        raise EngineError(f"types {a} and {b} do not match", node)

    def coerce(self, e, frm: UType, to: UType):
        if frm.name == to.name or frm.name == "null" and to.name in ("string",):
            return e
        return exp.Cast(this=e, to=exp.DataType.build(to.sql()))

    def e_BinaryOp(self, e: A.BinaryOp, scope):
        op = e.op
        if op in ("&&", "AND", "||", "OR"):
            a, b = self.condition(e.left, scope), self.condition(e.right, scope)
            return (exp.And if op in ("&&", "AND") else exp.Or)(this=a, expression=b), Ty.BOOL
        a, ta = self.expr(e.left, scope)
        b, tb = self.expr(e.right, scope)
        if op == "??":
            t = self.unify(ta, tb, e)
            # C#: the type of a ?? b is b's type when b is not nullable (int? ?? int is int)
            return exp.Coalesce(this=a, expressions=[b]), (t if tb.may_be_null else t.null(False))
        if op in ("==", "!="):
            x = self.equals(a, ta, b, tb)
            return (x if op == "==" else exp.Not(this=exp.Paren(this=x))), Ty.BOOL
        if op in _COMPARE:
            x = _COMPARE[op](this=a, expression=b)
            return self.two_valued(x, ta, tb), Ty.BOOL
        if op == "+" and (ta.is_string or tb.is_string or ta.name == "char" and tb.name == "char"):
            return self.concat([(a, ta), (b, tb)]), Ty.STRING
        if op in ("+", "-", "*", "/", "%"):
            if ta.name in ("DateTime", "TimeSpan") or tb.name in ("DateTime", "TimeSpan"):
                from . import csharp
                return csharp.time_arithmetic(self, op, a, ta, b, tb, e)
            if not ((ta.is_numeric or ta.name == "null") and (tb.is_numeric or tb.name == "null")):
                raise EngineError(f"operator {op} cannot be applied to {ta} and {tb}", e)
            t = Ty.numeric_result(ta, tb)
            if op == "/":
                return self.divide(a, b, t, e), t
            if op == "%":
                if t.is_integral:
                    return T("CASE WHEN {b} = 0 THEN {err} ELSE {a} % {b} END", a=a, b=b,
                             err=self.error("DivideByZeroException: % by zero", e)), t
                return exp.Mod(this=a, expression=b), t
            cls = {"+": exp.Add, "-": exp.Sub, "*": exp.Mul}[op]
            return cls(this=a, expression=b), t
        if op in ("&", "|", "^"):
            if ta.name == "bool":
                cls = {"&": exp.And, "|": exp.Or}.get(op)
                if cls is None:
                    return exp.NEQ(this=a, expression=b), Ty.BOOL
                return cls(this=a, expression=b), Ty.BOOL
            cls = {"&": exp.BitwiseAnd, "|": exp.BitwiseOr, "^": exp.BitwiseXor}[op]
            return cls(this=a, expression=b), Ty.numeric_result(ta, tb)
        self.fail(e, f"the operator {op}")

    # the semantics traps, one lowering each ---------------------------------------------------------
    def equals(self, a, ta: UType, b, tb: UType) -> exp.Expression:
        """C# ``==`` is two-valued: ``null == null`` is true, ``x == null`` false for a value
        (equals-u-sql.md): IS NOT DISTINCT FROM."""
        if not ta.may_be_null and not tb.may_be_null:
            return exp.EQ(this=a, expression=b)
        if isinstance(b, exp.Null):
            return exp.Is(this=a, expression=exp.Null())
        if isinstance(a, exp.Null):
            return exp.Is(this=b, expression=exp.Null())
        return exp.NullSafeEQ(this=a, expression=b)

    def two_valued(self, x, ta: UType, tb: UType) -> exp.Expression:
        """C# ``<``, ``>``... on a null operand are false, never unknown."""
        if ta.may_be_null or tb.may_be_null:
            return exp.Coalesce(this=x, expressions=[exp.false()])
        return x

    def divide(self, a, b, t: UType, node) -> exp.Expression:
        """``int / int`` truncates toward zero; integer division by zero fails the job."""
        if t.is_integral:
            if isinstance(b, exp.Literal) and not b.is_string and b.this not in ("0",):
                return exp.IntDiv(this=a, expression=b)
            return T("CASE WHEN {b} = 0 THEN {err} ELSE {a} // {b} END", a=a, b=b,
                     err=self.error("DivideByZeroException: integer division by zero", node))
        return exp.Div(this=a, expression=b)

    def concat(self, parts) -> exp.Expression:
        """C# string ``+``: null operands count as "" (``"a" + null`` is "a")."""
        from . import csharp
        items = [x if t.is_string or t.name == "null" else csharp.to_string(self, x, t) for x, t in parts]
        return exp.Concat(expressions=items, safe=True, coalesce=True)

    def e_Between(self, e, scope):
        x, t = self.expr(e.operand, scope)
        lo, tl = self.expr(e.low, scope)
        hi, th = self.expr(e.high, scope)
        r = self.two_valued(exp.Between(this=x, low=lo, high=hi), t, tl if tl.may_be_null else th)
        return (exp.Not(this=exp.Paren(this=r)) if e.negated else r), Ty.BOOL

    def e_Like(self, e, scope):
        x, t = self.expr(e.operand, scope)
        p, tp = self.expr(e.pattern, scope)
        r = exp.Like(this=x, expression=p)
        if e.escape is not None:
            r = exp.Escape(this=r, expression=self.expr(e.escape, scope)[0])
        r = self.two_valued(r, t, tp)
        return (exp.Not(this=exp.Paren(this=r)) if e.negated else r), Ty.BOOL

    def e_IsNull(self, e, scope):
        x, _ = self.expr(e.operand, scope)
        r = exp.Is(this=x, expression=exp.Null())
        return (exp.Not(this=r) if e.negated else r), Ty.BOOL

    def e_InList(self, e, scope):
        x, t = self.expr(e.operand, scope)
        vals = [self.expr(v, scope) for v in e.values]
        r = exp.In(this=x, expressions=[v for v, _ in vals])
        r = self.two_valued(r, t, Ty.NULL if any(vt.may_be_null for _, vt in vals) else t)
        return (exp.Not(this=exp.Paren(this=r)) if e.negated else r), Ty.BOOL

    # aggregates and windows -----------------------------------------------------------------------
    def aggregate(self, e: A.Call, name: str, scope):
        args = [self.expr(a, scope) for a in e.args]
        distinct = e.distinct
        t0 = args[0][1] if args else None
        a0 = args[0][0] if args else None
        post = None         # applied to the aggregate (after OVER, for a window)
        if name == "COUNT":
            inner = exp.Star() if e.star or not args else a0
            fn = exp.Count(this=exp.Distinct(expressions=[inner]) if distinct else inner)
            t = Ty.LONG
        elif name in ("SUM", "AVG"):
            if not (t0.is_numeric or t0.name == "null"):
                raise EngineError(f"{name} needs a numeric argument, not {t0}", e)
            arg = exp.Distinct(expressions=[a0]) if distinct else a0
            if t0.name == "ulong" or t0.name in ("float", "double"):
                t = Ty.DOUBLE.null()
            elif t0.name == "decimal":
                t = Ty.DECIMAL.null()
            else:
                t = Ty.LONG.null()
            fn = exp.Sum(this=arg) if name == "SUM" else exp.Avg(this=arg)
            if name == "AVG" and t.name == "long":   # avg-u-sql.md: integral AVG is truncated
                post = lambda x: exp.Cast(this=T("trunc({x})", x=x), to=exp.DataType.build("BIGINT"))  # noqa: E731
            else:
                post = lambda x: exp.Cast(this=x, to=exp.DataType.build(t.sql()))  # noqa: E731
        elif name == "ARRAY_AGG":
            fn = T("list({x})", x=a0) if not distinct else T("list(DISTINCT {x})", x=a0)
            t = UType("array", True, (t0,))
        elif name == "MAP_AGG":
            fn = T("map(list({k}), list({v}))", k=a0, v=args[1][0])
            t = UType("map", True, (t0, args[1][1]))
        elif name == "ANY_VALUE":
            fn = T("first({x})", x=a0)
            t = t0.null()
        elif name in ("PERCENTILE_CONT", "PERCENTILE_DISC"):
            if e.within_group is None or not e.within_group.order_by:
                raise EngineError(f"{name} needs WITHIN GROUP (ORDER BY ...)", e)
            item = e.within_group.order_by.items[0]
            x, tx = self.expr(item.expr, scope)
            p = a0
            if item.direction is not None and item.direction.text == "DESC":
                p = T("1 - {p}", p=p)
            fn = T("quantile_cont({x}, {p})" if name == "PERCENTILE_CONT" else "quantile_disc({x}, {p})", x=x, p=p)
            t = Ty.DOUBLE.null() if name == "PERCENTILE_CONT" else tx.null()
        elif name in _SIMPLE_AGG:
            fname = _SIMPLE_AGG[name]
            fn = exp.Anonymous(this=fname, expressions=[a for a, _ in args])
            if name in ("MIN", "MAX"):
                fn = (exp.Min if name == "MIN" else exp.Max)(this=a0)
                t = t0.null()
            elif name in ("ROW_NUMBER", "RANK", "DENSE_RANK", "NTILE"):
                t = Ty.LONG
            elif name in ("CUME_DIST", "PERCENT_RANK", "STDEV", "STDEVP", "VAR", "VARP"):
                t = Ty.DOUBLE.null() if name.startswith(("S", "V")) else Ty.DOUBLE
            else:
                t = t0.null()
        else:
            self.fail(e, f"the aggregate {name}")
        if e.over is not None:
            fn = self.window(fn, e.over, scope)
        elif name in WINDOW_ONLY:
            raise EngineError(f"{name} needs an OVER clause", e)
        return (post(fn) if post else fn), t

    def window(self, fn, over: A.Over, scope):
        kw = {}
        if over.partition_by is not None:
            kw["partition_by"] = [self.expr(x, scope)[0] for x in over.partition_by.exprs]
        if over.order_by is not None:
            kw["order"] = exp.Order(expressions=[self.ordered(i, scope) for i in over.order_by.items])
        if over.frame is not None:
            f = over.frame

            def bound(b):
                if b is None:
                    return "CURRENT ROW", None
                if b.bound is not None and b.bound.text == "UNBOUNDED":
                    return "UNBOUNDED", b.direction.text
                if b.bound is not None and b.bound.text == "CURRENT":
                    return "CURRENT ROW", None
                return self.expr(b.offset, scope)[0], b.direction.text
            s, ss = bound(f.start)
            en, es = bound(f.end) if f.end is not None else ("CURRENT ROW", None)
            kw["spec"] = exp.WindowSpec(kind=f.unit.text, start=s, start_side=ss, end=en, end_side=es)
        return exp.Window(this=fn, over="OVER", **kw)
