"""The token: a ``str`` (its text) with its kind and position, as Lark's ``Token`` is.

The parser's fast path makes these with no Lark import; Lark's own loop (the slow path: error
messages, tests) makes Lark's tokens. Both are ``str`` subclasses with the same attributes, so the
builder takes either (a child that is a ``str`` is a token).
"""
from __future__ import annotations

__all__ = ["Token"]


class Token(str):
    """``type`` (the terminal's name), ``value`` (the text), ``start_pos``/``end_pos`` (offsets),
    ``line``/``column`` and ``end_line``/``end_column`` (1-based)."""
    __slots__ = ("type", "start_pos", "value", "line", "column", "end_line", "end_column", "end_pos")

    def __new__(cls, type, value, start_pos=None, line=None, column=None, end_line=None,
                end_column=None, end_pos=None):
        t = str.__new__(cls, value)
        t.type = type
        t.value = value
        t.start_pos = start_pos
        t.line = line
        t.column = column
        t.end_line = end_line
        t.end_column = end_column
        t.end_pos = end_pos
        return t

    @classmethod
    def new_borrow_pos(cls, type_, value, borrow_t) -> "Token":
        """A token of ``type_`` and ``value`` at ``borrow_t``'s place."""
        return cls(type_, value, borrow_t.start_pos, borrow_t.line, borrow_t.column,
                   borrow_t.end_line, borrow_t.end_column, borrow_t.end_pos)

    def __reduce__(self):
        return (self.__class__, (self.type, self.value, self.start_pos, self.line, self.column,
                                 self.end_line, self.end_column, self.end_pos))

    def __repr__(self) -> str:
        return f"Token({self.type!r}, {self.value!r})"

    def __deepcopy__(self, memo):
        return self.__reduce__()[0](*self.__reduce__()[1])

    def __eq__(self, other):
        if isinstance(other, Token) and self.type != other.type:
            return False
        return str.__eq__(self, other)

    __hash__ = str.__hash__
