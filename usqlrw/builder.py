"""Parse-tree callbacks that build the typed AST (usqlrw.ast) while the LALR parser runs.

Lark calls one method per grammar alias with the alias's children: tokens (keywords, punctuation
and values, all kept) and nodes already built. There is no intermediate tree. A node's span runs
from its first child's start to its last child's end.

Most classes are filled by :func:`fill` from their field declarations (see usqlrw/ast.py): each
child node goes to the next field whose type accepts it, keywords to the :func:`~usqlrw.ast.kw`
field that names them. Methods below build the rest by hand; a child no field takes is a builder
bug and raises. Catalog names get their role (kind and action) from the class's ``name_roles``.
"""
from __future__ import annotations

import re
import typing
from dataclasses import fields, replace
from types import UnionType


from . import ast as A
from .source import Span
from .tokens import Token

# A child that is a ``str`` is a token: usqlrw.tokens.Token from the parser's own loop, Lark's
# Token when Lark's loop runs (error messages, tests); both carry the same attributes.

# Tokens that carry a value (everything else is a keyword or punctuation).
VALUE_TOKENS = frozenset({
    "NAME", "QUOTED_ID", "VARIABLE", "SYSVAR", "STRING", "VERBATIM_STRING", "CHAR", "NUMBER",
    "TYPEARGS", "CAST", "LAMBDA_PARAMS", "ARRAY_BRACKETS", "STATEMENT_BLOCK", "STAR", "QMARK",
})

_KEYWORD = re.compile(r"[A-Za-z][A-Za-z_]*(?:\s+[A-Za-z_]+)*$")


def _span_maker():
    """Span(...) without the frozen dataclass's __init__ (a third of the cost; same object)."""
    new = object.__new__
    sets = [getattr(Span, f).__set__ for f in ("start", "end", "line", "column", "end_line", "end_column")]
    s0, s1, s2, s3, s4, s5 = sets

    def make(start, end, line, column, end_line, end_column):
        s = new(Span)
        s0(s, start)
        s1(s, end)
        s2(s, line)
        s3(s, column)
        s4(s, end_line)
        s5(s, end_column)
        return s
    return make


_make_span = _span_maker()


def span_of(first, last) -> Span:
    if isinstance(first, str):
        start, line, col = first.start_pos, first.line, first.column
    else:
        s = first.span
        start, line, col = s.start, s.line, s.column
    if isinstance(last, str):
        end, eline, ecol = last.end_pos, last.end_line, last.end_column
    else:
        s = last.span
        end, eline, ecol = s.end, s.end_line, s.end_column
    return _make_span(start, end, line, col, eline, ecol)


def tok_span(t: Token) -> Span:
    return _make_span(t.start_pos, t.end_pos, t.line, t.column, t.end_line, t.end_column)


def _sub_span(t: Token, a: int, b: int) -> Span:
    """The span of ``t.value[a:b]``."""
    v = t.value
    line = t.line + v.count("\n", 0, a)
    nl = v.rfind("\n", 0, a)
    col = (a - nl) if nl >= 0 else t.column + a
    eline = t.line + v.count("\n", 0, b)
    nl = v.rfind("\n", 0, b)
    ecol = (b - nl) if nl >= 0 else t.column + b
    return _make_span(t.start_pos + a, t.start_pos + b, line, col, eline, ecol)


class _Seq(tuple):
    """The value of a list rule (statements, columns, arguments ...): its nodes, and the first and
    last token it was written with, so the spans of the nodes around it include its brackets."""
    first: object = None
    last: object = None


def _seq(c, items) -> _Seq:
    s = _Seq(items)
    if c:
        s.first, s.last = _edge(c, 1), _edge(c, -1)
    return s


def _edge(c, step):
    """The first (step 1) or last (step -1) token or node of children ``c``, looking into lists."""
    for x in (c if step == 1 else reversed(c)):
        if isinstance(x, tuple):
            e = getattr(x, "first" if step == 1 else "last", None)
            x = e if e is not None else _edge(x, step)
            if x is None:
                continue
        return x
    return None


def _span(c) -> Span:
    first, last = c[0], c[-1]
    if isinstance(first, tuple):
        first = _edge(c, 1)
    if isinstance(last, tuple):
        last = _edge(c, -1)
    return span_of(first, last)


def _nodes(c) -> list:
    return [x for x in c if isinstance(x, A.Node)]


def _flat(c) -> list:
    """Children with list-rule tuples spliced in."""
    out = []
    for x in c:
        if isinstance(x, tuple):
            out.extend(x)
        else:
            out.append(x)
    return out


def _kw(c) -> set:
    return {x.value for x in c if isinstance(x, str) and x.type not in VALUE_TOKENS}


def _first(c, cls):
    for x in c:
        if isinstance(x, cls):
            return x
    return None


def _tok(c, type_):
    for x in c:
        if isinstance(x, str) and x.type == type_:
            return x
    return None


_ESCAPES = {"'": "'", '"': '"', "\\": "\\", "0": "\0", "a": "\a", "b": "\b", "f": "\f",
            "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
_ESC_RE = re.compile(r"\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|x[0-9a-fA-F]{1,4}|.)", re.S)


def unescape(body: str) -> str:
    """The value of a regular C# string or char literal body (without its quotes)."""
    if "\\" not in body:
        return body

    def one(m):
        e = m.group(1)
        if e[0] in "uUx" and len(e) > 1:
            try:
                return chr(int(e[1:], 16))
            except ValueError:
                return e
        return _ESCAPES.get(e, e)
    return _ESC_RE.sub(one, body)


def token_node(t: Token) -> A.Node:
    """A leaf node for a value token."""
    sp = _make_span(t.start_pos, t.end_pos, t.line, t.column, t.end_line, t.end_column)
    ty = t.type
    if ty == "NAME":
        return A.Identifier(sp, t.value, False)
    if ty == "QUOTED_ID":
        return A.Identifier(sp, t.value[1:-1].replace("]]", "]"), True)
    if ty in ("VARIABLE", "SYSVAR"):
        return A.Variable(sp, t.value)
    if ty == "STRING":
        return A.StringLiteral(sp, unescape(t.value[1:-1]), False)
    if ty == "VERBATIM_STRING":
        return A.StringLiteral(sp, t.value[2:-1].replace('""', '"'), True)
    if ty == "CHAR":
        return A.CharLiteral(sp, unescape(t.value[1:-1]))
    if ty == "NUMBER":
        return A.NumberLiteral(sp, t.value)
    if ty == "STAR":
        return A.Star(sp)
    raise _error_at(t, f"unexpected {t.value!r}")   # pragma: no cover - grammar and builder disagree


def keyword_node(t: Token) -> A.Keyword:
    return A.Keyword(tok_span(t), " ".join(t.value.split()).upper())


# -- filling classes from their field declarations ------------------------------------------------------

_PLANS: dict = {}


def _accepts(t) -> tuple:
    if isinstance(t, UnionType) or typing.get_origin(t) is typing.Union:
        out = ()
        for x in typing.get_args(t):
            out += _accepts(x)
        return out
    if isinstance(t, type) and issubclass(t, A.Node):
        return (t,)
    return ()


def _plan(cls) -> tuple:
    """((field, accepted node classes, multi, keyword words or None), ...) of ``cls``."""
    p = _PLANS.get(cls)
    if p is None:
        p = _PLANS[cls] = _make_plan(cls)
    return p


def _make_plan(cls, simple: bool = True) -> tuple:
    hints = None
    out = []
    for f in fields(cls):
        if f.name == "span":
            continue
        found = _simple_hint(f.type) if simple else None
        if found is None:   # an annotation _simple_hint does not read: typing does
            if hints is None:
                hints = typing.get_type_hints(cls, vars(A))
            t = hints[f.name]
            multi = typing.get_origin(t) is tuple
            if multi:
                t = typing.get_args(t)[0]
            acc = _accepts(t)
        else:
            multi, acc = found
        words = f.metadata.get("words")
        if acc or words:
            out.append((f.name, acc, multi, words))
    return tuple(out)


_HINT = re.compile(r"(tuple\[)?([\w\s|]+?)(, \.\.\.\])?")
_BUILTIN_TYPES = {"str": str, "bool": bool, "int": int, "object": object, "float": float}


def _simple_hint(ann) -> tuple | None:
    """(multi, accepted node classes) of an annotation written ``A | B | None`` or
    ``tuple[A | B, ...]`` (names of usqlrw.ast, quoted or not), read without typing's evaluation
    (a tenth of a small script's first parse); None for anything else."""
    if not isinstance(ann, str):
        return None
    m = _HINT.fullmatch(ann.replace('"', "").replace("'", ""))
    if m is None or (m.group(1) is None) != (m.group(3) is None):
        return None
    names = vars(A)
    acc: tuple = ()
    for name in m.group(2).split("|"):
        name = name.strip()
        if name == "None":
            continue
        t = names.get(name) or _BUILTIN_TYPES.get(name)
        if not isinstance(t, type):
            return None
        if issubclass(t, A.Node) and t not in acc:
            acc += (t,)
    return m.group(1) is not None, acc


_ROUTES: dict = {}      # (class, cursor, child type or keyword text) -> (field index, name, multi)
_KW_TEXT: dict = {}     # a keyword token's text -> its words upper-case with single spaces


def _route(cls, plan, i, key, x):
    """The field of ``cls`` at or after ``i`` that takes child ``x`` (a node, or a keyword's text)."""
    r = _ROUTES.get((cls, i, key))
    if r is None:
        for j in range(i, len(plan)):
            name, acc, multi, words = plan[j]
            if type(x) is str:
                ok = words is not None and x in words
            elif words is None:
                ok = isinstance(x, acc)
            else:
                ok = isinstance(x, A.Keyword) and x.text in words
            if ok:
                r = (j, name, multi)
                break
        else:
            r = False
        if type(x) is not str and isinstance(x, A.Keyword):
            return r          # routed by its text: not cached under its class
        _ROUTES[(cls, i, key)] = r
    return r


def fill(cls, c, rule: str = ""):
    """An instance of ``cls`` from children ``c``, each child to the next field that takes it."""
    plan = _PLANS.get(cls) or _plan(cls)
    vals: dict = {}
    i = 0
    for x in c:
        if isinstance(x, tuple):
            xs = x
        else:
            xs = (x,)
        for x in xs:
            tx = type(x)
            if isinstance(x, str):
                if x.type in VALUE_TOKENS:
                    x = token_node(x)
                    tx = type(x)
                else:
                    text = _KW_TEXT.get(x.value)
                    if text is None:
                        v = x.value
                        text = " ".join(v.split()).upper() if v[:1].isalpha() else ""
                        if len(_KW_TEXT) < 4096:
                            _KW_TEXT[v] = text
                    if not text:
                        continue       # punctuation
                    r = _ROUTES.get((cls, i, text))
                    if r is None:
                        r = _route(cls, plan, i, text, text)
                    if r:
                        j, name, multi = r
                        k = keyword_node(x)
                        if multi:
                            vals[name] = vals.get(name, ()) + (k,)
                            i = j
                        else:
                            vals[name] = k
                            i = j + 1
                    continue
            elif x is None:
                continue
            r = _ROUTES.get((cls, i, tx))
            if r is None:
                r = _route(cls, plan, i, tx, x)
            if not r:
                raise AssertionError(f"builder: {cls.__name__} ({rule}) has no field for {x!r}")
            j, name, multi = r
            if multi:
                vals[name] = vals.get(name, ()) + (x,)
                i = j
            else:
                vals[name] = x
                i = j + 1
    roles = cls.name_roles
    if roles and type(roles) is tuple:
        for fname, kind, action in roles:
            v = vals.get(fname)
            if v is not None and type(v) is A.ObjectName:
                vals[fname] = _with_role(v, kind, action)
        return cls(_span(c), **vals)
    node = cls(_span(c), **vals)
    return _roled(node) if roles else node


def _with_role(v, kind, action):
    try:
        return v.with_role(kind, action)
    except ValueError as e:
        raise _error_at_node(v, f"{v.written} is not a {kind.value.replace('_', ' ')} name: {e}") from None


def _roled(node):
    """``node`` with the ObjectNames its class names given their kind and action."""
    roles = node.name_roles
    changes = {}
    for fname, kind, action in roles:
        v = getattr(node, fname)
        if isinstance(v, A.ObjectName) and kind is not None:
            changes[fname] = _with_role(v, kind, action)
    return replace(node, **changes) if changes else node


def _error_at_node(n: A.Node, message):
    from .errors import USqlSyntaxError
    return USqlSyntaxError(message, n.span.line, n.span.column, offset=n.span.start)


def _error_at(tok, message):
    from .errors import USqlSyntaxError
    return USqlSyntaxError(message, tok.line, tok.column, offset=tok.start_pos)


# -- types ------------------------------------------------------------------------------------------------

_TYPE_TOKEN = re.compile(r"\s*(?:((?!\d)\w+(?:\s*\.\s*(?!\d)\w+)*)|(<)|(>)|(,)|(\?)|(\[\s*\]))")

#: U-SQL's built-in scalar and complex types, by the names they may be written with.
BUILTIN_TYPES = frozenset({
    "bool", "byte", "sbyte", "char", "short", "ushort", "int", "uint", "long", "ulong", "float",
    "double", "decimal", "string", "object", "DateTime", "Guid", "TimeSpan", "DateTimeOffset",
    "SQL.ARRAY", "SQL.MAP", "Boolean", "Byte", "SByte", "Char", "Int16", "UInt16", "Int32",
    "UInt32", "Int64", "UInt64", "Single", "Double", "Decimal", "String", "Object",
})
#: First parts of dotted type names that are .NET or U-SQL namespaces, not catalog names.
TYPE_NAMESPACES = frozenset({"System", "SQL", "Microsoft", "global"})


def _types_in(t: Token, start: int) -> tuple:
    """The comma-separated types in ``t.value`` from offset ``start`` (after ``<`` of TYPEARGS or
    ``(`` of CAST), with exact spans."""
    v = t.value
    pos = start
    toks = []
    while pos < len(v):
        m = _TYPE_TOKEN.match(v, pos)
        if not m or m.end() == pos:
            break
        toks.append((m.lastindex, m.start(m.lastindex), m.end(m.lastindex), m.group(m.lastindex)))
        pos = m.end()
    toks.append((0, len(v), len(v), ""))
    k = 0

    def one():
        nonlocal k
        kind, a, b, name = toks[k]
        if kind != 1:   # (SQL.ARRAY<>) x, List<,int>: a type argument is missing
            at = A.Identifier(_sub_span(t, a, min(len(v), max(b, a + 1))), "", False)
            raise _error_at_node(at, "expected a type name" + (" between < and >" if kind == 3 else ""))
        k += 1
        args: tuple = ()
        end = b
        if toks[k][0] == 2:
            k += 1
            lst = [one()]
            while toks[k][0] == 4:
                k += 1
                lst.append(one())
            if toks[k][0] != 3:    # (SQL.ARRAY<SQL.ARRAY<string>) x: a '>' short
                x = toks[k][1] if toks[k][0] else len(v) - 1    # at the cast's ')'
                at = A.Identifier(_sub_span(t, x, x + 1), "", False)
                raise _error_at_node(at, "expected > to close the type arguments")
            end = toks[k][2]       # '>'
            k += 1
            args = tuple(lst)
        nullable = False
        rank = 0
        while toks[k][0] in (5, 6):
            if toks[k][0] == 5:
                nullable = True
            else:
                rank += 1
            end = toks[k][2]
            k += 1
        parts = tuple(A.Identifier(_sub_span(t, m.start(), m.end()), m.group(), False)
                      for m in _WORD.finditer(v, a, b))
        name = "".join(name.split())
        text = v[a:end]
        return A.Type(_sub_span(t, a, end), name, parts, args, nullable, rank, text)

    out = [one()]
    while toks[k][0] == 4:
        k += 1
        out.append(one())
    return tuple(out)


def _type_args(t: Token) -> tuple:
    return _types_in(t, t.value.index("<") + 1)


def is_builtin_type(t: A.Type) -> bool:
    return t.name in BUILTIN_TYPES or t.name.split(".")[0] in TYPE_NAMESPACES or bool(t.args) or t.array_rank > 0


def _table_type(t):
    """A parameter's or RETURNS rowset's type: a catalog table type unless it is a built-in."""
    if isinstance(t, A.Type) and not is_builtin_type(t) and not t.nullable:
        try:
            name = A.ObjectName.from_parts(t.span, t.parts, A.ObjectKind.TYPE, A.Action.REFERENCE)
        except ValueError as e:
            raise _error_at_node(t, f"{t.text} is not a table type name: {e}") from None
        return A.TableTypeRef(t.span, name)
    return t


_WORD = re.compile(r"(?!\d)\w+")


_DROP_KINDS = {"DATABASE": A.ObjectKind.DATABASE, "SCHEMA": A.ObjectKind.SCHEMA,
               "TABLE": A.ObjectKind.TABLE, "VIEW": A.ObjectKind.VIEW, "FUNCTION": A.ObjectKind.TVF,
               "PROCEDURE": A.ObjectKind.PROCEDURE, "PACKAGE": A.ObjectKind.PACKAGE,
               "TYPE": A.ObjectKind.TYPE, "ASSEMBLY": A.ObjectKind.ASSEMBLY,
               "CREDENTIAL": A.ObjectKind.CREDENTIAL, "STATISTICS": A.ObjectKind.STATISTICS,
               "INDEX": A.ObjectKind.INDEX, "DATA": A.ObjectKind.DATA_SOURCE}

#: Grammar rules that are lists: their value is a tuple of their child nodes.
_LIST_RULES = ("statement_list", "column_definitions", "ident_list", "parameters", "select_list",
               "table_schema", "partition_specification", "partition_labels", "additional_files",
               "arguments")


class _Inlined:
    """The value of an inlined ``_rule`` (Lark's Tree for it): the parent's child filter splices
    its ``children`` in."""
    __slots__ = ("data", "children")

    def __init__(self, data, children):
        self.data, self.children = data, children


class Builder:
    """The transformer handed to Lark. Method names are grammar aliases."""

    def __default__(self, rule, c, _meta):
        if rule.startswith("_"):  # inlined helper rules: Lark splices their .children into the parent
            return _Inlined(rule, c)
        cls = _CLASSES.get(rule)
        if cls is None:
            cls = _CLASSES[rule] = A.node_class(rule)
        return fill(cls, c, rule)

    # -- names --

    def identifier(self, c):
        t = c[0]
        if t.type == "NAME" and t.value in reserved_words():
            raise _reserved(t)
        if t.type == "NAME" and t.value in CSHARP_RESERVED:
            raise _csharp_reserved(t)
        return token_node(t)

    def keyword_member(self, c):
        """A built-in reached through a keyword: PARTITION.EXISTS(...)."""
        t = c[0]
        target = A.Name(tok_span(t), A.Identifier(tok_span(t), t.value, False))
        return A.MemberAccess(_span(c), target, c[2] if isinstance(c[2], A.Node) else token_node(c[2]))

    def member_identifier(self, c):
        # After '.', any word is a member name: FILE.EXISTS(...) is not the keyword EXISTS.
        return token_node(c[0])

    def object_name(self, c):
        parts: list = []
        prev_dot = False
        for x in c:
            if isinstance(x, A.Identifier):
                parts.append(x)
                prev_dot = False
            elif x.value == ".":
                if prev_dot:
                    parts.append(None)     # db..obj: the empty schema
                prev_dot = True
        try:
            return A.ObjectName.from_parts(_span(c), tuple(parts))
        except ValueError as e:
            raise _error_at(c[0] if isinstance(c[0], str) else _tok_of(c[0]),
                            f"a catalog name has at most 4 parts (account.database.schema.object): {e}") from None

    def dotted_name(self, c):
        return A.DottedName(_span(c), tuple(token_node(x) for x in c if x.type == "NAME"))

    def type(self, c):
        parts: list = []
        args: tuple = ()
        nullable = False
        rank = 0
        prev_dot = False
        for x in c:
            ty = x.type
            if ty in ("NAME", "QUOTED_ID"):
                parts.append(token_node(x))
                prev_dot = False
            elif ty == "TYPEARGS":
                args = _type_args(x)
            elif ty == "QMARK":
                nullable = True
            elif ty == "ARRAY_BRACKETS":
                rank += 1
            elif x.value == ".":
                if prev_dot:
                    parts.append(None)
                prev_dot = True
        name = ".".join(p.name for p in parts if p is not None)
        text = "".join("global::" if x.type == "GLOBAL_ALIAS" else x.value for x in c)
        return A.Type(_span(c), name, tuple(parts), args, nullable, rank, text,
                      c[0].type == "GLOBAL_ALIAS")

    # -- script and statements --

    def script(self, c):
        _check_no_export(_nodes(c))
        return A.Script(_span(c) if c else Span(0, 0, 1, 1, 1, 1), tuple(_nodes(c)))

    def use_database(self, c):
        n = _nodes(c)[0]
        if isinstance(n, A.Identifier):
            n = A.ObjectName(n.span, database=n)
        return _roled(A.UseDatabase(_span(c), n))

    def create_database(self, c):
        n = _nodes(c)
        name = n[-1]
        if isinstance(name, A.Identifier):
            name = A.ObjectName(name.span, database=name)
        guard = n[0] if isinstance(n[0], A.Keyword) else None
        return _roled(A.CreateDatabase(_span(c), guard, name))

    def if_not_exists(self, c):
        return A.Keyword(_span(c), "IF NOT EXISTS")

    def if_exists(self, c):
        return A.Keyword(_span(c), "IF EXISTS")

    def else_if(self, c):
        return fill(A.IfBranch, c, "else_if")

    def reference_script_assembly(self, c):
        var = token_node(c[-1])
        name = A.ObjectName(var.span, variable=var, object_kind=A.ObjectKind.SCRIPT_ASSEMBLY,
                            action=A.Action.REFERENCE)
        return A.ReferenceAssembly(_span(c), None, name)

    def reference_system_assembly(self, c):
        return fill(A.ReferenceAssembly, c, "reference_system_assembly")

    def export_system_assembly(self, c):
        return fill(A.ExportAssembly, c, "export_system_assembly")

    def _script_name(self, t):
        var = token_node(t)
        return A.ObjectName(var.span, variable=var, object_kind=A.ObjectKind.SCRIPT_TVF,
                            action=A.Action.CALL)

    def script_tvf_call(self, c):
        return fill(A.TvfCall, [self._script_name(c[0])] + list(c[1:]), "script_tvf_call")

    def script_tvf_ref(self, c):
        return fill(A.TvfCall, [self._script_name(c[0])] + list(c[1:]), "script_tvf_ref")

    def tvf_ref(self, c):
        return fill(A.TvfCall, c, "tvf_ref")

    def rowset_assignment(self, c):
        return fill(A.RowsetAssignment, c, "rowset_assignment")

    # -- queries --

    def extract(self, c):
        i = next(k for k, x in enumerate(c) if isinstance(x, str) and x.value == "FROM")
        cols = tuple(_nodes(c[:i]))
        _check_builtin_columns(cols, "an EXTRACT column")
        rest = _nodes(c[i:])
        req = _first(rest, A.Required)
        sb = _first(rest, A.SortedBy)
        using = _first(rest, A.Using)
        sources = tuple(x for x in rest if isinstance(x, A.Expr))
        return A.Extract(_span(c), cols, sources, req, sb, using)

    def table_type_columns(self, c):
        parts = tuple(_nodes(c))
        try:
            name = A.ObjectName.from_parts(span_of(parts[0], parts[-1]), parts, A.ObjectKind.TYPE,
                                           A.Action.REFERENCE)
        except ValueError:   # Db.dbo.T.x.y.*: more parts than a catalog name has
            raise _error_at_node(parts[0], "a table type's name has at most 4 parts "
                                           "(account.database.schema.type): Db.dbo.RowType.*") from None
        return A.TableTypeColumns(_span(c), name)

    def column_ref(self, c):
        n = [token_node(x) if isinstance(x, str) and x.type == "VARIABLE" else x for x in c]
        n = _nodes(n)
        if len(n) == 2:
            return A.ColumnRef(_span(c), n[0], n[1])
        return A.ColumnRef(_span(c), None, n[0])

    def select_list(self, c):
        return _seq(c, [token_node(x) if isinstance(x, str) and x.type == "STAR" else x
                        for x in c if not (isinstance(x, str) and x.type != "STAR")])

    def star(self, c):
        return A.Star(_span(c))

    def qualified_star(self, c):
        return A.QualifiedStar(_span(c), c[0])

    _JOIN_HINTS = frozenset({"SERIAL", "PAIR", "BROADCASTLEFT", "BROADCASTRIGHT", "FULLCROSS",
                             "MERGE", "HASH", "LOOP", "INDEXLOOKUP"})

    def join_operator(self, c):
        """The grammar reads every [side] [OUTER] [hints] join word; this keeps the reference's."""
        words = tuple(t.value for t in c if t.value not in self._JOIN_HINTS)
        side = words[0] if words[0] in ("INNER", "LEFT", "RIGHT", "FULL", "CROSS") else None
        outer = "OUTER" in words
        kind = words[-1]
        ok = (kind == "JOIN" and not (outer and side in ("INNER", "CROSS"))) or \
             (kind in ("SEMIJOIN", "ANTISEMIJOIN") and side in (None, "LEFT", "RIGHT") and not outer)
        if not ok:
            raise _error_at(c[0], f"{' '.join(words)} is not a join U-SQL has: use [INNER] JOIN, "
                                  f"LEFT|RIGHT|FULL [OUTER] JOIN, CROSS JOIN, or [LEFT|RIGHT] SEMIJOIN/ANTISEMIJOIN")
        return fill(A.JoinOperator, c, "join_operator")

    def apply(self, c):
        return A.Apply(_span(c), c[0], keyword_node(c[1]), c[2])

    def unpivot(self, c):
        return fill(A.Unpivot, c, "unpivot")

    # -- OUTPUT and DML --

    def expiration(self, c):
        return fill(A.Expiration, c, "expiration")

    # -- DDL --

    def _create_table(self, c):
        _check_create_table(c)
        n = _flat(c)
        node = fill(A.CreateTable, [x for x in n if not isinstance(x, (A.PartitionedBy, A.DistributedBy))])
        # The partition and distribution clauses, written after the schema or inside its INDEX.
        idx = node.index
        pb = _first(n, A.PartitionedBy) or (idx.partitioned_by if idx else None)
        db = _first(n, A.DistributedBy) or (idx.distributed_by if idx else None)
        return replace(node, span=_span(c), partitioned_by=pb, distributed_by=db)

    def table_index(self, c):
        _check_one_of_each(_flat(c))
        return fill(A.TableIndex, c, "table_index")

    def bucketed_partition(self, c):
        """PARTITIONED BY BUCKETS (cols) HASH (cols) INTO n: the PARTITIONED BY (cols) and the
        DISTRIBUTED BY HASH (cols) INTO n of today's syntax, each with the span of its words."""
        c = [x for x in c if x is not None]
        name = next(x for x in c if isinstance(x, str) and x.type == "NAME")
        if name.value != "BUCKETS":
            raise _error_at(name, f"unexpected identifier '{name.value}'; expected '(', BUCKETS, DIRECT, "
                                  f"HASH, RANGE, ROUND ROBIN")
        close = c.index(name) + 3          # NAME "(" ident_list ")"
        columns = tuple(x for x in _flat(c[:close + 1]) if isinstance(x, A.Identifier))
        partitioned = A.PartitionedBy(_span(c[:close + 1]), columns)
        rest = [x for x in c[close + 1:] if x is not None]
        scheme = _first(rest, A.Node)
        buckets = [x for x in rest if isinstance(x, A.Node) and x is not scheme]
        distributed = A.DistributedBy(_span(rest), scheme, buckets[0] if buckets else None)
        return _seq(c, [partitioned, distributed])

    def create_table(self, c):
        return self._create_table(c)

    def create_table_as(self, c):
        return self._create_table(c)

    def drop(self, c):
        kind = _DROP_KINDS[c[1].value]
        n = _nodes(c)
        guard = _first(n, A.Keyword)
        names = [x for x in n if isinstance(x, A.ObjectName)]
        return _roled(A.Drop(_span(c), kind, guard, names[0], names[1] if len(names) > 1 else None))

    def update_statistics(self, c):
        n = _nodes(c)
        guard = _first(n, A.Keyword)
        ident = _first(n, A.Identifier)
        table = _first(n, A.ObjectName)
        inc = c[-1] if isinstance(c[-1], str) and c[-1].value in ("ON", "OFF") and len(c) > 5 \
            and c[-2].value == "=" else None
        return _roled(A.UpdateStatistics(_span(c), guard, ident, table,
                                         keyword_node(inc) if inc is not None else None))

    def parameter(self, c):
        n = _nodes(c)
        return A.Parameter(_span(c), token_node(c[0]), _table_type(n[0]), n[1] if len(n) > 1 else None)

    def return_rowset(self, c):
        n = _nodes(c)
        return A.ReturnRowset(_span(c), token_node(c[0]), _table_type(n[0]) if n else None)

    def credential_option(self, c):
        n = _nodes(c)
        return A.CredentialOption(_span(c), token_node(c[0]) if isinstance(c[0], str) else n[0], n[-1])

    def data_source_option(self, c):
        return A.DataSourceOption(_span(c), token_node(c[0]), _nodes(c)[-1])

    def create_data_source(self, c):
        return fill(A.CreateDataSource, c, "create_data_source")

    # -- scalar expressions --

    def string_literal(self, c):
        return token_node(c[0])

    def char_literal(self, c):
        return token_node(c[0])

    def number_literal(self, c):
        return token_node(c[0])

    def bool_literal(self, c):
        return A.BoolLiteral(_span(c), c[0].value.lower() == "true")

    def null_literal(self, c):
        return A.NullLiteral(_span(c))

    def variable_ref(self, c):
        return token_node(c[0])

    def name(self, c):
        t = c[0]
        if t.type == "NAME" and t.value in reserved_words():
            raise _reserved(t)
        if t.type == "NAME" and t.value in CSHARP_RESERVED and t.value not in _CSHARP_EXPRESSION_WORDS:
            raise _csharp_reserved(t)
        return A.Name(tok_span(t), token_node(t))

    def option_hint_args(self, c):
        """A hint on columns: SKEWFACTOR(Query) = 0.5, PARTITION(F) = (PARTITIONCOUNT = 1000)."""
        c = [x for x in c if x is not None]
        head = c[0]
        name = head if isinstance(head, A.Identifier) else A.Identifier(tok_span(head), head.value, False)
        eq = next((i for i, x in enumerate(c) if isinstance(x, str) and x.value == "="), len(c))
        after = _nodes(c[eq + 1:])
        hints = tuple(x for x in after if isinstance(x, A.OptionHint))
        value = None if hints or not after else after[0]
        return A.OptionHint(_span(c), name, value, tuple(_nodes(c[1:eq])), hints)

    def global_name(self, c):
        return A.GlobalName(_span(c), token_node(c[1]))

    def generic_name(self, c):
        return A.GenericName(_span(c), token_node(c[0]), _type_args(c[1]))

    def member_access(self, c):
        return A.MemberAccess(_span(c), c[0], c[2] if isinstance(c[2], A.Node) else token_node(c[2]),
                              c[1].value == "?.")

    def operation(self, c):
        if len(c) == 1:
            return c[0]
        _check_operators(c)
        return arrange(c)

    def is_null_test(self, c):
        return _Test(A.IsNull, c)

    def in_test(self, c):
        return _Test(A.InList, c)

    def type_test(self, c):
        return _Test(A.TypeTest, c)

    def type_as(self, c):
        return _Test(A.TypeAs, c)

    def conditional(self, c):
        n = _nodes(c)
        return A.Conditional(_span(c), n[0], n[1], n[2])

    def paren(self, c):
        return A.Paren(_span(c), c[1])

    def call(self, c):
        func = c[0]
        args = next((x for x in c[1:] if isinstance(x, tuple)), None)
        over = _first(c[1:], A.Over)
        wg = _first(c[1:], A.WithinGroup)
        items = tuple(args or ())
        if items and _is_partition_exists(func):
            items = (_table_name_arg(items[0]),) + items[1:]
        return A.Call(_span(c), func, getattr(args, "quantifier", None), items,
                      getattr(args, "star", False), wg, over)

    def arguments(self, c):
        q = None
        star = False
        items = []
        for x in c:
            if isinstance(x, str):
                if x.type == "STAR":
                    star = True
                elif x.value in ("DISTINCT", "ALL"):
                    q = keyword_node(x)
            else:
                items.append(x)
        a = _seq(c, items)
        a.quantifier, a.star = q, star
        return a

    def case(self, c):
        n = _nodes(c)
        whens = tuple(x for x in n if isinstance(x, A.When))
        operand = n[0] if not isinstance(n[0], A.When) else None
        otherwise = n[-1] if not isinstance(n[-1], A.When) else None
        return A.Case(_span(c), operand, whens, otherwise)

    def index(self, c):
        return A.Index(_span(c), c[0], tuple(_nodes(c[1:])))

    def named_argument(self, c):
        return A.NamedArgument(_span(c), token_node(c[0]), _nodes(c)[-1])

    def default_argument(self, c):
        return A.DefaultArgument(_span(c))

    def out_argument(self, c):
        return A.OutArgument(_span(c), keyword_node(c[0]), c[-1])

    def member_initializer(self, c):
        return A.MemberInitializer(_span(c), token_node(c[0]), c[-1])

    def new(self, c):
        n = _nodes(c)
        typ = _first(n, A.Type)
        args = next((tuple(x) for x in c if isinstance(x, tuple)), ())
        init = _first(n, A.Initializer)
        array = any(isinstance(x, str) and x.type == "ARRAY_BRACKETS" for x in c[1:2])
        return A.New(_span(c), typ, array, args, init)

    def linq_orderby(self, c):
        return fill(A.LinqOrderBy, c, "linq_orderby")

    def frame_between(self, c):
        return _seq(c, _nodes(c))

    def linq_from(self, c):
        n = _nodes(c)
        typ = _first(n, A.Type)
        name = next(x for x in c if isinstance(x, str) and x.type == "NAME")
        return A.LinqFrom(_span(c), typ, token_node(name), n[-1])

    def linq_let(self, c):
        return A.LinqLet(_span(c), token_node(c[1]), c[-1])

    def linq_query(self, c):
        n = _nodes(c)
        return A.LinqQuery(_span(c), tuple(n[:-1]), n[-1])

    def lambda_(self, c):
        t = c[0]
        p = t.value
        if p.startswith("("):  # (a, b) or typed: (string a, int b)
            params = []
            pos = 1
            for piece in p[1:-1].split(","):
                words = piece.replace("?", "? ").split()
                if words:
                    a = p.index(words[-1], pos)
                    params.append(A.LambdaParameter(_sub_span(t, a, a + len(words[-1])), words[-1],
                                                    "".join(words[:-1])))
                pos += len(piece) + 1
            params = tuple(params)
        else:
            params = (A.LambdaParameter(tok_span(t), p, ""),)
        body = c[-1]
        if isinstance(body, str):
            body = A.CSharpBlock(tok_span(body), body.value)
        return A.Lambda(_span(c), params, body)


_CLASSES: dict = {}


def _is_partition_exists(func) -> bool:
    return (isinstance(func, A.MemberAccess) and isinstance(func.target, A.Name)
            and func.target.ident.name == "PARTITION" and isinstance(func.member, A.Identifier)
            and func.member.name == "EXISTS")


def _table_name_arg(arg):
    """PARTITION.EXISTS's first argument, ``db.schema.T`` read as a catalog name (the reference:
    ``PARTITION.EXISTS(Identifier, partition_value, ...)``), not as member accesses."""
    parts = []
    n = arg
    while isinstance(n, A.MemberAccess) and isinstance(n.member, A.Identifier) and not n.null_conditional:
        parts.append(n.member)
        n = n.target
    if not isinstance(n, A.Name) or len(parts) > 3:
        return arg
    parts.append(n.ident)
    name = A.ObjectName.from_parts(arg.span, tuple(reversed(parts)))
    return _roled(A.TableNameArg(arg.span, name))


def _tok_of(n):
    class _T:
        line, column, start_pos = n.span.line, n.span.column, n.span.start
    return _T


def _install_fill_methods() -> None:
    """A method for every grammar alias whose class the builder fills from its fields, so Lark
    calls it directly (``__default__`` goes through one more wrapper per node). An alias is its
    class's name in snake case (``node_class`` maps back); one that is not still reaches ``fill``
    through ``__default__``."""
    for cls in A.all_node_classes():
        rule = re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()
        if hasattr(Builder, rule) or A.node_class(rule) is not cls:
            continue

        def method(self, c, cls=cls, rule=rule):
            return fill(cls, c, rule)
        setattr(Builder, rule, method)


for _rule in _LIST_RULES:
    if not hasattr(Builder, _rule):
        setattr(Builder, _rule, lambda self, c: _seq(c, [x for x in _flat(c) if isinstance(x, A.Node)]))


# -- operator precedence ------------------------------------------------------------------------
# The grammar hands each operation over as a flat list (see "Operators" in usql.lark); arrange()
# builds the tree with the shunting-yard algorithm, iteratively, so 5,000-long chains are fine.

_CMP = 9   # relational: < > <= >=, and the SQL tests (LIKE, BETWEEN, IN, IS NULL, is, as)
#: infix operator -> (precedence, right-associative); higher binds tighter. C#'s order, with the
#: SQL operators placed where U-SQL reads them: AND/OR as &&/||, NOT between them and |, the SQL
#: tests with the relational operators.
PRECEDENCE = {
    "??": (1, True), "OR": (2, False), "||": (2, False), "AND": (3, False), "&&": (3, False),
    # 4: prefix NOT
    "|": (5, False), "^": (6, False), "&": (7, False),
    "==": (8, False), "!=": (8, False), "<>": (8, False),
    "<=": (_CMP, False), ">=": (_CMP, False), "<": (_CMP, False), ">": (_CMP, False),
    "LIKE": (_CMP, False), "BETWEEN": (_CMP, False), "ESCAPE": (10, False),
    "<<": (11, False), ">>": (11, False), "+": (12, False), "-": (12, False),
    "*": (13, False), "/": (13, False), "%": (13, False),
}
_PREFIX = {"!": 14, "~": 14, "+": 14, "-": 14, "NOT": 4}
_CAST_PREC = 14


class _Test:
    """A postfix test (IS NULL, IN (...), is T, as T) waiting for its operand."""
    __slots__ = ("cls", "c")

    def __init__(self, cls, c):
        self.cls, self.c = cls, c


class _Op:
    __slots__ = ("prec", "right", "tok", "kws", "prefix", "awaiting_and", "not_tok")

    def __init__(self, prec, right, tok, kws, prefix=False, not_tok=None):
        self.prec, self.right, self.tok, self.kws, self.prefix = prec, right, tok, kws, prefix
        self.not_tok = not_tok
        self.awaiting_and = bool(kws) and kws[-1] == "BETWEEN"


_RESERVED_WORDS = None


def reserved_words() -> frozenset:
    """U-SQL's reserved words (usqlrw/keywords.py); read once (checked for every name token)."""
    global _RESERVED_WORDS
    if _RESERVED_WORDS is None:
        from .keywords import reserved_words as words
        _RESERVED_WORDS = words()
    return _RESERVED_WORDS


def _reserved(tok):
    e = _error_at(tok, f"{tok.value} is a reserved keyword here; to use it as a name, quote it: [{tok.value}]")
    e.reserved_token = tok
    return e


def _cast_type(tok: Token) -> A.Type:
    """The type of a CAST token ``(int?)``."""
    return _types_in(tok, tok.value.index("(") + 1)[0]


def _apply(op: _Op, out: list) -> None:
    tok = op.tok
    if op.prefix:
        x = out.pop()
        sp = span_of(tok, x)
        if tok.type == "CAST":
            out.append(A.Cast(sp, _cast_type(tok), x))
        else:
            out.append(A.UnaryOp(sp, tok.value, x))
        return
    if op.awaiting_and:
        raise _error_at(tok, "BETWEEN needs AND: x BETWEEN low AND high")
    right = out.pop()
    left = out.pop()
    kind = op.kws[-1]
    neg = keyword_node(op.not_tok) if op.not_tok is not None else None
    if kind == "BETWEEN":
        low = out.pop()
        left, low = low, left
        out.append(A.Between(span_of(left, right), left, neg, low, right))
    elif kind == "LIKE":
        if isinstance(right, A.BinaryOp) and right.op == "ESCAPE":
            out.append(A.Like(span_of(left, right), left, neg, right.left, right.right))
        else:
            out.append(A.Like(span_of(left, right), left, neg, right, None))
    else:
        out.append(A.BinaryOp(span_of(left, right), tok.value, left, right))


def _apply_test(t: _Test, out: list) -> None:
    x = out.pop()
    c = t.c
    if t.cls is A.IsNull or t.cls is A.InList:
        node = fill(t.cls, [x] + list(c))
    else:
        node = t.cls(span_of(x, c[-1]), x, _first(c, A.Type))
    out.append(node)


def arrange(c: list) -> A.Node:
    """The tree of a flat operation list: operands, operator tokens and postfix tests."""
    out: list = []
    ops: list = []
    expect_operand = True
    pending_not = None
    for x in c:
        if expect_operand:
            if isinstance(x, str):
                if x.type == "CAST":
                    ops.append(_Op(_CAST_PREC, True, x, (), prefix=True))
                else:
                    ops.append(_Op(_PREFIX[x.value], True, x, (x.value,), prefix=True))
                continue
            out.append(x)
            expect_operand = False
            continue
        if isinstance(x, _Test):
            while ops and ops[-1].prec >= _CMP:
                _apply(ops.pop(), out)
            _apply_test(x, out)
            continue
        v = x.value
        if v == "NOT":  # NOT LIKE, NOT BETWEEN
            pending_not = x
            continue
        if v == "AND":
            while ops and ops[-1].prec > _CMP:
                _apply(ops.pop(), out)
            if ops and ops[-1].awaiting_and:
                ops[-1].awaiting_and = False
                expect_operand = True
                continue
        prec, right = PRECEDENCE[v]
        while ops and (ops[-1].prec > prec or (ops[-1].prec == prec and not right)):
            if ops[-1].awaiting_and:   # x BETWEEN low OR ...: the error is at this operator
                raise _error_at(x, "BETWEEN needs AND: x BETWEEN low AND high")
            _apply(ops.pop(), out)
        if pending_not is not None:
            ops.append(_Op(prec, right, x, ("NOT", v), not_tok=pending_not))
            pending_not = None
        else:
            ops.append(_Op(prec, right, x, (v,)))
        expect_operand = True
    while ops:
        if ops[-1].awaiting_and:   # x BETWEEN low, and nothing more: after low
            raise _error_after(out[-1].span.end, "BETWEEN needs AND: x BETWEEN low AND high")
        _apply(ops.pop(), out)
    return out[0]


def _if(self, c):
    """IF ... THEN ... [ELSEIF ... THEN ...]* [ELSE ...] END."""
    n = _nodes(c)
    first_then = next(k for k, x in enumerate(c) if isinstance(x, str) and x.value == "THEN")
    stmts = tuple(c[first_then + 1]) if first_then + 1 < len(c) and isinstance(c[first_then + 1], tuple) else ()
    first = A.IfBranch(span_of(c[0], _edge(c[:first_then + 2], -1)), n[0], stmts)
    branches = [first] + [x for x in n if isinstance(x, A.IfBranch)]
    otherwise = _first(n, A.ElseBranch)
    return A.If(_span(c), tuple(branches), otherwise)


def _else(self, c):
    return A.ElseBranch(_span(c), next((tuple(x) for x in c if isinstance(x, tuple)), ()))


# Aliases that are Python keywords cannot be method names; Lark looks callbacks up with getattr.
for _alias_name, _callback in {"if": _if, "else": _else, "lambda": Builder.lambda_}.items():
    setattr(Builder, _alias_name, _callback)
del _alias_name, _callback


# -- the reference's rules the grammar leaves to the builder -------------------------------------------
#
# Each check is traced to its page of the U-SQL language reference (refdocs/u-sql/*.md). An error is
# placed at the first token that cannot be there; ``at_next_token`` asks the parser to place it
# at the first token after the given offset (where a missing clause should have started).

from .keywords import CSHARP_RESERVED  # noqa: E402

#: C# keywords that do stand for themselves in an expression: the built-in type names
#: (string.Format, int.Parse), this/base, and the operators written like calls (checked(x)).
_CSHARP_EXPRESSION_WORDS = frozenset("""bool byte char decimal double float int long object sbyte short
    string uint ulong ushort this base checked unchecked sizeof""".split())


def _csharp_reserved(tok):
    return _error_at(tok, f"{tok.value} is a C# reserved word, reserved in U-SQL too; "
                          f"to use it as a name, quote it: [{tok.value}]")


def _error_after(end: int, message):
    """An error at the first token after offset ``end`` (a clause is missing there); the parser
    places it (it has the text)."""
    from .errors import USqlSyntaxError
    e = USqlSyntaxError(message, 1, 1, offset=end)
    e.at_next_token = end
    return e


def _check_operators(c) -> None:
    """comparison-operators-u-sql.md, not-equal-to-u-sql.md: U-SQL's operators are C#'s: != not <>."""
    for x in c:
        if isinstance(x, str) and x.value == "<>":
            raise _error_at(x, "U-SQL has no <>: compare with != (C# syntax)")


def _first_bad_comparison(e):
    """u-sql-select-selecting-from-joins.md, "Join Comparisons": equality comparisons, AND-ed
    (parenthesised or not). The first operand of the condition that is no ``==``, else None;
    iterative, for conditions of thousands of terms."""
    todo = [e]
    while todo:
        x = todo.pop()
        while isinstance(x, A.Paren):
            x = x.expr
        if isinstance(x, A.BinaryOp) and x.op in ("AND", "&&"):
            todo.append(x.right)
            todo.append(x.left)
        elif not (isinstance(x, A.BinaryOp) and x.op == "=="):
            return x
    return None


def _check_join_condition(cond, what: str) -> None:
    bad = _first_bad_comparison(cond) if cond is not None else None
    if bad is None:
        return
    how = "not OR" if isinstance(bad, A.BinaryOp) and bad.op in ("OR", "||") else "no other comparison"
    # at the operator that is not == or AND, else after the operand that is no comparison
    at = bad.left.span.end if isinstance(bad, A.BinaryOp) and bad.left is not None else bad.span.end
    raise _error_after(at, f"{what} compares columns with == joined by AND ({how}); "
                           f"filter anything else in WHERE")


def _join(self, c):
    node = fill(A.Join, c, "join")
    _check_join_condition(node.condition, "a JOIN's ON condition")
    return node


def _combine(self, c):
    node = fill(A.Combine, c, "combine")
    _check_join_condition(node.condition, "COMBINE's ON condition")
    return node


def _subquery(self, c):
    """u-sql-select-selecting-from-the-values-table-value-constructor.md: (VALUES ...) AS T(c, ...):
    the alias names the columns."""
    node = fill(A.Subquery, c, "subquery")
    if isinstance(node.query, A.Values) and node.alias is not None and not node.alias.columns:
        raise _error_after(node.alias.span.end, "(VALUES ...) needs its column names: AS T(c1, c2, ...)")
    return node


def _check_builtin_columns(cols, what: str) -> None:
    """Column_Definition := Quoted_or_Unquoted_Identifier Built_in_Type in CREATE TABLE,
    CREATE EXTERNAL TABLE and EXTRACT (create-table-u-sql-creating-a-table-with-schema.md,
    create-external-table-u-sql.md, extract-expression-u-sql.md)."""
    for col in cols:
        t = getattr(col, "type", None)
        if isinstance(col, A.ColumnDefinition) and t is not None and not is_builtin_type(t):
            raise _error_at_node(t, f"{what} has a built-in U-SQL type (int, string, DateTime, "
                                    f"SQL.MAP<K,V>, ...), not {t.text}")


def _external_table(self, c):
    node = fill(A.CreateExternalTable, c, "create_external_table")
    _check_builtin_columns(node.columns, "an external table's column")
    return node


_EXPORTS = (A.ExportAssembly, A.ExportVariable)
#: create-package-u-sql.md: Package_Statement := Using_Statement | Declare_Variable_Statement |
#: Import_Package_Statement | Export_Statement | Deploy_Resource_Statement | If_Package_Statement.
_PACKAGE_STATEMENTS = (A.UsingDirective, A.UsingAlias, A.Declare, A.ImportPackage, A.DeployResource,
                       A.If) + _EXPORTS


def _branches(stmt):
    """The statement lists of an IF."""
    for b in stmt.branches:
        yield b.statements
    if stmt.otherwise is not None:
        yield stmt.otherwise.statements


def _statements_in(statements):
    """The statements, those inside IFs too (iteratively: IFs nest thousands deep in fuzz tests)."""
    todo = [iter(statements)]
    while todo:
        st = next(todo[-1], None)
        if st is None:
            todo.pop()
            continue
        yield st
        if isinstance(st, A.If):
            todo.extend(iter(body) for body in reversed(list(_branches(st))))


def _check_no_export(statements) -> None:
    """EXPORT declares what a package gives its importers: it stands only in a package's body."""
    for st in _statements_in(statements):
        if isinstance(st, _EXPORTS):
            raise _error_at_node(st, "EXPORT stands only in a CREATE PACKAGE body")


def _check_package_body(statements) -> None:
    for st in _statements_in(statements):
        if not isinstance(st, _PACKAGE_STATEMENTS):
            raise _error_at_node(st, "a package holds only USING, DECLARE, IMPORT PACKAGE, EXPORT, "
                                     "DEPLOY RESOURCE and IF statements")


#: create-function-u-sql-table-valued-function.md: TVF_Statement_Body := Use_Statement |
#: Declare_Variable_Statement | Import_Package_Statement | Reference_Assembly_Statement |
#: Deploy_Resource_Statement | Query_Statement ("you cannot call INSERT or OUTPUT statements").
#: The reference's own examples (create-function-u-sql-table-valued-function.md, blocks 0 and 3)
#: and Azure/usql's IntroHOL Script7 also use RETURN; and IF in a function: kept.
_FUNCTION_STATEMENTS = (A.UseDatabase, A.UseSchema, A.Declare, A.ImportPackage, A.ReferenceAssembly,
                        A.DeployResource, A.RowsetAssignment, A.Return, A.If)


def _check_function_body(statements) -> None:
    for st in _statements_in(statements):
        if not isinstance(st, _FUNCTION_STATEMENTS):
            raise _error_at_node(st, "a table-valued function's body holds only USE, DECLARE, IMPORT "
                                     "PACKAGE, REFERENCE ASSEMBLY, DEPLOY RESOURCE, IF, RETURN and "
                                     "@rowset = query statements (no OUTPUT, INSERT, DDL or procedure call)")


def _function(self, c):
    node = fill(A.CreateFunction, c, "create_function")
    _check_function_body(node.body)
    return node


def _package(self, c):
    node = fill(A.CreatePackage, c, "create_package")
    _check_package_body(node.body)
    return node


def _check_one_of_each(nodes) -> None:
    """A table has one PARTITIONED BY (columns) and one distribution (DISTRIBUTED BY, or the old
    PARTITIONED BY HASH|...), wherever they are written."""
    seen: dict = {}
    for x in sorted((x for x in nodes if isinstance(x, (A.PartitionedBy, A.DistributedBy))),
                    key=lambda x: x.span.start):
        if type(x) in seen:
            what = "PARTITIONED BY (columns)" if isinstance(x, A.PartitionedBy) else \
                "distribution (DISTRIBUTED BY, or the old PARTITIONED BY HASH|RANGE|...)"
            raise _error_at_node(x, f"a table has one {what}; the first is at line {seen[type(x)].span.line}")
        seen[type(x)] = x


def _check_create_table(c) -> None:
    """create-table-u-sql-creating-a-table-with-schema.md and ...-from-a-query.md:
    one INDEX; an INDEX needs a distribution (DISTRIBUTED BY, or PARTITIONED BY HASH|... in a
    CREATE TABLE AS), and a partition specification needs the INDEX; DIRECT HASH takes one column;
    CREATE TABLE ... AS takes only the INDEX in its parentheses."""
    n = _flat(c)
    indexes = [x for x in n if isinstance(x, A.TableIndex)]
    if len(indexes) > 1:
        raise _error_at_node(indexes[1], "a table has one clustered INDEX")
    index = indexes[0] if indexes else None
    parts = [x for x in n if isinstance(x, (A.PartitionedBy, A.DistributedBy))]
    if index is not None:
        parts += [x for x in (index.partitioned_by, index.distributed_by) if x is not None]
    _check_one_of_each(parts)
    for d in parts:
        if isinstance(d, A.DistributedBy) and isinstance(d.scheme, A.DirectHashDistribution) \
                and len(d.scheme.columns) > 1:
            raise _error_after(d.scheme.columns[0].span.end, "DIRECT HASH takes one column")
    as_query = any(isinstance(x, str) and x.value == "AS" for x in n)
    cols = [x for x in n if isinstance(x, A.ColumnDefinition)]
    _check_builtin_columns(cols, "a table column")
    if as_query:
        if cols:
            raise _error_at_node(cols[0], "CREATE TABLE ... AS query takes no column definitions "
                                          "(the query gives them): write (INDEX name CLUSTERED (c) "
                                          "DISTRIBUTED BY ...) AS query")
        if index is None:
            as_tok = next(x for x in n if isinstance(x, str) and x.value == "AS")
            raise _error_at(as_tok, "CREATE TABLE ... AS query needs its INDEX and distribution first: "
                                    "(INDEX name CLUSTERED (c) DISTRIBUTED BY HASH (c)) AS query")
    if index is None and parts:
        raise _error_at_node(parts[0], "a table's PARTITIONED BY or DISTRIBUTED BY needs its INDEX "
                                       "inside the parentheses: INDEX name CLUSTERED (c)")
    if index is not None and not any(isinstance(d, A.DistributedBy) for d in parts):
        if as_query:   # ( INDEX ... ) AS query: the distribution belongs before AS
            as_tok = next(x for x in n if isinstance(x, str) and x.value == "AS")
            raise _error_at(as_tok, "a table with an INDEX needs its distribution before AS: "
                                    "PARTITIONED BY HASH (c) | DIRECT HASH (c) | RANGE (c) | ROUND ROBIN")
        e = _error_after(_span(c).end, "a table with an INDEX needs its distribution: "
                                       "DISTRIBUTED BY HASH (c) | DIRECT HASH (c) | RANGE (c) | ROUND ROBIN")
        # the schema's own ')' is not among the children (a list rule keeps nodes only)
        e.skip_closing = not any(isinstance(x, (A.PartitionedBy, A.DistributedBy)) for x in n)
        raise e


def _fetch(self, c):
    """order-by-and-offset-fetch-clause-u-sql.md: "The value for the FETCH clause has to be in the
    range [1, 10000], otherwise an error is raised"."""
    node = fill(A.Fetch, c, "fetch")
    n = node.count
    digits = n.text.rstrip("lLuU") if isinstance(n, A.NumberLiteral) else ""
    if digits.isdigit() and not 1 <= int(digits) <= 10000:
        raise _error_at_node(n, f"FETCH takes 1 to 10000 rows, not {n.text}")
    return node


for _alias_name, _callback in {"join": _join, "combine": _combine, "subquery": _subquery,
                               "fetch": _fetch, "create_external_table": _external_table,
                               "create_package": _package, "create_function": _function}.items():
    setattr(Builder, _alias_name, _callback)
del _alias_name, _callback

_install_fill_methods()
