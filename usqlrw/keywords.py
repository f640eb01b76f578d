"""U-SQL's keywords, read from the grammar itself so the highlighter, the reserved-word check and
error messages never drift from what the parser accepts. Reading the grammar text is cheap and
needs no Lark, so the Pygments plugin can use it at import time."""
from __future__ import annotations

import functools
import re
from pathlib import Path

__all__ = ["grammar_path", "grammar_keywords", "csharp_keywords", "reserved_words", "CSHARP_RESERVED",
           "quote_ident"]


def grammar_path() -> Path:
    """The grammar file: inside the installed package, or at the top of a source checkout."""
    here = Path(__file__).resolve().parent
    for p in (here / "grammar" / "usql.lark", here.parent / "grammar" / "usql.lark"):
        if p.is_file():
            return p
    raise FileNotFoundError("usql.lark not found next to the usqlrw package")


_STRING = re.compile(r'"([A-Za-z][A-Za-z_]*)"')
_TERMINAL = re.compile(r"^([A-Z][A-Z_]*)(?:\.\d+)?\s*:\s*/(.*)/\s*$", re.M)
# What may surround the words of a terminal that is nothing but keywords: /OUTER\s+UNION\b/
_KEYWORD_REGEX_NOISE = re.compile(r"\\s\+|\\s\*|\\s|\\b|[|()]|\?:")


def _grammar_text() -> str:
    return grammar_path().read_text(encoding="utf-8")


@functools.lru_cache(maxsize=None)
def grammar_keywords(terminals: bool = True) -> frozenset:
    """Every upper-case keyword of the grammar: quoted words (``"SELECT"``) and, with
    ``terminals``, the words of terminals made only of keywords (``OUTER_UNION: /OUTER\\s+UNION\\b/``)."""
    text = _grammar_text()
    body = "\n".join(l.split("//", 1)[0] if not l.lstrip().startswith("//") else "" for l in text.splitlines())
    out = {w for w in _STRING.findall(body) if w.isupper()}
    for m in (_TERMINAL.finditer(body) if terminals else ()):
        rest = _KEYWORD_REGEX_NOISE.sub(" ", m.group(2))
        words = rest.split()
        if words and all(re.fullmatch(r"[A-Z][A-Z_]+", w) for w in words):
            out.update(words)
    return frozenset(out)


@functools.lru_cache(maxsize=None)
def csharp_keywords() -> frozenset:
    """The lower-case (C#) keywords of the grammar: ``new``, ``typeof``, ``from`` ... ``select``."""
    body = "\n".join(l.split("//", 1)[0] for l in _grammar_text().splitlines())
    return frozenset(w for w in _STRING.findall(body) if w.islower())


#: C# 5.0's reserved keywords: U-SQL reserves them too (u-sql-identifiers.md, "reserved keywords":
#: "Any C# version 5.0 reserved keyword"); as names they must be quoted: [class].
CSHARP_RESERVED = frozenset("""abstract as base bool break byte case catch char checked class const
    continue decimal default delegate do double else enum event explicit extern false finally fixed
    float for foreach goto if implicit in int interface internal is lock long namespace new null
    object operator out override params private protected public readonly ref return sbyte sealed
    short sizeof stackalloc static string struct switch this throw true try typeof uint ulong
    unchecked unsafe ushort using virtual void volatile while""".split())

#: Reserved whatever their length (U-SQL reference, "Identifiers").
SHORT_RESERVED = frozenset({"AS", "BY", "DO", "IF", "IN", "IS", "ON", "OR", "TO"})


@functools.lru_cache(maxsize=None)
def reserved_words() -> frozenset:
    """U-SQL's reserved words: every all-letter upper-case keyword longer than two letters, and
    AS, BY, DO, IF, IN, IS, ON, OR, TO. As names they must be quoted: [FROM]."""
    words = (k for k in grammar_keywords(terminals=False) if k.isalpha() and len(k) > 2)
    return frozenset(words) | SHORT_RESERVED


_PLAIN = re.compile(r"(?!\d)\w+\Z")


def quote_ident(name: str, quoted: bool = False) -> str:
    """``name`` spelled as a U-SQL identifier: bare when it can be (and was not quoted), else
    ``[...]``: a name that is not a plain word, a U-SQL keyword or a C# reserved word."""
    if not quoted and _PLAIN.match(name) and name not in reserved_words() and name not in CSHARP_RESERVED:
        return name
    return "[" + name.replace("]", "]]") + "]"

