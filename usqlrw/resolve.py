"""Static name resolution and constant folding: the one place that answers "which object is this".

* Catalog names: :func:`qualify` resolves an :class:`~usqlrw.ast.ObjectName` against the *static*
  database and schema context (``master`` and ``dbo`` until a USE statement changes them) into a
  :class:`QualifiedName`. ``db..obj`` is db's default schema ``dbo``; a 4-part name carries the ADLA
  account. Names inside CREATE FUNCTION/PROCEDURE/PACKAGE bodies resolve in a scope of their own:
  the context of the CREATE statement, changed only by USE statements inside the body, and no
  DECLAREs of the script around it. :func:`references` gives every catalog name of a script.
* Locations: :func:`locations` gives every expression that names a file or folder the job reads or
  writes (EXTRACT FROM, OUTPUT TO, external table locations, assembly files, DEPLOY RESOURCE,
  FILE.* functions), folded through ``+``, ``string.Format``/``String.Concat`` of constants and
  DECLAREd constants, so a transform knows which literal holds which part.

Every feature (rewrite, refs, lint, replicate, the emulator's catalog) asks this module.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

from . import ast as A
from .ast import ObjectKind

DEFAULT_DATABASE = "master"
DEFAULT_SCHEMA = "dbo"

# Object kinds that live in a schema, and those that live directly in a database.
SCHEMA_KINDS = frozenset(k for k in ObjectKind if k.in_schema)
DATABASE_KINDS = frozenset(k for k in ObjectKind if k.in_database)


@dataclass
class Context:
    """The static database and schema in force at a statement."""
    database: str = DEFAULT_DATABASE
    schema: str = DEFAULT_SCHEMA
    schema_explicit: bool = False   # set by USE SCHEMA (else the default dbo)

    def copy(self) -> "Context":
        return Context(self.database, self.schema, self.schema_explicit)


@dataclass(frozen=True)
class QualifiedName:
    """A fully qualified catalog object: what a name denotes, whatever way it was written.

    ``database`` is set for every catalog kind; ``schema`` for schemas and schema-level objects;
    ``name`` for objects (not for databases and schemas). ``account`` is the ADLA account of a
    4-part name, else None (the account the job runs on)."""
    kind: ObjectKind
    database: str | None
    schema: str | None = None
    name: str | None = None
    account: str | None = None
    schema_explicit: bool = True   # False: the schema came from the default context (dbo)

    @property
    def parts(self) -> tuple:
        """(database[, schema][, name]) without the account."""
        return tuple(x for x in (self.database, self.schema, self.name) if x is not None)

    @property
    def triple(self) -> tuple:
        """(database, schema or "", name or "") for keys of catalog models."""
        return (self.database or "", self.schema or "", self.name or "")

    def __str__(self) -> str:
        return ".".join(self.parts)


def qualify(name: A.ObjectName, ctx: Context | None = None, kind: ObjectKind | str | None = None) -> QualifiedName:
    """The object ``name`` denotes in static context ``ctx``. ``kind`` overrides the name's own
    role (e.g. to read a ROWSET name as a TABLE)."""
    ctx = ctx or Context()
    k = ObjectKind(kind) if kind else name.object_kind
    if kind and k is not name.object_kind:
        name = name.with_role(k, name.action or A.Action.REFERENCE)
    acct = name.account.name if name.account is not None else None
    db = name.database.name if name.database is not None else None
    if k is None or not k.catalog:
        obj = name.object or name.variable
        return QualifiedName(k, None, None, obj.name if obj is not None else None, acct)
    if k is ObjectKind.DATABASE:
        return QualifiedName(k, db, None, None, acct)
    if k is ObjectKind.SCHEMA:
        return QualifiedName(k, db or ctx.database, name.schema.name if name.schema else None, None, acct)
    obj = name.object.name if name.object is not None else None
    if k.in_database:
        return QualifiedName(k, db or ctx.database, None, obj, acct)
    if name.schema is not None:
        return QualifiedName(k, db or ctx.database, name.schema.name, obj, acct)
    if db is not None:   # db..obj
        return QualifiedName(k, db, DEFAULT_SCHEMA, obj, acct, schema_explicit=False)
    return QualifiedName(k, ctx.database, ctx.schema, obj, acct, ctx.schema_explicit)


def qualify_text(kind: ObjectKind | str, text: str, ctx: Context | None = None) -> QualifiedName:
    """:func:`qualify` for a name given as U-SQL text (``[Sales]..Orders``), e.g. from a config."""
    from .parser import parse
    script = parse(f"DROP {_DROP_WORD[ObjectKind(kind)]} {text};")
    return qualify(script.statements[0].object, ctx, kind)


_DROP_WORD = {ObjectKind.DATABASE: "DATABASE", ObjectKind.SCHEMA: "SCHEMA", ObjectKind.TABLE: "TABLE",
              ObjectKind.ROWSET: "TABLE", ObjectKind.VIEW: "VIEW", ObjectKind.TVF: "FUNCTION",
              ObjectKind.PROCEDURE: "PROCEDURE", ObjectKind.PACKAGE: "PACKAGE", ObjectKind.TYPE: "TYPE",
              ObjectKind.ASSEMBLY: "ASSEMBLY", ObjectKind.CREDENTIAL: "CREDENTIAL",
              ObjectKind.DATA_SOURCE: "DATA SOURCE"}


@dataclass(frozen=True)
class Reference:
    """One catalog name in a script, resolved."""
    node: A.ObjectName
    qualified_name: QualifiedName
    statement: A.Node | None = None

    @property
    def kind(self) -> ObjectKind:
        return self.qualified_name.kind

    @property
    def action(self):
        return self.node.action

    @property
    def database(self):
        return self.qualified_name.database

    @property
    def schema(self):
        return self.qualified_name.schema

    @property
    def name(self):
        return self.qualified_name.name

    @property
    def account(self):
        return self.qualified_name.account

    @property
    def schema_explicit(self) -> bool:
        return self.qualified_name.schema_explicit

    @property
    def qualified(self) -> tuple:
        return self.qualified_name.parts


# -- scopes -----------------------------------------------------------------------------------------

class Environment:
    """DECLAREd variables visible at a point of the script (a scope, and the scopes around it)."""

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

    def declare(self, d: A.Declare) -> None:
        """Record a DECLARE. ``DECLARE EXTERNAL`` only declares a default: a value declared
        before it (the job's parameters, prepended by the submitter) wins."""
        name = d.variable.name
        if d.external and self.lookup(name) is not None:
            return
        self.vars[name] = d


@dataclass
class Scope:
    """The static context and the variables in force at a statement."""
    context: Context
    env: Environment
    depth: int = 0
    routine: A.Node | None = None    # the CREATE FUNCTION/PROCEDURE/PACKAGE or DECLARE FUNCTION around


_ROUTINES = (A.Routine, A.DeclareFunction)


def _prune_nested(stmt):
    """For walks of one statement: do not enter nested statement lists (IF branches, bodies)."""
    def prune(n):
        return n is not stmt and isinstance(n, (A.IfBranch, A.ElseBranch) + _ROUTINES)
    return prune


def statement_nodes(stmt: A.Node) -> Iterator[A.Node]:
    """Nodes of one statement, not descending into nested statement lists (IF branches, routine
    bodies): those are statements of their own in :func:`iter_scoped`. An IF's conditions and a
    routine's parameters and RETURNS are part of the statement."""
    if isinstance(stmt, A.If):
        yield stmt
        for b in stmt.branches:
            yield from A.walk(b.condition)
        return
    if isinstance(stmt, _ROUTINES):
        yield stmt
        for f in ("routine", "variable"):
            v = getattr(stmt, f, None)
            if v is not None:
                yield from A.walk(v)
        for p in stmt.params:
            yield from A.walk(p)
        if stmt.returns is not None:
            yield from A.walk(stmt.returns)
        return
    yield from A.walk(stmt)


def iter_scoped(statements, scope: Scope | None = None) -> Iterator[tuple[A.Node, Scope]]:
    """(statement, its scope) in execution order, entering IF branches and routine bodies.

    USE statements change the context of the statements after them (in their own scope only);
    DECLAREs are visible after them, in their scope and the scopes inside it. A routine body
    starts from the CREATE's context with no variables of the script; an IF branch sees the
    variables around it, and its own DECLAREs end with it."""
    scope = scope or Scope(Context(), Environment())
    stack = [(iter(statements), scope)]
    while stack:
        it, sc = stack[-1]
        stmt = next(it, None)
        if stmt is None:
            stack.pop()
            continue
        if isinstance(stmt, A.UseDatabase):
            sc.context.database = stmt.database.database.name if stmt.database.database else sc.context.database
            sc.context.schema, sc.context.schema_explicit = DEFAULT_SCHEMA, False
            yield stmt, Scope(sc.context.copy(), sc.env, sc.depth, sc.routine)
            continue
        if isinstance(stmt, A.UseSchema):
            n = stmt.schema
            yield stmt, Scope(sc.context.copy(), sc.env, sc.depth, sc.routine)
            if n.database is not None:
                sc.context.database = n.database.name
            sc.context.schema, sc.context.schema_explicit = n.schema.name, True
            continue
        yield stmt, Scope(sc.context.copy(), sc.env, sc.depth, sc.routine)
        if isinstance(stmt, A.Declare):
            sc.env.declare(stmt)
        elif isinstance(stmt, A.If):
            # pushed in reverse: the stack runs the last pushed first
            inner = []
            for b in stmt.branches:
                inner.append(b.statements)
            if stmt.otherwise is not None:
                inner.append(stmt.otherwise.statements)
            for body in reversed(inner):
                stack.append((iter(body), Scope(sc.context.copy(), Environment(sc.env), sc.depth + 1, sc.routine)))
        elif isinstance(stmt, _ROUTINES):
            stack.append((iter(stmt.body), Scope(sc.context.copy(), Environment(), sc.depth + 1, stmt)))


def iter_statements(statements, ctx: Context | None = None) -> Iterator[tuple[A.Node, Context, int]]:
    """(statement, its static context, nesting depth): :func:`iter_scoped` without variables."""
    for stmt, sc in iter_scoped(statements, Scope(ctx or Context(), Environment())):
        yield stmt, sc.context, sc.depth


def references(script: A.Script) -> list[Reference]:
    """Every catalog name of the script (each with its kind), resolved, in source order."""
    out = []
    for stmt, sc in iter_scoped(script.statements):
        for n in statement_nodes(stmt):
            if isinstance(n, A.ObjectName) and n.object_kind is not None:
                out.append(Reference(n, qualify(n, sc.context), stmt))
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

    @property
    def value(self) -> str | None:
        return "".join(p.text for p in self.pieces) if self.complete else None

    def display(self) -> str:
        return "".join(p.text if p.literal is not None else "{?}" for p in self.pieces)


def _string_call(e: A.Call) -> str | None:
    """``format`` or ``concat`` for string.Format / String.Format / string.Concat / String.Concat."""
    f = e.func
    if (isinstance(f, A.MemberAccess) and isinstance(f.target, A.Name) and isinstance(f.member, A.Identifier)
            and f.target.ident.name in ("string", "String", "System.String")):
        m = f.member.name
        if m == "Format":
            return "format"
        if m == "Concat":
            return "concat"
    return None


def _format_pieces(lit: A.StringLiteral, args: list, env, depth) -> tuple[list, list] | None:
    """Pieces of ``string.Format(lit, args...)``: literal runs of the format, and each ``{i}``
    replaced by argument i folded; None when the format has what this does not follow."""
    v = lit.value
    out: list = []
    via: list = []
    i = run = 0
    while i < len(v):
        ch = v[i]
        if ch in "{}" and i + 1 < len(v) and v[i + 1] == ch:        # {{ or }}
            if run < i:
                out.append(Piece(lit, run, i))
            out.append(Piece(lit, i, i + 1))
            i += 2
            run = i
            continue
        if ch == "{":
            j = v.find("}", i)
            spec = v[i + 1:j] if j > 0 else ""
            if not spec.isdigit() or int(spec) >= len(args):
                return None
            if run < i:
                out.append(Piece(lit, run, i))
            inner = fold(args[int(spec)], env, depth + 1)
            out.extend(inner.pieces)
            via.extend(inner.via)
            i = j + 1
            run = i
            continue
        i += 1
    if run < len(v):
        out.append(Piece(lit, run, len(v)))
    return out, via


def fold(expr: A.Node, env: Environment, _depth: int = 0) -> Folded:
    """Fold a string expression into literal pieces and unknown pieces: through ``+`` (walked
    iteratively, so long chains are fine), parentheses, DECLAREd variables, and
    ``string.Format``/``String.Concat`` calls."""
    out = Folded()
    via: list = []
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
        elif isinstance(e, A.Call) and _depth < 32 and _string_call(e) == "concat":
            stack.extend(reversed(e.args))
        elif (isinstance(e, A.Call) and _depth < 32 and _string_call(e) == "format" and e.args
              and isinstance(e.args[0], A.StringLiteral)
              and (r := _format_pieces(e.args[0], list(e.args[1:]), env, _depth)) is not None):
            out.pieces.extend(r[0])
            via.extend(r[1])
        else:
            out.pieces.append(Piece(None, node=e))
    out.via = tuple(via)
    return out


# -- locations ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Location:
    """An expression naming a file, folder or file set the job reads or writes, and what for.

    ``role``: input (EXTRACT FROM), output (OUTPUT TO), assembly (CREATE/DECLARE ASSEMBLY FROM),
    assembly_file (ADDITIONAL_FILES), resource (DEPLOY RESOURCE), file_function (FILE.*)."""
    node: A.Node
    role: str
    folded: Folded
    statement: A.Node


_FILE_FUNCTIONS = frozenset({"EXISTS", "LENGTH", "CREATED", "MODIFIED"})


def is_file_function(call: A.Call) -> bool:
    f = call.func
    return (isinstance(f, A.MemberAccess) and isinstance(f.target, A.Name)
            and f.target.ident.name == "FILE" and isinstance(f.member, A.Identifier)
            and f.member.name in _FILE_FUNCTIONS)


def location_nodes(stmt: A.Node) -> Iterator[tuple[str, A.Node]]:
    """(role, expression) of every location of one statement (nested bodies left out)."""
    for n in statement_nodes(stmt):
        if isinstance(n, A.Extract):
            for s in n.sources:
                yield "input", s
        elif isinstance(n, A.Output):
            yield "output", n.target
        elif isinstance(n, (A.CreateAssembly, A.DeclareAssembly)):
            yield "assembly", n.source
            for f in n.additional_files:
                yield "assembly_file", f.path
        elif isinstance(n, A.DeployResource):
            for p in n.paths:
                yield "resource", p
        elif isinstance(n, A.Call) and n.args and is_file_function(n):
            yield "file_function", n.args[0]


def argument_nodes(stmt: A.Node) -> Iterator[A.Node]:
    """Arguments the job hands to code that may read or write what they name: UDO constructors and
    calls in USING and APPLY, TVF, procedure and package arguments (nested bodies left out)."""
    for n in statement_nodes(stmt):
        if isinstance(n, (A.Using, A.Applier)):
            for m in A.walk(n.expr):
                if isinstance(m, (A.Call, A.New)):
                    yield from m.args
        elif isinstance(n, (A.TvfCall, A.ProcedureCall, A.ImportPackage)):
            yield from n.args


def io_expressions(script: A.Script) -> Iterator[tuple[str, A.Node, Folded, A.Node]]:
    """(role, expression, folded value, statement) of every expression that reaches a place where
    the job reads or writes: the locations, and the arguments of :func:`argument_nodes` (role
    ``argument``). A string anywhere else only meets row data."""
    for stmt, sc in iter_scoped(script.statements):
        for role, node in location_nodes(stmt):
            yield role, node, fold(node, sc.env), stmt
        for arg in argument_nodes(stmt):
            yield "argument", arg, fold(arg, sc.env), stmt


def locations(script: A.Script) -> list[Location]:
    """Every location expression of the script, folded in its scope, in source order."""
    out = []
    for stmt, sc in iter_scoped(script.statements):
        for role, node in location_nodes(stmt):
            out.append(Location(node, role, fold(node, sc.env), stmt))
    out.sort(key=lambda l: l.node.span.start)
    return out
