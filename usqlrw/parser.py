"""U-SQL text to typed AST: an LALR(1) driver and contextual lexer over usqlrw's own tables.

The tables (usqlrw/tables.py) come from Lark's LALR analysis of grammar/usql.lark, computed once and
kept in the user's cache directory (``$USQLRW_CACHE_DIR``, else ``$XDG_CACHE_HOME/usqlrw``, else
``~/.cache/usqlrw``) as plain marshal data keyed by a hash of the grammar and the Lark version; a
valid script parses with no Lark import (:func:`_drive_fast`). Syntax errors become
:class:`USqlSyntaxError` with the line, the column and a message in U-SQL terms: for those the
script is parsed again by Lark's tables and loop (:func:`_drive`, the slow path, with Lark's own
cache), whose exceptions the messages are built from. Both give exactly Lark's results
(tests/test_parser_lexer.py). benchmarks/README.md has the figures.
"""
from __future__ import annotations

import functools
import gc
import re
import os
import sys
import threading
from pathlib import Path

from . import __version__
from .ast import Comment, Script
from .errors import USqlSyntaxError
from .keywords import grammar_keywords, grammar_path
from .source import DecodeError, Source, decode, line_col
from .tables import first_chars as _first_chars
from .tokens import Token

__all__ = ["parse", "parse_source", "USqlSyntaxError", "grammar_path", "get_parser", "prepare"]


def _cache_dir() -> Path:
    from .tables import cache_dir
    return cache_dir()


_lock = threading.Lock()
_parser = None
_local = threading.local()


def _on_comment(tok):
    sink = getattr(_local, "comments", None)
    if sink is not None:
        sink.append(tok)
    return tok


def lark_options(**overrides) -> dict:
    """The options usqlrw builds its Lark parser with (tests build a reference parser from them)."""
    from .builder import Builder
    opts = dict(parser="lalr", lexer="contextual", start="script", keep_all_tokens=True,
                maybe_placeholders=False, transformer=Builder(), postlex=WholeWords(),
                lexer_callbacks={"LINE_COMMENT": _on_comment, "BLOCK_COMMENT": _on_comment})
    opts.update(overrides)
    return opts


# -- whole words --------------------------------------------------------------------------------
#
# Lark's contextual lexer matches a keyword as a literal wherever identifiers are not accepted, so
# `GROUPBY` would lex as GROUP BY and `WHEREa` as WHERE a. A keyword is a whole word (U-SQL
# reference, "Identifiers": keywords and identifiers are separated by white space or
# punctuation): two word tokens with nothing between them are one word the parser cannot take.
# And a reserved keyword is never an identifier (u-sql-identifiers.md): where the parser would read
# one as a name, it is the keyword, out of place, so the error is at it rather than a token later
# (after '.', any word is a member name: FILE.EXISTS). Both rules run here for Lark's own loop
# and inline in _drive, with the same functions.

def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _glued(prev, tok) -> bool:
    """``tok`` starts in the middle of a word that ``prev`` began, or the two are ``--`` (C#'s
    decrement operator, never U-SQL: a T-SQL comment)."""
    if prev is None or prev.end_pos != tok.start_pos or tok.value[:1] == "":
        return False
    return (_is_word_char(tok.value[0]) and _is_word_char(prev.value[-1])) or \
        (prev.value == "-" and tok.value[0] == "-")


@functools.lru_cache(maxsize=None)
def _all_keywords() -> frozenset:
    """Every upper-case keyword, those inside multi-word terminals too (CROSS APPLY)."""
    return frozenset(k for k in grammar_keywords() if k.isalpha())


_DASH_COMMENT = "comments are // or /* */ in U-SQL (-- is T-SQL)"
# Quotes of word processors, as pasted into scripts from documents; the straight quotes to write.
_TYPOGRAPHIC_QUOTES = {"\u201c": '"..."', "\u201d": '"..."', "\u201e": '"..."',
                       "\u2018": "'.'", "\u2019": "'.'"}


def _glued_message(word: str, strict: bool = False):
    """The message for ``word`` when it is a keyword glued to what follows (GROUPBY, WHEREa), else
    None: the rest is a keyword too, or (unless ``strict``) not written in capitals like one
    (DESCENDING is no DESC glued to ENDING, and INTO is a keyword of its own)."""
    words = _all_keywords()
    if word in words:
        return None
    heads = [k for k in words if word.startswith(k) and len(k) < len(word)]
    if not heads:
        return None
    head = max(heads, key=len)
    rest = word[len(head):]
    if rest in words or (not strict and not rest.isupper()):
        return (f"'{word}' is not a keyword: a keyword is a whole word; "
                f"write {head} {rest}" + (" (two keywords)" if rest in words else ""))
    return None


def _word_message(word: str) -> str:
    return _glued_message(word) or (f"unexpected keyword {word}" if word in _keywords()
                                    else f"unexpected identifier '{word}'")


def _glued_error(prev, tok) -> USqlSyntaxError:
    if prev.value == "-":
        return USqlSyntaxError(_DASH_COMMENT, prev.line, prev.column, offset=prev.start_pos)
    word = prev.value + re.match(r"\w*", tok.value).group()
    return USqlSyntaxError(_word_message(word), prev.line, prev.column, offset=prev.start_pos)


@functools.lru_cache(maxsize=None)
def _reserved_terminals() -> dict:
    """reserved keyword -> its terminal name."""
    return _runtime().reserved


def _misplaced_keyword(value: str, prev):
    """The keyword terminal a NAME token ``value`` really is (a reserved word), else None."""
    kw = _reserved_terminals().get(value)
    if kw is None or (prev is not None and prev.value in (".", "?.")):
        return None
    return kw


class WholeWords:
    """Lark postlex: keywords are whole words, and reserved words are never names (see above)."""
    always_accept = ()

    def process(self, stream):
        prev = None
        for tok in stream:
            if _glued(prev, tok):
                raise _glued_error(prev, tok)
            if tok.type == "NAME":
                kw = _misplaced_keyword(tok.value, prev)
                if kw is not None:
                    tok.type = kw
            prev = tok
            yield tok


def get_parser():
    """The Lark parser, built (or loaded from the cache) on first use."""
    global _parser
    if _parser is not None:
        return _parser
    with _lock:
        if _parser is None:
            import hashlib
            import lark
            text = grammar_path().read_text(encoding="utf-8")
            key = hashlib.sha256("\0".join(
                (text, lark.__version__, sys.version, __version__)).encode()).hexdigest()[:20]
            opts = lark_options()
            cache = None
            try:
                d = _cache_dir()
                d.mkdir(parents=True, exist_ok=True)
                if os.access(d, os.W_OK):
                    cache = str(d / f"usql-{key}.lark.cache")
            except OSError:
                cache = None
            paused = gc.isenabled()   # loading makes a large graph and no garbage
            if paused:
                gc.disable()
            try:
                p = lark.Lark(text, cache=cache, **opts) if cache else lark.Lark(text, **opts)
            except OSError:  # unwritable cache file: build without it
                p = lark.Lark(text, **opts)
            finally:
                if paused:
                    gc.enable()
            _install_fast_lexer(p)
            _parser = p
    return _parser


# -- the LALR driver -----------------------------------------------------------------------------
#
# Lark's loop (ParserState.feed_token) with the same tables, callbacks and errors, in one function:
# the parse table is flattened once into plain tuples, so a reduction costs no Rule hashing, and the
# lexer's tokens are fed without a method call each. Lark's own ``Lark.parse`` gives the same
# results (tests/test_parser_lexer.py checks both on every fixture and on mutated ones).

_tables: dict = {}


def _flat_table(lalr):
    """{state: {terminal or rule name: (True, next state) | (False, size, callback, origin)}};
    size 0 with no callback is a unit reduction that keeps its child's value."""
    key = id(lalr)
    t = _tables.get(key)
    if t is None:
        from lark.parsers.lalr_analysis import Shift
        callbacks = lalr.parser.callbacks
        t = {}
        for state, actions in lalr._parse_table.states.items():
            row = {}
            for name, (action, arg) in actions.items():
                name = str(name)  # a plain str: Lark's Token names would compare through Python
                if action is Shift:
                    row[name] = (True, arg)
                elif len(arg.expansion) == 1 and not arg.expansion[0].name.startswith("_") and (
                        (arg.options.expand1 and arg.alias is None) or arg.alias == "operation"):
                    # `?rule: x`, or an operation of one operand: the value is x's, only the
                    # state changes (the callback is skipped)
                    row[name] = (False, 0, None, str(arg.origin.name))
                else:
                    row[name] = (False, len(arg.expansion), callbacks[arg], str(arg.origin.name))
            t[state] = row
        _tables[key] = t
    return t


def _drive(p, text: str):
    """Lex and parse ``text`` in one loop; returns what the start rule's callback returns.

    The lexing half is FastContextualLexer.lex inlined (see the notes there); the parsing half is
    Lark's ParserState.feed_token over the flattened table.
    """
    from lark.exceptions import UnexpectedInput, UnexpectedToken
    from lark.lexer import LexerThread, Token
    from lark.parsers.lalr_interactive_parser import InteractiveParser
    from lark.parsers.lalr_parser_state import ParseConf, ParserState
    frontend = p.parser
    lalr = frontend.parser            # lark.parsers.lalr_parser.LALR_Parser
    lexer = _contextual(frontend.lexer)
    table = _flat_table(lalr)
    conf = ParseConf(lalr._parse_table, lalr.parser.callbacks, "script")
    thread = LexerThread.from_text(lexer, text)
    lexer_state = thread.state
    state = ParserState(conf, thread)
    states, values = state.state_stack, state.value_stack
    end_state = conf.end_state
    dispatch, ws_chars, keywords, skip, ignore, callbacks = lexer._fast or lexer._setup()
    new_str = str.__new__
    ctr = lexer_state.line_ctr
    end = lexer_state.text.end
    pos, line, line_start = ctr.char_pos, ctr.line, ctr.line_start_pos
    token = None
    try:
        while True:
            # -- the next token --
            row = table[states[-1]]
            if pos >= end:
                break
            ch = text[pos]
            if ch in ws_chars:
                start = skip(text, pos).end()
                if "\n" in text[pos:start]:
                    line += text.count("\n", pos, start)
                    line_start = text.rindex("\n", pos, start) + 1
                pos = start
                if pos >= end:
                    break
                ch = text[pos]
            m = dispatch[ch](text, pos)
            kind = None
            if m is not None:
                kind = m.lastgroup
                value = m.group()
                if kind == "NAME":
                    kw = keywords.get(value)
                    if kw is not None and kw in row:
                        kind = kw
                    elif "NAME" not in row:
                        kind = None
                    elif kw is not None:  # a reserved word where a name may stand (WholeWords)
                        kind = _misplaced_keyword(value, lexer_state.last_token) or kind
                elif kind not in row and kind not in ignore:
                    kind = None
            if kind is not None:
                start = pos
                token = new_str(Token, value)
                token.type = kind
                token.value = value
                token.start_pos = start
                token.line = line
                token.column = start - line_start + 1
                pos = m.end()
                if "\n" in value:
                    line += value.count("\n")
                    line_start = start + value.rindex("\n") + 1
                token.end_line = line
                token.end_column = pos - line_start + 1
                token.end_pos = pos
                if kind in ignore:
                    f = callbacks.get(kind)
                    if f is not None:
                        f(token)
                    continue
                last = lexer_state.last_token
                if last is not None and last.end_pos == start and _glued(last, token):
                    raise _glued_error(last, token)
                lexer_state.last_token = token
            else:  # Lark's own lexer decides (and words any error)
                ctr.char_pos, ctr.line, ctr.line_start_pos = pos, line, line_start
                last = lexer_state.last_token
                token = lexer.slow_token(lexer_state, state)
                if token is None:
                    break
                pos, line, line_start = ctr.char_pos, ctr.line, ctr.line_start_pos
                kind = token.type
                if _glued(last, token):
                    raise _glued_error(last, token)
                if kind == "NAME":
                    kind = token.type = _misplaced_keyword(token.value, last) or kind
            # -- fed to the parser: reduce as needed, then shift --
            while True:
                act = row.get(kind)
                if act is None:
                    expected = {s for s in row if s.isupper()}
                    raise UnexpectedToken(token, expected, state=state, interactive_parser=None)
                if act[0]:
                    states.append(act[1])
                    values.append(token)
                    break
                size = act[1]
                if act[2] is None:
                    del states[-1]
                else:
                    if size:
                        s = values[-size:]
                        del states[-size:]
                        del values[-size:]
                    else:
                        s = []
                    values.append(act[2](s))
                row = table[states[-1]]
                states.append(row[act[3]][1])
                row = table[states[-1]]
        last = lexer_state.last_token  # the last token fed to the parser (not a comment)
        token = Token.new_borrow_pos("$END", "", last) if last else Token("$END", "", 0, 1, 1)
        while True:
            act = table[states[-1]].get("$END")
            if act is None:
                expected = {s for s in table[states[-1]] if s.isupper()}
                raise UnexpectedToken(token, expected, state=state, interactive_parser=None)
            size = act[1]
            if act[2] is None:
                del states[-1]
            else:
                if size:
                    s = values[-size:]
                    del states[-size:]
                    del values[-size:]
                else:
                    s = []
                values.append(act[2](s))
            states.append(table[states[-1]][act[3]][1])
            if states[-1] == end_state:
                return values[-1]
    except UnexpectedInput as e:
        ctr.char_pos, ctr.line, ctr.line_start_pos = pos, line, line_start
        e.interactive_parser = InteractiveParser(lalr, state, thread)
        raise


# -- the fast path: usqlrw's own tables, no Lark ------------------------------------------------
#
# The same loop as _drive, over the plain tables of usqlrw.tables (loaded from the cache with no
# Lark import): the actions are integers (a shift or goto to state n is n, a reduction by rule r is
# ~r), the callbacks are the Builder's methods wrapped as Lark's ParseTreeBuilder wraps them, and
# tokens are usqlrw.tokens.Token. A token Lark's contextual lexer would give differently is lexed
# as it does, with the state's own lexer (its terminals in Lark's order). Anything that is not a
# valid script raises _Fallback: the script is then parsed again by _drive, whose Lark exceptions
# feed the error messages, so errors are worded exactly as before.

class _Fallback(Exception):
    """The fast path met an error: Lark's loop parses the text again and words it."""


def _callback(builder, name: str, expand1: bool, filt):
    f = getattr(builder, name, None)
    if f is None:
        default = builder.__default__

        def f(c, name=name):
            return default(name, c, None)
    if expand1:
        inner = f

        def f(c, inner=inner):
            return c[0] if len(c) == 1 else inner(c)
    if filt is not None:
        built = f

        def f(children, built=built, filt=filt):   # Lark's ChildFilterLALR_NoPlaceholders
            filtered = []
            for i, splice in filt:
                if splice:
                    if filtered:
                        filtered += children[i].children
                    else:
                        filtered = children[i].children
                else:
                    filtered.append(children[i])
            return built(filtered)
    return f


class _Rows(dict):
    """state -> its actions (a dict), decoded from the tables when the parser first reaches it."""

    def __init__(self, data: dict):
        super().__init__()
        self.data = data

    def __missing__(self, state):
        from .tables import state_row
        row = self[state] = state_row(self.data, state)
        return row


class _Rules(dict):
    """reduce action (~rule index) -> (size, callback, origin name), made when the rule is first
    reduced; the callback is None for a unit reduction (its child's value stays)."""

    def __init__(self, data: dict, builder):
        super().__init__()
        self.specs, self.builder = data["rules"], builder

    def __missing__(self, act):
        size, name, origin, expand1, alias, filt, first = self.specs[~act]
        if size == 1 and not first.startswith("_") and ((expand1 and alias is None) or alias == "operation"):
            rule = (0, None, origin)   # `?rule: x`, an operation of one operand: x's value
        else:
            rule = (size, _callback(self.builder, name, expand1, filt), origin)
        self[act] = rule
        return rule


class _Runtime:
    """The loaded tables made ready for _drive_fast (once per process)."""

    def __init__(self, data: dict):
        from .builder import Builder
        self.states = _Rows(data)
        self.start, self.end = data["start"], data["end"]
        self.rules = _Rules(data, Builder())
        self.terminals = data["terminals"]
        regex = {n: v[2] for n, v in self.terminals.items()}
        flags = data["flags"]
        ws = data["ws"]
        ws_rx = regex[ws]
        firsts = {n: (None if f is None else set(f)) for n, f in data["firsts"].items()}
        self.ws_chars = frozenset(firsts[ws] or ())
        if not self.ws_chars:  # pragma: no cover - the grammar's WS is a character class
            raise AssertionError("WS must start with a known set of characters")
        self.skip = re.compile(ws_rx, flags).match
        self.dispatch = _Dispatch([(n, regex[n], firsts[n])
                                   for n in data["root"] if n != ws], flags)
        self.keywords = data["keywords"]
        self.ignore = frozenset(data["ignore"])
        self.comment_types = frozenset(data["callbacks"])
        self.regex, self.flags = regex, flags
        self.lexer_specs, self.state_lexer = data["lexers"], data["state_lexer"]
        self.lexers: dict = {}
        reserved = _reserved_words()
        self.reserved = {v: n for n, (kind, v, _) in self.terminals.items() if kind == "str" and v in reserved}

    def state_lexer_for(self, state: int):
        """(match, {terminal: {text: keyword terminal}}) of Lark's lexer for ``state``."""
        i = self.state_lexer[state]
        lx = self.lexers.get(i)
        if lx is None:
            names, unless = self.lexer_specs[i]
            alts = "|".join(f"(?P<{n}>{self.regex[n]})" for n in names)
            lx = self.lexers[i] = (re.compile(alts, self.flags).match, unless)
        return lx


def prepare() -> None:
    """Load the parse tables (building them on a machine's first parse) and make the parser
    ready, with no Lark import: call it before forking worker processes, so they share it."""
    _runtime()


def _reserved_words() -> frozenset:
    from .keywords import reserved_words
    return reserved_words()


_runtime_obj = None


def _runtime() -> _Runtime:
    global _runtime_obj
    if _runtime_obj is None:
        with _lock:
            if _runtime_obj is None:
                from . import tables
                paused = gc.isenabled()   # loading makes a large graph and no garbage
                if paused:
                    gc.disable()
                try:
                    _runtime_obj = _Runtime(tables.load())
                finally:
                    if paused:
                        gc.enable()
    return _runtime_obj


def _state_token(rt: _Runtime, state: int, text: str, pos: int, line: int, line_start: int, comments):
    """The next token as Lark's lexer for ``state`` gives it (ignored tokens skipped, comments
    kept): (token or None at the end, pos, line, line_start); _Fallback where it gives none."""
    match, unless = rt.state_lexer_for(state)
    end = len(text)
    while pos < end:
        m = match(text, pos)
        if m is None:
            raise _Fallback()
        value, kind = m.group(), m.lastgroup
        if kind in unless:
            kind = unless[kind].get(value, kind)
        start = pos
        col = start - line_start + 1
        sline = line
        pos = m.end()
        if "\n" in value:
            line += value.count("\n")
            line_start = start + value.rindex("\n") + 1
        if kind in rt.ignore:
            if kind in rt.comment_types:
                comments.append(Token(kind, value, start, sline, col, line, pos - line_start + 1, pos))
            continue
        return Token(kind, value, start, sline, col, line, pos - line_start + 1, pos), pos, line, line_start
    return None, pos, line, line_start


def _drive_fast(rt: _Runtime, text: str, comments: list):
    """Lex and parse ``text`` in one loop over usqlrw's own tables; returns what the start
    rule's callback returns. Raises _Fallback where the script is not valid."""
    table, rules = rt.states, rt.rules
    dispatch, ws_chars, keywords, skip = rt.dispatch, rt.ws_chars, rt.keywords, rt.skip
    ignore, comment_types, reserved = rt.ignore, rt.comment_types, rt.reserved
    states = [rt.start]
    values: list = []
    new_str = str.__new__
    end = len(text)
    pos, line, line_start = 0, 1, 0
    last = None
    row = table[rt.start]   # the actions of the state on top of the stack
    while True:
        # -- the next token --
        if pos >= end:
            break
        ch = text[pos]
        if ch in ws_chars:
            start = skip(text, pos).end()
            n = text.count("\n", pos, start)
            if n:
                line += n
                line_start = text.rindex("\n", pos, start) + 1
            pos = start
            if pos >= end:
                break
            ch = text[pos]
        m = dispatch[ch](text, pos)
        kind = None
        if m is not None:
            kind = m.lastgroup
            value = m.group()
            if kind == "NAME":
                kw = keywords.get(value)
                if kw is not None and kw in row:
                    kind = kw
                elif "NAME" not in row:
                    kind = None
                elif kw is not None and value in reserved and (
                        last is None or last.value not in (".", "?.")):
                    kind = reserved[value]   # a reserved word where a name may stand (WholeWords)
            elif kind not in row and kind not in ignore:
                kind = None
        if kind is not None:
            start = pos
            token = new_str(Token, value)
            token.type = kind
            token.value = value
            token.start_pos = start
            token.line = line
            token.column = start - line_start + 1
            pos = m.end()
            if "\n" in value:
                line += value.count("\n")
                line_start = start + value.rindex("\n") + 1
            token.end_line = line
            token.end_column = pos - line_start + 1
            token.end_pos = pos
            if kind in ignore:
                if kind in comment_types:
                    comments.append(token)
                continue
            if last is not None and last.end_pos == start and _glued(last, token):
                raise _glued_error(last, token)
        else:  # Lark's lexer for this state decides
            token, pos, line, line_start = _state_token(rt, states[-1], text, pos, line, line_start, comments)
            if token is None:
                break
            kind = token.type
            if _glued(last, token):
                raise _glued_error(last, token)
            if kind == "NAME" and token.value in reserved and (last is None or last.value not in (".", "?.")):
                kind = token.type = reserved[token.value]
        last = token
        # -- fed to the parser: reduce as needed, then shift --
        while True:
            act = row.get(kind)
            if act is None:
                raise _Fallback()
            if act >= 0:
                states.append(act)
                values.append(token)
                row = table[act]
                break
            size, cb, origin = rules[act]
            if cb is None:   # a unit reduction: the state below goes to the rule's state
                states[-1] = goto = table[states[-2]][origin]
            else:
                if size:
                    s = values[-size:]
                    del states[-size:]
                    del values[-size:]
                else:
                    s = []
                values.append(cb(s))
                goto = table[states[-1]][origin]
                states.append(goto)
            row = table[goto]
    end_state = rt.end
    while True:
        act = row.get("$END")
        if act is None or act >= 0:
            raise _Fallback()
        size, cb, origin = rules[act]
        if cb is None:
            states[-1] = goto = table[states[-2]][origin]
        else:
            if size:
                s = values[-size:]
                del states[-size:]
                del values[-size:]
            else:
                s = []
            values.append(cb(s))
            goto = table[states[-1]][origin]
            states.append(goto)
        if goto == end_state:
            return values[-1]
        row = table[goto]

# -- a faster contextual lexer -------------------------------------------------------------------
#
# Lark's contextual lexer runs one regular expression per parser state, and one loop iteration per
# whitespace run or comment. This one gives the same tokens with a single expression for the whole
# grammar, whose alternatives are Lark's terminals in Lark's own order and which skips whitespace
# as a prefix. The first terminal that matches there is also the first that matches among the
# terminals the parser accepts in its current state, so when the parser accepts it, it is the
# token Lark would give. Only a word needs the state: it is a keyword where the keyword is
# accepted, else an identifier. In every other case (a terminal the state does not accept, text
# no terminal matches) the token is handed to Lark's own lexer, which also words the error.

def _contextual(lexer):
    """The contextual lexer behind Lark's postlex connector."""
    from lark.parser_frontends import PostLexConnector
    return lexer.lexer if isinstance(lexer, PostLexConnector) else lexer


def _install_fast_lexer(p) -> None:
    from lark.lexer import ContextualLexer
    lexer = _contextual(getattr(p.parser, "lexer", None))
    if type(lexer) is ContextualLexer:
        lexer.__class__ = _make_fast_lexer_class()


class _Dispatch(dict):
    """first character -> the ``match`` of an expression of the terminals that can start with it."""

    def __init__(self, firsts, flags):
        super().__init__()
        self.firsts, self.flags, self.by_names = firsts, flags, {}

    def __missing__(self, ch):
        ascii_ = ch < "\x80"
        names = tuple(n for n, _, f in self.firsts if not ascii_ or f is None or ch in f)
        match = self.by_names.get(names)
        if match is None:
            alts = "|".join(f"(?P<{n}>{rx})" for n, rx, _ in self.firsts if n in names)
            match = self.by_names[names] = re.compile(alts, self.flags).match
        if len(self) < 4096:
            self[ch] = match
        return match


@functools.lru_cache(maxsize=None)
def _make_fast_lexer_class():
    import re
    from lark.exceptions import UnexpectedCharacters, UnexpectedToken
    from lark.lexer import ContextualLexer, Token

    new_str = str.__new__

    class FastContextualLexer(ContextualLexer):
        _fast = None

        def _setup(self):
            root = self.root_lexer
            flags = root.g_regex_flags
            ws_name = "WS"
            ws = root.terminals_by_name[ws_name].pattern.to_regexp()
            terms = [(t.name, t.pattern.to_regexp()) for t in root.scanner.terminals if t.name != ws_name]

            # One expression per first character, holding, in Lark's order, the terminals that
            # can start with it (for a character beyond ASCII: all terminals); each is compiled
            # when its character is first met.
            dispatch = _Dispatch([(n, rx, _first_chars(rx, flags)) for n, rx in terms], flags)
            ws_chars = _first_chars(ws, flags)
            if ws_chars is None:  # pragma: no cover - the grammar's WS is a character class
                raise AssertionError("WS must start with a known set of characters")
            keywords = {}
            cb = root.callback.get("NAME")
            if cb is not None:  # Lark's UnlessCallback: keyword text -> keyword terminal
                for t in cb.scanner.terminals:
                    keywords[t.pattern.value] = t.name
            skip = re.compile(ws).match
            ignore = root.ignore_types
            callbacks = dict(root.user_callbacks)
            self._fast = (dispatch, frozenset(ws_chars), keywords, skip, ignore, callbacks)
            return self._fast

        def lex(self, lexer_state, parser_state):
            dispatch, ws_chars, keywords, skip, ignore, callbacks = self._fast or self._setup()
            states = parser_state.parse_conf.parse_table.states
            stack = parser_state.state_stack
            ctr = lexer_state.line_ctr
            text = lexer_state.text.text
            end = lexer_state.text.end
            pos, line, line_start = ctr.char_pos, ctr.line, ctr.line_start_pos
            while True:
                if pos >= end:
                    return
                ch = text[pos]
                if ch in ws_chars:
                    start = skip(text, pos).end()
                    if "\n" in text[pos:start]:
                        line += text.count("\n", pos, start)
                        line_start = text.rindex("\n", pos, start) + 1
                    pos = start
                    if pos >= end:
                        return
                    ch = text[pos]
                m = dispatch[ch](text, pos)
                if m is not None:
                    kind = m.lastgroup
                    value = m.group()
                    accepts = states[stack[-1]]
                    if kind == "NAME":
                        kw = keywords.get(value)
                        if kw is not None and kw in accepts:
                            kind = kw
                        elif "NAME" not in accepts:
                            kind = None
                    elif kind not in accepts and kind not in ignore:
                        kind = None
                    if kind is not None:
                        start = pos
                        t = new_str(Token, value)
                        t.type = kind
                        t.value = value
                        t.start_pos = start
                        t.line = line
                        t.column = start - line_start + 1
                        pos = m.end()
                        if "\n" in value:
                            line += value.count("\n")
                            line_start = start + value.rindex("\n") + 1
                        t.end_line = line
                        t.end_column = pos - line_start + 1
                        t.end_pos = pos
                        if kind in ignore:
                            f = callbacks.get(kind)
                            if f is not None:
                                f(t)
                            continue
                        lexer_state.last_token = t
                        yield t
                        continue
                ctr.char_pos, ctr.line, ctr.line_start_pos = pos, line, line_start
                t = self.slow_token(lexer_state, parser_state)
                if t is None:
                    return
                pos, line, line_start = ctr.char_pos, ctr.line, ctr.line_start_pos
                yield t

        def slow_token(self, lexer_state, parser_state):
            """The next token by Lark's own lexer for the parser's state, from ``line_ctr.char_pos``
            (line and line_start_pos set too); None at the end of the text. Raises as Lark does."""
            ctr = lexer_state.line_ctr
            ctr.column = ctr.char_pos - ctr.line_start_pos + 1
            lexer = self.lexers[parser_state.position]
            try:
                return lexer.next_token(lexer_state, parser_state)
            except EOFError:
                return None
            except UnexpectedCharacters as e:
                try:
                    last = lexer_state.last_token
                    token = self.root_lexer.next_token(lexer_state, parser_state)
                    raise UnexpectedToken(token, e.allowed, state=parser_state, token_history=[last],
                                          terminals_by_name=self.root_lexer.terminals_by_name)
                except UnexpectedCharacters:
                    raise e from None

    return FastContextualLexer



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
    from dataclasses import replace
    rt = _runtime()
    comments: list = []
    # The tree only grows while it is built: no cycle to collect, so the collector is paused
    # (it would walk the growing tree again and again: a third of a 5 MB parse).
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        script = _drive_fast(rt, src.text, comments)
    except _Fallback:   # not a valid script: Lark's loop finds the same error and words it
        comments = []
        script = _slow_parse(src, path, comments)
    except USqlSyntaxError as e:  # a builder check on a construct the grammar is lenient about
        raise _builder_error(e, src.text, path) from None
    except RecursionError:
        raise USqlSyntaxError("script is nested too deeply to parse", 1, 1, path) from None
    finally:
        if paused:
            gc.enable()
    from .builder import tok_span
    return replace(script, comments=tuple(Comment(tok_span(t), t.value) for t in comments), source=src)


def _slow_parse(src: Source, path, comments: list):
    """The parse by Lark's tables and loop (_drive): the same result as _drive_fast, and for an
    invalid script Lark's exception, worded by _syntax_error."""
    from lark.exceptions import UnexpectedInput, VisitError
    _local.comments = comments
    try:
        return _drive(get_parser(), src.text)
    except UnexpectedInput as e:
        raise _syntax_error(e, src.text, path) from None
    except USqlSyntaxError as e:
        raise _builder_error(e, src.text, path) from None
    except VisitError as e:
        inner = e.orig_exc
        if isinstance(inner, USqlSyntaxError):
            raise _builder_error(inner, src.text, path) from None
        raise
    except RecursionError:
        raise USqlSyntaxError("script is nested too deeply to parse", 1, 1, path) from None
    finally:
        _local.comments = None


_SPACE_AND_COMMENTS = re.compile(r"(?:\s|//[^\n]*|/\*[\s\S]*?\*/)*")


def _builder_error(e: USqlSyntaxError, text: str, path) -> USqlSyntaxError:
    """An error raised by a builder check, worded for where it stands."""
    after = getattr(e, "at_next_token", None)
    if after is not None:   # a clause is missing: at the first token after ``after``
        offset = _SPACE_AND_COMMENTS.match(text, after).end()
        if getattr(e, "skip_closing", False) and text.startswith(")", offset):
            offset = _SPACE_AND_COMMENTS.match(text, offset + 1).end()
        line, col = line_col(text, offset)
        e = USqlSyntaxError(e.message, line, col, offset=offset)
    tok = getattr(e, "reserved_token", None)
    if tok is not None and _STATEMENT_START.search(text, 0, tok.start_pos):
        word = tok.value   # a statement keyword where no statement can start with it
        e = USqlSyntaxError(f"a statement cannot start with {word}" + (
            f" (assign the query to a rowset: @rows = {word} ...)"
            if word in ("SELECT", "EXTRACT", "PROCESS", "REDUCE", "COMBINE", "VALUES") else ""),
            tok.line, tok.column, offset=tok.start_pos)
    return _with_context(e, text, path)


def _with_context(e: USqlSyntaxError, text: str, path) -> USqlSyntaxError:
    if e.source_line is None:
        lines = text.splitlines()
        e.source_line = lines[e.line - 1] if 0 < e.line <= len(lines) else ""
    return e.with_path(path)


# -- friendly syntax errors ------------------------------------------------------------------

_TERMINAL_WORDS = {
    "NAME": "an identifier", "QUOTED_ID": "a [quoted identifier]", "VARIABLE": "a @variable",
    "SYSVAR": "a @@system variable", "STRING": "a string", "VERBATIM_STRING": "a verbatim string",
    "CHAR": "a character literal", "NUMBER": "a number", "TYPEARGS": "type arguments <...>",
    "CAST": "a cast", "LAMBDA_PARAMS": "lambda parameters", "ARRAY_BRACKETS": "[]",
    "OUTER_UNION": "OUTER UNION", "APPLY_OPERATOR": "CROSS APPLY or OUTER APPLY",
    "NULLS_HANDLING": "INCLUDE NULLS or EXCLUDE NULLS", "ADDITIONAL_FILES": "ADDITIONAL_FILES",
    "STATEMENT_BLOCK": "a { ... } lambda body", "LINQ_DIRECTION": "ascending or descending",
    "GLOBAL_ALIAS": "global::",
    "$END": "the end of the script",
}
# Shown first when they are among the expected tokens; the rest follow alphabetically.
_PREFERRED = [";", "an expression", "=", ",", ")", "(", "FROM", "TO", "USING", "AS", "SELECT", "an identifier"]


_KEYWORD_SHAPE = re.compile(r"[A-Z][A-Z_]*$")


def _describe_expected(names, terminals) -> list[str]:
    words = set()
    for n in names:
        if n in _TERMINAL_WORDS:
            words.add(_TERMINAL_WORDS[n])
            continue
        t = terminals.get(n)
        if t is not None and t.pattern.type == "str":
            v = t.pattern.value
            words.add(v if _KEYWORD_SHAPE.match(v) else f"'{v}'")
        else:
            words.add(n.lower())
    # Everything that can start an expression, said in one word.
    starters = {"a number", "a string", "a verbatim string", "a character literal", "a cast",
                "'new'", "'typeof'", "'default'", "'true'", "'false'", "'null'", "'!'", "'~'", "'-'",
                "'+'", "TRUE", "FALSE", "NULL", "lambda parameters", "a @@system variable", "CASE",
                "NOT", "'from'", "global::", "PARTITION"}   # PARTITION.EXISTS(...)
    if {"a number", "a string", "an identifier"} <= words:
        words = (words - starters - {"an identifier", "a [quoted identifier]", "a @variable", "'('"}) | {"an expression"}
    # After an operand every operator is possible: say so once.
    operators = words & _OPERATORS
    if len(operators) >= 4:
        words = (words - _OPERATORS - {"type arguments <...>"}) | {"an operator"}
    if len(words & _JOIN_HINTS) >= 3:
        words = (words - _JOIN_HINTS) | {"a join hint"}
    def key(w):
        bare = w.strip("'")
        return (_PREFERRED.index(bare) if bare in _PREFERRED else len(_PREFERRED), w)
    return sorted(words, key=key)


_OPERATORS = {f"'{o}'" for o in ("!=", "%", "&&", "&", "*", "+", "-", "/", "<", "<<", "<=", "<>", "==",
                                  ">", ">=", ">>", "?", "??", "?.", "^", "|", "||", ".", "[", "is", "as",
                                  "=>")} | {
    "AND", "OR", "IS", "IN", "LIKE", "BETWEEN", "NOT", "ESCAPE", "a cast"}


#: C# words that are lower-case on purpose; the query-expression words (from, select, where, ...)
#: are not here: written in lower case outside a C# query they are SQL keywords mistyped.
_CSHARP_WORDS = frozenset({"true", "false", "null", "new", "is", "as", "typeof", "default", "out",
                           "ref", "ascending", "descending"})


@functools.lru_cache(maxsize=None)
def _statement_keywords() -> frozenset:
    """The keywords that can start a statement."""
    p = get_parser()
    table = p.parser.parser._parse_table
    accepts = table.states[table.start_states["script"]]
    names = {t.name: t.pattern.value for t in p.terminals if t.pattern.type == "str"}
    return frozenset(names[a] for a in accepts if a in names)


_JOIN_HINTS = frozenset("SERIAL PAIR BROADCASTLEFT BROADCASTRIGHT FULLCROSS MERGE HASH LOOP INDEXLOOKUP".split())


@functools.lru_cache(maxsize=None)
def _keywords() -> frozenset:
    """The upper-case keywords of the grammar."""
    return frozenset(k for k in grammar_keywords(terminals=False) if k.isalpha())


_WORD_BEFORE = re.compile(r"(?<![@\w.])(?!\d)(\w+)\s*$")
_STRING_OR_COMMENT = re.compile(r'@"(?:[^"]|"")*"|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|(//[^\n]*|/\*[\s\S]*?\*/)')


def _in_comment(text: str, offset: int) -> bool:
    """Whether ``offset`` is inside a // or /* */ comment (strings may hold "//": adl://...)."""
    for m in _STRING_OR_COMMENT.finditer(text):
        if m.start() > offset:
            break
        if offset < m.end():
            return m.group(1) is not None
    return False


#: Keywords that are rarely names: typed in lower case just before an error, they are the cause.
_STRONG_KEYWORDS = frozenset("""SELECT FROM WHERE GROUP ORDER BY HAVING JOIN ON AND OR NOT AS TO
    EXTRACT OUTPUT USING DECLARE INSERT INTO CREATE DROP ALTER TABLE VIEW FUNCTION PROCEDURE USE
    DATABASE SCHEMA IF THEN ELSE ELSEIF END UNION EXCEPT INTERSECT VALUES PROCESS REDUCE COMBINE
    PRODUCE DISTINCT IN LIKE BETWEEN IS NULL CASE WHEN REFERENCE ASSEMBLY OUTER INNER LEFT RIGHT
    CROSS APPLY EXPLODE SEMIJOIN ANTISEMIJOIN OVER PARTITION FETCH OFFSET""".split())


def _lowercase_keyword(text: str, tok, expected_names=()) -> tuple | None:
    """(offset, word) of a keyword written in lower case that caused the error: the unexpected
    token itself when its upper-case form is what the parser expected there, or the word just
    before it when that is a clause keyword (``select x ...``)."""
    if tok.type != "$END" and tok.value.isalpha() and not tok.value.isupper() \
            and tok.value.upper() in expected_names \
            and tok.value not in _CSHARP_WORDS:   # select, or a mis-cased From
        return tok.start_pos, tok.value
    m = _WORD_BEFORE.search(text, 0, tok.start_pos if tok.type != "$END" else len(text))
    if m:
        word = m.group(1)
        mis_cased = word.islower() or (len(word) > 1 and word[0].isupper() and word[1:].islower())
        if mis_cased and word.upper() in _STRONG_KEYWORDS and word not in _CSHARP_WORDS \
                and not _in_comment(text, m.start(1)):   # "// cluster by" is no keyword
            return m.start(1), word
    return None


_WORD_AT = re.compile(r"\w+")
_STATEMENT_START = re.compile(r"(?:^|;|\bTHEN|\bELSE|\bBEGIN)(?:\s|//[^\n]*|/\*[\s\S]*?\*/)*$")


def _keyword_starting_statement(text: str, tok) -> tuple | None:
    """(offset, keyword) when the error follows an upper-case keyword that starts a statement but
    cannot (it was read as a name, e.g. ``SELECT ...`` with no ``@rows =``)."""
    end = tok.start_pos if tok.type != "$END" else len(text)
    m = _WORD_BEFORE.search(text, 0, end)
    if m is None or m.group(1) not in _keywords() or m.group(1) in _statement_keywords():
        return None
    if not _STATEMENT_START.search(text, 0, m.start(1)):
        return None
    return m.start(1), m.group(1)


def _name_was_likely(text: str, offset: int) -> bool:
    """Whether a reserved word at ``offset`` was likely meant as a name: it follows a keyword, '(',
    ',' or '.', or starts a statement (not an operator or an operand: ``a + AS``)."""
    before = text[:offset].rstrip()
    if not before or before[-1] in "(,.;":
        return True
    m = _WORD_BEFORE.search(before)
    return m is not None and m.group(1) in _keywords()


def _glued_start(text: str, offset: int):
    """Where the word holding ``offset`` starts, when the token at ``offset`` was cut out of it."""
    if offset <= 0 or offset >= len(text) or not _is_word_char(text[offset]) or not _is_word_char(text[offset - 1]):
        return None
    i = offset
    while i > 0 and _is_word_char(text[i - 1]):
        i -= 1
    if text[i - 1:i] in ("@", "."):   # a variable or a number such as 1.5e
        return None
    return i


# -- U-SQL's own words for common mistakes ------------------------------------------------------------

def _stack(e) -> list:
    """The parser's value stack when the error was raised (tokens and nodes built so far)."""
    ip = getattr(e, "interactive_parser", None)
    return list(ip.parser_state.value_stack) if ip is not None else []


#: The order of a query's (and OUTPUT's) clauses: select-expression-u-sql.md,
#: order-by-and-offset-fetch-clause-u-sql.md, output-statement-u-sql.md (ORDER BY before USING).
_CLAUSE_RANK = {"FROM": 1, "WHERE": 2, "GROUP": 3, "HAVING": 4, "ORDER": 5, "OFFSET": 6, "FETCH": 7,
                "USING": 8, "OPTION": 9}
_CLAUSE_NAME = {"GROUP": "GROUP BY", "ORDER": "ORDER BY"}
_QUERY_WORDS = ("SELECT", "EXTRACT", "PROCESS", "REDUCE", "COMBINE", "VALUES")


def _clause_words(e, text: str) -> list:
    """The clause keywords of the statement being parsed, innermost last (read off the stack)."""
    out = []
    for v in reversed(_stack(e)):
        if isinstance(v, str):          # a token
            word = v if v.isalpha() else None
        elif hasattr(v, "span"):
            m = _WORD_AT.match(text, v.span.start)
            word = m.group() if m else None
        else:                           # a list rule's tuple (select list, ...)
            continue
        if word is None or word not in _CLAUSE_RANK:
            if word in _QUERY_WORDS or word == "OUTPUT":
                break
            continue
        out.append(word)
    return out


def _innermost_query_word(e, text: str):
    """SELECT, EXTRACT, ... or OUTPUT: the keyword of the innermost query or statement being parsed."""
    for v in reversed(_stack(e)):
        if isinstance(v, str):
            word = v
        elif hasattr(v, "span"):
            m = _WORD_AT.match(text, v.span.start)
            word = m.group() if m else None
        else:
            continue
        if word in _QUERY_WORDS or word in ("OUTPUT", "CREATE", "INSERT", "DECLARE", "IF"):
            return word
    return None


def _semicolon_helps(text: str, at: int, err_offset: int) -> bool:
    """Whether a ';' inserted at ``at`` lets the parser get past ``err_offset`` (the token it
    stopped at): only then is a missing ';' the error."""
    return _edit_helps(text, at, at, ";", err_offset)


def _edit_helps(text: str, start: int, end: int, new: str, err_offset: int) -> bool:
    """Whether ``text`` with ``text[start:end]`` replaced by ``new`` parses past ``err_offset``
    and through the statement it stands in (to its ';'), or parses whole."""
    from lark.exceptions import UnexpectedInput
    trial = text[:start] + new + text[end:]
    shift = len(new) - (end - start)
    saved = getattr(_local, "comments", None)
    _local.comments = []
    try:
        _drive(get_parser(), trial)
        return True
    except UnexpectedInput as x:
        tok = getattr(x, "token", None)
        pos = len(trial) if tok is not None and tok.type == "$END" else \
            (tok.start_pos if tok is not None else getattr(x, "pos_in_stream", 0))
    except USqlSyntaxError as x:
        pos = getattr(x, "at_next_token", None) or x.offset or 0
    except Exception:   # a builder check written for valid input, or recursion: no help
        return False
    finally:
        _local.comments = saved
    # past the error token and through the statement it starts (up to its ';'), or to the end
    nxt = text.find(";", err_offset)
    return pos > (nxt + shift if nxt >= 0 else len(trial))


def _edit_distance(a: str, b: str) -> int:
    """Levenshtein distance with transpositions (SELCET is one edit from SELECT)."""
    prev2, prev = None, list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def _near_expected_keyword(text: str, tok, names):
    """The expected keyword an unexpected upper-case word is a misspelling of (FORM: FROM)."""
    m = _WORD_AT.match(text, tok.start_pos) if tok.type != "$END" else None
    word = m.group() if m else ""
    if len(word) < 3 or not word.isalpha() or not word.isupper() or word in _all_keywords():
        return None
    limit = 1 if len(word) <= 4 else 2
    close = sorted((d, k) for k in names if k.isalpha() and k.isupper() and k in _keywords()
                   for d in (_edit_distance(word, k),) if d <= limit)
    return close[0][1] if close else None


def _misspelled_keyword(text: str, start: int, word: str, err_offset: int):
    """The keyword ``word`` (at ``start``, read as a name) is a misspelling of, when writing that
    keyword there lets the parse go on past ``err_offset``; else None."""
    if len(word) < 3 or not word.isalpha() or not word.isupper() or word in _all_keywords():
        return None
    limit = 1 if len(word) <= 4 else 2
    close = sorted((d, k) for k in _keywords() if abs(len(k) - len(word)) <= limit
                   for d in (_edit_distance(word, k),) if d <= limit)
    for _, k in close[:5]:
        if _edit_helps(text, start, start + len(word), k, err_offset):
            return k
    return None


def _end_if(text: str, tok):
    """(offset, message) for ``END IF``: U-SQL's IF ends with END alone (if-else-u-sql.md)."""
    if tok.type == "$END" or tok.value != "IF":
        return None
    m = _WORD_BEFORE.search(text, 0, tok.start_pos)
    if m and m.group(1) == "END":
        return tok.start_pos, "U-SQL ends an IF with END; alone, not END IF"
    return None


def _end_hint(e, names):
    """The message at the end of the script when a block is still open."""
    if "END" not in names:
        return None
    for v in reversed(_stack(e)):
        if isinstance(v, str) and v in ("IF", "BEGIN", "CASE"):
            return {"IF": "IF ... END; is missing its END",
                    "BEGIN": "BEGIN ... END is missing its END",
                    "CASE": "CASE ... END is missing its END"}[v]
    return None


#: what follows UNION/EXCEPT/INTERSECT as set operators (not BigQuery's SELECT * EXCEPT (col))
_SET_OPERAND = re.compile(r"\s*(?:ALL\b|DISTINCT\b|BY\b|SELECT\b|\(\s*SELECT\b)")
_TOP = re.compile(r"\bSELECT\s+(?:ALL\s+|DISTINCT\s+)?(TOP)\b[^;]*$")
_TOP_COUNT = re.compile(r"\s*[(\d]")   # TOP n, TOP (n): not a column named TOP


# <insert your DB name>, <ADLA account>: a template's blank where a name belongs.
_PLACEHOLDER = re.compile(r"<[A-Za-z][\w .'-]{0,60}>")
_QUERY_WORDS = frozenset({"SELECT", "EXTRACT", "PROCESS", "REDUCE", "COMBINE"})
# The text of a DECLARE up to its "=": DECLARE @max int = SELECT MAX(v) FROM @t;
_DECLARE_EQ = re.compile(r"(?<![\w@])DECLARE\s+(?:EXTERNAL\s+)?(?:CONST\s+)?@\w+[^;=@]*=\s*$")


def _usql_hint(e, text: str, tok, names):
    """(offset, message) for a mistake that has U-SQL words of its own, else None."""
    offset = tok.start_pos if tok.type != "$END" else len(text.rstrip())
    v = tok.value
    before = text[:offset].rstrip()
    prev = _WORD_BEFORE.search(text, 0, offset)
    prev_word = prev.group(1) if prev else None
    if text.startswith("--", offset):
        return offset, _DASH_COMMENT
    if prev_word is not None and _glued_message(prev_word, strict=True) \
            and text[prev.start(1) - 1:prev.start(1)] != "[":
        return prev.start(1), _glued_message(prev_word, strict=True)
    if prev_word is not None and tok.type != "$END":
        k = _misspelled_keyword(text, prev.start(1), prev_word, offset)
        if k is not None:
            return prev.start(1), f"unexpected identifier '{prev_word}' (did you mean {k}?)"
    if v == "<" and "NAME" in names and (ph := _PLACEHOLDER.match(text, offset)):
        return offset, (f"{ph.group()} is a placeholder (from a document or template): write the name "
                        f"it stands for")
    if v == "<" and text.startswith("<>", offset):
        return offset, "U-SQL has no <>: compare with != (C# syntax)"
    if prev_word == "DELETE" and _STATEMENT_START.search(text, 0, prev.start(1)):
        return prev.start(1), ("U-SQL has no DELETE: tables are rebuilt, not edited (INSERT the rows "
                               "to keep into a new table, TRUNCATE TABLE, or ALTER TABLE ... DROP PARTITION)")
    if prev_word == "UPDATE" and v != "STATISTICS" and _STATEMENT_START.search(text, 0, prev.start(1)):
        return prev.start(1), ("U-SQL has no UPDATE (only UPDATE STATISTICS): tables are rebuilt, not edited "
                               "(SELECT the changed rows and INSERT them into a new table)")
    if v in _QUERY_WORDS and _DECLARE_EQ.search(text, 0, offset):
        return offset, (f"DECLARE gives a variable a scalar value, not a query: assign the query to a "
                        f"rowset (@rows = {v} ...)")
    if v == "SELECT" and "SELECT" not in names and before.endswith("("):
        return offset, ("U-SQL has no subqueries in expressions: join the rowsets instead "
                        "(JOIN, SEMIJOIN, ANTISEMIJOIN)")
    if tok.type == "VARIABLE" and prev_word == "SET" and "SYSVAR" in names:
        return offset, ("SET sets only @@system variables; a user variable is set once, by DECLARE "
                        "(declare a new one instead)")
    if v in ("LIMIT", "TOP") and tok.type == "NAME":
        return offset, f"U-SQL has no {v}: use ORDER BY ... FETCH n ROWS"
    top = _TOP.search(text, 0, offset)
    if top is not None and _TOP_COUNT.match(text, top.end(1)):   # SELECT TOP n, SELECT TOP (n)
        return top.start(1), "U-SQL has no TOP: use ORDER BY ... FETCH n ROWS"
    if v == "WITH" and _STATEMENT_START.search(text, 0, offset):
        return offset, ("U-SQL has no WITH ... AS (common table expressions): assign each query to a "
                        "rowset variable (@cte = SELECT ...;) and select from it")
    if v == "ON" and prev_word is not None:
        for x in reversed(_stack(e)[-4:]):
            op = getattr(x, "operator", None) if getattr(x, "condition", 1) is None else x
            side = getattr(op, "side", None)
            if getattr(op, "join", None) is not None and side is not None and side.text == "CROSS":
                return offset, "CROSS JOIN takes no ON condition: use [INNER] JOIN ... ON for one"
    words = _clause_words(e, text)
    if v in _CLAUSE_RANK and tok.type != "NAME":
        later = [w for w in words if _CLAUSE_RANK[w] > _CLAUSE_RANK[v]]
        if later and not (v == "FROM" and "FROM" in words):
            w = min(later, key=_CLAUSE_RANK.get)
            return offset, f"{_CLAUSE_NAME.get(v, v)} must come before {_CLAUSE_NAME.get(w, w)}"
    query = _innermost_query_word(e, text)
    set_op = v in ("UNION", "EXCEPT", "INTERSECT") and _SET_OPERAND.match(text, offset + len(v))
    if "FROM" in names and v != "FROM" and (v in (";", ")") or set_op
                                           or tok.type == "$END" or v in _CLAUSE_RANK):
        if query == "SELECT":
            return offset, "SELECT needs a FROM clause; for constants use FROM (VALUES(...)) AS T(c)"
        if query == "EXTRACT":
            return offset, 'EXTRACT needs FROM and its input: EXTRACT columns FROM "path" USING extractor'
    if "FETCH" in names and "ORDER" in words and v not in ("FETCH", "OFFSET") and query != "OUTPUT" \
            and (v in (";", ")") or tok.type == "$END" or v in _CLAUSE_RANK or v in ("UNION", "EXCEPT", "INTERSECT")):
        return offset, ("a query's ORDER BY needs FETCH n ROWS or OFFSET n ROWS (rows are ordered only "
                        "to be fetched; order a file with OUTPUT ... ORDER BY)")
    if v == "HAVING" and "GROUP" not in words:
        return offset, "HAVING needs a GROUP BY before it"
    if v in ("FETCH", "OFFSET") and "ORDER" not in words:
        return offset, f"{v} needs an ORDER BY before it"
    if prev_word in ("FETCH", "FIRST", "NEXT", "OFFSET") and "NUMBER" in names \
            and (tok.type in ("VARIABLE", "SYSVAR") or v in ("(", "-")):
        return offset, f"{'FETCH' if prev_word != 'OFFSET' else 'OFFSET'} takes an integer literal (FETCH 10 ROWS)"
    if set(names) == {"AS"} and before.endswith(")"):
        if any(isinstance(x, str) and x == "EXPLODE" for x in _stack(e)[-4:]):
            return offset, "EXPLODE (...) needs its alias and column names: AS t(c)"
        st = _stack(e)
        opening = max((k for k, x in enumerate(st) if isinstance(x, str) and x == "("), default=0)
        combine = opening > 0 and isinstance(st[opening - 1], str) and st[opening - 1] in ("COMBINE", "WITH")
        where = "as a COMBINE input" if combine else "in FROM"
        return offset, f"a nested query, VALUES or function call {where} needs its alias: (...) AS name"
    return None


def _describe_token(tok) -> str:
    if tok.type == "$END":
        return "end of script"
    v = tok.value
    if tok.type == "NAME":
        return f"keyword {v}" if v in _keywords() else f"identifier '{v}'"
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
        names = e.accepts or e.expected
        expected = _describe_expected(names, terminals)
        stmt_kw = _keyword_starting_statement(text, tok)
        end_if = _end_if(text, tok)
        before = text[:tok.start_pos].rstrip() if tok.type != "$END" else ""
        if before and "';'" in expected and line_col(text, len(before))[0] < tok.line \
                and _semicolon_helps(text, len(before), tok.start_pos):
            # The statement ended on an earlier line, and a ';' there lets the script go on.
            offset = len(before)
            line, col = line_col(text, offset)
            msg, expected = "missing ';' at the end of the statement", []
        elif end_if is not None:
            offset, msg = end_if
            line, col = line_col(text, offset)
            expected = []
        elif stmt_kw is not None:
            offset, word = stmt_kw
            line, col = line_col(text, offset)
            msg, expected = f"a statement cannot start with {word}", []
            if word in ("SELECT", "EXTRACT", "PROCESS", "REDUCE", "COMBINE", "VALUES"):
                msg += f" (assign the query to a rowset: @rows = {word} ...)"
        elif tok.type == "$END":
            # Point just after the last thing written, where the script stops too early.
            offset = len(text.rstrip())
            line, col = line_col(text, offset)
            msg = "unexpected end of script"
            lower = _lowercase_keyword(text, tok, names)
            if lower is not None:
                offset, word = lower
                line, col = line_col(text, offset)
                msg = f"keywords are upper-case in U-SQL: write {word.upper()}, not {word}"
                expected = []
            elif "';'" in expected and _semicolon_helps(text, len(text.rstrip()), len(text)):
                # Point at the end of the last statement, where the ';' belongs.
                stripped = len(text.rstrip())
                line, col = line_col(text, stripped)
                offset = stripped
                msg = "missing ';' at the end of the statement"
            else:
                hint = _end_hint(e, names)
                if hint is not None:
                    msg, expected = hint, []
                else:
                    hint = _usql_hint(e, text, tok, names)
                    if hint is not None:
                        offset, msg = hint
                        line, col = line_col(text, offset)
                        expected = []
        else:
            offset = tok.start_pos
            line, col = tok.line, tok.column
            word = _WORD_AT.match(text, offset)
            if word is not None and word.end() > tok.end_pos:  # a keyword cut out of a longer word
                msg = _word_message(word.group())
                if _glued_message(word.group()):
                    expected = []
            elif tok.type == "NAME" and _glued_message(tok.value, strict=True):
                msg, expected = _glued_message(tok.value, strict=True), []
            else:
                msg = f"unexpected {_describe_token(tok)}"
            before = text[:offset].rstrip()
            rest = text[offset:offset + 2]
            lower = _lowercase_keyword(text, tok, names)
            glued = _glued_start(text, offset)
            hint = _usql_hint(e, text, tok, names) if glued is None else None
            if glued is not None:
                offset = glued
                line, col = line_col(text, offset)
                msg, expected = _word_message(_WORD_AT.match(text, offset).group()), []
            elif hint is not None:
                offset, msg = hint
                line, col = line_col(text, offset)
                expected = []
            elif "NAME" in names and tok.value in _reserved_terminals() and tok.type != "NAME" \
                    and _name_was_likely(text, offset):
                # a reserved word where a name could stand (WholeWords made it the keyword)
                msg, expected = f"{tok.value} is a reserved keyword here; to use it as a name, quote it: [{tok.value}]", []
                if _STATEMENT_START.search(text, 0, offset):
                    word = tok.value
                    msg = f"a statement cannot start with {word}" + (
                        f" (assign the query to a rowset: @rows = {word} ...)"
                        if word in ("SELECT", "EXTRACT", "PROCESS", "REDUCE", "COMBINE", "VALUES") else "")
                elif before.endswith(","):
                    msg = f"unexpected keyword {tok.value} after ','; remove the trailing comma, or quote a name: [{tok.value}]"
            elif lower is not None:
                offset, word = lower
                line, col = line_col(text, offset)
                msg = f"keywords are upper-case in U-SQL: write {word.upper()}, not {word}"
                expected = []
            elif rest == "/*":
                msg, expected = "unterminated /* comment", []
            elif tok.value == "{" and "STATEMENT_BLOCK" in names:
                msg = "unclosed { ... } lambda body (or one nested more than four levels deep)"
                expected = []
            elif tok.value == "[" and "]" not in text[offset:].split("\n", 1)[0]:
                msg, expected = "unterminated [quoted identifier]", []
            elif tok.value == "=" and any(n in terminals and terminals[n].pattern.value == "=="
                                          for n in names):
                msg, expected = "unexpected '=': U-SQL compares with == (C# syntax)", []
            elif "';'" in expected and before and line_col(text, len(before))[0] < line \
                    and _semicolon_helps(text, len(before), offset):
                # The statement ended on an earlier line, and a ';' there lets the script go on.
                offset = len(before)
                line, col = line_col(text, offset)
                msg, expected = "missing ';' at the end of the statement", []
        if expected and not msg.startswith("missing"):
            shown = expected[:8]
            more = f" (or {len(expected) - 8} more)" if len(expected) > 8 else ""
            msg += f"; expected {', '.join(shown)}{more}"
            near = _near_expected_keyword(text, tok, names)
            if near is not None:   # FORM where FROM is expected
                msg += f"; did you mean {near}?"
    elif isinstance(e, UnexpectedCharacters):
        offset = e.pos_in_stream
        line, col = e.line, e.column
        ch = text[offset] if offset < len(text) else ""
        rest = text[offset:offset + 2]
        if rest == "--":
            msg = _DASH_COMMENT
        elif ch == '"' or rest == '@"':
            msg = "unterminated string literal"
            eol = text.find("\n", offset)
            curly = re.search("[\u201c\u201d]", text[offset:eol if eol >= 0 else len(text)])
            if curly:   # "Heisenberg” (text pasted from a document)
                msg += f" (the {curly.group()} at column {col + curly.start()} is a typographic quote; close with \")"
        elif rest == "/*":
            msg = "unterminated /* comment"
        elif ch == "'":
            msg = "invalid character literal"
        elif ch == "[":
            msg = "unterminated [quoted identifier]"
        elif ch in _TYPOGRAPHIC_QUOTES:
            msg = (f"unexpected character {ch!r}: a typographic quote; U-SQL strings are written in "
                   f"straight quotes {_TYPOGRAPHIC_QUOTES[ch]}")
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
