"""U-SQL text to typed AST: Lark LALR(1) with the contextual lexer, built once per process.

The parse tables are cached in the user's cache directory (``$USQLRW_CACHE_DIR``, else
``$XDG_CACHE_HOME/usqlrw``, else ``~/.cache/usqlrw``), keyed by a hash of the grammar and of the
Lark, Python and usqlrw versions, so a stale cache is never loaded. Syntax errors become
:class:`USqlSyntaxError` with the line, the column and a message in U-SQL terms.
"""
from __future__ import annotations

import hashlib
import os
import sys
import threading
from pathlib import Path

from . import __version__
from .ast import Script
from .source import DecodeError, Source, Span, decode, line_col

__all__ = ["parse", "parse_source", "USqlSyntaxError", "grammar_path", "get_parser"]


class USqlSyntaxError(Exception):
    """A script that is not valid U-SQL (or not readable text). ``str()`` is ``path:line:col: message``."""

    def __init__(self, message: str, line: int = 1, column: int = 1, path: str | None = None,
                 offset: int | None = None, source_line: str | None = None):
        self.message, self.line, self.column, self.path = message, line, column, path
        self.offset, self.source_line = offset, source_line
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.path or '<string>'}:{self.line}:{self.column}: {self.message}"

    def with_path(self, path):
        self.path = path
        self.args = (str(self),)
        return self


def grammar_path() -> Path:
    """The grammar file: inside the installed package, or at the top of a source checkout."""
    here = Path(__file__).resolve().parent
    for p in (here / "grammar" / "usql.lark", here.parent / "grammar" / "usql.lark"):
        if p.is_file():
            return p
    raise FileNotFoundError("usql.lark not found next to the usqlrw package")


def _cache_dir() -> Path:
    d = os.environ.get("USQLRW_CACHE_DIR")
    if d:
        return Path(d)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "usqlrw"


_lock = threading.Lock()
_parser = None
_local = threading.local()


def _on_comment(tok):
    sink = getattr(_local, "comments", None)
    if sink is not None:
        sink.append(tok)
    return tok


def get_parser():
    """The Lark parser, built (or loaded from the cache) on first use."""
    global _parser
    if _parser is not None:
        return _parser
    with _lock:
        if _parser is None:
            import lark
            from .builder import Builder
            text = grammar_path().read_text(encoding="utf-8")
            key = hashlib.sha256("\0".join(
                (text, lark.__version__, sys.version, __version__)).encode()).hexdigest()[:20]
            opts = dict(parser="lalr", lexer="contextual", start="script", keep_all_tokens=True,
                        maybe_placeholders=False, transformer=Builder(),
                        lexer_callbacks={"LINE_COMMENT": _on_comment, "BLOCK_COMMENT": _on_comment})
            cache = None
            try:
                d = _cache_dir()
                d.mkdir(parents=True, exist_ok=True)
                if os.access(d, os.W_OK):
                    cache = str(d / f"usql-{key}.lark.cache")
            except OSError:
                cache = None
            try:
                _parser = lark.Lark(text, cache=cache, **opts) if cache else lark.Lark(text, **opts)
            except OSError:  # unwritable cache file: build without it
                _parser = lark.Lark(text, **opts)
    return _parser


def parse(data: bytes | str, path: str | None = None) -> Script:
    """Parse a U-SQL script (text, or bytes in UTF-8/UTF-16/UTF-32 with or without BOM).

    Returns the typed :class:`~usqlrw.ast.Script`; its ``source`` keeps encoding, BOM and newline
    style for writing the script back. Raises :class:`USqlSyntaxError` for anything else.
    """
    try:
        src = decode(data)
    except DecodeError as e:
        raise USqlSyntaxError(e.message, e.line, e.column, path) from None
    return parse_source(src, path)


def parse_source(src: Source, path: str | None = None) -> Script:
    from lark.exceptions import UnexpectedInput, VisitError
    from dataclasses import replace
    p = get_parser()
    _local.comments = comments = []
    try:
        script = p.parse(src.text)
    except UnexpectedInput as e:
        raise _syntax_error(e, src.text, path) from None
    except VisitError as e:  # a builder check on a construct the grammar is lenient about
        inner = e.orig_exc
        if isinstance(inner, USqlSyntaxError):
            raise inner.with_path(path) from None
        raise
    except RecursionError:
        raise USqlSyntaxError("script is nested too deeply to parse", 1, 1, path) from None
    finally:
        _local.comments = None
    from .builder import tok_span
    return replace(script, comments=tuple((tok_span(t), t.value) for t in comments), source=src)


# -- friendly syntax errors ------------------------------------------------------------------

_TERMINAL_WORDS = {
    "NAME": "an identifier", "QUOTED_ID": "a [quoted identifier]", "VARIABLE": "a @variable",
    "SYSVAR": "a @@system variable", "STRING": "a string", "VERBATIM_STRING": "a verbatim string",
    "CHAR": "a character literal", "NUMBER": "a number", "TYPEARGS": "type arguments <...>",
    "CAST": "a cast", "LAMBDA_PARAMS": "lambda parameters", "ARRAY_BRACKETS": "[]",
    "OUTER_UNION": "OUTER UNION", "APPLY_OPERATOR": "CROSS APPLY or OUTER APPLY",
    "NULLS_HANDLING": "INCLUDE NULLS or EXCLUDE NULLS", "ADDITIONAL_FILES": "ADDITIONAL_FILES",
    "$END": "the end of the script",
}
# Shown first when they are among the expected tokens; the rest follow alphabetically.
_PREFERRED = [";", "an expression", "=", ",", ")", "(", "FROM", "TO", "USING", "AS", "SELECT", "an identifier"]


def _describe_expected(names, terminals) -> list[str]:
    words = set()
    for n in names:
        if n in _TERMINAL_WORDS:
            words.add(_TERMINAL_WORDS[n])
            continue
        t = terminals.get(n)
        if t is not None and t.pattern.type == "str":
            v = t.pattern.value
            words.add(v if v.isalpha() and v.isupper() else f"'{v}'")
        else:
            words.add(n.lower())
    # Everything that can start an expression, said in one word.
    starters = {"a number", "a string", "a verbatim string", "a character literal", "a cast",
                "'new'", "'typeof'", "'default'", "'true'", "'false'", "'null'", "'!'", "'~'", "'-'",
                "'+'", "TRUE", "FALSE", "NULL", "lambda parameters", "a @@system variable"}
    if {"a number", "a string", "an identifier"} <= words:
        words = (words - starters - {"an identifier", "a [quoted identifier]", "a @variable", "'('"}) | {"an expression"}
    def key(w):
        bare = w.strip("'")
        return (_PREFERRED.index(bare) if bare in _PREFERRED else len(_PREFERRED), w)
    return sorted(words, key=key)


def _describe_token(tok) -> str:
    if tok.type == "$END":
        return "end of script"
    v = tok.value
    if tok.type == "NAME":
        return f"identifier '{v}'" if not (v.isupper() and v.isalpha()) else f"keyword {v}"
    if tok.type in ("STRING", "VERBATIM_STRING"):
        return f"string {v[:40]}{'...' if len(v) > 40 else ''}"
    if tok.type in ("VARIABLE", "SYSVAR"):
        return f"variable {v}"
    if tok.type == "NUMBER":
        return f"number {v}"
    if v.isalpha() and v.isupper():
        return f"keyword {v}"
    return f"'{v[:40]}'"


def _syntax_error(e, text: str, path) -> USqlSyntaxError:
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken
    terminals = {t.name: t for t in get_parser().terminals}
    if isinstance(e, UnexpectedToken):
        tok = e.token
        expected = _describe_expected(e.accepts or e.expected, terminals)
        if tok.type == "$END":
            offset = len(text)
            line, col = line_col(text, offset)
            msg = "unexpected end of script"
            if "';'" in expected:
                # Point at the end of the last statement, where the ';' belongs.
                stripped = len(text.rstrip())
                line, col = line_col(text, stripped)
                offset = stripped
                msg = "missing ';' at the end of the statement"
        else:
            offset = tok.start_pos
            line, col = tok.line, tok.column
            msg = f"unexpected {_describe_token(tok)}"
        if expected and not msg.startswith("missing"):
            shown = expected[:8]
            more = f" (or {len(expected) - 8} more)" if len(expected) > 8 else ""
            msg += f"; expected {', '.join(shown)}{more}"
    elif isinstance(e, UnexpectedCharacters):
        offset = e.pos_in_stream
        line, col = e.line, e.column
        ch = text[offset] if offset < len(text) else ""
        rest = text[offset:offset + 2]
        if ch == '"' or rest == '@"':
            msg = "unterminated string literal"
        elif rest == "/*":
            msg = "unterminated /* comment"
        elif ch == "'":
            msg = "invalid character literal"
        elif ch == "[":
            msg = "unterminated [quoted identifier]"
        else:
            msg = f"unexpected character {ch!r}"
    elif isinstance(e, UnexpectedEOF):
        offset = len(text)
        line, col = line_col(text, offset)
        msg = "unexpected end of script"
    else:  # pragma: no cover - every UnexpectedInput subclass is handled above
        offset, line, col, msg = 0, 1, 1, str(e).splitlines()[0]
    lines = text.splitlines()
    src_line = lines[line - 1] if 0 < line <= len(lines) else ""
    return USqlSyntaxError(msg, line, col, path, offset, src_line)


def caret_lines(err: USqlSyntaxError, tabsize: int = 4) -> list[str]:
    """The offending source line and a caret under the error column (tabs expanded)."""
    if err.source_line is None:
        return []
    line = err.source_line
    prefix = line[: max(err.column - 1, 0)]
    pad = len(prefix.expandtabs(tabsize))
    shown = line.expandtabs(tabsize)
    if len(shown) > 200:  # very long lines: show a window around the column
        lo = max(0, pad - 80)
        shown, pad = shown[lo:lo + 160], pad - lo
    return [shown, " " * pad + "^"]
