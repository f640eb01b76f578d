"""What every rule gets: the script, its text, a full walk of its nodes and DECLARE constants."""
from __future__ import annotations

from .. import ast as A
from ..diagnostics import Diagnostic

def children(node) -> list:
    """Direct child nodes (the one definition: :meth:`usqlrw.ast.Node.children`)."""
    return list(node.children())


iter_nodes = A.walk


def block_statements(node) -> list[tuple]:
    """The statement lists directly inside a statement: IF branches, routine bodies."""
    if isinstance(node, A.If):
        return [tuple(b.statements) for b in node.branches] + (
            [tuple(node.otherwise.statements)] if node.otherwise is not None else [])
    if isinstance(node, (A.Routine, A.DeclareFunction)):
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
        statements = {id(s) for s in self.statements()}
        stack = [(s, s) for s in reversed(self.script.statements)]
        while stack:
            n, stmt = stack.pop()
            nodes.append(n)
            stmt_of[id(n)] = stmt
            stack.extend((c, c if id(c) in statements else stmt) for c in reversed(children(n)))
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
    def environment(self):
        """The top-level DECLAREs whose values are constants (:class:`usqlrw.resolve.Environment`).

        ``DECLARE EXTERNAL`` values are defaults a job submission overrides: they are not constants.
        """
        if self._constants is None:
            from ..resolve import Environment
            env = Environment()
            for s in self.script.statements:
                if isinstance(s, A.Declare) and not s.external:
                    env.vars[s.variable.name] = s
            self._constants = env
        return self._constants

    def fold(self, expr):
        """The string value of a static string expression, else None (the one folder:
        :func:`usqlrw.resolve.fold`)."""
        from ..resolve import fold
        return fold(expr, self.environment).value
