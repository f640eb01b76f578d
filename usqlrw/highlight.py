"""A Pygments lexer for U-SQL, registered as a Pygments plugin (entry point ``usql``).

    $ pygmentize -l usql script.usql

Keywords (U-SQL keywords are upper case only: ``FROM`` is a keyword, ``from`` a name), built-in
types, C# keywords and literals, regular and verbatim strings, character literals, comments,
variables (``@x``) and system variables (``@@x``), [quoted identifiers], numbers, operators.
The lexer never fails: anything it does not know becomes an ``Error`` token of one character, so
the token values always add up to the input (use ``get_tokens_unprocessed`` to keep ``\\r\\n``,
which Pygments' ``get_tokens`` normalises).
"""
from __future__ import annotations

import re

from .keywords import csharp_keywords, grammar_keywords
from pygments.lexer import RegexLexer, bygroups, words
from pygments.token import (Comment, Keyword, Name, Number, Operator, Punctuation, String,
                            Whitespace)

__all__ = ["USqlLexer", "ansi", "ansi_diff", "strip_ansi"]

#: U-SQL's keywords, from the grammar (usqlrw/keywords.py), so the highlighter never drifts from it.
USQL_KEYWORDS = tuple(sorted(grammar_keywords() - {"TRUE", "FALSE", "NULL"}))
#: C# keywords: those of the grammar and the others a C# expression may hold.
CSHARP_KEYWORDS = tuple(sorted(csharp_keywords() - {"true", "false", "null"} | {
    "as", "ascending", "base", "by", "checked", "default", "delegate", "descending", "else", "from",
    "group", "if", "in", "into", "is", "join", "let", "new", "on", "orderby", "out", "ref", "return",
    "select", "this", "typeof", "unchecked", "var", "where",
}))
TYPES = (
    "bool", "byte", "sbyte", "char", "decimal", "double", "float", "int", "uint", "long", "ulong",
    "short", "ushort", "string", "object", "DateTime", "Guid", "SqlArray", "SqlMap", "MAP", "ARRAY",
    "Boolean", "Byte", "Char", "Decimal", "Double", "Single", "Int16", "Int32", "Int64", "String",
)
CONSTANTS = ("true", "false", "null", "TRUE", "FALSE", "NULL")

_ID = r"(?!\d)\w+"


class USqlLexer(RegexLexer):
    """U-SQL, the language of Azure Data Lake Analytics: SQL statements with C# expressions."""

    name = "U-SQL"
    aliases = ["usql", "u-sql"]
    filenames = ["*.usql"]
    mimetypes = ["text/x-usql"]
    url = "https://learn.microsoft.com/u-sql/"
    flags = re.MULTILINE | re.UNICODE

    tokens = {
        "root": [
            (r"[\s\ufeff\u00a0]+", Whitespace),
            (r"//.*?$", Comment.Single),
            (r"/\*[\s\S]*?\*/", Comment.Multiline),
            (r'@"(?:[^"]|"")*"', String.Double),          # verbatim string
            (r'"', String.Double, "string"),
            (r"'(?:[^'\\\n]|\\.)+'", String.Char),
            (r"@@" + _ID, Name.Variable.Global),
            (r"@" + _ID, Name.Variable),
            (r"\[(?![\s\d])(?:[^\]\n\"'@]|\]\])*\]", Name.Other),   # [quoted identifier]
            (r"0[xX][0-9a-fA-F]+[uUlL]*", Number.Hex),
            (r"(?:\d+\.\d+|\.\d+)(?:[eE][+-]?\d+)?[fFdDmM]?|\d+[eE][+-]?\d+[fFdDmM]?|\d+[fFdDmM]", Number.Float),
            (r"\d+[uUlL]*", Number.Integer),
            (words(CONSTANTS, suffix=r"\b"), Keyword.Constant),
            (r"(SQL)(\s*)(\.)(\s*)(MAP|ARRAY)\b", bygroups(Keyword.Type, Whitespace, Punctuation, Whitespace,
                                                          Keyword.Type)),
            (words(TYPES, suffix=r"\b"), Keyword.Type),
            (words(USQL_KEYWORDS, suffix=r"\b"), Keyword),
            (words(CSHARP_KEYWORDS, suffix=r"\b"), Keyword),
            (_ID + r"(?=\s*\()", Name.Function),
            (_ID, Name),
            (r"=>|\?\?|\?\.|==|!=|<>|<=|>=|&&|\|\||<<|>>|[-+*/%<>!~&|^?:=]", Operator),
            (r"[(),;.{}\[\]]", Punctuation),
        ],
        "string": [
            (r'[^"\\\n]+', String.Double),
            (r"\\(?:u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|x[0-9a-fA-F]{1,4}|.)", String.Escape),
            (r'"', String.Double, "#pop"),
            (r"\n", Whitespace, "#pop"),   # unterminated: do not swallow the rest of the script
        ],
    }

    @staticmethod
    def analyse_text(text):
        score = 0.0
        if re.search(r"\bUSING\s+(?:Extractors|Outputters)\.", text):
            score += 0.5
        if re.search(r"^\s*@\w+\s*=\s*(?:SELECT|EXTRACT)\b", text, re.M):
            score += 0.3
        if re.search(r"\bOUTPUT\s+@\w+\s+TO\b", text):
            score += 0.2
        return min(score, 1.0)


# -- terminal helpers: error snippets and diffs ------------------------------------------------

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def ansi(text: str) -> str:
    """U-SQL text with ANSI colours; removing the escapes gives ``text`` back exactly."""
    from pygments.formatters import TerminalFormatter
    fmt = TerminalFormatter()
    out = []
    for _, ttype, value in USqlLexer().get_tokens_unprocessed(text):
        out.append(_colour(fmt, ttype, value))
    return "".join(out)


def _colour(fmt, ttype, value: str) -> str:
    while ttype not in fmt.colorscheme and ttype.parent is not None:
        ttype = ttype.parent
    spec = fmt.colorscheme.get(ttype)
    code = spec[fmt.darkbg] if spec else ""
    if not code or not value.strip():
        return value
    from pygments.console import ansiformat
    # colour each line on its own, so a multi-line comment does not colour the line prefixes
    return "\n".join(ansiformat(code, part) if part else part for part in value.split("\n"))


def ansi_diff(diff: str) -> str:
    """A unified diff of U-SQL scripts in colour: headers bold, removed lines red, added lines green,
    the code itself highlighted. Removing the escapes gives ``diff`` back exactly."""
    out = []
    for line in diff.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        end = line[len(body):]
        if body.startswith(("---", "+++")):
            out.append(f"\x1b[1m{body}\x1b[0m{end}")
        elif body.startswith("@@"):
            out.append(f"\x1b[36m{body}\x1b[0m{end}")
        elif body[:1] in ("-", "+"):
            mark = "\x1b[31m-\x1b[0m" if body[0] == "-" else "\x1b[32m+\x1b[0m"
            out.append(mark + ansi(body[1:]) + end)
        else:
            out.append(ansi(body) + end)
    return "".join(out)
