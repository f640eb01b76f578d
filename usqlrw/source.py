"""Bytes in and out: encoding, BOM and newline style; spans; edits and how they are applied.

Everything usqlrw reads goes through :func:`decode` and everything it writes through
:meth:`Source.encode`, so a file comes back in the encoding, BOM and line endings it arrived with.
Offsets are character offsets into :attr:`Source.text` (the text after the BOM).
"""
from __future__ import annotations

import codecs
from dataclasses import dataclass

__all__ = ["Source", "Span", "Edit", "EditConflict", "DecodeError", "decode", "apply_edits",
           "line_col", "MAX_SIZE"]

#: Larger inputs are refused with a clear error rather than parsed for minutes.
MAX_SIZE = 64 * 1024 * 1024

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


class DecodeError(ValueError):
    """The bytes are not text usqlrw can read. Carries a 1-based line and column."""

    def __init__(self, message: str, line: int = 1, column: int = 1):
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


@dataclass(frozen=True)
class Source:
    """A decoded script and what is needed to write it back byte for byte."""

    text: str
    encoding: str = "utf-8"
    bom: bytes = b""
    newline: str = "\n"   # the dominant line ending, used for inserted lines

    def encode(self, text: str | None = None) -> bytes:
        return self.bom + (self.text if text is None else text).encode(self.encoding)


def _newline_style(text: str) -> str:
    crlf = text.count("\r\n")
    lf = text.count("\n") - crlf
    cr = text.count("\r") - crlf
    if crlf >= lf and crlf >= cr and crlf:
        return "\r\n"
    if cr > lf:
        return "\r"
    return "\n"


def decode(data: bytes | str) -> Source:
    """Decode script bytes: UTF-8 with or without BOM, UTF-16/32 with BOM. ``str`` passes through."""
    if isinstance(data, str):
        text, enc, bom = data, "utf-8", b""
        if text.startswith("\ufeff"):
            text, bom = text[1:], codecs.BOM_UTF8
        return Source(text, enc, bom, _newline_style(text))
    if len(data) > MAX_SIZE:
        raise DecodeError(f"file is too large ({len(data)} bytes; the limit is {MAX_SIZE})")
    bom, enc = b"", "utf-8"
    for mark, name in _BOMS:
        if data.startswith(mark):
            bom, enc = mark, name
            break
    body = data[len(bom):]
    try:
        text = body.decode(enc)
    except UnicodeDecodeError as e:
        line, col = line_col(body[: e.start].decode(enc, "replace"), e.start)
        kind = "binary data" if b"\0" in body[:8192] else f"not valid {enc.upper()} text"
        raise DecodeError(f"{kind}: cannot decode byte 0x{body[e.start]:02x}", line, col) from None
    if "\0" in text:
        off = text.index("\0")
        line, col = line_col(text, off)
        raise DecodeError("binary data: NUL character in a script", line, col)
    return Source(text, enc, bom, _newline_style(text))


def line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of a character offset; CRLF and CR count as one line break."""
    offset = max(0, min(offset, len(text)))
    head = text[:offset]
    line = head.count("\n") + 1 + head.count("\r") - head.count("\r\n")
    start = max(head.rfind("\n"), head.rfind("\r")) + 1
    return line, offset - start + 1


@dataclass(frozen=True, slots=True)
class Span:
    """Where a node or token is: [start, end) character offsets and 1-based line/column of both ends."""

    start: int
    end: int
    line: int
    column: int
    end_line: int
    end_column: int

    def text(self, source: str) -> str:
        return source[self.start:self.end]

    def to_dict(self) -> dict:
        return {"start": self.start, "end": self.end, "line": self.line, "column": self.column,
                "end_line": self.end_line, "end_column": self.end_column}


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace ``text[start:end]`` with ``replacement``; ``reason`` says why (shown in summaries)."""

    start: int
    end: int
    replacement: str
    reason: str = ""
    safe: bool = True

    @classmethod
    def replace(cls, span: Span, replacement: str, reason: str = "", safe: bool = True) -> "Edit":
        return cls(span.start, span.end, replacement, reason, safe)


class EditConflict(ValueError):
    """Two edits overlap, or touch the same place with different text."""


def apply_edits(text: str, edits) -> str:
    """Apply non-overlapping edits to ``text``; every byte outside them stays as it is.

    Identical duplicate edits are applied once; overlapping or conflicting ones raise EditConflict.
    """
    seen, unique = set(), []
    for e in sorted(edits, key=lambda e: (e.start, e.end)):
        if (e.start, e.end, e.replacement) not in seen:
            seen.add((e.start, e.end, e.replacement))
            unique.append(e)
    out, pos, prev = [], 0, None
    for e in unique:
        if not (0 <= e.start <= e.end <= len(text)):
            raise EditConflict(f"edit {e.start}:{e.end} is outside the text ({len(text)} characters)")
        if prev is not None and (e.start < prev.end or (e.start == prev.start == prev.end == e.end)):
            raise EditConflict(
                f"edits overlap at {e.start}: {prev.reason or prev.replacement!r} and {e.reason or e.replacement!r}")
        out.append(text[pos:e.start])
        out.append(e.replacement)
        pos, prev = e.end, e
    out.append(text[pos:])
    return "".join(out)
