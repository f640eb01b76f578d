"""The parser's tables as plain data, built once from Lark's LALR analysis and kept in the cache.

usqlrw parses with its own LALR(1) driver and contextual lexer (usqlrw/parser.py) over tables that
Lark computes from ``grammar/usql.lark``. :func:`build` asks Lark for them once (the only place that
imports Lark to parse) and turns them into plain data: dicts, lists, tuples, strings and integers,
written with :mod:`marshal` (no pickle, no code) to the user's cache directory
(``$USQLRW_CACHE_DIR``, else ``$XDG_CACHE_HOME/usqlrw``, else ``~/.cache/usqlrw``) under a name
keyed by a hash of the grammar, the Lark version and :data:`SCHEMA`. :func:`load` reads that file
with no Lark import; a file that is not exactly what it should be (magic, checksum, schema, key,
shape) is rebuilt, never trusted.

What the tables hold (:func:`build`, one dict):

``states``, ``symbols``
    per parser state, its actions as bytes: (symbol, action) pairs of native 16-bit integers, the
    symbol an index into ``symbols`` (terminal and rule names); an action ``>= 0`` shifts (or, for
    a rule name, goes) to that state, an action ``< 0`` reduces by rule ``~action``. A state's
    actions become a dict when the parser first reaches it (:func:`state_row`).
``rules``
    per rule: (size, callback name, origin name, expand1, alias, child filter, first symbol name);
    the child filter is None or the (index, splice) pairs of Lark's child filter (``_rule``
    children spliced into their parent).
``start``, ``end``
    the start state and the state after the whole script.
``terminals``
    name -> (pattern kind ``"str"`` or ``"re"``, pattern value, regular expression).
``root``, ``keywords``, ``ignore``, ``callbacks``, ``ws``, ``flags``, ``firsts``
    the whole grammar's lexer: its terminals in Lark's order, keyword text -> keyword terminal (what
    an identifier becomes where the keyword is expected), the ignored terminals, the ignored ones
    with a callback (comments), the whitespace terminal, the regular-expression flags, and the
    characters each terminal can start with (None: any).
``lexers``, ``state_lexer``
    Lark's contextual lexers (one per set of accepted terminals): the terminals in the order Lark
    tries them and the keyword maps of their identifiers; and each state's lexer.
"""
from __future__ import annotations

import marshal
import os
import re
import sys
import zlib
from pathlib import Path

from .keywords import grammar_path

__all__ = ["SCHEMA", "load", "build", "table_key", "cache_dir", "state_row", "first_chars", "TablesError"]

#: Bumped whenever the layout of the tables changes: an older file is then rebuilt.
SCHEMA = 3
_MAGIC = b"usqlrw parse tables\n"


class TablesError(ValueError):
    """A tables file that is not what it should be."""


def cache_dir() -> Path:
    d = os.environ.get("USQLRW_CACHE_DIR")
    if d:
        return Path(d)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "usqlrw"


_VERSION = re.compile(r"""^__version__\s*(?::\s*str\s*)?=\s*["']([^"']+)["']""", re.M)


def lark_version() -> str:
    """The installed Lark's version, read from its ``__init__.py`` (no import)."""
    import importlib.util
    spec = importlib.util.find_spec("lark")
    if spec is None or not spec.origin:
        return "none"
    try:
        m = _VERSION.search(Path(spec.origin).read_text(encoding="utf-8"))
    except OSError:
        return "unknown"
    return m.group(1) if m else "unknown"


def table_key(grammar_text: str) -> str:
    """The tables' key: a hash of the grammar (its CRC-32 and length: no hashlib to import at
    start-up), the Lark version, the schema and the byte order."""
    g = grammar_text.encode()
    return f"{zlib.crc32(g):08x}{len(g):x}-{lark_version()}-{SCHEMA}{sys.byteorder[0]}"


def _path(key: str) -> Path:
    return cache_dir() / f"usql-{key}.tables"


def load() -> dict:
    """The tables: from the cache when a valid file is there, else built (and cached)."""
    text = grammar_path().read_text(encoding="utf-8")
    key = table_key(text)
    path = _path(key)
    try:
        return decode(path.read_bytes(), key)
    except (OSError, TablesError):
        pass
    data = build(text, key)
    try:
        save(path, data)
    except OSError:   # an unwritable cache: built again next time
        pass
    return data


def encode(data: dict) -> bytes:
    payload = marshal.dumps(data)
    return _MAGIC + zlib.crc32(payload).to_bytes(4, "big") + payload


def decode(raw: bytes, key: str) -> dict:
    """The tables in ``raw``, checked; raises :class:`TablesError` for anything else."""
    head = len(_MAGIC)
    if not raw.startswith(_MAGIC) or len(raw) < head + 4:
        raise TablesError("not a usqlrw tables file")
    payload = raw[head + 4:]
    if zlib.crc32(payload) != int.from_bytes(raw[head:head + 4], "big"):
        raise TablesError("checksum mismatch")
    try:
        data = marshal.loads(payload)
    except (ValueError, EOFError, TypeError) as e:
        raise TablesError(f"unreadable: {e}") from None
    _check(data, key)
    return data


_SHAPE = {"schema": int, "key": str, "lark": str, "start": int, "end": int, "states": list,
          "symbols": tuple,
          "rules": list, "terminals": dict, "root": tuple, "keywords": dict, "ignore": tuple,
          "callbacks": tuple, "ws": str, "flags": int, "lexers": list, "state_lexer": list,
          "firsts": dict}


def _check(data, key: str) -> None:
    if not isinstance(data, dict):
        raise TablesError("not a table dict")
    for name, kind in _SHAPE.items():
        if type(data.get(name)) is not kind:
            raise TablesError(f"{name}: missing or not a {kind.__name__}")
    if data["schema"] != SCHEMA or data["key"] != key:
        raise TablesError("built for another grammar, Lark or schema")
    n = len(data["states"])
    if not (0 <= data["start"] < n and 0 <= data["end"] < n) or len(data["state_lexer"]) != n:
        raise TablesError("states out of range")
    if any(type(r) is not bytes or len(r) % 4 for r in data["states"]) or \
            any(type(r) is not tuple or len(r) != 7 for r in data["rules"]):
        raise TablesError("malformed state or rule")
    if any(type(i) is not int or not 0 <= i < len(data["lexers"]) for i in data["state_lexer"]):
        raise TablesError("state lexer out of range")
    terms = data["terminals"]
    if any(n not in terms or n not in data["firsts"] for n in data["root"]) or data["ws"] not in terms:
        raise TablesError("unknown terminal")


def save(path: Path, data: dict) -> None:
    """Write the tables atomically (a reader sees the old file or the whole new one)."""
    import tempfile
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(encode(data))
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def build(grammar_text: str | None = None, key: str | None = None) -> dict:
    """The tables, from Lark's LALR analysis of the grammar (the slow path: imports Lark)."""
    import lark
    from lark.parsers.lalr_analysis import Shift

    if grammar_text is None:
        grammar_text = grammar_path().read_text(encoding="utf-8")
    lk = lark.Lark(grammar_text, parser="lalr", lexer="contextual", start="script",
                   keep_all_tokens=True, maybe_placeholders=False,
                   lexer_callbacks={"LINE_COMMENT": _no_op, "BLOCK_COMMENT": _no_op})
    table = lk.parser.parser._parse_table
    rules: list = []
    rule_index: dict = {}

    def rule_code(rule) -> int:
        i = rule_index.get(rule)
        if i is None:
            i = rule_index[rule] = len(rules)
            rules.append(_rule(rule))
        return ~i

    from array import array
    symbols = tuple(sorted({str(name) for actions in table.states.values() for name in actions}))
    index = {s: i for i, s in enumerate(symbols)}
    states = [None] * len(table.states)
    for state, actions in table.states.items():
        pairs = array("h")
        for name, (action, arg) in actions.items():
            pairs.extend((index[str(name)], arg if action is Shift else rule_code(arg)))
        states[state] = pairs.tobytes()
    if any(r is None for r in states):   # pragma: no cover - Lark numbers its states 0..n-1
        raise TablesError("Lark's states are not numbered 0..n-1")
    if len(symbols) > 32767 or len(states) > 32767 or len(rules) > 32767:  # pragma: no cover
        raise TablesError("the grammar is too large for 16-bit tables")

    contextual = lk.parser.lexer
    root = contextual.root_lexer
    root.scanner   # builds the scanner and the keyword callbacks
    keywords: dict = {}
    for tname, cb in root.callback.items():
        if type(cb).__name__ == "UnlessCallback":
            if tname != "NAME":   # the fast lexer knows keywords only as identifiers' texts
                raise TablesError(f"terminal {tname} has keywords of its own")
            keywords = {t.pattern.value: t.name for t in cb.scanner.terminals}
    lexers: list = []
    by_id: dict = {}
    state_lexer = [0] * len(states)
    for state, lx in contextual.lexers.items():
        i = by_id.get(id(lx))
        if i is None:
            lx.scanner
            unless = {tn: {t.pattern.value: t.name for t in cb.scanner.terminals}
                      for tn, cb in lx.callback.items() if type(cb).__name__ == "UnlessCallback"}
            i = by_id[id(lx)] = len(lexers)
            lexers.append((tuple(t.name for t in lx.scanner.terminals), unless))
        state_lexer[state] = i
    return {
        "schema": SCHEMA, "key": key or table_key(grammar_text), "lark": lark.__version__,
        "start": table.start_states["script"], "end": table.end_states["script"],
        "states": states, "symbols": symbols, "rules": rules,
        "terminals": {t.name: (t.pattern.type, t.pattern.value, t.pattern.to_regexp())
                      for t in lk.terminals},
        "root": tuple(t.name for t in root.scanner.terminals),
        "keywords": keywords, "ignore": tuple(sorted(root.ignore_types)),
        "callbacks": tuple(sorted(root.user_callbacks)), "ws": "WS",
        "flags": root.g_regex_flags, "lexers": lexers, "state_lexer": state_lexer,
        "firsts": {t.name: _firsts(t.pattern.to_regexp(), root.g_regex_flags) for t in lk.terminals},
    }


def _firsts(regexp: str, flags: int):
    """The characters a match can start with, as a sorted string, or None for any."""
    f = first_chars(regexp, flags)
    return None if f is None else "".join(sorted(f))


def first_chars(regexp: str, flags: int = 0):
    """The characters a match of ``regexp`` can start with, as a set (over-approximated: lookarounds
    and anchors are ignored), or None when that may be any character."""
    try:
        from re import _parser as sre_parse, _constants as c
    except ImportError:  # Python 3.10
        import sre_constants as c
        import sre_parse
    try:
        parsed = sre_parse.parse(regexp, flags)
    except Exception:  # pragma: no cover
        return None
    if parsed.state.flags & (c.SRE_FLAG_IGNORECASE | c.SRE_FLAG_VERBOSE):
        return None
    classes = {c.CATEGORY_DIGIT: "0123456789", c.CATEGORY_SPACE: " \t\n\r\f\v",
               c.CATEGORY_WORD: None}

    def seq(items):
        out = set()
        for op, av in items:
            f, nullable = item(op, av)
            if f is None:
                return None, False
            out |= f
            if not nullable:
                return out, False
        return out, True

    def item(op, av):
        if op is c.LITERAL:
            return {chr(av)}, False
        if op is c.IN:
            out = set()
            for iop, iav in av:
                if iop is c.LITERAL:
                    out.add(chr(iav))
                elif iop is c.RANGE and iav[1] - iav[0] < 512:
                    out |= {chr(x) for x in range(iav[0], iav[1] + 1)}
                elif iop is c.CATEGORY and classes.get(iav) is not None:
                    out |= set(classes[iav])
                else:  # NEGATE, wide ranges, \w: anything
                    return None, False
            return out, False
        if op is c.BRANCH:
            out, nullable = set(), False
            for alt in av[1]:
                f, n = seq(alt)
                if f is None:
                    return None, False
                out |= f
                nullable = nullable or n
            return out, nullable
        if op is c.SUBPATTERN:
            return seq(av[-1])
        if op in (c.MAX_REPEAT, c.MIN_REPEAT) or op is getattr(c, "POSSESSIVE_REPEAT", None):
            f, n = seq(av[2])
            return f, (n or av[0] == 0)
        if op in (c.AT, c.ASSERT, c.ASSERT_NOT):
            return set(), True
        return None, False

    f, nullable = seq(parsed)
    return None if nullable else f



def state_row(data: dict, state: int) -> dict:
    """The actions of ``state``: symbol name -> action."""
    pairs = memoryview(data["states"][state]).cast("h")
    symbols = data["symbols"]
    return dict(zip([symbols[i] for i in pairs[0::2]], pairs[1::2].tolist()))


def _no_op(tok):
    return tok


def _rule(rule) -> tuple:
    """(size, callback name, origin, expand1, alias, child filter, first symbol) as Lark's
    ParseTreeBuilder makes a rule's callback: the transformer's method named by the alias (else the
    template or the rule's name), ``ExpandSingleChild`` for ``?rule`` without an alias, and a child
    filter that splices the children of ``_rule`` symbols (all tokens are kept)."""
    o = rule.options
    name = rule.alias or o.template_source or rule.origin.name
    include = [(i, not sym.is_term and sym.name.startswith("_")) for i, sym in enumerate(rule.expansion)
               if o.keep_all_tokens or not (sym.is_term and sym.filter_out)]
    filt = tuple(include) if len(include) < len(rule.expansion) or any(x for _, x in include) else None
    first = str(rule.expansion[0].name) if rule.expansion else ""
    return (len(rule.expansion), str(name), str(rule.origin.name), bool(o.expand1 and not rule.alias),
            None if rule.alias is None else str(rule.alias), filt, first)


if __name__ == "__main__":   # python -m usqlrw.tables: build the tables into the cache now
    d = load()
    print(f"{_path(d['key'])}: {len(d['states'])} states, {len(d['rules'])} rules, "
          f"{len(d['lexers'])} lexers (Lark {d['lark']})", file=sys.stderr)
