"""Building sqlglot trees from small templates: ``T("upper({x})", x=expr)``.

Templates are written once in DuckDB's SQL, parsed by sqlglot once (cached) and filled with
expressions: the result is an engine-neutral sqlglot tree that each engine generates in its own
dialect (sqlglot translates function names and operators)."""
from __future__ import annotations

import re

import sqlglot
from sqlglot import exp

__all__ = ["T", "lit", "ident", "col", "exp"]

_CACHE: dict = {}
_PH = re.compile(r"\{(\w+)\}")


def T(template: str, **values) -> exp.Expression:
    tree = _CACHE.get(template)
    if tree is None:
        tree = sqlglot.parse_one(_PH.sub(r"__ph_\1", template), read="duckdb")
        _CACHE[template] = tree
    tree = tree.copy()

    def fill(node):
        if isinstance(node, exp.Column) and not node.table and node.name.startswith("__ph_"):
            v = values[node.name[5:]]
            if not isinstance(v, exp.Expression):
                return lit(v)
            v = v.copy()
            # an operator filled into a template keeps its own precedence: (a + 1) * 2
            if isinstance(v, (exp.Binary, exp.Unary, exp.Between, exp.In)) and not isinstance(v, exp.Paren):
                v = exp.Paren(this=v)
            return v
        return node
    return tree.transform(fill, copy=False)


def lit(v) -> exp.Expression:
    if v is None:
        return exp.Null()
    if isinstance(v, bool):
        return exp.Boolean(this=v)
    if isinstance(v, (int, float)):
        return exp.Literal.number(repr(v) if isinstance(v, float) else v)
    return exp.Literal.string(str(v))


def ident(name: str) -> exp.Identifier:
    return exp.Identifier(this=name, quoted=True)


def col(name: str, table: str | None = None) -> exp.Column:
    return exp.Column(this=ident(name), table=ident(table) if table else None)
