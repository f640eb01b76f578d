"""The typed U-SQL syntax tree: one frozen class per construct, each with its exact source span.

Classes named here have named fields. Every other construct of the grammar still gets a class of
its own (``ast.node_class("create_statistics")`` is ``CreateStatistics``) with the generic fields
``items`` (its child nodes, in source order) and ``keywords`` (the keywords that spelled it).

Walk trees with :func:`walk`, which is iterative: scripts nested thousands deep are fine.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Iterator

from .source import Span

__all__ = ["Node", "walk", "node_class", "to_dict", "to_json"]


@dataclass(frozen=True, eq=False, repr=False, slots=True)
class Node:
    span: Span

    @property
    def kind(self) -> str:
        return type(self).__name__

    def children(self) -> Iterator["Node"]:
        for name in _child_fields(type(self)):
            v = getattr(self, name)
            if isinstance(v, Node):
                yield v
            elif isinstance(v, tuple):
                for x in v:
                    if isinstance(x, Node):
                        yield x
                    elif isinstance(x, tuple):  # (condition, statements) pairs and the like
                        yield from (y for y in x if isinstance(y, Node))

    def __repr__(self) -> str:
        vals = []
        for f in fields(self):
            if f.name == "span":
                continue
            v = getattr(self, f.name)
            if isinstance(v, Node):
                v = f"<{v.kind}>"
            elif isinstance(v, tuple) and len(v) > 3:
                v = f"<{len(v)} items>"
            vals.append(f"{f.name}={v!r}")
        return f"{self.kind}({', '.join(vals)} @{self.span.line}:{self.span.column})"


_CHILD_FIELDS: dict = {}


def _child_fields(cls) -> tuple:
    """Names of the fields that may hold child nodes (cached per class)."""
    try:
        return _CHILD_FIELDS[cls]
    except KeyError:
        names = tuple(f.name for f in fields(cls) if f.name != "span"
                      and not (cls.__name__ == "Script" and f.name in ("source", "comments")))
        _CHILD_FIELDS[cls] = names
        return names


def walk(node: Node) -> Iterator[Node]:
    """Every node under ``node`` (included), in source order, without recursion."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(list(n.children())))


def _nd(cls):
    return dataclass(frozen=True, eq=False, repr=False, slots=True)(cls)


# -- Names -------------------------------------------------------------------------------------

@_nd
class Identifier(Node):
    """A quoted (``[Sales Data]``) or unquoted identifier; ``name`` has the quotes removed."""
    name: str
    quoted: bool = False


@_nd
class ObjectName(Node):
    """A 1-, 2- or 3-part catalog name, and the role it plays where it stands.

    ``object_kind`` is database, schema, rowset (table or view read), table, view, tvf, procedure,
    package, type, assembly, system_assembly, data_source, credential, statistics or index;
    ``action`` is use, read, write, call, create, alter, drop or reference.

    Script-bound objects (``DECLARE FUNCTION @f``, ``DECLARE ASSEMBLY @a``) are not in the catalog:
    where one is used by name its ObjectName has a single :class:`Variable` part and the kind
    ``script_tvf`` or ``script_assembly``, so catalog rewrites can tell them apart.
    """
    parts: tuple
    object_kind: str = ""
    action: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parts)


@_nd
class Variable(Node):
    """``@name`` (user variable or rowset) or ``@@name`` (system variable)."""
    name: str

    @property
    def system(self) -> bool:
        return self.name.startswith("@@")


@_nd
class DottedName(Node):
    names: tuple


@_nd
class Type(Node):
    """A type as written: ``int?``, ``SQL.MAP<string, int?>``, ``byte[]``."""
    name: str
    text: str
    nullable: bool = False


# -- Literals and scalar expressions -----------------------------------------------------------

@_nd
class StringLiteral(Node):
    """A C# string: regular ``"a\\tb"`` or verbatim ``@"c:\\x"``; ``value`` is unescaped."""
    value: str
    verbatim: bool = False


@_nd
class CharLiteral(Node):
    value: str


@_nd
class NumberLiteral(Node):
    text: str


@_nd
class BoolLiteral(Node):
    value: bool


@_nd
class NullLiteral(Node):
    pass


@_nd
class Name(Node):
    """A bare column or member name in an expression."""
    ident: Identifier


@_nd
class MemberAccess(Node):
    target: Node
    member: Node
    null_conditional: bool = False


@_nd
class BinaryOp(Node):
    op: str
    left: Node
    right: Node


@_nd
class UnaryOp(Node):
    op: str
    operand: Node


@_nd
class Cast(Node):
    type_text: str
    operand: Node


@_nd
class Conditional(Node):
    condition: Node
    then: Node
    otherwise: Node


@_nd
class Paren(Node):
    expr: Node


@_nd
class Call(Node):
    func: Node
    args: tuple = ()
    distinct: bool = False
    over: Node | None = None
    within_group: Node | None = None


@_nd
class Index(Node):
    target: Node
    args: tuple = ()


@_nd
class NamedArgument(Node):
    name: str
    value: Node


@_nd
class New(Node):
    type: Node | None
    args: tuple = ()
    initializer: Node | None = None


@_nd
class Lambda(Node):
    """``x => expr``, ``(a, b) => expr``, ``(string s) => expr`` or ``p => { statements }``."""
    params: tuple
    body: Node            # an expression, or a CSharpBlock for a statement lambda


@_nd
class CSharpBlock(Node):
    """The ``{ ... }`` body of a C# statement lambda, kept as opaque text (braces included)."""
    text: str


@_nd
class Case(Node):
    """``CASE [operand] WHEN a THEN b ... [ELSE c] END``."""
    operand: Node | None
    whens: tuple               # ((when, then), ...)
    otherwise: Node | None = None


# -- Statements -------------------------------------------------------------------------------

@_nd
class Script(Node):
    statements: tuple
    comments: tuple = ()   # (Span, text) of every comment, for suppression directives
    source: object = None  # the usqlrw.source.Source it was parsed from


@_nd
class UseDatabase(Node):
    database: ObjectName


@_nd
class UseSchema(Node):
    schema: ObjectName


@_nd
class Declare(Node):
    variable: Variable
    type: Type | None
    value: Node
    external: bool = False
    const: bool = False


@_nd
class DeclareFunction(Node):
    """``DECLARE FUNCTION @f(params) RETURNS ... AS BEGIN ... END``: a script-bound TVF."""
    variable: Variable
    params: tuple
    body: tuple
    returns: Node | None = None


@_nd
class DeclareAssembly(Node):
    """``DECLARE ASSEMBLY @a FROM path [WITH ADDITIONAL_FILES = (...)]``: a script-bound assembly."""
    variable: Variable
    source: Node
    additional_files: tuple = ()


@_nd
class Raise(Node):
    """``RAISE ERROR message`` or ``RAISE WARNING message``."""
    level: str                 # ERROR or WARNING
    message: Node


@_nd
class Return(Node):
    """``RETURN`` in a function body."""


@_nd
class SetOption(Node):
    variable: Variable
    value: Node


@_nd
class If(Node):
    branches: tuple        # ((condition, statements), ...) for IF and each ELSEIF
    otherwise: tuple = ()  # the ELSE statements


@_nd
class ReferenceAssembly(Node):
    assembly: ObjectName
    system: bool = False


@_nd
class DeployResource(Node):
    paths: tuple


@_nd
class RowsetAssignment(Node):
    targets: tuple
    query: Node
    option: Node | None = None


@_nd
class Extract(Node):
    """``columns`` holds ColumnDefinition, VirtualColumn (``uri = FILE.URI()``) and
    TableTypeColumns (``type1.*``); ``clauses`` the REQUIRED and SORTED BY clauses."""
    columns: tuple
    sources: tuple
    using: Node | None = None
    clauses: tuple = ()


@_nd
class VirtualColumn(Node):
    """An EXTRACT column computed from the file set, e.g. ``uri = FILE.URI()``."""
    name: Identifier
    value: Node


@_nd
class TableTypeColumns(Node):
    """``EXTRACT type1.*``: the columns of a table type from the catalog."""
    type: ObjectName


@_nd
class ColumnDefinition(Node):
    name: Identifier
    type: Type


@_nd
class Output(Node):
    rowset: Node
    target: Node
    using: Node | None = None
    order_by: Node | None = None
    expiration: Node | None = None   # EXPIRATION expr


@_nd
class Insert(Node):
    table: ObjectName
    columns: tuple = ()
    partition: Node | None = None
    integrity: Node | None = None
    source: Node | None = None


@_nd
class RowsetRef(Node):
    variable: Variable
    alias: Node | None = None


@_nd
class TableRef(Node):
    table: ObjectName
    alias: Node | None = None


@_nd
class TvfCall(Node):
    function: ObjectName
    args: tuple = ()
    alias: Node | None = None


@_nd
class ProcedureCall(Node):
    procedure: ObjectName
    args: tuple = ()


@_nd
class CreateAssembly(Node):
    assembly: ObjectName
    source: Node
    additional_files: tuple = ()
    if_not_exists: bool = False


@_nd
class CreateExternalTable(Node):
    table: ObjectName
    columns: tuple
    data_source: ObjectName
    location: Node
    if_not_exists: bool = False


@_nd
class ExternalRowset(Node):
    data_source: ObjectName
    mode: str          # LOCATION or EXECUTE
    remote: Node


@_nd
class CreateTable(Node):
    table: ObjectName
    elements: tuple = ()      # column definitions and the index
    partitioning: tuple = ()  # partition/distribution clauses
    query: Node | None = None
    if_not_exists: bool = False


@_nd
class Routine(Node):
    """CREATE FUNCTION, PROCEDURE or PACKAGE: a named body of statements."""
    routine: ObjectName
    params: tuple
    body: tuple
    returns: Node | None = None
    if_not_exists: bool = False


@_nd
class CreateFunction(Routine):
    pass


@_nd
class CreateProcedure(Routine):
    pass


@_nd
class CreatePackage(Routine):
    pass


@_nd
class CreateView(Node):
    view: ObjectName
    query: Node
    if_not_exists: bool = False


@_nd
class RenameTable(Node):
    """``RENAME TABLE [IF EXISTS] old TO [IF NOT EXISTS] new``."""
    table: ObjectName
    new_name: ObjectName
    if_exists: bool = False
    if_not_exists: bool = False


@_nd
class Drop(Node):
    object: ObjectName
    object_kind: str
    on: ObjectName | None = None
    if_exists: bool = False


# -- Generic construct classes -----------------------------------------------------------------

@_nd
class Construct(Node):
    """Base of the classes made by :func:`node_class` for constructs with no fields of their own."""
    items: tuple = ()
    keywords: tuple = ()


_classes: dict[str, type] = {}


def class_name(rule: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in rule.split("_") if p)


def node_class(rule: str) -> type:
    """The class for a grammar alias: named above, or made once as a Construct subclass."""
    name = class_name(rule)
    cls = _classes.get(name)
    if cls is None:
        cls = globals().get(name)
        if not (isinstance(cls, type) and issubclass(cls, Node)):
            cls = _nd(type(name, (Construct,), {"__qualname__": name, "__module__": __name__}))
        _classes[name] = cls
    return cls


def to_dict(node: Node) -> dict:
    """A JSON-ready dict of the tree (kind, span, fields), built without recursion."""
    root: dict = {}
    stack = [(node, root)]

    def conv(v, out_list):
        if isinstance(v, Node):
            d: dict = {}
            stack.append((v, d))
            return d
        if isinstance(v, tuple):
            return [conv(x, out_list) for x in v]
        if isinstance(v, Span):
            return v.to_dict()
        return v

    while stack:
        n, d = stack.pop()
        d["kind"] = n.kind
        d["span"] = n.span.to_dict()
        for f in fields(n):
            if f.name != "span" and not (isinstance(n, Script) and f.name == "source"):
                d[f.name] = conv(getattr(n, f.name), None)
    return root


def to_json(node: Node, indent: int | None = 2) -> str:
    """``to_dict(node)`` as JSON text, written without recursion (trees may be thousands deep)."""
    import json
    enc = json.dumps
    out: list[str] = []
    nl = indent is not None
    # Stack items: ("v", value, depth) to write a value, or ("s", text) to write text.
    stack: list = [("v", to_dict(node), 0)]
    while stack:
        item = stack.pop()
        if item[0] == "s":
            out.append(item[1])
            continue
        _, v, depth = item
        pad = ("\n" + " " * (indent * (depth + 1))) if nl else ""
        end_pad = ("\n" + " " * (indent * depth)) if nl else ""
        if isinstance(v, dict):
            if not v:
                out.append("{}")
                continue
            out.append("{")
            parts = []
            for i, (k, x) in enumerate(v.items()):
                parts.append(("s", ("," if i else "") + pad + enc(k, ensure_ascii=False) + ": "))
                parts.append(("v", x, depth + 1))
            parts.append(("s", end_pad + "}"))
            stack.extend(reversed(parts))
        elif isinstance(v, list):
            if not v:
                out.append("[]")
                continue
            out.append("[")
            parts = []
            for i, x in enumerate(v):
                parts.append(("s", ("," if i else "") + pad))
                parts.append(("v", x, depth + 1))
            parts.append(("s", end_pad + "]"))
            stack.extend(reversed(parts))
        else:
            out.append(enc(v, ensure_ascii=False))
    return "".join(out)
