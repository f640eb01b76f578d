"""What the engine cannot run, found before a job starts: user code (assemblies, custom
extractors, outputters, processors, reducers, combiners, appliers), Python/R/Cognitive
extensions, C# members outside the subset. Each blocker names the construct and its place."""
from __future__ import annotations

from .. import ast as A
from .csharp import KNOWN_MEMBERS, KNOWN_STATICS, static_target
from .errors import CannotRun

__all__ = ["blockers"]

_STATEMENTS = {"UseDatabase", "UseSchema", "Declare", "SetOption", "UsingDirective", "ReferenceAssembly", "If",
               "RowsetAssignment", "Output", "CreateDatabase", "CreateSchema", "CreateTable", "Insert",
               "TruncateTable", "Drop", "CreateView", "AlterTableAddColumn", "AlterTableDropColumn",
               "AlterTableAddPartition", "AlterTableDropPartition", "CreateFunction", "CreateProcedure",
               "CreateType", "DeclareFunction", "ProcedureCall", "Return"}
_QUERIES = {A.Process: "PROCESS (a user-defined processor)", A.Reduce: "REDUCE (a user-defined reducer)",
            A.Combine: "COMBINE (a user-defined combiner)", A.Applier: "an applier (user code) in APPLY",
            A.Sample: "SAMPLE", A.SampleComplex: "SAMPLE", A.Pivoted: "PIVOT", A.Unpivoted: "UNPIVOT",
            A.ExternalRef: "EXTERNAL data sources",
            A.LinqQuery: "C# query expressions (LINQ)", A.CSharpBlock: "C# statement lambdas",
            A.TableTypeColumns: "EXTRACT of a table type's columns"}
_EXTENSIONS = ("ExtPython", "ExtR", "Cognition", "ImageCommon", "ImageOcr", "ImageTagging", "FaceSdk",
               "TextCommon", "TextSentiment", "TextKeyPhrase")


def blockers(script: A.Script) -> list:
    out: list = []

    def stmt_ok(s):
        name = type(s).__name__
        if name not in _STATEMENTS:
            out.append(CannotRun(f"the statement {_label(s)} is not supported by the engine", s))
        if isinstance(s, A.Declare) and s.type is not None:
            from .types import from_ast
            try:
                from_ast(s.type)
            except CannotRun as e:
                out.append(e)
        if isinstance(s, A.ReferenceAssembly):
            n = s.assembly.written if s.assembly else "?"
            ext = any(x in n for x in _EXTENSIONS)
            if not s.system:
                out.append(CannotRun(f"REFERENCE ASSEMBLY {n}: " + ("a Python/R/Cognitive extension" if ext else
                                     "user code") + " is not supported by the engine", s))
        if isinstance(s, (A.CreateFunction, A.CreateProcedure, A.DeclareFunction)):
            for x in s.body:
                stmt_ok(x)
        if isinstance(s, A.If):
            for b in s.branches:
                for x in b.statements:
                    stmt_ok(x)
            if s.otherwise is not None:
                for x in s.otherwise.statements:
                    stmt_ok(x)

    for s in script.statements:
        stmt_ok(s)

    aliases = {a.name.name for a in A.find_all(script, A.Alias) if a.name is not None}
    aliases |= {p.name for lam in A.find_all(script, A.Lambda) for p in lam.params}

    def prune(n):
        return isinstance(n, (A.Using, A.SetOption, A.CreatePackage)) or (
            isinstance(n, A.MemberAccess) and _dotted(n) is not None)

    for n in A.walk(script, prune=prune):
        for cls, what in _QUERIES.items():
            if isinstance(n, cls):
                out.append(CannotRun(f"{what} is not supported by the engine", n))
        if isinstance(n, A.Using):
            _using(n, out)
        elif isinstance(n, A.MemberAccess) and isinstance(n.member, A.Identifier):
            _member(n, out, aliases)
        elif isinstance(n, A.Variable) and n.system:
            out.append(CannotRun(f"the system variable {n.name} is not supported by the engine", n))
        elif isinstance(n, A.Call) and isinstance(n.func, A.MemberAccess) and _dotted(n.func) is not None \
                and _dotted(n.func).startswith("FILE.") and _dotted(n.func).split(".")[1].upper() not in (
                    "URI", "EXISTS", "LENGTH", "CREATED", "MODIFIED"):
            out.append(CannotRun(f"{_dotted(n.func)}() is not supported by the engine", n))
        elif isinstance(n, A.Call) and isinstance(n.func, (A.Name, A.GenericName)):
            from .lower import AGGREGATES
            fname = n.func.ident.name
            if fname not in AGGREGATES:
                out.append(CannotRun(f"the function {fname} is not a built-in the engine knows "
                                     "(user code is not supported)", n))
    out.sort(key=lambda e: (e.line, e.column))
    return out


def _label(s) -> str:
    words = {"CreateFunction": "CREATE FUNCTION", "CreateProcedure": "CREATE PROCEDURE",
             "ProcedureCall": "a procedure call", "CreateAssembly": "CREATE ASSEMBLY",
             "DeclareFunction": "DECLARE FUNCTION", "CreateType": "CREATE TYPE"}
    return words.get(type(s).__name__, type(s).__name__)


def _using(u: A.Using, out):
    e = u.expr
    f = e.func if isinstance(e, A.Call) else e
    if isinstance(f, A.MemberAccess) and isinstance(f.target, A.Name) and f.target.ident.name in (
            "Extractors", "Outputters") and isinstance(f.member, A.Identifier) and f.member.name in ("Csv", "Tsv", "Text"):
        return
    text = _text(f)
    ext = any(x in text for x in _EXTENSIONS)
    out.append(CannotRun(f"USING {text}: " + ("a Python/R/Cognitive extension" if ext else
                         "a user-defined operator (user code)") + " is not supported by the engine", u))


def _text(e) -> str:
    if isinstance(e, A.Name):
        return e.ident.name
    if isinstance(e, A.MemberAccess) and isinstance(e.member, A.Identifier):
        return _text(e.target) + "." + e.member.name
    if isinstance(e, A.New):
        return "new " + (e.type.text if e.type else "")
    return e.kind


_ENCODING_NAMES = {"UTF8", "Unicode", "BigEndianUnicode", "UTF32", "ASCII", "UTF7"}
_ALLOWED_PREFIXES = ("Extractors.", "Outputters.", "StringSplitOptions.",
                     "System.StringSplitOptions.", "MidpointRounding.", "System.MidpointRounding.",
                     "StringComparison.", "System.StringComparison.", "CultureInfo.",
                     "System.Globalization.CultureInfo.")


def _dotted(n) -> str | None:
    """``a.b.c`` when the member access is a dotted name (Names and Identifiers only), else None."""
    parts = []
    while isinstance(n, A.MemberAccess) and isinstance(n.member, A.Identifier):
        parts.append(n.member.name)
        n = n.target
    if isinstance(n, A.Name):
        parts.append(n.ident.name)
        return ".".join(reversed(parts))
    return None


def _member(n: A.MemberAccess, out, aliases=frozenset()):
    name = n.member.name
    dotted = _dotted(n)
    if isinstance(n.target, A.Variable):
        if n.target.system:
            out.append(CannotRun(f"the system variable {n.target.name} is not supported by the engine", n.target))
        return                                  # @rowset.column
    if dotted is not None:
        if dotted.startswith(("System.Text.Encoding.", "Encoding.")):
            if name not in _ENCODING_NAMES and not (name in ("GetBytes", "GetString")
                                                    and dotted.rsplit(".", 2)[-2] in _ENCODING_NAMES):
                out.append(CannotRun(f"the encoding {dotted} is not supported by the engine", n))
            return
        if dotted.startswith(_ALLOWED_PREFIXES) or dotted.startswith("FILE."):
            return
        head = dotted.rsplit(".", 1)[0]
        cls = static_target(n.target)
        if cls is not None:
            if name not in KNOWN_STATICS.get(cls, ()):
                out.append(CannotRun(f"the C# member {cls}.{name} is not supported by the engine", n))
            return
        if head in aliases or dotted.split(".")[0] in aliases:
            return              # alias.column[.Member...] or lambda_parameter.Member: decided when lowering
        from .csharp import _CLASSES
        if dotted.split(".")[0] not in _CLASSES and all(
                p in KNOWN_MEMBERS for p in dotted.split(".")[1:]):
            return              # column.Member.Member (c.Ticks.ToString): decided when lowering
        if "." not in head:
            # alias.column, column.Member, or Class.Member of an unknown class: decided when lowering,
            # except members that are not in the subset at all
            if name not in KNOWN_MEMBERS and head[:1].isupper() and not head.isupper():
                out.append(CannotRun(f"the C# member {dotted} is not supported by the engine "
                                     "(user code or a .NET class outside the subset)", n))
            return
        out.append(CannotRun(f"the C# member {dotted} is not supported by the engine "
                             "(user code or a .NET class outside the subset)", n))
        return
    if name not in KNOWN_MEMBERS:
        out.append(CannotRun(f"the C# member .{name} is not supported by the engine", n))
