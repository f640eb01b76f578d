"""A small schema checker for the JSON usqlrw reads back from disk (plans, state, manifests).

Anything read back is checked before it is trusted: a wrong type, a missing key or an unknown
one is a :class:`SchemaError` naming where (``steps[3].account``) and what was expected, never a
``KeyError`` deep inside.

    >>> check({"n": 1}, Obj({"n": Int()}), "x.json")
    >>> check({"n": "1"}, Obj({"n": Int()}), "x.json")
    Traceback (most recent call last):
    ...
    usqlrw.schema.SchemaError: x.json: n: expected a whole number, found a string
"""
from __future__ import annotations

import re

__all__ = ["SchemaError", "check", "Str", "Int", "Num", "Bool", "Null", "List", "Obj", "Map", "Enum", "Any", "Maybe"]


class SchemaError(ValueError):
    pass


def _kind(v) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "true/false", int: "a number",
            float: "a number", type(None): "null"}.get(type(v), type(v).__name__)


class _Spec:
    what = "a value"

    def check(self, v, at: str):
        raise NotImplementedError

    def fail(self, v, at, what=None):
        raise SchemaError(f"{at or '(top)'}: expected {what or self.what}, found {_kind(v)}")


class Any(_Spec):
    def check(self, v, at):
        pass


class Str(_Spec):
    what = "a string"

    def __init__(self, pattern: str | None = None, what: str | None = None, max_len: int = 100_000):
        self.pattern = re.compile(pattern) if pattern else None
        self.what = what or self.what
        self.max_len = max_len

    def check(self, v, at):
        if not isinstance(v, str):
            self.fail(v, at)
        if len(v) > self.max_len or (self.pattern and not self.pattern.fullmatch(v)):
            raise SchemaError(f"{at}: {v[:80]!r} is not {self.what}")


class Int(_Spec):
    what = "a whole number"

    def __init__(self, minimum: int | None = 0):
        self.minimum = minimum

    def check(self, v, at):
        if not isinstance(v, int) or isinstance(v, bool):
            self.fail(v, at)
        if self.minimum is not None and v < self.minimum:
            raise SchemaError(f"{at}: {v} is below {self.minimum}")


class Num(_Spec):
    what = "a number"

    def check(self, v, at):
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            self.fail(v, at)


class Bool(_Spec):
    what = "true or false"

    def check(self, v, at):
        if not isinstance(v, bool):
            self.fail(v, at)


class Null(_Spec):
    what = "null"

    def check(self, v, at):
        if v is not None:
            self.fail(v, at)


class Maybe(_Spec):
    """The spec, or null."""

    def __init__(self, spec: _Spec):
        self.spec = spec

    def check(self, v, at):
        if v is not None:
            self.spec.check(v, at)


class Enum(_Spec):
    def __init__(self, *values):
        self.values = values
        self.what = "one of " + ", ".join(map(repr, values))

    def check(self, v, at):
        if v not in self.values:
            raise SchemaError(f"{at}: {str(v)[:80]!r} is not {self.what}")


class List(_Spec):
    what = "a list"

    def __init__(self, item: _Spec, max_items: int = 100_000):
        self.item, self.max_items = item, max_items

    def check(self, v, at):
        if not isinstance(v, list):
            self.fail(v, at)
        if len(v) > self.max_items:
            raise SchemaError(f"{at}: more than {self.max_items} items")
        for i, x in enumerate(v):
            self.item.check(x, f"{at}[{i}]")


class Map(_Spec):
    """An object with any string keys (matching ``key``), each value of one spec."""
    what = "an object"

    def __init__(self, value: _Spec, key: str | None = None):
        self.value, self.key = value, re.compile(key) if key else None

    def check(self, v, at):
        if not isinstance(v, dict):
            self.fail(v, at)
        for k, x in v.items():
            if self.key and not self.key.fullmatch(k):
                raise SchemaError(f"{at}: unexpected key {k[:80]!r}")
            self.value.check(x, f"{at}.{k}" if at else k)


class Obj(_Spec):
    """An object with these required keys, these optional ones, and (unless ``extra``) no others."""
    what = "an object"

    def __init__(self, required: dict, optional: dict | None = None, extra: bool = False):
        self.required, self.optional, self.extra = required, optional or {}, extra

    def check(self, v, at):
        if not isinstance(v, dict):
            self.fail(v, at)
        for k, spec in self.required.items():
            if k not in v:
                raise SchemaError(f"{at + ': ' if at else ''}missing key {k!r}")
            spec.check(v[k], f"{at}.{k}" if at else k)
        for k, x in v.items():
            if k in self.required:
                continue
            if k in self.optional:
                self.optional[k].check(x, f"{at}.{k}" if at else k)
            elif not self.extra:
                raise SchemaError(f"{at + ': ' if at else ''}unexpected key {str(k)[:80]!r}")


def check(value, spec: _Spec, where: str):
    """Raise :class:`SchemaError` ("where: path: what is wrong") unless ``value`` fits ``spec``."""
    try:
        spec.check(value, "")
    except SchemaError as e:
        raise SchemaError(f"{where}: {e}") from None
