"""Static name resolution and constant folding.

* Catalog names: U-SQL resolves 1- and 2-part names against the *static* database and schema
  context (``master`` and ``dbo`` until a USE statement changes them). Names inside CREATE
  FUNCTION/PROCEDURE/PACKAGE/VIEW bodies resolve in the context of the CREATE statement, changed
  only by USE statements inside the body. :func:`references` gives every catalog name with its
  fully qualified account.database.schema.object.
* Locations: :func:`locations` gives every expression that names a file or folder (EXTRACT FROM,
  OUTPUT TO, assembly files, DEPLOY RESOURCE, FILE.* functions), folded through string
  concatenation and DECLAREd constants, so a transform knows which literal holds which part.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterator

from . import ast as A
from .source import Span

DEFAULT_DATABASE = "master"
DEFAULT_SCHEMA = "dbo"

# Object kinds that live in a schema, and those that live directly in a database.
SCHEMA_KINDS = {"rowset", "table", "view", "tvf", "procedure", "package", "type"}
DATABASE_KINDS = {"assembly", "data_source", "credential"}


@dataclass
class Context:
    database: str = DEFAULT_DATABASE
    schema: str = DEFAULT_SCHEMA
    schema_explicit: bool = False   # set by USE SCHEMA (else the default dbo)

    def copy(self) -> "Context":
        return Context(self.database, self.schema, self.schema_explicit)


@dataclass(frozen=True)
class Reference:
    """One catalog name in a script, resolved."""
    node: A.ObjectName
    kind: str
    action: str
    database: str | None
    schema: str | None
    name: str | None
    schema_explicit: bool = True   # False: the schema came from the default context (dbo)

    @property
    def qualified(self) -> tuple:
        return tuple(x for x in (self.database, self.schema, self.name) if x is not None)


def _resolve(n: A.ObjectName, ctx: Context) -> Reference:
    parts = n.names
    kind, action = n.object_kind, n.action
    db = schema = name = None
    explicit = True
    if kind == "database":
        db = parts[-1]
    elif kind == "schema":
        db, schema = (parts[0], parts[1]) if len(parts) >= 2 else (ctx.database, parts[0])
    elif kind in DATABASE_KINDS:
        db, name = (parts[0], parts[-1]) if len(parts) >= 2 else (ctx.database, parts[0])
    elif kind in SCHEMA_KINDS:
        if len(parts) >= 3:
            db, schema, name = parts[0], parts[1], parts[-1]
        elif len(parts) == 2:
            db, schema, name = ctx.database, parts[0], parts[1]
        else:
            db, schema, name = ctx.database, ctx.schema, parts[0]
            explicit = ctx.schema_explicit
    else:  # system assemblies, statistics, indexes: no catalog mapping
        name = parts[-1]
    return Reference(n, kind, action, db, schema, name, explicit)


_ROUTINES = (A.CreateFunction, A.CreateProcedure, A.CreatePackage)


def _walk_statement(stmt: A.Node) -> Iterator[A.Node]:
    """Nodes of one statement, not descending into nested statement bodies."""
    stack = [stmt]
    while stack:
        n = stack.pop()
        yield n
        if n is not stmt and isinstance(n, (A.If,) + _ROUTINES):
            continue
        kids = list(n.children())
        if isinstance(n, _ROUTINES):   # the body is handled with its own context
            body = {id(x) for x in n.body}
            kids = [k for k in kids if id(k) not in body]
        elif isinstance(n, A.If):
            kids = [b[0] for b in n.branches]
        stack.extend(reversed(kids))


def iter_statements(statements, ctx: Context | None = None) -> Iterator[tuple[A.Node, Context, int]]:
    """(statement, its static context, nesting depth) in execution order, entering IF branches
    and routine bodies; USE statements update the context of the statements after them."""
    ctx = ctx or Context()
    stack = [(iter(statements), ctx, 0)]
    while stack:
        it, c, depth = stack[-1]
        stmt = next(it, None)
        if stmt is None:
            stack.pop()
            continue
        if isinstance(stmt, A.UseDatabase):
            c.database, c.schema, c.schema_explicit = stmt.database.names[-1], DEFAULT_SCHEMA, False
        elif isinstance(stmt, A.UseSchema):
            names = stmt.schema.names
            if len(names) >= 2:
                c.database = names[0]
            c.schema, c.schema_explicit = names[-1], True
        yield stmt, c.copy() if not isinstance(stmt, (A.UseDatabase, A.UseSchema)) else _before_use(stmt, c), depth
        if isinstance(stmt, A.If):
            for _, branch in stmt.branches:
                stack.append((iter(branch), c, depth + 1))
            if stmt.otherwise:
                stack.append((iter(stmt.otherwise), c, depth + 1))
        elif isinstance(stmt, _ROUTINES):
            stack.append((iter(stmt.body), c.copy(), depth + 1))


def _before_use(stmt, c: Context) -> Context:
    # The USE statement's own name resolves in the context it establishes for a database, and in
    # the current database for a schema; both are what the caller needs.
    return c.copy()


# First parts of dotted type names that are .NET or U-SQL namespaces, not catalog names.
_TYPE_NAMESPACES = {"System", "SQL", "Microsoft", "global"}
_WORD = re.compile(r"(?!\d)\w+")


def _table_type_name(t: A.Type, text: str) -> A.ObjectName | None:
    """A parameter's or RETURNS type that names a catalog table type (``db.dbo.Rows``, ``dbo.Rows``),
    as an ObjectName with exact spans for its parts."""
    if t.text.count(".") not in (1, 2) or not re.fullmatch(r"[\w.]+", t.text):
        return None
    if t.name.split(".")[0] in _TYPE_NAMESPACES:
        return None
    src = text[t.span.start:t.span.end]
    parts = []
    for m in _WORD.finditer(src):
        a, b = t.span.start + m.start(), t.span.start + m.end()
        line, col = t.span.line, t.span.column + m.start()   # types sit on one line
        parts.append(A.Identifier(Span(a, b, line, col, line, col + (b - a)), m.group(), False))
    return A.ObjectName(t.span, tuple(parts), "type", "reference")


def references(script: A.Script) -> list[Reference]:
    """Every catalog name of the script, resolved, in source order."""
    out = []
    text = script.source.text if script.source is not None else ""
    for stmt, ctx, _ in iter_statements(script.statements):
        for n in _walk_statement(stmt):
            if isinstance(n, A.ObjectName) and n.object_kind:
                out.append(_resolve(n, ctx))
            elif (text and isinstance(n, A.Construct) and n.kind in ("Parameter", "ReturnRowset")
                  and len(n.items) >= 2 and isinstance(n.items[1], A.Type)
                  and n.items[1].span.line == n.items[1].span.end_line):
                name = _table_type_name(n.items[1], text)
                if name is not None:
                    out.append(_resolve(name, ctx))
    out.sort(key=lambda r: r.node.span.start)
    return out


# -- constant folding --------------------------------------------------------------------------

@dataclass(frozen=True)
class Piece:
    """A piece of a folded string: ``literal.value[start:end]``, or an unknown (dynamic) part."""
    literal: A.StringLiteral | None
    start: int = 0
    end: int = 0
    node: A.Node | None = None   # for a dynamic piece: the expression that is not known statically

    @property
    def text(self) -> str:
        return self.literal.value[self.start:self.end] if self.literal is not None else ""


@dataclass
class Folded:
    pieces: list = field(default_factory=list)
    via: tuple = ()   # variables the value came through

    @property
    def complete(self) -> bool:
        return all(p.literal is not None for p in self.pieces)

    @property
    def known_prefix(self) -> str:
        out = []
        for p in self.pieces:
            if p.literal is None:
                break
            out.append(p.text)
        return "".join(out)

    def display(self) -> str:
        return "".join(p.text if p.literal is not None else "{?}" for p in self.pieces)


class Environment:
    """DECLAREd variables visible at a point of the script."""

    def __init__(self, parent: "Environment | None" = None):
        self.vars: dict[str, A.Declare] = {}
        self.parent = parent

    def lookup(self, name: str) -> A.Declare | None:
        e = self
        while e is not None:
            d = e.vars.get(name)
            if d is not None:
                return d
            e = e.parent
        return None


def fold(expr: A.Node, env: Environment, _depth: int = 0) -> Folded:
    """Fold a string expression into literal pieces and unknown pieces (without recursion limits
    on long concatenations: the + chain is walked iteratively)."""
    out = Folded()
    via = []
    stack = [expr]
    while stack:
        e = stack.pop()
        if isinstance(e, A.StringLiteral):
            out.pieces.append(Piece(e, 0, len(e.value)))
        elif isinstance(e, A.BinaryOp) and e.op == "+":
            stack.append(e.right)
            stack.append(e.left)
        elif isinstance(e, A.Paren):
            stack.append(e.expr)
        elif isinstance(e, A.Variable) and not e.system and _depth < 32:
            d = env.lookup(e.name)
            if d is not None and d.value is not None:
                inner = fold(d.value, env, _depth + 1)
                via.append(e.name)
                via.extend(inner.via)
                out.pieces.extend(inner.pieces)
            else:
                out.pieces.append(Piece(None, node=e))
        else:
            out.pieces.append(Piece(None, node=e))
    out.via = tuple(via)
    return out


# -- locations ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Location:
    """An expression naming a file, folder or file set, and what it is for."""
    node: A.Node
    role: str            # input, output, assembly, assembly_file, resource, file_function, string
    folded: Folded
    statement: A.Node


def _is_file_function(call: A.Call) -> bool:
    f = call.func
    return (isinstance(f, A.MemberAccess) and isinstance(f.target, A.Name)
            and f.target.ident.name == "FILE" and isinstance(f.member, A.Identifier)
            and f.member.name in ("EXISTS", "LENGTH", "CREATED", "MODIFIED"))


def locations(script: A.Script) -> list[Location]:
    """Every location expression of the script, folded, in source order."""
    out = []
    envs: dict[int, Environment] = {}
    root = Environment()
    for stmt, _ctx, depth in iter_statements(script.statements):
        env = envs.setdefault(depth, root if depth == 0 else Environment(envs.get(depth - 1, root)))
        if isinstance(stmt, A.Declare):
            env.vars[stmt.variable.name] = stmt
        if isinstance(stmt, _ROUTINES):   # a fresh scope for the body
            envs[depth + 1] = Environment(env)
        for n in _walk_statement(stmt):
            if isinstance(n, A.Extract):
                out += [Location(s, "input", fold(s, env), stmt) for s in n.sources]
            elif isinstance(n, A.Output):
                out.append(Location(n.target, "output", fold(n.target, env), stmt))
            elif isinstance(n, A.CreateAssembly):
                out.append(Location(n.source, "assembly", fold(n.source, env), stmt))
                for f in n.additional_files:
                    expr = f.items[0] if isinstance(f, A.Construct) and f.items else f
                    out.append(Location(expr, "assembly_file", fold(expr, env), stmt))
            elif isinstance(n, A.DeployResource):
                out += [Location(p, "resource", fold(p, env), stmt) for p in n.paths]
            elif isinstance(n, A.Call) and _is_file_function(n) and n.args:
                out.append(Location(n.args[0], "file_function", fold(n.args[0], env), stmt))
    out.sort(key=lambda l: l.node.span.start)
    return out
