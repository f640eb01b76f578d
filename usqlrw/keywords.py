"""U-SQL's keywords, read from the grammar itself so the highlighter, the reserved-word check and
error messages never drift from what the parser accepts. Reading the grammar text is cheap and
needs no Lark, so the Pygments plugin can use it at import time."""
from __future__ import annotations

import functools
import re
from pathlib import Path

__all__ = ["grammar_path", "grammar_keywords", "csharp_keywords"]


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
