"""What every rule gets: the script, its text, a full walk of its nodes and DECLARE constants."""
from __future__ import annotations

from dataclasses import fields

from .. import ast as A
from ..diagnostics import Diagnostic

_FIELDS: dict[type, tuple] = {}

def _field_names(cls) -> tuple:
    names = _FIELDS.get(cls)
    if names is None:
        names = tuple(f.name for f in fields(cls) if f.name not in ("span", "comments"))
        _FIELDS[cls] = names
    return names


def children(node) -> list:
    """Direct child nodes, looking into nested tuples (IF branches are (condition, statements) pairs)."""
    out = []
    for f in _field_names(type(node)):
        v = getattr(node, f)
        if isinstance(v, A.Node):
            out.append(v)
        elif type(v) is tuple and v:
            _flatten(v, out)
    return out


def _flatten(t: tuple, out: list) -> None:
    for x in t:
        if isinstance(x, A.Node):
            out.append(x)
        elif type(x) is tuple:
            _flatten(x, out)


def iter_nodes(node):
    """Every node under ``node`` (included), in source order, without recursion."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(children(n)))


def block_statements(node) -> list[tuple]:
    """The statement lists directly inside a statement: IF branches, routine bodies."""
    if isinstance(node, A.If):
        return [tuple(stmts) for _, stmts in node.branches] + ([tuple(node.otherwise)] if node.otherwise else [])
    if isinstance(node, A.Routine) or node.kind == "DeclareFunction":
        return [tuple(node.body)]
    return []


class Context:
    """One script under check. Rules read from it and report through :meth:`diag`."""

    def __init__(self, script: A.Script, path: str, config=None):
        self.script, self.path, self.config = script, path, config
        src = script.source
        self.text: str = src.text if src is not None else ""
        self._lines = None
        self._nodes = None
        self._stmt_of = None
        self._constants = None

    # -- reporting ------------------------------------------------------------------------

    def line_text(self, line: int) -> str | None:
        if self._lines is None:
            self._lines = self.text.splitlines()
        return self._lines[line - 1] if 0 < line <= len(self._lines) else None

    def diag(self, where, code: str, message: str, severity: str | None = None) -> Diagnostic:
        """A diagnostic at a node or span (its first line and column; the end is kept for SARIF)."""
        from .registry import RULES
        sp = where.span if isinstance(where, A.Node) else where
        sev = severity or (RULES[code].severity if code in RULES else "error")
        return Diagnostic(self.path, sp.line, sp.column, code, message, sev, sp.end_line, sp.end_column,
                          self.line_text(sp.line))

    # -- walking ----------------------------------------------------------------------------

    @property
    def nodes(self) -> list:
        if self._nodes is None:
            self._index()
        return self._nodes

    def statement_of(self, node):
        """The innermost statement that contains ``node``."""
        if self._stmt_of is None:
            self._index()
        return self._stmt_of.get(id(node))

    def _index(self):
        nodes, stmt_of = [], {}
        stack = [(s, s) for s in reversed(self.script.statements)]
        while stack:
            n, stmt = stack.pop()
            nodes.append(n)
            stmt_of[id(n)] = stmt
            inner = {id(x) for b in block_statements(n) for x in b}
            stack.extend((c, c if id(c) in inner else stmt) for c in reversed(children(n)))
        self._nodes, self._stmt_of = nodes, stmt_of

    def statements(self) -> list:
        """Every statement, nested ones (IF branches, routine bodies) included, in source order."""
        out, stack = [], list(reversed(self.script.statements))
        while stack:
            s = stack.pop()
            out.append(s)
            for block in reversed(block_statements(s)):
                stack.extend(reversed(block))
        return out

    # -- constants --------------------------------------------------------------------------

    @property
    def constants(self) -> dict:
        """``@name`` -> string value of each top-level ``DECLARE`` whose value is a static string.

        ``DECLARE EXTERNAL`` values are defaults a job submission overrides: they are not constants.
        """
        if self._constants is None:
            consts: dict = {}
            for s in self.script.statements:
                if isinstance(s, A.Declare) and not s.external:
                    v = fold(s.value, consts)
                    if v is not None:
                        consts[s.variable.name] = v
                    else:
                        consts.pop(s.variable.name, None)
            self._constants = consts
        return self._constants

    def fold(self, expr):
        return fold(expr, self.constants)


def fold(expr, consts: dict):
    """The string value of a static string expression (literals, constants and ``+``), else None."""
    if isinstance(expr, A.StringLiteral):
        return expr.value
    if isinstance(expr, A.Paren):
        return fold(expr.expr, consts)
    if isinstance(expr, A.Variable):
        return consts.get(expr.name)
    if isinstance(expr, A.BinaryOp) and expr.op == "+":
        # iterative on the left spine: long concatenations are left-deep
        parts, n = [], expr
        while isinstance(n, A.BinaryOp) and n.op == "+":
            parts.append(n.right)
            n = n.left
        parts.append(n)
        vals = []
        for p in reversed(parts):
            v = fold(p, consts)
            if v is None:
                return None
            vals.append(v)
        return "".join(vals)
    return None


def concat_parts(expr) -> list:
    """The operands of a ``+`` chain, left to right (the expression itself when it is not one)."""
    parts, n = [], expr
    while isinstance(n, A.BinaryOp) and n.op == "+":
        parts.append(n.right)
        n = n.left
    parts.append(n)
    parts.reverse()
    out = []
    for p in parts:
        while isinstance(p, A.Paren):
            p = p.expr
        out.extend(concat_parts(p) if isinstance(p, A.BinaryOp) and p.op == "+" else [p])
    return out
