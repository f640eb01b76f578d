"""Editing part of a C# string literal while keeping its quoting and escapes."""
from __future__ import annotations

import re

from .. import ast as A
from ..source import Edit

_ESC = re.compile(r"\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|x[0-9a-fA-F]{1,4}|.)", re.S)


def value_offsets(raw: str, verbatim: bool) -> list[int]:
    """For each character of the literal's value, the offset in ``raw`` where it is spelled;
    one more entry gives the offset of the closing quote."""
    out = []
    if verbatim:
        i = 2
        while i < len(raw) - 1:
            out.append(i)
            i += 2 if raw[i] == '"' else 1
    else:
        i = 1
        while i < len(raw) - 1:
            out.append(i)
            if raw[i] == "\\":
                m = _ESC.match(raw, i)
                i = m.end() if m else i + 2
            else:
                i += 1
    out.append(len(raw) - 1)
    return out


def quote_part(value: str, verbatim: bool) -> str:
    """``value`` spelled inside a literal of the given style."""
    if verbatim:
        return value.replace('"', '""')
    return (value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
            .replace("\r", "\\r").replace("\t", "\\t"))


def literal_edit(source: str, lit: A.StringLiteral, start: int, end: int, replacement: str,
                 reason: str) -> Edit:
    """An edit replacing ``lit.value[start:end]`` with ``replacement``, spelled in the literal's style."""
    raw = source[lit.span.start:lit.span.end]
    offs = value_offsets(raw, lit.verbatim)
    return Edit(lit.span.start + offs[start], lit.span.start + offs[end],
                quote_part(replacement, lit.verbatim), reason)
