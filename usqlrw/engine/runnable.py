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
               "AlterTableAddPartition", "AlterTableDropPartition"}
_QUERIES = {A.Process: "PROCESS (a user-defined processor)", A.Reduce: "REDUCE (a user-defined reducer)",
            A.Combine: "COMBINE (a user-defined combiner)", A.Applier: "an applier (user code) in APPLY",
            A.Sample: "SAMPLE", A.SampleComplex: "SAMPLE", A.Pivoted: "PIVOT", A.Unpivoted: "UNPIVOT",
            A.ExternalRef: "EXTERNAL data sources", A.TvfCall: "table-valued functions",
            A.LinqQuery: "C# query expressions (LINQ)", A.Lambda: "C# lambdas"}
_EXTENSIONS = ("ExtPython", "ExtR", "Cognition", "ImageCommon", "ImageOcr", "ImageTagging", "FaceSdk",
               "TextCommon", "TextSentiment", "TextKeyPhrase")


def blockers(script: A.Script) -> list:
    out: list = []

    def stmt_ok(s):
        name = type(s).__name__
        if name not in _STATEMENTS:
            out.append(CannotRun(f"the statement {_label(s)} is not supported by the engine", s))
        if isinstance(s, A.ReferenceAssembly):
            n = s.assembly.written if s.assembly else "?"
            ext = any(x in n for x in _EXTENSIONS)
            if not s.system:
                out.append(CannotRun(f"REFERENCE ASSEMBLY {n}: " + ("a Python/R/Cognitive extension" if ext else
                                     "user code") + " is not supported by the engine", s))
        if isinstance(s, A.If):
            for b in s.branches:
                for x in b.statements:
                    stmt_ok(x)
            if s.otherwise is not None:
                for x in s.otherwise.statements:
                    stmt_ok(x)

    for s in script.statements:
        stmt_ok(s)
    for n in A.walk(script, prune=lambda n: isinstance(n, (A.Routine, A.DeclareFunction))):
        for cls, what in _QUERIES.items():
            if isinstance(n, cls):
                out.append(CannotRun(f"{what} is not supported by the engine", n))
        if isinstance(n, A.Using):
            _using(n, out)
        elif isinstance(n, A.MemberAccess) and isinstance(n.member, A.Identifier):
            _member(n, out)
        elif isinstance(n, A.Call) and isinstance(n.func, A.Name):
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


def _member(n: A.MemberAccess, out):
    cls = static_target(n.target)
    name = n.member.name
    if cls is not None:
        if name not in KNOWN_STATICS.get(cls, ()):
            out.append(CannotRun(f"the C# member {cls}.{name} is not supported by the engine", n))
        return
    if isinstance(n.target, A.Name) and n.target.ident.name in ("Extractors", "Outputters", "Encoding"):
        return
    if isinstance(n.target, A.MemberAccess):
        inner = _text(n.target)
        if inner.startswith(("System.Text.Encoding", "Encoding", "StringSplitOptions")):
            return
    if isinstance(n.target, A.Name) and n.target.ident.name[:1].isupper() and name not in KNOWN_MEMBERS:
        # Class.Member of a class the engine does not know, or alias.Column: decided when lowering
        return
    if name not in KNOWN_MEMBERS and not isinstance(n.target, A.Name):
        out.append(CannotRun(f"the C# member .{name} is not supported by the engine", n))
