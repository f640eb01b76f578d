"""Parse-tree callbacks that build the typed AST (usqlrw.ast) while the LALR parser runs.

Lark calls one method per grammar alias with the alias's children: tokens (keywords, punctuation
and values, all kept) and nodes already built. There is no intermediate tree. A node's span runs
from its first child's start to its last child's end. Aliases with no method here become generic
:class:`usqlrw.ast.Construct` subclasses via ``__default__``.
"""
from __future__ import annotations

import re
from dataclasses import replace

from lark import Token, Tree

from . import ast as A
from .source import Span

# Tokens that carry a value (everything else is a keyword or punctuation).
VALUE_TOKENS = frozenset({
    "NAME", "QUOTED_ID", "VARIABLE", "SYSVAR", "STRING", "VERBATIM_STRING", "CHAR", "NUMBER",
    "TYPEARGS", "CAST", "LAMBDA_PARAMS", "ARRAY_BRACKETS", "STATEMENT_BLOCK",
})

_KEYWORD = re.compile(r"[A-Z][A-Z_]*$")


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
    if type(first) is Token:
        start, line, col = first.start_pos, first.line, first.column
    else:
        s = first.span
        start, line, col = s.start, s.line, s.column
    if type(last) is Token:
        end, eline, ecol = last.end_pos, last.end_line, last.end_column
    else:
        s = last.span
        end, eline, ecol = s.end, s.end_line, s.end_column
    return _make_span(start, end, line, col, eline, ecol)


def tok_span(t: Token) -> Span:
    return _make_span(t.start_pos, t.end_pos, t.line, t.column, t.end_line, t.end_column)


def _edge(c, step):
    """The first (step 1) or last (step -1) token or node of children ``c``, looking into lists."""
    for x in (c if step == 1 else reversed(c)):
        if isinstance(x, tuple):
            x = _edge(x, step)
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


def _kw(c) -> set:
    return {x.value for x in c if isinstance(x, Token) and x.type not in VALUE_TOKENS}


def _first(c, cls):
    for x in c:
        if isinstance(x, cls):
            return x
    return None


def _tok(c, type_):
    for x in c:
        if isinstance(x, Token) and x.type == type_:
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
    return A.node_class("token")(sp, (), (t.value,))


# Roles of the catalog names in each construct, in the order the names appear.
ROLES: dict[str, tuple] = {
    "use_database": (("database", "use"),),
    "use_schema": (("schema", "use"),),
    "create_database": (("database", "create"),),
    "create_schema": (("schema", "create"),),
    "reference_assembly": (("assembly", "reference"),),
    "reference_system_assembly": (("system_assembly", "reference"),),
    "export_assembly": (("assembly", "reference"),),
    "export_system_assembly": (("system_assembly", "reference"),),
    "import_package": (("package", "reference"),),
    "procedure_call": (("procedure", "call"),),
    "rename_table": (("table", "alter"), ("table", "create")),
    "table_type_columns": (("type", "reference"),),
    "tvf_call": (("tvf", "call"),),
    "tvf_ref": (("tvf", "call"),),
    "table_ref": (("rowset", "read"),),
    "external_rowset": (("data_source", "read"),),
    "insert": (("table", "write"),),
    "create_table": (("table", "create"),),
    "create_table_as": (("table", "create"),),
    "create_external_table": (("table", "create"), ("data_source", "reference")),
    "alter_table_rebuild": (("table", "alter"),),
    "alter_table_add_column": (("table", "alter"),),
    "alter_table_drop_column": (("table", "alter"),),
    "alter_table_add_partition": (("table", "alter"),),
    "alter_table_drop_partition": (("table", "alter"),),
    "truncate_table": (("table", "write"),),
    "create_index": (("table", "alter"),),
    "create_statistics": (("table", "alter"),),
    "update_statistics": (("table", "alter"),),
    "create_view": (("view", "create"),),
    "create_function": (("tvf", "create"),),
    "create_procedure": (("procedure", "create"),),
    "create_package": (("package", "create"),),
    "create_type": (("type", "create"),),
    "create_assembly": (("assembly", "create"),),
    "create_data_source": (("data_source", "create"),),
    "alter_data_source": (("data_source", "alter"),),
    "credential_option": (("credential", "reference"),),
    "create_credential": (("credential", "create"),),
    "alter_credential": (("credential", "alter"),),
}

_DROP_KINDS = {"DATABASE": "database", "SCHEMA": "schema", "TABLE": "table", "VIEW": "view",
               "FUNCTION": "tvf", "PROCEDURE": "procedure", "PACKAGE": "package", "TYPE": "type",
               "ASSEMBLY": "assembly", "CREDENTIAL": "credential", "STATISTICS": "statistics",
               "INDEX": "index", "DATA": "data_source"}


def _with_roles(rule: str, c: list) -> list:
    roles = ROLES.get(rule)
    if not roles:
        return c
    out, i = [], 0
    for x in c:
        if isinstance(x, A.ObjectName) and i < len(roles):
            x = replace(x, object_kind=roles[i][0], action=roles[i][1])
            i += 1
        out.append(x)
    return out


def _guarded(c) -> bool:
    """Whether the statement says IF NOT EXISTS / IF EXISTS (a marker node among its children)."""
    return any(isinstance(x, A.Node) and x.kind in ("IfNotExists", "IfExists") for x in c)


def _content(n):
    """Child nodes without the IF [NOT] EXISTS markers (they come before the name)."""
    return [x for x in n if x.kind not in ("IfNotExists", "IfExists")]


_GENERIC: dict = {}   # grammar alias -> its generic Construct class
_KEYWORD_TEXT: dict = {}


def _keyword_text(v: str):
    """A keyword token's text for Construct.keywords (multi-word ones with single spaces); None
    for punctuation."""
    try:
        return _KEYWORD_TEXT[v]
    except KeyError:
        k = " ".join(v.split()) if (_KEYWORD.match(v) or " " in v or "\t" in v or "\n" in v) else None
        if len(_KEYWORD_TEXT) < 4096:
            _KEYWORD_TEXT[v] = k
        return k


def _alias(c):
    return _first(c, A.node_class("alias"))


class Builder:
    """The transformer handed to Lark. Method names are grammar aliases."""

    def __default__(self, rule, c, _meta):
        cls = _GENERIC.get(rule)
        if cls is None:
            if rule.startswith("_"):  # inlined helper rules: Lark splices their .children into the parent
                return Tree(rule, c)
            cls = _GENERIC[rule] = A.node_class(rule)
        if rule in ROLES:
            c = _with_roles(rule, c)
        items, kws = [], []
        for x in c:
            if type(x) is Token:
                if x.type in VALUE_TOKENS:
                    items.append(token_node(x))
                else:
                    k = _keyword_text(x.value)
                    if k is not None:
                        kws.append(k)
            elif isinstance(x, tuple):  # a list rule (column definitions, statements, ...)
                items.extend(x)
            else:
                items.append(x)
        return cls(_span(c), tuple(items), tuple(kws))

    # -- names --

    def identifier(self, c):
        t = c[0]
        if t.type == "NAME" and t.value in reserved_words():
            raise _reserved(t)
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
        return A.ObjectName(_span(c), tuple(_nodes(c)))

    def dotted_name(self, c):
        return A.DottedName(_span(c), tuple(x.value for x in c if x.type == "NAME"))

    def type(self, c):
        name = ".".join(x.value for x in c if x.type == "NAME")
        return A.Type(_span(c), name, "".join(x.value for x in c),
                      any(x.type == "QMARK" for x in c))

    # -- script and statements --

    def script(self, c):
        return A.Script(_span(c) if c else Span(0, 0, 1, 1, 1, 1), tuple(_nodes(c)))

    def statement_list(self, c):
        return tuple(_nodes(c))

    def use_database(self, c):
        n = _nodes(c)[0]
        if isinstance(n, A.Identifier):
            n = A.ObjectName(n.span, (n,))
        return A.UseDatabase(_span(c), replace(n, object_kind="database", action="use"))

    def create_database(self, c):
        n = _nodes(c)[-1]
        if isinstance(n, A.Identifier):
            n = A.ObjectName(n.span, (n,))
        n = replace(n, object_kind="database", action="create")
        kws = tuple(x.value for x in c if isinstance(x, Token) and x.type not in VALUE_TOKENS)
        return A.node_class("create_database")(_span(c), tuple(_nodes(c)[:-1]) + (n,), kws)

    def use_schema(self, c):
        return A.UseSchema(_span(c), _with_roles("use_schema", _nodes(c))[0])

    def declare(self, c):
        kws = _kw(c)
        var = token_node(_tok(c, "VARIABLE"))
        n = _nodes(c)
        typ = _first(n, A.Type)
        return A.Declare(_span(c), var, typ, n[-1], "EXTERNAL" in kws, "CONST" in kws)

    def set_option(self, c):
        var = _tok(c, "SYSVAR") or _tok(c, "VARIABLE")
        return A.SetOption(_span(c), token_node(var), _nodes(c)[-1])

    def else_if(self, c):
        cond = _nodes(c)[0]
        stmts = next(x for x in c if isinstance(x, tuple))
        return _ElseIf(_span(c), cond, stmts)

    def reference_assembly(self, c):
        return A.ReferenceAssembly(_span(c), _with_roles("reference_assembly", _nodes(c))[0], False)

    def reference_system_assembly(self, c):
        return A.ReferenceAssembly(_span(c), _with_roles("reference_system_assembly", _nodes(c))[0], True)

    def deploy_resource(self, c):
        return A.DeployResource(_span(c), tuple(_nodes(c)))

    def procedure_call(self, c):
        n = _with_roles("procedure_call", _nodes(c))
        return A.ProcedureCall(_span(c), n[0], _args(n[1:]))

    def declare_function(self, c):
        n = _nodes(c)
        tuples = [x for x in c if isinstance(x, tuple)]
        params = tuples[0] if len(tuples) == 2 else ()
        returns = _first(n, A.node_class("returns"))
        return A.DeclareFunction(_span(c), token_node(c[2]), params, tuples[-1], returns)

    def declare_assembly(self, c):
        n = _nodes(c)
        extra = _first(n, A.node_class("additional_files"))
        return A.DeclareAssembly(_span(c), token_node(c[2]), n[0], extra.items if extra else ())

    def reference_script_assembly(self, c):
        var = token_node(c[-1])
        return A.ReferenceAssembly(_span(c), A.ObjectName(var.span, (var,), "script_assembly", "reference"))

    def script_tvf_call(self, c):
        var = token_node(c[0])
        name = A.ObjectName(var.span, (var,), "script_tvf", "call")
        return A.TvfCall(_span(c), name, _args(_nodes(c)))

    def script_tvf_ref(self, c):
        var = token_node(c[0])
        name = A.ObjectName(var.span, (var,), "script_tvf", "call")
        n = _nodes(c)
        return A.TvfCall(_span(c), name, _args(n), _alias(n))

    def rename_table(self, c):
        n = _with_roles("rename_table", _nodes(c))
        names = [x for x in n if isinstance(x, A.ObjectName)]
        return A.RenameTable(_span(c), names[0], names[1],
                             _first(n, A.node_class("if_exists")) is not None,
                             _first(n, A.node_class("if_not_exists")) is not None)

    def rowset_assignment(self, c):
        targets = tuple(token_node(x) for x in c if isinstance(x, Token) and x.type == "VARIABLE")
        n = _nodes(c)
        opt = n[-1] if n[-1].kind == "OptionClause" else None
        return A.RowsetAssignment(_span(c), targets, n[0], opt)

    # -- queries --

    def extract(self, c):
        n = _nodes(c)
        using = n[-1] if n[-1].kind == "Using" else None
        i = next(k for k, x in enumerate(c) if isinstance(x, Token) and x.value == "FROM")
        cols = tuple(_nodes(c[:i]))
        rest = [x for x in _nodes(c[i:]) if x is not using]
        clauses = tuple(x for x in rest if x.kind in ("Required", "SortedBy"))
        sources = tuple(x for x in rest if x.kind not in ("Required", "SortedBy"))
        return A.Extract(_span(c), cols, sources, using, clauses)

    def virtual_column(self, c):
        n = _nodes(c)
        return A.VirtualColumn(_span(c), n[0], n[1])

    def table_type_columns(self, c):
        parts = tuple(_nodes(c))
        name = A.ObjectName(span_of(parts[0], parts[-1]), parts, "type", "reference")
        return A.TableTypeColumns(_span(c), name)

    def column_definitions(self, c):
        return tuple(_nodes(c))

    def column_definition(self, c):
        n = _nodes(c)
        return A.ColumnDefinition(_span(c), n[0], n[1])

    def tvf_call(self, c):
        n = _with_roles("tvf_call", _nodes(c))
        return A.TvfCall(_span(c), n[0], _args(n[1:]))

    def tvf_ref(self, c):
        n = _with_roles("tvf_ref", _nodes(c))
        return A.TvfCall(_span(c), n[0], _args(n[1:]), _alias(n[1:]))

    def table_ref(self, c):
        n = _with_roles("table_ref", _nodes(c))
        return A.TableRef(_span(c), n[0], _alias(n[1:]))

    def rowset_ref(self, c):
        return A.RowsetRef(_span(c), token_node(c[0]), _alias(_nodes(c)))

    def external_rowset(self, c):
        n = _with_roles("external_rowset", _nodes(c))
        mode = "EXECUTE" if "EXECUTE" in _kw(c) else "LOCATION"
        return A.ExternalRowset(_span(c), n[0], mode, n[1])

    _JOIN_HINTS = frozenset({"SERIAL", "PAIR", "BROADCASTLEFT", "BROADCASTRIGHT", "FULLCROSS",
                             "MERGE", "HASH", "LOOP", "INDEXLOOKUP"})

    def join_operator(self, c):
        """The grammar reads every [side] [OUTER] [hints] join word; this keeps the reference's."""
        words = tuple(t.value for t in c if t.value not in self._JOIN_HINTS)
        side = words[0] if words[0] in ("INNER", "LEFT", "RIGHT", "FULL", "CROSS") else None
        outer = "OUTER" in words
        kind = words[-1]
        ok = (kind == "JOIN" and not (outer and side in (None, "INNER", "CROSS"))) or \
             (kind in ("SEMIJOIN", "ANTISEMIJOIN") and side in (None, "LEFT", "RIGHT") and not outer)
        if not ok:
            raise _error_at(c[0], f"{' '.join(words)} is not a join U-SQL has: use [INNER] JOIN, "
                                  f"LEFT|RIGHT|FULL [OUTER] JOIN, CROSS JOIN, or [LEFT|RIGHT] SEMIJOIN/ANTISEMIJOIN")
        hints = tuple(t.value for t in c if t.value in self._JOIN_HINTS)
        return A.node_class("join_operator")(_span(c), (), words[:-1] + hints + (kind,))

    # -- OUTPUT and DML --

    def output(self, c):
        n = _nodes(c)
        using = n[-1] if n[-1].kind == "Using" else None
        order = _first(n, A.node_class("order_by"))
        exp = _first(n, A.node_class("expiration"))
        return A.Output(_span(c), n[0], n[1], using, order, exp.items[0] if exp else None)

    def insert(self, c):
        n = _with_roles("insert", _nodes(c))
        table = n[0]
        cols = next((x for x in c if isinstance(x, tuple)), ())
        part = _first(n, A.node_class("partition_label"))
        integ = _first(n, A.node_class("integrity_clause"))
        rest = [x for x in n[1:] if x is not part and x is not integ and x.kind != "OptionClause"]
        return A.Insert(_span(c), table, cols, part, integ, rest[-1] if rest else None)

    def ident_list(self, c):
        return tuple(_nodes(c))

    # -- DDL --

    def create_assembly(self, c):
        n = _content(_with_roles("create_assembly", _nodes(c)))
        extra = _first(n, A.node_class("additional_files"))
        return A.CreateAssembly(_span(c), n[0], n[1], extra.items if extra else (),
                                _guarded(c))

    def create_external_table(self, c):
        n = _with_roles("create_external_table", _nodes(c))
        names = [x for x in n if isinstance(x, A.ObjectName)]
        cols = next(x for x in c if isinstance(x, tuple))
        return A.CreateExternalTable(_span(c), names[0], cols, names[1], n[-1], _guarded(c))

    def _create_table(self, rule, c):
        n = _content(_with_roles(rule, _nodes(c)))
        schema = _first(n, A.node_class("table_schema"))
        spec = _first(n, A.node_class("partition_specification"))
        query = n[-1] if rule == "create_table_as" else None
        # The partition and distribution clauses, written after the schema or inside its INDEX.
        clauses = list(spec.items) if spec else []
        for e in (schema.items if schema else ()):
            if e.kind == "TableIndex":
                inner = _first(e.items, A.node_class("partition_specification"))
                clauses[:0] = inner.items if inner else ()
        return A.CreateTable(_span(c), n[0], schema.items if schema else (), tuple(clauses), query,
                             _guarded(c))

    def create_table(self, c):
        return self._create_table("create_table", c)

    def create_table_as(self, c):
        return self._create_table("create_table_as", c)

    def create_view(self, c):
        n = _content(_with_roles("create_view", _nodes(c)))
        return A.CreateView(_span(c), n[0], n[-1], _guarded(c))

    def _routine(self, cls, rule, c):
        n = _content(_with_roles(rule, _nodes(c)))
        tuples = [x for x in c if isinstance(x, tuple)]
        params = tuples[0] if len(tuples) == 2 else ()
        body = tuples[-1]
        returns = _first(n, A.node_class("returns"))
        return cls(_span(c), n[0], params, body, returns, _guarded(c))

    def create_function(self, c):
        return self._routine(A.CreateFunction, "create_function", c)

    def create_procedure(self, c):
        return self._routine(A.CreateProcedure, "create_procedure", c)

    def create_package(self, c):
        return self._routine(A.CreatePackage, "create_package", c)

    def parameters(self, c):
        return tuple(_nodes(c))

    def drop(self, c):
        kind = _DROP_KINDS[c[1].value]
        n = _nodes(c)
        names = [x for x in n if isinstance(x, A.ObjectName)]
        obj = replace(names[0], object_kind=kind, action="drop")
        on = replace(names[1], object_kind="table", action="alter") if len(names) > 1 else None
        return A.Drop(_span(c), obj, kind, on, _guarded(c))

    def partition_labels(self, c):
        return A.node_class("partition_labels")(_span(c), tuple(_nodes(c)), ())

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
        return A.Name(tok_span(t), token_node(t))

    def member_access(self, c):
        return A.MemberAccess(_span(c), c[0], c[2] if isinstance(c[2], A.Node) else token_node(c[2]),
                              c[1].value == "?.")

    def operation(self, c):
        if len(c) == 1:
            return c[0]
        return arrange(c)

    def is_null_test(self, c):
        return _Test("is_null", c)

    def in_test(self, c):
        return _Test("in_list", c)

    def type_test(self, c):
        return _Test("type_test", c)

    def type_as(self, c):
        return _Test("type_as", c)

    def conditional(self, c):
        n = _nodes(c)
        return A.Conditional(_span(c), n[0], n[1], n[2])

    def paren(self, c):
        return A.Paren(_span(c), c[1])

    def call(self, c):
        func = c[0]
        args = next((x for x in c[1:] if isinstance(x, A.Node) and x.kind == "Arguments"), None)
        over = _first(c[1:], A.node_class("over"))
        wg = _first(c[1:], A.node_class("within_group"))
        return A.Call(_span(c), func, args.items if args else (),
                      bool(args and "DISTINCT" in args.keywords), over, wg)

    def case(self, c):
        n = _nodes(c)
        whens = [x for x in n if x.kind == "When"]
        operand = n[0] if n[0].kind != "When" else None
        otherwise = n[-1] if n[-1].kind != "When" else None
        return A.Case(_span(c), operand, tuple((w.items[0], w.items[1]) for w in whens), otherwise)

    def index(self, c):
        return A.Index(_span(c), c[0], tuple(_nodes(c[1:])))

    def named_argument(self, c):
        return A.NamedArgument(_span(c), c[0].value, _nodes(c)[-1])

    def new(self, c):
        n = _nodes(c)
        typ = _first(n, A.Type)
        args = _first(n, A.node_class("arguments"))
        init = _first(n, A.node_class("initializer"))
        return A.New(_span(c), typ, args.items if args else (), init)

    def lambda_(self, c):
        p = c[0].value
        if p.startswith("("):  # (a, b) or typed: (string a, int b): the name is each last word
            params = tuple(w.split()[-1] for w in p[1:-1].replace("?", " ").split(",") if w.strip())
        else:
            params = (p,)
        body = c[-1]
        if isinstance(body, Token):
            body = A.CSharpBlock(tok_span(body), body.value)
        return A.Lambda(_span(c), params, body)


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
    __slots__ = ("rule", "c")

    def __init__(self, rule, c):
        self.rule, self.c = rule, c


class _Op:
    __slots__ = ("prec", "right", "tok", "kws", "prefix", "awaiting_and")

    def __init__(self, prec, right, tok, kws, prefix=False):
        self.prec, self.right, self.tok, self.kws, self.prefix = prec, right, tok, kws, prefix
        self.awaiting_and = bool(kws) and kws[-1] == "BETWEEN"


#: Reserved whatever their length (U-SQL reference, "Identifiers").
_SHORT_RESERVED = frozenset({"AS", "BY", "DO", "IF", "IN", "IS", "ON", "OR", "TO"})
_reserved_cache: list = []


def reserved_words() -> frozenset:
    """U-SQL's reserved words: every all-letter upper-case keyword longer than two letters, and
    AS, BY, DO, IF, IN, IS, ON, OR, TO. As names they must be quoted: [FROM]. The contextual lexer
    would otherwise read a keyword as a name wherever the keyword itself cannot stand."""
    if not _reserved_cache:
        from .parser import _keywords
        _reserved_cache.append(frozenset(k for k in _keywords() if len(k) > 2) | _SHORT_RESERVED)
    return _reserved_cache[0]


def _reserved(tok):
    e = _error_at(tok, f"{tok.value} is a reserved keyword here; to use it as a name, quote it: [{tok.value}]")
    e.reserved_token = tok
    return e


def _error_at(tok, message):
    from .parser import USqlSyntaxError
    return USqlSyntaxError(message, tok.line, tok.column, offset=tok.start_pos)


def _apply(op: _Op, out: list) -> None:
    tok = op.tok
    if op.prefix:
        x = out.pop()
        sp = span_of(tok, x)
        if tok.type == "CAST":
            out.append(A.Cast(sp, tok.value[1:-1].strip(), x))
        else:
            out.append(A.UnaryOp(sp, tok.value, x))
        return
    if op.awaiting_and:
        raise _error_at(tok, "BETWEEN needs AND: x BETWEEN low AND high")
    right = out.pop()
    left = out.pop()
    kind = op.kws[-1]
    if kind == "BETWEEN":
        low = out.pop()
        left, low = low, left
        out.append(A.node_class("between")(span_of(left, right), (left, low, right), op.kws))
    elif kind == "LIKE":
        if isinstance(right, A.BinaryOp) and right.op == "ESCAPE":
            items, kws = (left, right.left, right.right), op.kws + ("ESCAPE",)
        else:
            items, kws = (left, right), op.kws
        out.append(A.node_class("like")(span_of(left, right), items, kws))
    else:
        out.append(A.BinaryOp(span_of(left, right), tok.value, left, right))


def _apply_test(t: _Test, out: list) -> None:
    x = out.pop()
    c = t.c
    items = [x]
    for y in c:
        if isinstance(y, A.Node):
            items.append(y)
    kws = tuple(y.value for y in c if isinstance(y, Token) and y.value.isupper() and y.type not in VALUE_TOKENS)
    out.append(A.node_class(t.rule)(span_of(x, c[-1]), tuple(items), kws))


def arrange(c: list) -> A.Node:
    """The tree of a flat operation list: operands, operator tokens and postfix tests."""
    out: list = []
    ops: list = []
    expect_operand = True
    pending_not = None
    for x in c:
        if expect_operand:
            if isinstance(x, Token):
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
            _apply(ops.pop(), out)
        if pending_not is not None:
            ops.append(_Op(prec, right, pending_not, ("NOT", v)))
            pending_not = None
        else:
            ops.append(_Op(prec, right, x, (v,)))
        expect_operand = True
    while ops:
        _apply(ops.pop(), out)
    return out[0]


def _args(n) -> tuple:
    for x in n:
        if x.kind == "Arguments":
            return x.items
    return ()


@A._nd
class _ElseIf(A.Node):
    condition: A.Node
    statements: tuple


def _if(self, c):
    """IF ... THEN ... [ELSEIF ... THEN ...]* [ELSE ...] END."""
    branches, otherwise = [], ()
    n = [x for x in c if isinstance(x, (A.Node, tuple))]
    branches.append((n[0], n[1]))
    for x in n[2:]:
        if isinstance(x, _ElseIf):
            branches.append((x.condition, x.statements))
        elif isinstance(x, tuple):
            otherwise = x
        else:  # the ELSE clause node
            otherwise = x
    return A.If(_span(c), tuple(branches), otherwise)


def _raise(self, c):
    return A.Raise(_span(c), c[1].value, _nodes(c)[-1])


def _return(self, c):
    return A.Return(_span(c))


def _else(self, c):
    return next((x for x in c if isinstance(x, tuple)), ())


# Aliases that are Python keywords cannot be method names; Lark looks callbacks up with getattr.
for _alias_name, _callback in {"if": _if, "else": _else, "lambda": Builder.lambda_,
                               "raise": _raise, "return": _return}.items():
    setattr(Builder, _alias_name, _callback)
del _alias_name, _callback
