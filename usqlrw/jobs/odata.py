"""The small OData subset the ADLA list operations take: ``$filter`` and ``$orderby`` over JSON documents.

    >>> f = parse_filter("state eq 'Ended' and (priority lt 100 or name eq 'x')")
    >>> f({"state": "Ended", "priority": 5, "name": "y"})
    True
    >>> f({"state": "Running", "priority": 5})
    False
    >>> parse_filter("submitTime ge datetimeoffset'2024-01-01T00:00:00Z'")({"submitTime": "2024-01-02T00:00:00.000+00:00"})
    True

Fields are paths into the document (``related/recurrenceId``). Operators: eq ne gt ge lt le,
and or not, parentheses; functions ``substringof(s, field)``, ``startswith``, ``endswith``,
``contains``. Literals: ``'text'`` (``''`` escapes a quote), numbers, true/false/null,
``datetimeoffset'...'``, ``datetime'...'`` and ``guid'...'``. String comparison ignores case.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone

__all__ = ["ODataError", "parse_filter", "sort_documents", "parse_time"]


class ODataError(ValueError):
    pass


_TOKEN = re.compile(r"""
    \s*(?:
      (?P<typed>(?:datetimeoffset|datetime|guid)'[^']*')
    | (?P<str>'(?:[^']|'')*')
    | (?P<num>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
    | (?P<punct>[(),])
    | (?P<word>[A-Za-z_$][A-Za-z0-9_/.$]*)
    )""", re.X)

_COMPARE = {"eq", "ne", "gt", "ge", "lt", "le"}
_FUNCS = {"substringof", "startswith", "endswith", "contains"}


def _tokens(text: str):
    pos, out = 0, []
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ODataError(f"cannot read $filter at character {pos + 1}: {text[pos:pos + 20]!r}")
        pos = m.end()
        kind = m.lastgroup
        val = m.group(kind)
        if kind == "typed":
            tname, _, rest = val.partition("'")
            raw = rest[:-1]
            out.append(("lit", _parse_time(raw) if tname.startswith("datetime") else raw.lower()))
        elif kind == "str":
            out.append(("lit", val[1:-1].replace("''", "'")))
        elif kind == "num":
            out.append(("lit", float(val) if any(c in val for c in ".eE") else int(val)))
        elif kind == "punct":
            out.append((val, val))
        else:
            low = val.lower()
            if low in ("and", "or", "not") or low in _COMPARE:
                out.append((low, low))
            elif low in ("true", "false"):
                out.append(("lit", low == "true"))
            elif low == "null":
                out.append(("lit", None))
            else:
                out.append(("field", val))
    return out


_FRACTION = re.compile(r"(T\d\d:\d\d:\d\d)\.(\d+)")


def parse_time(s: str) -> datetime:
    """An ISO 8601 date and time, aware (UTC when no offset is given). Accepts ``Z`` and fractions of
    any length (msrest sends 1 to 6 digits, the service 7), which Python 3.10's fromisoformat does not."""
    t = s.strip().replace("Z", "+00:00").replace("z", "+00:00")
    t = _FRACTION.sub(lambda m: f"{m.group(1)}.{(m.group(2) + '000000')[:6]}", t)
    d = datetime.fromisoformat(t)
    return d if d.tzinfo else d.replace(tzinfo=timezone.utc)


def _parse_time(s: str):
    try:
        return parse_time(s)
    except ValueError:
        raise ODataError(f"not a date and time: {s!r}") from None


def _get(doc, path: str):
    cur = doc
    for part in path.split("/"):
        if not isinstance(cur, dict):
            return None
        if part in cur:
            cur = cur[part]
        else:  # OData member names are matched without regard to case here
            cur = next((v for k, v in cur.items() if k.lower() == part.lower()), None)
    return cur


def _norm(a, b):
    """Bring two values to comparable forms: datetimes with datetimes, strings case-folded."""
    if isinstance(b, datetime) and isinstance(a, str):
        try:
            a = _parse_time(a)
        except ODataError:
            pass
    if isinstance(a, datetime) and isinstance(b, str):
        try:
            b = _parse_time(b)
        except ODataError:
            pass
    if isinstance(a, str) and isinstance(b, str):
        return a.lower(), b.lower()
    return a, b


def _compare(op, a, b) -> bool:
    a, b = _norm(a, b)
    if op == "eq":
        return a == b
    if op == "ne":
        return a != b
    if a is None or b is None:
        return False
    try:
        return {"gt": a > b, "ge": a >= b, "lt": a < b, "le": a <= b}[op]
    except TypeError:
        return False


class _Parser:
    def __init__(self, toks):
        self.toks, self.i = toks, 0

    def peek(self):
        return self.toks[self.i][0] if self.i < len(self.toks) else None

    def take(self, kind=None):
        if self.i >= len(self.toks):
            raise ODataError("$filter ends too early")
        tok = self.toks[self.i]
        if kind and tok[0] != kind:
            raise ODataError(f"expected {kind!r} in $filter, found {tok[1]!r}")
        self.i += 1
        return tok

    def expr(self):
        left = self.conj()
        while self.peek() == "or":
            self.take()
            right = self.conj()
            left = (lambda l, r: lambda d: l(d) or r(d))(left, right)
        return left

    def conj(self):
        left = self.unary()
        while self.peek() == "and":
            self.take()
            right = self.unary()
            left = (lambda l, r: lambda d: l(d) and r(d))(left, right)
        return left

    def unary(self):
        if self.peek() == "not":
            self.take()
            inner = self.unary()
            return lambda d: not inner(d)
        if self.peek() == "(":
            self.take()
            inner = self.expr()
            self.take(")")
            return inner
        left = self.value()
        op = self.peek()
        if op in _COMPARE:
            self.take()
            right = self.value()
            return lambda d: _compare(op, left(d), right(d))
        return lambda d: bool(left(d))

    def value(self):
        kind, val = self.take()
        if kind == "lit":
            return lambda d: val
        if kind == "field":
            if self.peek() == "(" and val.lower() in _FUNCS:
                self.take("(")
                a = self.value()
                self.take(",")
                b = self.value()
                self.take(")")
                name = val.lower()

                def fn(d, a=a, b=b, name=name):
                    x, y = (str(v or "").lower() for v in (a(d), b(d)))
                    if name == "substringof":
                        return x in y
                    if name == "contains":
                        return y in x
                    return x.startswith(y) if name == "startswith" else x.endswith(y)
                return fn
            return lambda d: _get(d, val)
        raise ODataError(f"unexpected {val!r} in $filter")


def parse_filter(text: str | None):
    """A predicate over documents for an OData ``$filter`` (None or empty: everything matches)."""
    if not text or not text.strip():
        return lambda d: True
    p = _Parser(_tokens(text))
    pred = p.expr()
    if p.i != len(p.toks):
        raise ODataError(f"unexpected {p.toks[p.i][1]!r} in $filter")
    return pred


def sort_documents(docs: list, orderby: str | None) -> list:
    """Sort by ``$orderby`` (``field [asc|desc], ...``); values that are missing sort last."""
    if not orderby or not orderby.strip():
        return docs
    keys = []
    for part in orderby.split(","):
        words = part.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise ODataError(f"cannot read $orderby {orderby!r}")
        keys.append((words[0], len(words) == 2 and words[1].lower() == "desc"))
    out = list(docs)
    for field, desc in reversed(keys):
        present = [d for d in out if _get(d, field) is not None]
        missing = [d for d in out if _get(d, field) is None]

        def key(d, field=field):
            v = _get(d, field)
            return v.lower() if isinstance(v, str) else v
        try:
            present.sort(key=key, reverse=desc)
        except TypeError:
            present.sort(key=lambda d: str(key(d)), reverse=desc)
        out = present + missing
    return out
