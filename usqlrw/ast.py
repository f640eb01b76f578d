"""The typed U-SQL syntax tree: one frozen class per construct, named fields, exact spans.

Every construct of the grammar has its own class here, with named fields in source order; no node
keeps a positional list of anonymous children. The builder (usqlrw/builder.py) fills most classes
from their field declarations: a field annotated ``Expr`` takes the next expression child, a field
annotated ``tuple[SortItem, ...]`` collects consecutive sort items, and a :func:`kw` field takes the
keyword tokens it names (with their spans), so what a class declares is what the parser fills.

Metadata lives on the classes: :attr:`Node.name_roles` gives the catalog role of each name a
statement holds (what it creates, drops, reads, writes), :attr:`Statement.is_ddl` tells DDL.

Names keep every part as written: :class:`ObjectName` has ``account``, ``database``, ``schema``
and ``object`` parts (``db..obj`` keeps the empty schema); :class:`Type` is a tree of type
arguments. Traversal: :func:`walk` (with pruning), :func:`find_all`, :func:`parents`,
:func:`same_tree` (structural equality ignoring spans). JSON: :func:`to_dict`/:func:`to_json`,
a stable format versioned by :data:`JSON_VERSION`.
"""
from __future__ import annotations

import enum
import typing
from dataclasses import dataclass, field, fields
from typing import Callable, Iterator

from .source import Span

__all__ = ["Node", "Expr", "Query", "RowsetSource", "Statement", "Keyword", "ObjectKind",
           "ObjectName", "walk", "find_all", "parents", "same_tree", "node_class", "to_dict",
           "to_json", "all_node_classes", "JSON_VERSION"]

#: Version of the JSON tree format of :func:`to_dict` (``usqlrw ast --json``). Bumped on any change
#: that could break a reader: a renamed or removed class or field, a changed value type.
JSON_VERSION = 2


class ObjectKind(str, enum.Enum):
    """The kinds of catalog (and script-bound) objects a name can denote. One spelling everywhere."""
    DATABASE = "database"
    SCHEMA = "schema"
    ROWSET = "rowset"            # a table or a view, read: the name alone does not tell which
    TABLE = "table"
    VIEW = "view"
    TVF = "tvf"                  # table-valued function
    PROCEDURE = "procedure"
    PACKAGE = "package"
    TYPE = "type"                # table type
    ASSEMBLY = "assembly"
    SYSTEM_ASSEMBLY = "system_assembly"
    DATA_SOURCE = "data_source"
    CREDENTIAL = "credential"
    STATISTICS = "statistics"
    INDEX = "index"
    SCRIPT_TVF = "script_tvf"            # DECLARE FUNCTION @f: lives only while the script runs
    SCRIPT_ASSEMBLY = "script_assembly"  # DECLARE ASSEMBLY @a

    def __str__(self) -> str:
        return self.value

    @property
    def in_schema(self) -> bool:
        """Lives in a schema of a database (db.schema.name)."""
        return self in _SCHEMA_KINDS

    @property
    def in_database(self) -> bool:
        """Lives directly in a database (db.name)."""
        return self in _DATABASE_KINDS

    @property
    def catalog(self) -> bool:
        """A catalog object that a failover maps (script-bound objects, system assemblies,
        statistics and indexes are not)."""
        return self in _SCHEMA_KINDS or self in _DATABASE_KINDS or self in (ObjectKind.DATABASE,
                                                                              ObjectKind.SCHEMA)


_SCHEMA_KINDS = frozenset({ObjectKind.ROWSET, ObjectKind.TABLE, ObjectKind.VIEW, ObjectKind.TVF,
                           ObjectKind.PROCEDURE, ObjectKind.PACKAGE, ObjectKind.TYPE})
_DATABASE_KINDS = frozenset({ObjectKind.ASSEMBLY, ObjectKind.DATA_SOURCE, ObjectKind.CREDENTIAL})


class Action(str, enum.Enum):
    """What a statement does with an object it names."""
    USE = "use"
    READ = "read"
    WRITE = "write"
    CALL = "call"
    CREATE = "create"
    ALTER = "alter"
    DROP = "drop"
    REFERENCE = "reference"

    def __str__(self) -> str:
        return self.value


def kw(*words: str):
    """A field holding the :class:`Keyword` (one of ``words``) written at that place, or None."""
    return field(default=None, metadata={"words": frozenset(words)})


def kws(*words: str):
    """A field holding every :class:`Keyword` of ``words`` written at that place (a tuple)."""
    return field(default=(), metadata={"words": frozenset(words), "multi": True})


# -- how the node classes are made ----------------------------------------------------------------
#
# Each class below is declared as a frozen dataclass with slots (``@_nd``). Making ~200 of them with
# ``dataclasses`` at import costs about 90 ms (generated methods exec'd one by one, every class
# built twice for its slots), so their parts are generated ahead of time into
# usqlrw/ast_generated.py (``python -m usqlrw.ast_codegen``; tests/test_ast_generated.py checks it
# is current and that every class behaves as the dataclass would). _NodeMeta builds a class once,
# with its slots, its dataclass fields and the generated ``__init__``, when the declaration is
# exactly the one the module was generated from; otherwise (a declaration changed and the module
# not regenerated, or USQLRW_DATACLASS_NODES set) ``dataclasses`` makes it as before.

import dataclasses as _dc

_MISSING = _dc.MISSING
_FIELD_KINDS = {"f": _dc._FIELD, "c": _dc._FIELD_CLASSVAR}
_KIND_OF = {v: k for k, v in _FIELD_KINDS.items()}
# Names a declaration may not define for the generated parts to stand in for dataclasses'.
_OWN_PARTS = ("__init__", "__setattr__", "__delattr__", "__getstate__", "__setstate__",
              "__post_init__", "__match_args__", "__slots__", "__dataclass_fields__")


def _generated_classes() -> dict:
    import os
    if __name__ != "usqlrw.ast" or os.environ.get("USQLRW_DATACLASS_NODES"):
        return {}
    try:
        from .ast_generated import CLASSES
    except ImportError:   # pragma: no cover - the generated module is part of the package
        return {}
    return CLASSES


def _field_rows(fields: dict) -> tuple:
    """(name, annotation, kind, repr of the default or None) of each entry of __dataclass_fields__:
    what the generated parts of a class were made for."""
    return tuple((f.name, f.type, _KIND_OF.get(f._field_type, "?"),
                  None if f.default is _MISSING else repr(f.default)) for f in fields.values())


class _NodeMeta(type):
    """Makes a node class in one go from its generated parts (see above)."""

    def __new__(mcls, name, bases, ns, **kw):
        spec = _GENERATED.get(name)
        if spec is not None and not kw and ns.get("__qualname__") == name \
                and not any(k in ns for k in _OWN_PARTS):
            cls = _from_generated(mcls, name, bases, ns, spec)
            if cls is not None:
                return cls
        return super().__new__(mcls, name, bases, ns, **kw)


def _from_generated(mcls, name, bases, ns, spec):
    rows, own_annotations, slots, doc, init_factory = spec
    ann = ns.get("__annotations__", {})
    if tuple(ann.items()) != own_annotations:
        return None
    # Everything goes into the namespace, so the class is made once, with all of it.
    mro = bases[0].__mro__ if len(bases) == 1 else \
        type.__new__(mcls, "_", bases, {"__slots__": ()}).__mro__[1:]
    fields: dict = {}
    for b in reversed(mro):
        base_fields = getattr(b, "__dataclass_fields__", None)
        if base_fields is not None:
            for f in base_fields.values():
                fields[f.name] = f
    body = dict(ns)
    for a, t in ann.items():
        classvar = t.startswith(("typing.ClassVar", "ClassVar"))
        v = body.get(a, _MISSING) if classvar else body.pop(a, _MISSING)
        if classvar and isinstance(v, _dc.Field):
            return None
        f = v if isinstance(v, _dc.Field) else _dc.field(default=v)
        f.name, f.type = a, t
        f._field_type = _dc._FIELD_CLASSVAR if classvar else _dc._FIELD
        if not classvar and f.kw_only is _MISSING:
            f.kw_only = False
        fields[a] = f
    std = [f for f in fields.values() if f._field_type is _dc._FIELD]
    if _field_rows(fields) != rows or any(
            f.default_factory is not _MISSING or not f.init or f.kw_only for f in std):
        return None   # the declaration is not the one generated from: dataclasses makes it
    qualname, module = ns["__qualname__"], ns["__module__"]
    init = init_factory(*[f.default for f in std if f.default is not _MISSING])
    init.__qualname__ = f"{qualname}.__init__"
    init.__module__ = module
    names = frozenset(f.name for f in std)
    setattr_, delattr_, bind = _frozen(qualname, module, names)
    body.update(__slots__=slots, __init__=init, __dataclass_params__=_PARAMS,
                __dataclass_fields__=fields, __setattr__=setattr_, __delattr__=delattr_,
                __getstate__=_getstate, __setstate__=_setstate,
                __match_args__=tuple(f.name for f in std))
    if not ns.get("__doc__"):
        body["__doc__"] = doc
    cls = type.__new__(mcls, name, bases, body)
    bind(cls)
    return cls


def _frozen(qualname: str, module: str, names: frozenset):
    """A frozen dataclass's __setattr__ and __delattr__, and the function that tells them their class."""
    FrozenInstanceError = _dc.FrozenInstanceError
    cls = None

    def __setattr__(self, name, value):
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    def __delattr__(self, name):
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)

    def bind(c):
        nonlocal cls
        cls = c

    for fn in (__setattr__, __delattr__):
        fn.__qualname__ = f"{qualname}.{fn.__name__}"
        fn.__module__ = module
    return __setattr__, __delattr__, bind


def _getstate(self):   # as dataclasses' own for a frozen class with slots (pickle, copy)
    return [getattr(self, f.name) for f in _dc.fields(self)]


def _setstate(self, state):
    for f, value in zip(_dc.fields(self), state):
        object.__setattr__(self, f.name, value)


@_dc.dataclass(frozen=True, eq=False, repr=False, slots=True)
class _Params:
    """Gives the dataclass parameters object every node class carries."""


_PARAMS = _Params.__dataclass_params__
_GENERATED = _generated_classes()


def _nd(cls):
    if "__dataclass_fields__" in cls.__dict__:   # made from its generated parts
        return cls
    return dataclass(frozen=True, eq=False, repr=False, slots=True)(cls)


@_nd
class Node(metaclass=_NodeMeta):
    span: Span

    #: (field name, object kind, action) for each ObjectName field the class holds, when fixed.
    name_roles: typing.ClassVar[tuple] = ()

    @property
    def kind(self) -> str:
        return type(self).__name__

    def children(self) -> Iterator["Node"]:
        for name in _child_fields(type(self)):
            v = getattr(self, name)
            if isinstance(v, Node):
                yield v
            elif type(v) is tuple:
                for x in v:
                    if isinstance(x, Node):
                        yield x

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
                      and not f.metadata.get("not_child"))
        _CHILD_FIELDS[cls] = names
        return names


def walk(node: Node, prune: Callable[[Node], bool] | None = None) -> Iterator[Node]:
    """Every node under ``node`` (included), in source order, without recursion. ``prune(n)``
    true: ``n`` is yielded but not entered."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        if prune is not None and prune(n):
            continue
        stack.extend(reversed(list(n.children())))


def find_all(node: Node, *classes: type, prune: Callable[[Node], bool] | None = None) -> Iterator:
    """Every node under ``node`` (included) that is an instance of one of ``classes``."""
    for n in walk(node, prune):
        if isinstance(n, classes):
            yield n


def parents(root: Node) -> dict[int, Node]:
    """{id(child): parent} for every node under ``root``: ``parents(s).get(id(n))`` is n's parent."""
    out: dict[int, Node] = {}
    for n in walk(root):
        for c in n.children():
            out[id(c)] = n
    return out


def same_tree(a, b, ignore: Callable[[Node, Node], bool] | None = None) -> Node | None:
    """Structural equality ignoring spans: None when ``a`` and ``b`` are the same tree, else the
    first node of ``a`` (in source order) where they differ. ``ignore(x, y)`` true skips a pair."""
    stack = [(a, b, a)]
    while stack:
        x, y, at = stack.pop()
        if isinstance(x, Node) or isinstance(y, Node):
            if type(x) is not type(y):
                return at
            if ignore is not None and ignore(x, y):
                continue
            for f in fields(x):
                if f.name == "span" or f.metadata.get("not_child") == "source":
                    continue
                stack.append((getattr(x, f.name), getattr(y, f.name), x))
        elif isinstance(x, tuple) or isinstance(y, tuple):
            if not (isinstance(x, tuple) and isinstance(y, tuple)) or len(x) != len(y):
                return at
            stack.extend((p, q, at) for p, q in zip(reversed(x), reversed(y)))
        elif x != y:
            return at
    return None


# -- categories: empty bases the builder matches fields against ------------------------------------

@_nd
class Expr(Node):
    """A scalar (C# or SQL) expression."""


@_nd
class Query(Node):
    """A query expression: what the right-hand side of ``@r = ...`` can be."""


@_nd
class RowsetSource(Node):
    """What FROM, a join side or a UDO input reads."""


@_nd
class Statement(Node):
    """A statement of a script or a routine body."""
    #: Data definition (creates, alters or drops catalog objects).
    is_ddl: typing.ClassVar[bool] = False


@_nd
class Clause(Node):
    """A part of a statement or query that starts with its own keyword."""


@_nd
class Keyword(Node):
    """A keyword written in the script, kept where later tools need its place (``IF NOT EXISTS``,
    ``DISTINCT``, ``OUTER``): ``text`` is the words upper-case with single spaces."""
    text: str = ""

    def __bool__(self) -> bool:
        return True


# -- names ------------------------------------------------------------------------------------------

@_nd
class Identifier(Node):
    """A quoted (``[Sales Data]``) or unquoted identifier; ``name`` has the quotes removed."""
    name: str = ""
    quoted: bool = False


@_nd
class Variable(Expr):
    """``@name`` (user variable or rowset) or ``@@name`` (system variable)."""
    name: str = ""

    @property
    def system(self) -> bool:
        return self.name.startswith("@@")


@_nd
class ObjectName(Node):
    """A catalog name as written: ``[account.][database.][schema.]object``.

    Parts are named by what they denote where the name stands: a table name ``a.b`` has schema
    ``a`` and object ``b``; a schema name ``a.b`` (CREATE SCHEMA) has database ``a`` and schema
    ``b``; a database name has only ``database`` (and an account in a 2-part name). ``db..obj``
    has database and object, no schema, and ``empty_schema`` set so it is written back as such.
    ``kind`` and ``action`` say what the name denotes and what its statement does with it.

    Script-bound objects (``DECLARE FUNCTION @f``, ``DECLARE ASSEMBLY @a``) are not in the catalog:
    their ObjectName has ``variable`` set, the kind SCRIPT_TVF or SCRIPT_ASSEMBLY and no parts.
    """
    account: Identifier | None = None
    database: Identifier | None = None
    schema: Identifier | None = None
    object: Identifier | None = None
    variable: Variable | None = None
    empty_schema: bool = False
    object_kind: ObjectKind | None = None
    action: Action | None = None

    @property
    def parts(self) -> tuple:
        """The identifiers written, in order (the empty schema of ``db..obj`` left out)."""
        return tuple(p for p in (self.account, self.database, self.schema, self.object, self.variable)
                     if p is not None)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parts)

    @property
    def written(self) -> str:
        """The name as written, quoting kept (``[my db]..T``)."""
        out = []
        for p in (self.account, self.database, self.schema, self.object):
            if p is not None:
                out.append(f"[{p.name.replace(']', ']]')}]" if p.quoted else p.name)
            elif out and p is self.schema and self.empty_schema:
                out.append("")
        if self.variable is not None:
            out.append(self.variable.name)
        return ".".join(out)

    @staticmethod
    def from_parts(span: Span, parts: tuple, kind: ObjectKind | str | None = None,
                   action: Action | str | None = None, empty_schema: bool = False) -> "ObjectName":
        """Name the written parts (identifiers, in order; ``None`` where ``db..obj`` leaves the
        schema empty) by what an object of ``kind`` is made of."""
        if kind is not None and type(kind) is not ObjectKind:
            kind = ObjectKind(kind) if kind else None
        if action is not None and type(action) is not Action:
            action = Action(action) if action else None
        if len(parts) == 1 and isinstance(parts[0], Variable):
            return ObjectName(span, variable=parts[0], object_kind=kind, action=action)
        if None in parts:                       # db..obj
            empty_schema = True
            parts = tuple(p for p in parts if p is not None)
            slots = ("database", "object") if len(parts) == 2 else ("account", "database", "object")
        elif kind is ObjectKind.DATABASE:
            slots = ("account", "database")
        elif kind is ObjectKind.SCHEMA:
            slots = ("account", "database", "schema")
        elif kind is not None and kind in _DATABASE_KINDS:
            slots = ("account", "database", "object")
        else:
            n = len(parts)     # the common case, unrolled: [[[account.]database.]schema.]object
            if n == 1:
                return ObjectName(span, None, None, None, parts[0], None, empty_schema, kind, action)
            if n == 2:
                return ObjectName(span, None, None, parts[0], parts[1], None, empty_schema, kind, action)
            if n == 3:
                return ObjectName(span, None, parts[0], parts[1], parts[2], None, empty_schema, kind, action)
            slots = ("account", "database", "schema", "object")
        if len(parts) > len(slots):
            raise ValueError(f"a {kind or 'catalog'} name has at most {len(slots)} parts")
        named = dict(zip(slots[len(slots) - len(parts):], parts))
        return ObjectName(span, named.get("account"), named.get("database"), named.get("schema"),
                          named.get("object"), None, empty_schema, kind, action)

    def with_role(self, kind: ObjectKind | str, action: Action | str) -> "ObjectName":
        """This name, its parts named for an object of ``kind``."""
        if (kind in _SCHEMA_KINDS and not self.empty_schema and self.variable is None
                and type(kind) is ObjectKind and type(action) is Action):
            # written parts already sit where a schema-level object wants them
            return ObjectName(self.span, self.account, self.database, self.schema, self.object, None,
                              False, kind, action)
        if self.variable is not None:
            return ObjectName(self.span, variable=self.variable, object_kind=ObjectKind(kind),
                              action=Action(action))
        parts = (self.account, self.database, self.schema, self.object)
        written = [p for p in parts if p is not None]
        if self.empty_schema:
            written = written[:-1] + [None] + written[-1:]
        return ObjectName.from_parts(self.span, tuple(written), kind, action)


@_nd
class DottedName(Node):
    """A .NET namespace or class name in USING: ``System.Text``."""
    parts: tuple[Identifier, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parts)


# -- types ------------------------------------------------------------------------------------------

@_nd
class Type(Node):
    """A type as written: ``int?``, ``SQL.MAP<string, int?>``, ``byte[]``, ``System.DateTime``.

    ``name`` is the dotted name (``SQL.MAP``), ``args`` the type arguments, ``nullable`` the ``?``,
    ``array_rank`` the number of ``[]``; ``text`` the whole type without spaces."""
    name: str = ""
    parts: tuple = field(default=(), metadata={"not_child": True})   # Identifiers (None: db..T)
    args: tuple["Type", ...] = ()
    nullable: bool = False
    array_rank: int = 0
    text: str = field(default="", metadata={"not_child": True})
    global_alias: bool = False     # written global::Name


@_nd
class TableTypeRef(Node):
    """A catalog table type used as a parameter's or a RETURNS rowset's type: ``dbo.OrderRows``,
    ``[Sales].[dbo].[OrderRows]``, ``Sales..OrderRows``."""
    name: ObjectName | None = None
    name_roles = (("name", ObjectKind.TYPE, Action.REFERENCE),)


@_nd
class AnonymousTableType(Node):
    """``TABLE(c1 T1, ...)`` as a parameter's or a RETURNS rowset's type."""
    columns: tuple["ColumnDefinition", ...] = ()


@_nd
class ColumnDefinition(Node):
    name: Identifier | None = None
    type: Type | None = None


# -- literals and scalar expressions ------------------------------------------------------------------

@_nd
class StringLiteral(Expr):
    """A C# string: regular ``"a\\tb"`` or verbatim ``@"c:\\x"``; ``value`` is unescaped."""
    value: str = ""
    verbatim: bool = False


@_nd
class CharLiteral(Expr):
    value: str = ""


@_nd
class NumberLiteral(Expr):
    """``text`` as written, suffix included (``10L``, ``1.5m``, ``0xFF``)."""
    text: str = ""


@_nd
class BoolLiteral(Expr):
    value: bool = False


@_nd
class NullLiteral(Expr):
    pass


@_nd
class Name(Expr):
    """A bare column or member name in an expression."""
    ident: Identifier | None = None


@_nd
class GlobalName(Expr):
    """A name in C#'s global namespace: ``global::System`` (in ``global::System.DateTime.Parse(s)``)."""
    ident: Identifier | None = None


@_nd
class GenericName(Expr):
    """A generic method or type name with its type arguments: ``Convert<int>``, ``List<string>``."""
    ident: Identifier | None = None
    type_args: tuple[Type, ...] = ()


@_nd
class MemberAccess(Expr):
    """``target.member`` or ``target?.member``."""
    target: Expr | None = None
    member: Node | None = None          # Identifier, GenericName or Variable
    null_conditional: bool = False


@_nd
class BinaryOp(Expr):
    op: str = ""
    left: Expr | None = None
    right: Expr | None = None


@_nd
class UnaryOp(Expr):
    op: str = ""
    operand: Expr | None = None


@_nd
class Cast(Expr):
    """``(T) operand``."""
    type: Type | None = None
    operand: Expr | None = None


@_nd
class Conditional(Expr):
    """``condition ? then : otherwise``."""
    condition: Expr | None = None
    then: Expr | None = None
    otherwise: Expr | None = None


@_nd
class Paren(Expr):
    expr: Expr | None = None


@_nd
class Between(Expr):
    """``operand [NOT] BETWEEN low AND high``."""
    operand: Expr | None = None
    negated: Keyword | None = None
    low: Expr | None = None
    high: Expr | None = None


@_nd
class Like(Expr):
    """``operand [NOT] LIKE pattern [ESCAPE escape]``."""
    operand: Expr | None = None
    negated: Keyword | None = None
    pattern: Expr | None = None
    escape: Expr | None = None


@_nd
class IsNull(Expr):
    """``operand IS [NOT] NULL``."""
    operand: Expr | None = None
    negated: Keyword | None = kw("NOT")


@_nd
class InList(Expr):
    """``operand [NOT] IN (values)``."""
    operand: Expr | None = None
    negated: Keyword | None = kw("NOT")
    values: tuple[Expr, ...] = ()


@_nd
class TypeTest(Expr):
    """C# ``operand is T``."""
    operand: Expr | None = None
    type: Type | None = None


@_nd
class TypeAs(Expr):
    """C# ``operand as T``."""
    operand: Expr | None = None
    type: Type | None = None


@_nd
class TypeOf(Expr):
    """``typeof(T)``."""
    type: Type | None = None


@_nd
class DefaultOf(Expr):
    """``default(T)``."""
    type: Type | None = None


@_nd
class NamedArgument(Expr):
    """``name: value`` in a call."""
    name: Identifier | None = None
    value: Expr | None = None


@_nd
class DefaultArgument(Expr):
    """``DEFAULT`` as a routine argument: the parameter's default value."""


@_nd
class OutArgument(Expr):
    """C# ``out x`` or ``ref x``."""
    modifier: Keyword | None = kw("OUT", "REF")
    value: Expr | None = None


@_nd
class TableNameArg(Expr):
    """A table named as a function argument: the first argument of ``PARTITION.EXISTS(table, ...)``."""
    name: ObjectName | None = None
    name_roles = (("name", ObjectKind.TABLE, Action.READ),)


@_nd
class Call(Expr):
    """``func(args)``, with an aggregate's ``DISTINCT``/``ALL``, ``WITHIN GROUP`` and ``OVER``.
    ``star`` is set for ``COUNT(*)``."""
    func: Expr | None = None
    quantifier: Keyword | None = None
    args: tuple[Expr, ...] = ()
    star: bool = False
    within_group: "WithinGroup | None" = None
    over: "Over | None" = None

    @property
    def distinct(self) -> bool:
        return self.quantifier is not None and self.quantifier.text == "DISTINCT"


@_nd
class Index(Expr):
    """``target[args]``."""
    target: Expr | None = None
    args: tuple[Expr, ...] = ()


@_nd
class Initializer(Expr):
    """``{ a, b }`` or ``{ Name = value }`` after ``new``."""
    elements: tuple[Expr, ...] = ()


@_nd
class MemberInitializer(Expr):
    """``Name = value`` inside an object initializer."""
    name: Identifier | None = None
    value: Expr | None = None


@_nd
class New(Expr):
    """``new T(args) { initializer }``, ``new[] { ... }``, ``new { ... }``."""
    type: Type | None = None
    array: bool = False              # new[] { ... }
    args: tuple[Expr, ...] = ()
    initializer: Initializer | None = None


@_nd
class CSharpBlock(Node):
    """The ``{ ... }`` body of a C# statement lambda, kept as opaque text (braces included)."""
    text: str = ""


@_nd
class LambdaParameter(Node):
    """A lambda's parameter: ``x`` or ``string x``."""
    name: str = ""
    type: str = ""


@_nd
class Lambda(Expr):
    """``x => expr``, ``(a, b) => expr``, ``(string s) => expr`` or ``p => { statements }``."""
    params: tuple[LambdaParameter, ...] = ()
    body: Node | None = None            # an expression, or a CSharpBlock for a statement lambda


@_nd
class When(Node):
    """``WHEN condition THEN result`` of a CASE."""
    condition: Expr | None = None
    result: Expr | None = None


@_nd
class Case(Expr):
    """``CASE [operand] WHEN a THEN b ... [ELSE c] END``."""
    operand: Expr | None = None
    whens: tuple[When, ...] = ()
    otherwise: Expr | None = None


@_nd
class LinqFrom(Node):
    """``from [T] x in source`` of a C# query expression."""
    type: Type | None = None
    variable: Identifier | None = None
    source: Expr | None = None


@_nd
class LinqWhere(Node):
    condition: Expr | None = None


@_nd
class LinqLet(Node):
    name: Identifier | None = None
    value: Expr | None = None


@_nd
class LinqOrdering(Node):
    expr: Expr | None = None
    direction: Keyword | None = kw("ASCENDING", "DESCENDING")


@_nd
class LinqOrderBy(Node):
    orderings: tuple[LinqOrdering, ...] = ()


@_nd
class LinqQuery(Expr):
    """A C# query expression: ``from x in xs [where ...] [let ...] [orderby ...] select e``."""
    clauses: tuple[Node, ...] = ()      # LinqFrom, LinqWhere, LinqLet, LinqOrderBy in order
    select: Expr | None = None


# -- windows ------------------------------------------------------------------------------------------

@_nd
class PartitionBy(Clause):
    exprs: tuple[Expr, ...] = ()


@_nd
class FrameBound(Node):
    """``UNBOUNDED PRECEDING``, ``n FOLLOWING``, ``CURRENT ROW``."""
    bound: Keyword | None = kw("UNBOUNDED", "CURRENT")
    offset: Expr | None = None
    direction: Keyword | None = kw("PRECEDING", "FOLLOWING")


@_nd
class Frame(Clause):
    """``ROWS|RANGE bound`` or ``ROWS|RANGE BETWEEN start AND end``."""
    unit: Keyword | None = kw("ROWS", "RANGE")
    start: FrameBound | None = None
    end: FrameBound | None = None


@_nd
class Over(Clause):
    partition_by: PartitionBy | None = None
    order_by: "OrderBy | None" = None
    frame: Frame | None = None


@_nd
class WithinGroup(Clause):
    order_by: "OrderBy | None" = None


# -- query expressions ---------------------------------------------------------------------------------

@_nd
class Star(Node):
    """``*`` in a select list, PRODUCE, READONLY/REQUIRED or BY NAME ON."""


@_nd
class QualifiedStar(Node):
    """``alias.*`` in a select list."""
    qualifier: Expr | None = None


@_nd
class AliasedItem(Node):
    """``expr AS alias`` in a select list."""
    expr: Expr | None = None
    alias: Identifier | None = None


@_nd
class SortItem(Node):
    expr: Expr | None = None
    direction: Keyword | None = kw("ASC", "DESC")


@_nd
class From(Clause):
    source: RowsetSource | None = None


@_nd
class Where(Clause):
    condition: Expr | None = None


@_nd
class GroupBy(Clause):
    exprs: tuple[Expr, ...] = ()


@_nd
class Having(Clause):
    condition: Expr | None = None


@_nd
class OrderBy(Clause):
    items: tuple[SortItem, ...] = ()


@_nd
class Fetch(Clause):
    """``FETCH [FIRST|NEXT] n [ROW|ROWS] [ONLY]``."""
    count: Expr | None = None


@_nd
class OffsetFetch(Clause):
    """``OFFSET n ROWS [FETCH ...]`` or ``FETCH ...`` alone."""
    offset: Expr | None = None
    fetch: Fetch | None = None


@_nd
class OptionHint(Node):
    """``name [= value]``, ``name(args) [= value]`` or ``name(args) = (hint, ...)``:
    ``ROWCOUNT = 500``, ``SKEWFACTOR(Query) = 0.5``, ``PARTITION(F) = (PARTITIONCOUNT = 1000)``."""
    name: Identifier | None = None
    value: Expr | None = None
    args: tuple[Expr, ...] = ()
    hints: tuple["OptionHint", ...] = ()


@_nd
class OptionClause(Clause):
    """``OPTION(hint [= value], ...)``."""
    hints: tuple[OptionHint, ...] = ()


@_nd
class Select(Query):
    quantifier: Keyword | None = kw("ALL", "DISTINCT")
    items: tuple[Expr | AliasedItem | Star | QualifiedStar, ...] = ()
    from_: From | None = None
    where: Where | None = None
    group_by: GroupBy | None = None
    having: Having | None = None


@_nd
class Using(Clause):
    """``USING udo`` of EXTRACT, OUTPUT, PROCESS, REDUCE, COMBINE."""
    expr: Expr | None = None


@_nd
class DependencyColumn(Node):
    """A READONLY/REQUIRED column: ``c`` or ``c(dependency, ...)``."""
    column: "ColumnRef | None" = None
    depends_on: tuple[Identifier, ...] = ()


@_nd
class Required(Clause):
    star: Star | None = None
    columns: tuple[DependencyColumn, ...] = ()


@_nd
class Readonly(Clause):
    star: Star | None = None
    columns: tuple[DependencyColumn, ...] = ()


@_nd
class SortedBy(Clause):
    items: tuple[SortItem, ...] = ()


@_nd
class VirtualColumn(Node):
    """An EXTRACT column computed from the file set, e.g. ``uri = FILE.URI()``."""
    name: Identifier | None = None
    value: Expr | None = None


@_nd
class TableTypeColumns(Node):
    """``EXTRACT type1.*``: the columns of a table type from the catalog."""
    type: ObjectName | None = None
    name_roles = (("type", ObjectKind.TYPE, Action.REFERENCE),)


@_nd
class Extract(Query):
    """``EXTRACT columns FROM sources [REQUIRED ...] [SORTED BY ...] USING extractor``.
    ``columns`` holds ColumnDefinition, VirtualColumn and TableTypeColumns."""
    columns: tuple[Node, ...] = ()
    sources: tuple[Expr, ...] = ()
    required: Required | None = None
    sorted_by: SortedBy | None = None
    using: Using | None = None


@_nd
class Row(Node):
    """``(v1, v2, ...)`` of VALUES."""
    values: tuple[Expr, ...] = ()


@_nd
class Values(Query):
    rows: tuple[Row, ...] = ()


@_nd
class ProduceName(Node):
    """A PRODUCE column named without a type (of the input's columns)."""
    name: Identifier | None = None


@_nd
class Produce(Clause):
    star: Star | None = None
    columns: tuple[Node, ...] = ()      # ColumnDefinition or ProduceName


@_nd
class Presort(Clause):
    items: tuple[SortItem, ...] = ()


@_nd
class ReduceAll(Clause):
    """``ALL``: reduce the whole rowset as one group."""


@_nd
class ReduceOn(Clause):
    columns: tuple[Identifier, ...] = ()


@_nd
class Process(Query):
    input: RowsetSource | None = None
    produce: Produce | None = None
    readonly: Readonly | None = None
    required: Required | None = None
    using: Using | None = None


@_nd
class Reduce(Query):
    input: RowsetSource | None = None
    presort: Presort | None = None
    on: ReduceOn | ReduceAll | None = None
    produce: Produce | None = None
    readonly: Readonly | None = None
    required: Required | None = None
    using: Using | None = None


@_nd
class Combine(Query):
    left: RowsetSource | None = None
    right: RowsetSource | None = None
    condition: Expr | None = None
    produce: Produce | None = None
    readonly: Readonly | None = None
    required: Required | None = None
    using: Using | None = None


@_nd
class ByName(Node):
    """``BY NAME [ON (columns)]`` of a set operation; ``on`` may hold a Star."""
    on: tuple[Node, ...] = ()


@_nd
class DisjointHint(Node):
    """``WITH DISJOINT (columns)`` of UNION."""
    columns: tuple[Identifier, ...] = ()


@_nd
class SetOperator(Node):
    """``[OUTER] UNION|EXCEPT|INTERSECT [ALL|DISTINCT] [BY NAME ...] [WITH DISJOINT ...]``."""
    operator: Keyword | None = kw("OUTER UNION", "UNION", "EXCEPT", "INTERSECT")
    quantifier: Keyword | None = kw("ALL", "DISTINCT")
    by_name: ByName | None = None
    disjoint: DisjointHint | None = None


@_nd
class SetOperation(Query):
    left: Query | None = None
    operator: SetOperator | None = None
    right: Query | None = None


@_nd
class OrderedQuery(Query):
    """A query with ORDER BY and OFFSET/FETCH (or OFFSET/FETCH alone)."""
    query: Query | None = None
    order_by: OrderBy | None = None
    offset_fetch: OffsetFetch | None = None


@_nd
class ParenQuery(Query):
    query: Query | None = None


@_nd
class SampleAny(Node):
    """``ANY(n)``: n rows."""
    count: Expr | None = None


@_nd
class SampleUniform(Node):
    """``UNIFORM(p)``."""
    probability: Expr | None = None


@_nd
class SampleUniverse(Node):
    """``ON columns UNIVERSE(p)``."""
    columns: tuple[Identifier, ...] = ()
    probability: Expr | None = None


@_nd
class SampleDistinct(Node):
    """``ON columns DISTINCT(count, p)``."""
    columns: tuple[Identifier, ...] = ()
    count: Expr | None = None
    probability: Expr | None = None


@_nd
class WeightColumn(Node):
    """``WITH WEIGHT AS name``."""
    name: Identifier | None = None


@_nd
class Sample(Query):
    """``query SAMPLE ANY(n)|UNIFORM(p)``."""
    query: Query | None = None
    method: Node | None = None


@_nd
class SampleComplex(Query):
    """``SAMPLE source UNIFORM(p)|ON ... UNIVERSE(p)|ON ... DISTINCT(n, p) [WITH WEIGHT AS w]``."""
    source: RowsetSource | None = None
    sampler: Node | None = None
    weight: WeightColumn | None = None


# -- rowset sources --------------------------------------------------------------------------------------

@_nd
class AliasColumn(Node):
    name: Identifier | None = None
    type: Type | None = None


@_nd
class Alias(Node):
    """``AS name [(columns)]``."""
    name: Identifier | None = None
    columns: tuple[AliasColumn, ...] = ()


@_nd
class RowsetRef(RowsetSource):
    variable: Variable | None = None
    alias: Alias | None = None


@_nd
class TableRef(RowsetSource):
    table: ObjectName | None = None
    alias: Alias | None = None
    name_roles = (("table", ObjectKind.ROWSET, Action.READ),)


@_nd
class TvfCall(Query, RowsetSource):
    """A table-valued function called as a query or in FROM (catalog or script-bound)."""
    function: ObjectName | None = None
    args: tuple[Expr, ...] = ()
    alias: Alias | None = None
    name_roles = (("function", ObjectKind.TVF, Action.CALL),)


@_nd
class Subquery(RowsetSource):
    query: Query | None = None
    alias: Alias | None = None


@_nd
class ExternalRowset(Node):
    """``EXTERNAL data_source LOCATION "remote" | EXECUTE "query"``."""
    data_source: ObjectName | None = None
    mode: Keyword | None = kw("LOCATION", "EXECUTE")
    remote: Expr | None = None
    name_roles = (("data_source", ObjectKind.DATA_SOURCE, Action.READ),)


@_nd
class ExternalRef(RowsetSource):
    rowset: ExternalRowset | None = None
    alias: Alias | None = None


@_nd
class JoinOperator(Node):
    """``[INNER|LEFT|RIGHT|FULL|CROSS] [OUTER] [hints] JOIN|SEMIJOIN|ANTISEMIJOIN``."""
    side: Keyword | None = kw("INNER", "LEFT", "RIGHT", "FULL", "CROSS")
    outer: Keyword | None = kw("OUTER")
    hints: tuple[Keyword, ...] = kws("SERIAL", "PAIR", "BROADCASTLEFT", "BROADCASTRIGHT",
                                    "FULLCROSS", "MERGE", "HASH", "LOOP", "INDEXLOOKUP")
    join: Keyword | None = kw("JOIN", "SEMIJOIN", "ANTISEMIJOIN")


@_nd
class Join(RowsetSource):
    left: RowsetSource | None = None
    operator: JoinOperator | None = None
    right: RowsetSource | None = None
    condition: Expr | None = None


@_nd
class Explode(Node):
    """``EXPLODE(expr) AS alias(columns)`` after CROSS/OUTER APPLY."""
    expr: Expr | None = None
    alias: Alias | None = None


@_nd
class Applier(Node):
    """``[USING] applier(args) AS alias(...) [READONLY ...] [REQUIRED ...]`` after APPLY."""
    using: Keyword | None = kw("USING")
    expr: Expr | None = None
    alias: Alias | None = None
    readonly: Readonly | None = None
    required: Required | None = None


@_nd
class ValuesRef(Node):
    """``VALUES (...) AS alias(...)`` after APPLY."""
    values: Values | None = None
    alias: Alias | None = None


@_nd
class Apply(RowsetSource):
    left: RowsetSource | None = None
    operator: Keyword | None = kw("CROSS APPLY", "OUTER APPLY")
    target: Node | None = None          # Explode, Applier or ValuesRef


@_nd
class PivotValue(Node):
    value: Expr | None = None
    alias: Identifier | None = None


@_nd
class ColumnRef(Node):
    """``column`` or ``qualifier.column`` in PIVOT, UNPIVOT, READONLY and REQUIRED."""
    qualifier: Node | None = None       # a Variable or an Identifier
    column: Identifier | None = None


@_nd
class Pivot(Node):
    """``PIVOT (aggregate FOR column IN (values)) [AS alias]``."""
    aggregate: Expr | None = None
    column: ColumnRef | None = None
    values: tuple[PivotValue, ...] = ()
    alias: Alias | None = None


@_nd
class Unpivot(Node):
    """``UNPIVOT [INCLUDE|EXCLUDE NULLS] (value FOR name IN (columns)) [AS alias]``."""
    nulls: Keyword | None = kw("INCLUDE NULLS", "EXCLUDE NULLS")
    value_column: ColumnRef | None = None
    name_column: ColumnRef | None = None
    columns: tuple[ColumnRef, ...] = ()
    alias: Alias | None = None


@_nd
class Pivoted(RowsetSource):
    source: RowsetSource | None = None
    pivot: Pivot | None = None


@_nd
class Unpivoted(RowsetSource):
    source: RowsetSource | None = None
    unpivot: Unpivot | None = None


# -- statements ----------------------------------------------------------------------------------------

@_nd
class Comment(Node):
    """A ``//`` or ``/* */`` comment (kept on the Script for suppression directives)."""
    text: str = ""


@_nd
class Script(Node):
    statements: tuple[Statement, ...] = ()
    comments: tuple[Comment, ...] = field(default=(), metadata={"not_child": True})
    source: object = field(default=None, metadata={"not_child": "source"})  # usqlrw.source.Source


@_nd
class UseDatabase(Statement):
    database: ObjectName | None = None
    name_roles = (("database", ObjectKind.DATABASE, Action.USE),)


@_nd
class UseSchema(Statement):
    schema: ObjectName | None = None
    name_roles = (("schema", ObjectKind.SCHEMA, Action.USE),)


@_nd
class Declare(Statement):
    """``DECLARE [EXTERNAL] [CONST] @v [type] = value``."""
    external: Keyword | None = kw("EXTERNAL")
    const: Keyword | None = kw("CONST")
    variable: Variable | None = None
    type: Type | None = None
    value: Expr | None = None


@_nd
class Parameter(Node):
    """A routine parameter: ``@p type [= default]``; ``type`` is a Type, a TableTypeRef or an
    AnonymousTableType."""
    variable: Variable | None = None
    type: Node | None = None
    default: Expr | None = None


@_nd
class ReturnRowset(Node):
    """``@r [type]`` in RETURNS; ``type`` is a TableTypeRef, an AnonymousTableType or None."""
    variable: Variable | None = None
    type: Node | None = None


@_nd
class Returns(Clause):
    """``RETURNS @r [T]``, ``RETURNS (@a T, @b T)`` or ``RETURNS type``."""
    rowsets: tuple[ReturnRowset, ...] = ()
    type: Type | None = None


@_nd
class DeclareFunction(Statement):
    """``DECLARE FUNCTION @f(params) RETURNS ... AS BEGIN ... END``: a script-bound TVF."""
    variable: Variable | None = None
    params: tuple[Parameter, ...] = ()
    returns: Returns | None = None
    body: tuple[Statement, ...] = ()


@_nd
class AdditionalFile(Node):
    """``path [AS name]`` in ``WITH ADDITIONAL_FILES = (...)``."""
    path: Expr | None = None
    alias: Expr | None = None


@_nd
class DeclareAssembly(Statement):
    """``DECLARE ASSEMBLY @a FROM path [WITH ADDITIONAL_FILES = (...)]``: a script-bound assembly."""
    variable: Variable | None = None
    source: Expr | None = None
    additional_files: tuple[AdditionalFile, ...] = ()


@_nd
class SetOption(Statement):
    """``SET @@option = value``."""
    variable: Variable | None = None
    value: Expr | None = None


@_nd
class IfBranch(Node):
    """``IF|ELSEIF condition THEN statements``."""
    condition: Expr | None = None
    statements: tuple[Statement, ...] = ()


@_nd
class ElseBranch(Node):
    statements: tuple[Statement, ...] = ()


@_nd
class If(Statement):
    branches: tuple[IfBranch, ...] = ()   # IF, then each ELSEIF
    otherwise: ElseBranch | None = None


@_nd
class ReferenceAssembly(Statement):
    """``REFERENCE [SYSTEM] ASSEMBLY name`` (a catalog, system or script-bound assembly)."""
    system: Keyword | None = kw("SYSTEM")
    assembly: ObjectName | None = None

    @property
    def name_roles(self):   # type: ignore[override]
        return (("assembly", ObjectKind.SYSTEM_ASSEMBLY if self.system else ObjectKind.ASSEMBLY,
                 Action.REFERENCE),)


@_nd
class DeployResource(Statement):
    paths: tuple[Expr, ...] = ()


@_nd
class UsingDirective(Statement):
    """C# ``USING namespace``."""
    namespace: DottedName | None = None


@_nd
class UsingAlias(Statement):
    """C# ``USING alias = namespace.Class``."""
    alias: Identifier | None = None
    namespace: DottedName | None = None


@_nd
class ImportPackage(Statement):
    """``IMPORT PACKAGE name[(args)] [AS alias]``."""
    package: ObjectName | None = None
    args: tuple[Expr, ...] = ()
    alias: Alias | None = None
    name_roles = (("package", ObjectKind.PACKAGE, Action.REFERENCE),)


@_nd
class ExportAssembly(Statement):
    """``EXPORT [SYSTEM] ASSEMBLY name`` in a package."""
    system: Keyword | None = kw("SYSTEM")
    assembly: ObjectName | None = None

    @property
    def name_roles(self):   # type: ignore[override]
        return (("assembly", ObjectKind.SYSTEM_ASSEMBLY if self.system else ObjectKind.ASSEMBLY,
                 Action.REFERENCE),)


@_nd
class ExportVariable(Statement):
    """``EXPORT [CONST] @v [type] = value`` in a package."""
    const: Keyword | None = kw("CONST")
    variable: Variable | None = None
    type: Type | None = None
    value: Expr | None = None


@_nd
class ProcedureCall(Statement):
    procedure: ObjectName | None = None
    args: tuple[Expr, ...] = ()
    name_roles = (("procedure", ObjectKind.PROCEDURE, Action.CALL),)


@_nd
class Raise(Statement):
    """``RAISE ERROR message`` or ``RAISE WARNING message``."""
    level: Keyword | None = kw("ERROR", "WARNING")
    message: Expr | None = None


@_nd
class Return(Statement):
    """``RETURN`` in a function body."""


@_nd
class RowsetAssignment(Statement):
    """``@a[, @b] = query [OPTION(...)]``."""
    targets: tuple[Variable, ...] = ()
    query: Query | None = None
    option: OptionClause | None = None


@_nd
class Expiration(Clause):
    expr: Expr | None = None


@_nd
class Output(Statement):
    """``OUTPUT rowset TO target [EXPIRATION e] [ORDER BY ... [OFFSET/FETCH]] USING outputter``."""
    rowset: RowsetSource | None = None
    target: Expr | None = None
    expiration: Expiration | None = None
    order_by: OrderBy | None = None
    offset_fetch: OffsetFetch | None = None
    using: Using | None = None


@_nd
class PartitionLabel(Node):
    """``PARTITION (value, ...)``."""
    values: tuple[Expr, ...] = ()


@_nd
class IgnoreViolation(Node):
    """``IGNORE`` of ON INTEGRITY VIOLATION."""


@_nd
class MoveViolation(Node):
    """``MOVE TO PARTITION (...)`` of ON INTEGRITY VIOLATION."""
    partition: PartitionLabel | None = None


@_nd
class IntegrityClause(Clause):
    """``ON INTEGRITY VIOLATION IGNORE | MOVE TO PARTITION (...)``."""
    action: Node | None = None          # IgnoreViolation or MoveViolation


@_nd
class Insert(Statement):
    """``INSERT [INTO] table [(columns)] [PARTITION (...) | ON INTEGRITY VIOLATION ...] source
    [OPTION(...)]``."""
    table: ObjectName | None = None
    columns: tuple[Identifier, ...] = ()
    partition: PartitionLabel | None = None
    integrity: IntegrityClause | None = None
    source: Query | None = None
    option: OptionClause | None = None
    name_roles = (("table", ObjectKind.TABLE, Action.WRITE),)


# -- DDL -------------------------------------------------------------------------------------------------

@_nd
class DdlStatement(Statement):
    """A statement that creates, alters or drops catalog objects. Whatever the class calls the
    field (``table``, ``view``, ``routine``, ``object`` ...), :attr:`target` is the object it
    creates, drops or alters, so tools need not know each class."""
    is_ddl = True

    @property
    def target(self) -> "ObjectName | None":
        for fname, _kind, action in self.name_roles:
            if action in (Action.CREATE, Action.DROP, Action.ALTER):
                return getattr(self, fname)
        return None


@_nd
class CreateDatabase(DdlStatement):
    if_not_exists: Keyword | None = kw("IF NOT EXISTS")
    database: ObjectName | None = None
    name_roles = (("database", ObjectKind.DATABASE, Action.CREATE),)


@_nd
class CreateSchema(DdlStatement):
    if_not_exists: Keyword | None = kw("IF NOT EXISTS")
    schema: ObjectName | None = None
    name_roles = (("schema", ObjectKind.SCHEMA, Action.CREATE),)


@_nd
class Drop(DdlStatement):
    """``DROP <kind> [IF EXISTS] name [ON table]`` (``ON`` for STATISTICS and INDEX)."""
    object_kind: ObjectKind | None = None
    if_exists: Keyword | None = kw("IF EXISTS")
    object: ObjectName | None = None
    on: ObjectName | None = None

    @property
    def name_roles(self):   # type: ignore[override]
        return (("object", self.object_kind, Action.DROP), ("on", ObjectKind.TABLE, Action.ALTER))


@_nd
class PartitionedBy(Clause):
    """``PARTITIONED BY (columns)``."""
    columns: tuple[Identifier, ...] = ()


@_nd
class HashDistribution(Node):
    columns: tuple[Identifier, ...] = ()


@_nd
class DirectHashDistribution(Node):
    columns: tuple[Identifier, ...] = ()


@_nd
class RangeDistribution(Node):
    columns: tuple[SortItem, ...] = ()


@_nd
class RoundRobinDistribution(Node):
    pass


@_nd
class DistributedBy(Clause):
    """``DISTRIBUTED BY HASH|DIRECT HASH|RANGE|ROUND ROBIN (...) [INTO n]``."""
    scheme: Node | None = None
    buckets: Expr | None = None


@_nd
class TableIndex(Node):
    """``INDEX name CLUSTERED (columns) [PARTITIONED BY ...] [DISTRIBUTED BY ...]`` in CREATE TABLE."""
    name: Identifier | None = None
    columns: tuple[SortItem, ...] = ()
    partitioned_by: PartitionedBy | None = None
    distributed_by: DistributedBy | None = None


@_nd
class CreateTable(DdlStatement):
    """CREATE TABLE with a schema, ``AS query``, or both. ``partitioned_by`` and ``distributed_by``
    are the clauses wherever written (inside the INDEX or after the schema)."""
    if_not_exists: Keyword | None = kw("IF NOT EXISTS")
    table: ObjectName | None = None
    columns: tuple[ColumnDefinition, ...] = ()
    index: TableIndex | None = None
    partitioned_by: PartitionedBy | None = None
    distributed_by: DistributedBy | None = None
    query: Query | None = None
    name_roles = (("table", ObjectKind.TABLE, Action.CREATE),)


@_nd
class CreateExternalTable(DdlStatement):
    if_not_exists: Keyword | None = kw("IF NOT EXISTS")
    table: ObjectName | None = None
    columns: tuple[ColumnDefinition, ...] = ()
    data_source: ObjectName | None = None
    location: Expr | None = None
    name_roles = (("table", ObjectKind.TABLE, Action.CREATE),
                  ("data_source", ObjectKind.DATA_SOURCE, Action.REFERENCE))


@_nd
class AlterTableRebuild(DdlStatement):
    table: ObjectName | None = None
    partitions: tuple[PartitionLabel, ...] = ()
    name_roles = (("table", ObjectKind.TABLE, Action.ALTER),)


@_nd
class AlterTableAddColumn(DdlStatement):
    table: ObjectName | None = None
    columns: tuple[ColumnDefinition, ...] = ()
    name_roles = (("table", ObjectKind.TABLE, Action.ALTER),)


@_nd
class AlterTableDropColumn(DdlStatement):
    table: ObjectName | None = None
    columns: tuple[Identifier, ...] = ()
    name_roles = (("table", ObjectKind.TABLE, Action.ALTER),)


@_nd
class AlterTableAddPartition(DdlStatement):
    table: ObjectName | None = None
    if_not_exists: Keyword | None = kw("IF NOT EXISTS")
    partitions: tuple[PartitionLabel, ...] = ()
    buckets: Expr | None = None
    name_roles = (("table", ObjectKind.TABLE, Action.ALTER),)


@_nd
class AlterTableDropPartition(DdlStatement):
    table: ObjectName | None = None
    if_exists: Keyword | None = kw("IF EXISTS")
    partitions: tuple[PartitionLabel, ...] = ()
    name_roles = (("table", ObjectKind.TABLE, Action.ALTER),)


@_nd
class RenameTable(DdlStatement):
    """``RENAME TABLE [IF EXISTS] old TO [IF NOT EXISTS] new``."""
    if_exists: Keyword | None = kw("IF EXISTS")
    table: ObjectName | None = None
    if_not_exists: Keyword | None = kw("IF NOT EXISTS")
    new_name: ObjectName | None = None
    name_roles = (("table", ObjectKind.TABLE, Action.ALTER), ("new_name", ObjectKind.TABLE, Action.CREATE))


@_nd
class TruncateTable(DdlStatement):
    """``TRUNCATE TABLE table [PARTITION (...), ...]``."""
    table: ObjectName | None = None
    partitions: tuple[PartitionLabel, ...] = ()
    name_roles = (("table", ObjectKind.TABLE, Action.WRITE),)


@_nd
class CreateIndex(DdlStatement):
    name: Identifier | None = None
    table: ObjectName | None = None
    columns: tuple[SortItem, ...] = ()
    partitioned_by: PartitionedBy | None = None
    distributed_by: DistributedBy | None = None
    name_roles = (("table", ObjectKind.TABLE, Action.ALTER),)


@_nd
class CreateStatistics(DdlStatement):
    if_not_exists: Keyword | None = kw("IF NOT EXISTS")
    name: Identifier | None = None
    table: ObjectName | None = None
    columns: tuple[Identifier, ...] = ()
    name_roles = (("table", ObjectKind.TABLE, Action.ALTER),)


@_nd
class UpdateStatistics(DdlStatement):
    if_exists: Keyword | None = kw("IF EXISTS")
    name: Identifier | None = None
    table: ObjectName | None = None
    incremental: Keyword | None = kw("ON", "OFF")
    name_roles = (("table", ObjectKind.TABLE, Action.ALTER),)


@_nd
class CreateView(DdlStatement):
    if_not_exists: Keyword | None = kw("IF NOT EXISTS")
    view: ObjectName | None = None
    query: Query | None = None
    name_roles = (("view", ObjectKind.VIEW, Action.CREATE),)


@_nd
class Routine(DdlStatement):
    """CREATE FUNCTION, PROCEDURE or PACKAGE: a named body of statements with its own static
    context (USE and DECLARE inside do not leak out). Each has ``if_not_exists``, ``routine`` (its
    name), ``params`` and ``body``; only a function has ``returns``."""

    @property
    def returns(self):
        return None


@_nd
class CreateFunction(Routine):
    if_not_exists: Keyword | None = kw("IF NOT EXISTS")
    routine: ObjectName | None = None
    params: tuple[Parameter, ...] = ()
    returns: Returns | None = None
    body: tuple[Statement, ...] = ()
    name_roles = (("routine", ObjectKind.TVF, Action.CREATE),)


@_nd
class _BodyRoutine(Routine):
    """The fields of a procedure and of a package (no RETURNS)."""
    if_not_exists: Keyword | None = kw("IF NOT EXISTS")
    routine: ObjectName | None = None
    params: tuple[Parameter, ...] = ()
    body: tuple[Statement, ...] = ()


@_nd
class CreateProcedure(_BodyRoutine):
    name_roles = (("routine", ObjectKind.PROCEDURE, Action.CREATE),)


@_nd
class CreatePackage(_BodyRoutine):
    name_roles = (("routine", ObjectKind.PACKAGE, Action.CREATE),)


@_nd
class CreateType(DdlStatement):
    if_not_exists: Keyword | None = kw("IF NOT EXISTS")
    type: ObjectName | None = None
    columns: tuple[ColumnDefinition, ...] = ()
    name_roles = (("type", ObjectKind.TYPE, Action.CREATE),)


@_nd
class CreateAssembly(DdlStatement):
    if_not_exists: Keyword | None = kw("IF NOT EXISTS")
    assembly: ObjectName | None = None
    source: Expr | None = None
    additional_files: tuple[AdditionalFile, ...] = ()
    name_roles = (("assembly", ObjectKind.ASSEMBLY, Action.CREATE),)


@_nd
class DataSourceOption(Node):
    """``PROVIDER_STRING = "..."`` and the like in CREATE/ALTER DATA SOURCE."""
    name: Identifier | None = None
    value: Expr | None = None


@_nd
class CredentialRef(Node):
    """``CREDENTIAL = name`` in CREATE/ALTER DATA SOURCE."""
    credential: ObjectName | None = None
    name_roles = (("credential", ObjectKind.CREDENTIAL, Action.REFERENCE),)


@_nd
class RemotableTypesOption(Node):
    """``REMOTABLE_TYPES = (types)`` in CREATE/ALTER DATA SOURCE."""
    types: tuple[Type, ...] = ()


@_nd
class CreateDataSource(DdlStatement):
    """``CREATE DATA SOURCE [IF NOT EXISTS] name FROM provider WITH (options)``."""
    if_not_exists: Keyword | None = kw("IF NOT EXISTS")
    data_source: ObjectName | None = None
    provider: Identifier | None = None
    options: tuple[Node, ...] = ()
    name_roles = (("data_source", ObjectKind.DATA_SOURCE, Action.CREATE),)


@_nd
class AlterDataSource(DdlStatement):
    data_source: ObjectName | None = None
    options: tuple[Node, ...] = ()
    name_roles = (("data_source", ObjectKind.DATA_SOURCE, Action.ALTER),)


@_nd
class CredentialOption(Node):
    """``IDENTITY = "..."``, ``PASSWORD = "..."`` and the like in CREATE/ALTER CREDENTIAL."""
    name: Identifier | None = None
    value: Expr | None = None


@_nd
class CreateCredential(DdlStatement):
    if_not_exists: Keyword | None = kw("IF NOT EXISTS")
    credential: ObjectName | None = None
    options: tuple[CredentialOption, ...] = ()
    name_roles = (("credential", ObjectKind.CREDENTIAL, Action.CREATE),)


@_nd
class AlterCredential(DdlStatement):
    credential: ObjectName | None = None
    options: tuple[CredentialOption, ...] = ()
    name_roles = (("credential", ObjectKind.CREDENTIAL, Action.ALTER),)


# -- classes, JSON ---------------------------------------------------------------------------------------

def class_name(rule: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in rule.split("_") if p)


def all_node_classes() -> list[type]:
    """Every concrete node class (the category bases Expr, Query, ... left out)."""
    abstract = {Node, Expr, Query, RowsetSource, Statement, Clause, DdlStatement, Routine}
    return [c for c in globals().values()
            if isinstance(c, type) and issubclass(c, Node) and c not in abstract
            and not c.__name__.startswith("_")]


def node_class(rule: str) -> type:
    """The class for a grammar alias (``create_statistics`` -> CreateStatistics)."""
    cls = globals().get(class_name(rule))
    if not (isinstance(cls, type) and issubclass(cls, Node)):
        raise KeyError(f"no node class for grammar rule {rule!r}")
    return cls


def dump(node: Node) -> str:
    """A readable, line-per-node rendering of a tree, for golden files and ``usqlrw ast --tree``:

        Select @1:6-1:40 quantifier=DISTINCT
          items[0]: Name @1:22-1:23
            ident: Identifier @1:22-1:23 name='a'

    Fields at their default (None, empty, False) are left out; keywords print as their text."""
    out: list[str] = []
    stack: list = [(node, "", 0)]
    while stack:
        n, label, depth = stack.pop()
        sp = n.span
        head = f"{'  ' * depth}{label}{n.kind} @{sp.line}:{sp.column}-{sp.end_line}:{sp.end_column}"
        scalars, kids = [], []
        for f in fields(n):
            if f.name == "span" or f.metadata.get("not_child") == "source":
                continue
            v = getattr(n, f.name)
            if v is None or v == () or v is False or (v == "" and not isinstance(v, enum.Enum)) or (
                    type(v) is int and v == f.default):
                continue
            if n.kind == "Script" and f.name == "comments":
                continue
            if isinstance(v, Keyword):
                scalars.append(f"{f.name}={v.text}")
            elif isinstance(v, Node):
                kids.append((v, f"{f.name}: "))
            elif isinstance(v, tuple) and not f.metadata.get("not_child"):
                for i, x in enumerate(v):
                    if isinstance(x, Keyword):
                        scalars.append(f"{f.name}[{i}]={x.text}")
                    elif isinstance(x, Node):
                        kids.append((x, f"{f.name}[{i}]: "))
            elif isinstance(v, tuple):
                scalars.append(f"{f.name}=({', '.join('' if x is None else getattr(x, 'name', str(x)) for x in v)})")
            elif isinstance(v, enum.Enum):
                scalars.append(f"{f.name}={v.value}")
            else:
                scalars.append(f"{f.name}={v!r}")
        out.append(head + ("" if not scalars else " " + " ".join(scalars)))
        stack.extend((k, lab, depth + 1) for k, lab in reversed(kids))
    return "\n".join(out) + "\n"


def to_dict(node: Node) -> dict:
    """A JSON-ready dict of the tree (kind, span, fields), built without recursion. Keywords are
    ``{"kind": "Keyword", "text": ..., "span": ...}``; enums their string value."""
    root: dict = {}
    stack = [(node, root)]

    def conv(v):
        if isinstance(v, Node):
            d: dict = {}
            stack.append((v, d))
            return d
        if isinstance(v, tuple):
            return [conv(x) for x in v]
        if isinstance(v, enum.Enum):
            return v.value
        if isinstance(v, Span):
            return v.to_dict()
        return v

    while stack:
        n, d = stack.pop()
        d["kind"] = n.kind
        d["span"] = n.span.to_dict()
        for f in fields(n):
            if f.name != "span" and f.metadata.get("not_child") != "source":
                d[f.name] = conv(getattr(n, f.name))
    return root


def to_json(node: Node, indent: int | None = 2) -> str:
    """``{"version": JSON_VERSION, "tree": to_dict(node)}`` as JSON text, written without
    recursion (trees may be thousands deep)."""
    import json
    enc = json.dumps
    out: list[str] = []
    nl = indent is not None
    # Stack items: ("v", value, depth) to write a value, or ("s", text) to write text.
    stack: list = [("v", {"version": JSON_VERSION, "tree": to_dict(node)}, 0)]
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
