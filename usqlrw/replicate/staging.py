"""The staging format: how replicated rows travel from the primary to the secondary without loss.

Choice: **usqlrw-staging/1**, a UTF-8 TSV file written by the built-in ``Outputters.Tsv`` and read
by ``Extractors.Tsv``, in which *every* column is a string made by a generated, lossless C#
expression. Why not the alternatives:

* the built-in Csv/Tsv/Text outputters with the columns as they are cannot carry ``SQL.MAP`` and
  ``SQL.ARRAY`` at all, and their text forms of ``double``/``float`` (shortest "G" form before
  .NET Core 3.0) and ``DateTime`` (no ``Kind``, culture formats) are not guaranteed to read back
  to the same value;
* ``Outputters.Parquet`` is a preview feature (it must be enabled per job), has its own type
  limits, and cannot be checked by this tool;
* a custom outputter needs an assembly registered on both accounts, which is itself a DR object.

The generated expressions need nothing but the .NET Framework classes every U-SQL job can use, so
the export and import scripts run as they are. Per type (``X`` is the value, the payload is what
follows the ``=`` marker):

=================  =====================================================  ===========================
type               payload                                                read back with
=================  =====================================================  ===========================
string             Base64 of strict UTF-8 (invalid UTF-16 fails the job)  UTF8Encoding(false, true)
byte[]             Base64                                                 Convert.FromBase64String
bool               ``1`` / ``0``                                          ``== "1"``
char               the UTF-16 code unit as a number                        ``(char) int.Parse``
(s)byte, (u)short,
(u)int, (u)long    invariant-culture decimal digits                        ``T.Parse(s, Invariant)``
float / double     the IEEE-754 bits as an int / long (NaN payloads and    BitConverter
                   -0.0 survive)
decimal            ``decimal.GetBits`` joined with ``:`` (scale kept)       ``new decimal(int[])``
DateTime           ``Ticks:Kind``                                          ``new DateTime(t, kind)``
Guid               ``ToString("N")``                                       ``Guid.ParseExact(s, "N")``
SQL.ARRAY<E>       elements joined with ``;``, each ``~`` (null) or        ``new SQL.ARRAY<E>(...)``
                   ``=``payload
SQL.MAP<K,V>       entries joined with ``;``, each key``,``value, both     ``new SQL.MAP<K,V>(...)``
                   encoded like array elements
=================  =====================================================  ===========================

A NULL column value is written as ``#NULL`` (``nullEscape`` on both sides); any other value is
``=`` followed by its payload, so an empty string (``=``) and an empty array (``=``) differ from
NULL. Payloads use only ``A-Z a-z 0-9 + / = - : ;`` and ``,``: no tab, newline, quote or ``#``,
so no quoting is needed and rows never span lines (the extractor may split files anywhere).

On the secondary, each string column is decoded and cast to the table's exact type, so the
import's SELECT states every column's type. Types that cannot be carried (user-defined types from
assemblies, anything not listed above) raise :class:`StagingError` naming the table and column;
no column is ever dropped.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["FORMAT", "StagingError", "StagedType", "parse_type", "encode_expr", "decode_expr",
           "encode_value", "decode_value", "write_rows", "read_rows", "DotNetDateTime",
           "OUTPUTTER", "EXTRACTOR", "NULL_ESCAPE", "quote_ident", "check_columns"]

FORMAT = "usqlrw-staging/1"
NULL_ESCAPE = "#NULL"
OUTPUTTER = f'Outputters.Tsv(quoting: false, nullEscape: "{NULL_ESCAPE}", outputHeader: false)'
EXTRACTOR = f'Extractors.Tsv(quoting: false, nullEscape: "{NULL_ESCAPE}", skipFirstNRows: 0, silent: false)'

_CI = "System.Globalization.CultureInfo.InvariantCulture"
_STRICT_UTF8 = "new System.Text.UTF8Encoding(false, true)"


class StagingError(ValueError):
    """A column whose type the staging format cannot carry; the message names table and column."""


_ALIASES = {
    "system.string": "string", "system.boolean": "bool", "system.char": "char", "system.byte": "byte",
    "system.sbyte": "sbyte", "system.int16": "short", "system.uint16": "ushort", "system.int32": "int",
    "system.uint32": "uint", "system.int64": "long", "system.uint64": "ulong", "system.single": "float",
    "system.double": "double", "system.decimal": "decimal", "system.datetime": "DateTime",
    "system.guid": "Guid", "guid": "Guid", "datetime": "DateTime", "system.byte[]": "byte[]",
}
_INTEGERS = {"byte", "sbyte", "short", "ushort", "int", "uint", "long", "ulong"}
_VALUE = _INTEGERS | {"bool", "char", "float", "double", "decimal", "DateTime", "Guid"}
_REFERENCE = {"string", "byte[]"}


@dataclass(frozen=True)
class StagedType:
    """A parsed U-SQL column type: ``base`` is canonical (``int``, ``SQL.MAP``...), ``args`` the
    element types of SQL.ARRAY/SQL.MAP."""
    base: str
    nullable: bool = False
    args: tuple = ()

    @property
    def text(self) -> str:
        inner = f"<{', '.join(a.text for a in self.args)}>" if self.args else ""
        return self.base + inner + ("?" if self.nullable else "")

    @property
    def can_be_null(self) -> bool:
        return self.nullable or self.base in _REFERENCE or self.base in ("SQL.ARRAY", "SQL.MAP")


def _split_top(s: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return out


def parse_type(text: str) -> StagedType:
    """Parse a type as written (``int?``, ``SQL.MAP<string, int?>``, ``System.Byte[]``)."""
    t = "".join(text.split())
    nullable = t.endswith("?")
    if nullable:
        t = t[:-1]
    m = re.fullmatch(r"(?i)(SQL\.(?:ARRAY|MAP))<(.*)>", t)
    if m:
        base = m.group(1).upper()
        args = tuple(parse_type(a) for a in _split_top(m.group(2)))
        if (base == "SQL.ARRAY" and len(args) != 1) or (base == "SQL.MAP" and len(args) != 2):
            raise StagingError(f"{text}: wrong number of type arguments")
        return StagedType(base, nullable, args)
    base = _ALIASES.get(t.lower(), t)
    return StagedType(base, nullable)


def _supported(t: StagedType, nested: bool = False) -> str | None:
    """None if the type can be carried, else why not."""
    if t.base in ("SQL.ARRAY", "SQL.MAP"):
        if nested:
            return "complex types cannot nest (U-SQL allows only built-in scalar element types)"
        for a in t.args:
            why = _supported(a, True)
            if why:
                return why
        return None
    if t.base in _VALUE or t.base in _REFERENCE:
        if t.nullable and t.base in _REFERENCE:
            return f"{t.text} is not a U-SQL type"
        return None
    return (f"{t.text} is not a built-in U-SQL type (a user-defined type from an assembly?): its "
            "serialisation is not known, so its rows cannot be staged by script")


def check_columns(table: str, columns) -> None:
    """Raise StagingError for the first column (``(name, type)`` or Column) that cannot be carried."""
    for c in columns:
        name, typ = (c.name, c.type) if hasattr(c, "name") else c
        try:
            why = _supported(parse_type(typ))
        except StagingError as e:
            why = str(e)
        if why:
            raise StagingError(f"table {table}, column {name}: {why}. Copy this table another way "
                               "(e.g. a snapshot with a custom outputter); refusing rather than "
                               "dropping the column")


# -- scalar payloads ---------------------------------------------------------------------------

def _enc_scalar(b: str, x: str) -> str:
    if b == "string":
        return f"Convert.ToBase64String({_STRICT_UTF8}.GetBytes({x}))"
    if b == "byte[]":
        return f"Convert.ToBase64String({x})"
    if b == "bool":
        return f'({x} ? "1" : "0")'
    if b == "char":
        return f"((int) {x}).ToString({_CI})"
    if b in _INTEGERS:
        return f"{x}.ToString({_CI})"
    if b == "float":
        return f"BitConverter.ToInt32(BitConverter.GetBytes({x}), 0).ToString({_CI})"
    if b == "double":
        return f"BitConverter.DoubleToInt64Bits({x}).ToString({_CI})"
    if b == "decimal":
        return f'string.Join(":", decimal.GetBits({x}).Select(usqlrw_b => usqlrw_b.ToString({_CI})))'
    if b == "DateTime":
        return f'{x}.Ticks.ToString({_CI}) + ":" + ((int) {x}.Kind).ToString({_CI})'
    if b == "Guid":
        return f'{x}.ToString("N")'
    raise StagingError(f"no payload for {b}")


def _dec_scalar(b: str, s: str) -> str:
    if b == "string":
        return f"{_STRICT_UTF8}.GetString(Convert.FromBase64String({s}))"
    if b == "byte[]":
        return f"Convert.FromBase64String({s})"
    if b == "bool":
        return f'({s} == "1")'
    if b == "char":
        return f"((char) int.Parse({s}, {_CI}))"
    if b in _INTEGERS:
        return f"{b}.Parse({s}, {_CI})"
    if b == "float":
        return f"BitConverter.ToSingle(BitConverter.GetBytes(int.Parse({s}, {_CI})), 0)"
    if b == "double":
        return f"BitConverter.Int64BitsToDouble(long.Parse({s}, {_CI}))"
    if b == "decimal":
        return f"new decimal({s}.Split(':').Select(usqlrw_b => int.Parse(usqlrw_b, {_CI})).ToArray())"
    if b == "DateTime":
        return (f"new DateTime(long.Parse({s}.Split(':')[0], {_CI}), "
                f"(DateTimeKind) int.Parse({s}.Split(':')[1], {_CI}))")
    if b == "Guid":
        return f'Guid.ParseExact({s}, "N")'
    raise StagingError(f"no payload for {b}")


def _enc_element(t: StagedType, x: str) -> str:
    """An array element or map key/value: ``~`` for null, else ``=`` + payload."""
    if t.can_be_null:
        v = f"{x}.Value" if t.nullable else x
        return f'({x} == null ? "~" : "=" + {_enc_scalar(t.base, v)})'
    return f'"=" + {_enc_scalar(t.base, x)}'


def _dec_element(t: StagedType, s: str) -> str:
    if t.can_be_null:
        return f'({s} == "~" ? ({t.text}) null : {_dec_scalar(t.base, f"{s}.Substring(1)")})'
    return _dec_scalar(t.base, f"{s}.Substring(1)")


def _payload(t: StagedType, x: str) -> str:
    if t.base == "SQL.ARRAY":
        return f'string.Join(";", {x}.Select(usqlrw_e => {_enc_element(t.args[0], "usqlrw_e")}))'
    if t.base == "SQL.MAP":
        k, v = t.args
        return (f'string.Join(";", {x}.Select(usqlrw_kv => {_enc_element(k, "usqlrw_kv.Key")} + "," + '
                f'{_enc_element(v, "usqlrw_kv.Value")}))')
    return _enc_scalar(t.base, x)


def _unpayload(t: StagedType, s: str) -> str:
    split = f'{s}.Split(";".ToCharArray(), System.StringSplitOptions.RemoveEmptyEntries)'
    if t.base == "SQL.ARRAY":
        e = t.args[0]
        return f"new SQL.ARRAY<{e.text}>({split}.Select(usqlrw_e => {_dec_element(e, 'usqlrw_e')}))"
    if t.base == "SQL.MAP":
        k, v = t.args
        return (f"new SQL.MAP<{k.text}, {v.text}>({split}.Select(usqlrw_kv => new System.Collections.Generic.KeyValuePair<{k.text}, "
                f"{v.text}>({_dec_element(k, 'usqlrw_kv.Split(' + chr(39) + ',' + chr(39) + ')[0]')}, "
                f"{_dec_element(v, 'usqlrw_kv.Split(' + chr(39) + ',' + chr(39) + ')[1]')})))")
    return _dec_scalar(t.base, s)


def encode_expr(type_text: str, column: str) -> str:
    """The C# expression that turns column ``column`` (already quoted) into its staged string."""
    t = parse_type(type_text)
    why = _supported(t)
    if why:
        raise StagingError(why)
    if t.can_be_null:
        v = f"{column}.Value" if t.nullable else column
        return f'({column} == null ? (string) null : "=" + {_payload(t, v)})'
    return f'"=" + {_payload(t, column)}'


def decode_expr(type_text: str, column: str) -> str:
    """The C# expression that turns staged string column ``column`` back into ``type_text``,
    cast to that exact type so the import states it."""
    t = parse_type(type_text)
    why = _supported(t)
    if why:
        raise StagingError(why)
    inner = _unpayload(t, f"{column}.Substring(1)")
    if t.can_be_null:
        return f"({t.text}) ({column} == null ? ({t.text}) null : {inner})"
    return f"({t.text}) {inner}"




def quote_ident(name: str) -> str:
    """``name`` spelled as a U-SQL identifier: bare when it can be, else ``[...]`` (U-SQL and C#
    reserved words included: usqlrw.keywords.quote_ident)."""
    from ..keywords import quote_ident as quote
    return quote(name)


# -- the format in Python: the executable specification ------------------------------------------
#
# What the generated C# writes and reads, done in Python, so the format can be tested for
# losslessness and used to inspect or prepare staged files in drills. Values are Python values:
# str, bytes, bool, int, float, decimal.Decimal, uuid.UUID, DotNetDateTime, list (SQL.ARRAY),
# dict (SQL.MAP), None; char is a one-character str.

import base64 as _b64
import decimal as _dec
import struct as _struct
import uuid as _uuid
from typing import NamedTuple as _NamedTuple

_RANGES = {"byte": (0, 255), "sbyte": (-128, 127), "short": (-2**15, 2**15 - 1), "ushort": (0, 2**16 - 1),
           "int": (-2**31, 2**31 - 1), "uint": (0, 2**32 - 1), "long": (-2**63, 2**63 - 1),
           "ulong": (0, 2**64 - 1)}


class DotNetDateTime(_NamedTuple):
    """A System.DateTime as it is stored: 100-ns ticks since 0001-01-01 and its Kind (0 Unspecified,
    1 Utc, 2 Local)."""
    ticks: int
    kind: int = 0


def _i32(x: int) -> int:
    return x - 2**32 if x >= 2**31 else x


def _decimal_bits(v: _dec.Decimal) -> list[int]:
    sign, digits, exp = v.as_tuple()
    if not isinstance(exp, int):
        raise StagingError(f"{v} is not a finite decimal")
    mant = int("".join(map(str, digits)) or "0")
    if exp > 0:
        mant, exp = mant * 10 ** exp, 0
    scale = -exp
    if scale > 28 or mant >= 2**96:
        raise StagingError(f"{v} does not fit System.Decimal")
    flags = (scale << 16) | (0x80000000 if sign else 0)
    return [_i32(mant & 0xFFFFFFFF), _i32((mant >> 32) & 0xFFFFFFFF), _i32(mant >> 64), _i32(flags)]


def _decimal_from_bits(bits: list[int]) -> _dec.Decimal:
    lo, mid, hi, flags = (b & 0xFFFFFFFF for b in bits)
    mant = lo | (mid << 32) | (hi << 64)
    scale = (flags >> 16) & 0xFF
    sign = 1 if flags & 0x80000000 else 0
    return _dec.Decimal((sign, tuple(int(d) for d in str(mant)), -scale))


def _scalar_payload(b: str, v) -> str:
    if b == "string":
        try:
            return _b64.b64encode(v.encode("utf-8", "strict")).decode()
        except UnicodeEncodeError as e:   # a lone surrogate: the C# strict encoder throws too
            raise StagingError(f"string with invalid UTF-16 at {e.start}") from None
    if b == "byte[]":
        return _b64.b64encode(bytes(v)).decode()
    if b == "bool":
        return "1" if v else "0"
    if b == "char":
        if len(v) != 1 or ord(v) > 0xFFFF:
            raise StagingError(f"{v!r} is not one UTF-16 code unit")
        return str(ord(v))
    if b in _INTEGERS:
        lo, hi = _RANGES[b]
        if not lo <= v <= hi:
            raise StagingError(f"{v} is out of range for {b}")
        return str(v)
    if b == "float":
        return str(_struct.unpack("<i", _struct.pack("<f", v))[0])
    if b == "double":
        return str(_struct.unpack("<q", _struct.pack("<d", v))[0])
    if b == "decimal":
        return ":".join(str(x) for x in _decimal_bits(v))
    if b == "DateTime":
        return f"{v.ticks}:{v.kind}"
    if b == "Guid":
        return v.hex
    raise StagingError(f"no payload for {b}")


def _scalar_value(b: str, s: str):
    if b == "string":
        return _b64.b64decode(s, validate=True).decode("utf-8", "strict")
    if b == "byte[]":
        return _b64.b64decode(s, validate=True)
    if b == "bool":
        return s == "1"
    if b == "char":
        return chr(int(s))
    if b in _INTEGERS:
        return int(s)
    if b == "float":
        return _struct.unpack("<f", _struct.pack("<i", int(s)))[0]
    if b == "double":
        return _struct.unpack("<d", _struct.pack("<q", int(s)))[0]
    if b == "decimal":
        return _decimal_from_bits([int(x) for x in s.split(":")])
    if b == "DateTime":
        t, k = s.split(":")
        return DotNetDateTime(int(t), int(k))
    if b == "Guid":
        return _uuid.UUID(hex=s)
    raise StagingError(f"no payload for {b}")


def _element(t: StagedType, v) -> str:
    if v is None:
        if not t.can_be_null:
            raise StagingError(f"null in a {t.text} element")
        return "~"
    return "=" + _scalar_payload(t.base, v)


def _element_value(t: StagedType, s: str):
    return None if s == "~" else _scalar_value(t.base, s[1:])


def encode_value(type_text: str, value) -> str:
    """The staged field for ``value`` of a column of type ``type_text`` (``#NULL`` for None)."""
    t = parse_type(type_text)
    why = _supported(t)
    if why:
        raise StagingError(why)
    if value is None:
        if not t.can_be_null:
            raise StagingError(f"null in a {t.text} column")
        return NULL_ESCAPE
    if t.base == "SQL.ARRAY":
        return "=" + ";".join(_element(t.args[0], v) for v in value)
    if t.base == "SQL.MAP":
        k, vt = t.args
        return "=" + ";".join(_element(k, a) + "," + _element(vt, b) for a, b in value.items())
    return "=" + _scalar_payload(t.base, value)


def decode_value(type_text: str, field: str):
    """The value a staged field holds (the inverse of :func:`encode_value`)."""
    t = parse_type(type_text)
    if field == NULL_ESCAPE:
        return None
    if not field.startswith("="):
        raise StagingError(f"{field[:20]!r} is not a {FORMAT} field")
    body = field[1:]
    if t.base == "SQL.ARRAY":
        return [_element_value(t.args[0], e) for e in body.split(";") if e]
    if t.base == "SQL.MAP":
        k, vt = t.args
        out = {}
        for e in (x for x in body.split(";") if x):
            a, b = e.split(",")
            out[_element_value(k, a)] = _element_value(vt, b)
        return out
    return _scalar_value(t.base, body)


def write_rows(columns, rows) -> bytes:
    """A staged file (UTF-8 TSV, no header) for ``rows`` (sequences in ``columns`` order)."""
    out = []
    for r in rows:
        out.append("\t".join(encode_value(c[1] if isinstance(c, tuple) else c.type, v)
                             for c, v in zip(columns, r)))
    return ("".join(line + "\r\n" for line in out)).encode("utf-8")


def read_rows(columns, data: bytes) -> list:
    """The rows of a staged file; every line must have exactly one field per column."""
    rows = []
    for n, line in enumerate(data.decode("utf-8").splitlines(), 1):
        fields = line.split("\t")
        if len(fields) != len(columns):
            raise StagingError(f"line {n}: {len(fields)} fields, expected {len(columns)}")
        rows.append([decode_value(c[1] if isinstance(c, tuple) else c.type, f) for c, f in zip(columns, fields)])
    return rows
