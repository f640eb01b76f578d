"""Reading a TOML file that a user wrote (the DR config, ``usqlrw.toml``, ``pyproject.toml``).

:func:`read_toml` turns every way such a file can be unusable into one :class:`TomlFileError`
with a one-line reason: missing, a folder, unreadable, too large, not UTF-8 (with the line and
column), not TOML (tomllib's line and column), or nested too deeply (what would otherwise be a
RecursionError). The reason never quotes the file's text, so no secret in it is shown.
"""
from __future__ import annotations

import codecs

__all__ = ["TomlFileError", "read_toml", "MAX_DEPTH", "MAX_BYTES"]

#: Deeper tables and arrays are refused; no usqlrw setting nests more than a few levels.
MAX_DEPTH = 32
#: Larger files are refused rather than parsed.
MAX_BYTES = 16 * 1024 * 1024


class TomlFileError(ValueError):
    """A TOML file that cannot be used; ``reason`` is one line without the file's name."""

    def __init__(self, path: str, reason: str):
        self.path, self.reason = path, reason
        super().__init__(f"{path}: {reason}")


def _depth_exceeds(value, limit: int) -> bool:
    stack = [(value, 0)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, (dict, list)):
            if d >= limit:
                return True
            stack += [(x, d + 1) for x in (v.values() if isinstance(v, dict) else v)]
    return False


def _line_col(data: bytes, offset: int) -> tuple[int, int]:
    before = data[:offset]
    line = before.count(b"\n") + 1
    return line, offset - (before.rfind(b"\n") + 1) + 1


def read_toml(path: str) -> dict:
    """The table in the TOML file at ``path``; :class:`TomlFileError` if it cannot be used."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    path = str(path)
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise TomlFileError(path, "no such file") from None
    except IsADirectoryError:
        raise TomlFileError(path, "is a directory, not a TOML file") from None
    except PermissionError:
        raise TomlFileError(path, "cannot read: permission denied") from None
    except OSError as e:
        raise TomlFileError(path, f"cannot read: {e.strerror or type(e).__name__}") from None
    if len(data) > MAX_BYTES:
        raise TomlFileError(path, f"is larger than {MAX_BYTES // (1024 * 1024)} MB; not a config file")
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line, col = _line_col(data, e.start)
        raise TomlFileError(path, f"not UTF-8 text: byte 0x{data[e.start]:02x} at line {line}, column {col} "
                                  "(TOML files must be UTF-8)") from None
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise TomlFileError(path, f"not valid TOML: {e}") from None
    except RecursionError:
        raise TomlFileError(path, f"not usable: tables or arrays nested deeper than {MAX_DEPTH} levels") from None
    if _depth_exceeds(table, MAX_DEPTH):
        raise TomlFileError(path, f"not usable: tables or arrays nested deeper than {MAX_DEPTH} levels")
    return table
