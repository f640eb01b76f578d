"""The .NET members of exact, binary encodings, in the engine's C# subset: Base64
(``Convert.ToBase64String/FromBase64String``), UTF-8 (``Encoding.UTF8``, ``new UTF8Encoding(false,
true)``: ``GetBytes``/``GetString``), ``BitConverter`` (``DoubleToInt64Bits``,
``Int64BitsToDouble``, ``ToInt32/ToSingle/ToInt64/ToDouble(BitConverter.GetBytes(x), 0)``),
``decimal.GetBits``/``new decimal(int[])``, ``DateTime.Kind``/``new DateTime(ticks[, kind])``,
``Guid.ToString("N"|"D"|"B"|"P")``/``Guid.Parse``/``Guid.ParseExact``, ``char`` code units
(``(int) c``, ``(char) n``), ``KeyValuePair``/``new SQL.MAP<K,V>(pairs)``, ``ToCharArray`` (the
unsigned types' ``Parse`` is :mod:`.csharp`'s). These are what the staging codec's generated C# uses
(:mod:`usqlrw.replicate.staging`); each is lowered with .NET's semantics, and where the engine's
values cannot carry what .NET's do, the job fails rather than change a value:

* the engine's ``DateTime`` has no ``Kind`` (``Kind`` is ``Unspecified``) and keeps microseconds:
  ``new DateTime(ticks)`` with ticks that are not a whole microsecond fails the job;
* the engine's ``decimal`` has no scale of its own (``DECIMAL(38,10)``): ``decimal.GetBits`` gives
  the smallest scale that holds the value, ``new decimal(bits)`` fails the job when the value has
  more than 10 decimal places;
* the engine keeps one NaN: ``DoubleToInt64Bits(NaN)`` is .NET's ``double.NaN``
  (``0xFFF8000000000000``), every NaN bit pattern reads back as NaN;
* strings are valid Unicode: ``GetBytes`` never meets a lone surrogate, and a non-strict
  ``GetString`` of invalid UTF-8 fails the job instead of inserting U+FFFD.

Hooks: :mod:`.csharp` asks :func:`static_call`, :func:`static_member`, :func:`new`,
:func:`method`, :func:`property`, :func:`cast_kind` and :func:`convert` first; each returns None
when the member is not one of these."""
from __future__ import annotations

from .. import ast as A
from . import types as Ty
from .errors import CannotRun, EngineError
from .sqlbuild import T, exp, lit
from .types import UType

__all__ = ["CLASSES", "STATICS", "MEMBERS", "static_call", "static_member", "new", "method", "property",
           "cast_kind", "convert", "guid_format", "is_kind_type"]

CLASSES = {"BitConverter": "BitConverter", "System.BitConverter": "BitConverter",
           "Encoding": "Encoding", "System.Text.Encoding": "Encoding",
           "uint": "uint", "UInt32": "uint", "System.UInt32": "uint", "ulong": "ulong", "UInt64": "ulong",
           "System.UInt64": "ulong", "sbyte": "sbyte", "SByte": "sbyte", "System.SByte": "sbyte",
           "ushort": "ushort", "UInt16": "ushort", "System.UInt16": "ushort", "System.Int16": "short",
           "System.Byte": "byte", "System.Decimal": "decimal", "System.Single": "float",
           "System.Boolean": "bool", "System.Char": "char",
           "StringSplitOptions": "StringSplitOptions", "System.StringSplitOptions": "StringSplitOptions"}
STATICS = {"BitConverter": {"DoubleToInt64Bits", "Int64BitsToDouble", "GetBytes", "ToInt32", "ToInt64",
                            "ToSingle", "ToDouble"},
           "Convert": {"ToBase64String", "FromBase64String"}, "Encoding": {"UTF8"},
           "Guid": {"Parse", "ParseExact", "Empty"}, "decimal": {"GetBits"},
           "uint": {"Parse", "MaxValue", "MinValue"}, "ulong": {"Parse", "MaxValue", "MinValue"},
           "sbyte": {"Parse"}, "ushort": {"Parse"}, "StringSplitOptions": {"None", "RemoveEmptyEntries"}}
MEMBERS = {"Kind", "GetBytes", "GetString", "ToCharArray"}

BYTES = UType("byte[]", True)
KIND = UType("DateTimeKind")
GUID = UType("Guid")
_ENC_STRICT, _ENC_LAX = UType("UTF8Encoding.strict"), UType("UTF8Encoding")
_MAX_TICKS = 3155378975999999999          # DateTime.MaxValue.Ticks
_EPOCH_TICKS = 621355968000000000         # 1970-01-01 in ticks


def is_kind_type(t: A.Type) -> bool:
    return t is not None and t.name in ("DateTimeKind", "System.DateTimeKind") and not t.array_rank


def _nonnull(lw, x, t, node, what):
    if not t.may_be_null:
        return x
    return T("CASE WHEN {x} IS NULL THEN {err} ELSE {x} END", x=x,
             err=lw.error(f"ArgumentNullException: {what}", node))


def element(lw, x, i1) -> exp.Expression:
    """The element at the 1-based position ``i1`` of the list ``x``. On DuckDB ``list_extract``:
    sqlglot's DuckDB output of ``x[i]`` shifts the indexes inside a LIST_TRANSFORM's lambda when
    ``x`` is one (``l.Select(e => e.Split(',')[1])[0]`` read the wrong elements)."""
    if getattr(getattr(lw.job, "engine", None), "dialect", "duckdb") == "spark":   # as before
        return T("{x}[" + str(i1) + "]", x=x) if isinstance(i1, int) else T("{x}[{i}]", x=x, i=i1)
    return T("list_extract({x}, {i})", x=x, i=i1)


def let(lw, v, body):
    """``body(x)`` with ``v`` computed once: ``list_transform([v], x -> body)[1]``. The lowering
    substitutes operands into templates, so a value used n times at each of k nested levels would
    otherwise be written n^k times."""
    if isinstance(v, (exp.Column, exp.Literal, exp.Null, exp.Boolean, exp.Identifier)):
        return body(v)
    name = lw.fresh("v")
    lam = exp.Lambda(this=body(exp.column(name)), expressions=[exp.to_identifier(name)])
    tr = exp.Transform(this=exp.Array(expressions=[v]), expression=lam)
    if getattr(getattr(lw.job, "engine", None), "dialect", "duckdb") == "spark":
        return exp.Bracket(this=tr, expressions=[lit(0)])
    # list_extract, not l[1]: sqlglot's DuckDB output shifts the indexes inside the lambda of an
    # indexed LIST_TRANSFORM
    return T("list_extract({l}, 1)", l=tr)


# -- IEEE-754 bits, by arithmetic (exact: only multiplications by powers of two) ------------------

def _bits(lw, x, ebits: int, mbits: int, nan_bits: int) -> exp.Expression:
    return let(lw, x, lambda v: _bits_of(lw, v, ebits, mbits, nan_bits))


def _bits_of(lw, x, ebits: int, mbits: int, nan_bits: int) -> exp.Expression:
    """The IEEE-754 bits of ``x`` (a DOUBLE holding a double or a float) as a signed integer of
    1 + ebits + mbits bits, as ``BitConverter`` gives them."""
    bias = 2 ** (ebits - 1) - 1
    emin = 1 - bias
    total = 1 + ebits + mbits
    sign_off = 2 ** (total - 1)
    a = T("abs({x})", x=x)
    # log2 may be one off next to a power of two: correct it exactly
    e = let(lw, T("CAST(floor(log2({a})) AS INTEGER)", a=a), lambda e0: T(
        "({e} - CASE WHEN pow(2.0, {e}) > {a} THEN 1 ELSE 0 END + CASE WHEN pow(2.0, {e} + 1) <= {a} THEN 1 ELSE 0 END)",
        e=e0, a=a))
    normal = let(lw, e, lambda e: T("CAST({e} + " + str(bias) + " AS BIGINT) * " + str(2 ** mbits) + " + CAST(({a} * pow(2.0, -{e}) - 1.0) * "
               + str(float(2 ** mbits)) + " AS BIGINT)", e=e, a=a))
    # below 2^emin: exponent field 0, the mantissa is a / 2^(emin - mbits)
    sub = T("CAST({a} * pow(2.0, " + str(-emin) + ") * pow(2.0, " + str(mbits) + ") AS BIGINT)", a=a)
    mag = T("CASE WHEN {a} = 0 THEN CAST(0 AS BIGINT) WHEN {a} < pow(2.0, " + str(emin) + ") THEN {sub} ELSE {normal} END",
            a=a, sub=sub, normal=normal)
    inf = (2 ** ebits - 1) * 2 ** mbits
    mag = T("CASE WHEN abs({x}) = CAST('inf' AS DOUBLE) THEN CAST(" + str(inf) + " AS BIGINT) ELSE {m} END", x=x, m=mag)
    negative = T("({x} < 0 OR ({x} = 0 AND atan2({x}, -1.0) < 0))", x=x)
    # {m} + (-2^(n-1)): a BIGINT sum, where 2^63 itself would be a HUGEINT constant
    return T("CASE WHEN isnan({x}) THEN CAST(" + str(nan_bits) + " AS BIGINT) WHEN {neg} THEN {m} + (CAST(-"
             + str(sign_off - 1) + " AS BIGINT) - 1) ELSE {m} END", x=x, neg=negative, m=mag)


def _from_bits(lw, b, ebits: int, mbits: int) -> exp.Expression:
    """The value (DOUBLE) of IEEE-754 bits held in a signed integer ``b``."""
    return let(lw, b, lambda v: _from_bits_of(v, ebits, mbits))


def _from_bits_of(b, ebits: int, mbits: int) -> exp.Expression:
    bias = 2 ** (ebits - 1) - 1
    total = 1 + ebits + mbits
    u = T("(CAST({b} AS BIGINT) & " + str(2 ** (total - 1) - 1) + ")", b=b)
    field = T("({u} // " + str(2 ** mbits) + ")", u=u)
    mant = T("({u} % " + str(2 ** mbits) + ")", u=u)
    top = 2 ** ebits - 1
    mag = T("CASE WHEN {f} = " + str(top) + " THEN (CASE WHEN {m} = 0 THEN CAST('inf' AS DOUBLE) ELSE CAST('nan' AS DOUBLE) END) "
            "WHEN {f} = 0 THEN CAST({m} AS DOUBLE) * pow(2.0, -" + str(mbits) + ") * pow(2.0, " + str(1 - bias) + ") "
            "ELSE CAST({m} + " + str(2 ** mbits) + " AS DOUBLE) * pow(2.0, {f} - " + str(bias + mbits) + ") END",
            f=field, m=mant)
    return T("CASE WHEN {b} < 0 THEN -({v}) ELSE {v} END", b=b, v=mag)


_BITS = {"double": (11, 52, -2251799813685248), "float": (8, 23, -4194304)}   # .NET's NaN: 0xFFF8..., 0xFFC00000


def _double_bits(lw, x, t: UType):
    return _bits(lw, exp.Cast(this=x, to=exp.DataType.build("DOUBLE")), *_BITS["double" if t.name != "float" else "float"])


def _dotted(n) -> str:
    parts = []
    while isinstance(n, A.MemberAccess) and isinstance(n.member, A.Identifier):
        parts.append(n.member.name)
        n = n.target
    return ".".join([n.ident.name] + parts[::-1]) if isinstance(n, A.Name) else ""


def _is_getbytes(a) -> bool:
    return (isinstance(a, A.Call) and isinstance(a.func, A.MemberAccess) and isinstance(a.func.member, A.Identifier)
            and a.func.member.name == "GetBytes" and CLASSES.get(_dotted(a.func.target)) == "BitConverter"
            and len(a.args) == 1)


def _bitconverter(lw, name, call: A.Call, scope):
    if name == "GetBytes":
        raise CannotRun("BitConverter.GetBytes is supported by the engine only as the first argument of "
                        "BitConverter.ToInt32/ToSingle/ToInt64/ToDouble(..., 0)", call)
    if name in ("DoubleToInt64Bits", "Int64BitsToDouble") and len(call.args) == 1:
        x, t = lw.expr(call.args[0], scope)
        if name == "DoubleToInt64Bits":
            if not (t.is_numeric and not t.nullable):
                raise EngineError(f"BitConverter.DoubleToInt64Bits takes a double, not {t}", call)
            return _double_bits(lw, x, Ty.DOUBLE), Ty.LONG
        if not (t.is_integral and not t.nullable):
            raise EngineError(f"BitConverter.Int64BitsToDouble takes a long, not {t}", call)
        return _from_bits(lw, x, 11, 52), Ty.DOUBLE
    if name in ("ToInt32", "ToSingle", "ToInt64", "ToDouble") and len(call.args) == 2:
        if not (_is_getbytes(call.args[0]) and isinstance(call.args[1], A.NumberLiteral) and call.args[1].text == "0"):
            raise CannotRun(f"BitConverter.{name} is supported by the engine on BitConverter.GetBytes(x) at index 0 only",
                            call)
        x, t = lw.expr(call.args[0].args[0], scope)
        size = {"int": 4, "uint": 4, "float": 4, "long": 8, "ulong": 8, "double": 8}.get(t.name if not t.nullable else "")
        want = 4 if name in ("ToInt32", "ToSingle") else 8
        if size != want:
            raise CannotRun(f"BitConverter.{name}(BitConverter.GetBytes({t}), 0) is not supported by the engine", call)
        to_float = name in ("ToSingle", "ToDouble")
        if t.name in ("float", "double"):
            if to_float:
                return x, t
            return _double_bits(lw, x, t), (Ty.INT if want == 4 else Ty.LONG)
        if not to_float:    # the same bits: an unsigned value read back as signed
            signed = x if t.name in ("int", "long") else T("CASE WHEN {x} >= " + str(2 ** (8 * want - 1)) + " THEN {x} - "
                                                            + str(2 ** (8 * want)) + " ELSE {x} END", x=x)
            return exp.Cast(this=signed, to=exp.DataType.build("INTEGER" if want == 4 else "BIGINT")), \
                (Ty.INT if want == 4 else Ty.LONG)
        if t.name in ("uint", "ulong"):
            raise CannotRun(f"BitConverter.{name}(BitConverter.GetBytes({t}), 0) is not supported by the engine", call)
        if want == 4:
            return exp.Cast(this=_from_bits(lw, x, 8, 23), to=exp.DataType.build("FLOAT")), UType("float")
        return _from_bits(lw, x, 11, 52), Ty.DOUBLE
    return None


# -- Base64 and UTF-8 -------------------------------------------------------------------------------

_B64 = r"^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"


def _from_base64(lw, s, t, node):
    s = _nonnull(lw, s, t, node, "Convert.FromBase64String(null)")
    clean = T("regexp_replace({s}, '[ \t\r\n]', '', 'g')", s=s)     # .NET skips white space
    return let(lw, clean, lambda clean: T("CASE WHEN NOT regexp_matches({c}, {p}) THEN {err} ELSE from_base64({c}) END", c=clean, p=_B64,
             err=lw.error("FormatException: the input is not a valid Base-64 string", node)))


def _get_string(lw, b, t, strict: bool, node):
    """GetString: invalid UTF-8 fails the job (the engine's decode refuses it), as the strict
    decoder throws DecoderFallbackException; the non-strict one would insert U+FFFD instead."""
    return T("decode({b})", b=_nonnull(lw, b, t, node, "GetString(null)"))


# -- decimal bits -----------------------------------------------------------------------------------

def _get_bits(lw, x, node):
    """decimal.GetBits: {lo, mid, hi, flags} of the value at the smallest scale that holds it."""
    return let(lw, x, lambda x: let(lw, T("CAST(abs({x}) AS VARCHAR)", x=x), lambda s: let(
        lw, T("rtrim(split_part({s}, '.', 2), '0')", s=s), lambda frac: let(
            lw, T("CAST(split_part({s}, '.', 1) || {f} AS HUGEINT)", s=s, f=frac),
            lambda m: _bits_array(lw, x, frac, m, node)))))


def _bits_array(lw, x, frac, m, node):

    def word(v):
        return exp.Cast(this=T("CASE WHEN {v} >= 2147483648 THEN {v} - 4294967296 ELSE {v} END", v=v),
                        to=exp.DataType.build("INTEGER"))
    lo = word(T("{m} % 4294967296", m=m))
    mid = word(T("({m} // 4294967296) % 4294967296", m=m))
    hi = T("CASE WHEN {m} >= CAST('79228162514264337593543950336' AS HUGEINT) THEN {err} ELSE {w} END", m=m,
           w=word(T("{m} // CAST('18446744073709551616' AS HUGEINT)", m=m)),
           err=lw.error("OverflowException: the value does not fit System.Decimal", node))
    flags = exp.Cast(this=T("length({f}) * 65536 - CASE WHEN {x} < 0 THEN 2147483648 ELSE 0 END", f=frac, x=x),
                     to=exp.DataType.build("INTEGER"))
    return exp.Array(expressions=[lo, mid, hi, flags])


def _new_decimal(lw, arr, node):
    """new decimal(int[] {lo, mid, hi, flags}); more than 10 decimal places fail the job (the engine's
    decimal keeps 10)."""
    return let(lw, arr, lambda a: _decimal_of(lw, a, node))


def _decimal_of(lw, arr, node):
    def u(i):
        return T("(CAST({a}[" + str(i) + "] AS BIGINT) & 4294967295)", a=arr)
    flags = T("CAST({a}[4] AS BIGINT)", a=arr)
    scale = T("(({f} & 2147483647) // 65536)", f=flags)
    mant = T("(CAST({lo} AS HUGEINT) + CAST({mid} AS HUGEINT) * 4294967296 + CAST({hi} AS HUGEINT) * "
             "CAST('18446744073709551616' AS HUGEINT))", lo=u(1), mid=u(2), hi=u(3))
    bad = lw.error("ArgumentException: the decimal bits are not valid", node)
    lost = lw.error("the decimal has more than 10 decimal places, which the engine's decimal cannot hold", node)
    big = lw.error("the decimal has more than 28 digits before the point, which the engine's decimal "
                   "(DECIMAL(38,10)) cannot hold", node)

    def value(m, sc):
        # down to at most 10 places, only when the dropped digits are zeros
        drop = T("CAST(pow(10, greatest({sc} - 10, 0)) AS HUGEINT)", sc=sc)
        sc10 = T("least({sc}, 10)", sc=sc)

        def text(m10):
            # lpad cuts a longer string: pad only up to one digit before the point
            return let(lw, T("lpad(CAST({m} AS VARCHAR), CAST(greatest(length(CAST({m} AS VARCHAR)), {sc} + 1) "
                             "AS INTEGER), '0')", m=m10, sc=sc10), lambda d: T(
                "CASE WHEN length({d}) - {sc} > 28 THEN {big} ELSE CAST(CASE WHEN {f} < 0 THEN '-' ELSE '' END || "
                "left({d}, CAST(length({d}) - {sc} AS INTEGER)) || '.' || right({d}, CAST({sc} AS INTEGER)) "
                "AS DECIMAL(38,10)) END", d=d, sc=sc10, f=flags, big=big))
        return T("CASE WHEN {m} % {d} <> 0 THEN {lost} ELSE {v} END", m=m, d=drop, lost=lost,
                 v=let(lw, T("({m} // {d})", m=m, d=drop), text))
    return T("CASE WHEN len({a}) <> 4 OR ({f} & 2130771967) <> 0 OR {sc} > 28 THEN {bad} ELSE {v} END",
             a=arr, f=flags, sc=scale, bad=bad,
             v=let(lw, mant, lambda m: let(lw, scale, lambda sc: value(m, sc))))


# -- DateTime ticks and Kind ------------------------------------------------------------------------

def _from_ticks(lw, ticks, kind, node):
    return let(lw, T("CAST({t} AS BIGINT)", t=ticks), lambda t: _from_ticks_of(lw, t, kind, node))


def _from_ticks_of(lw, t, kind, node):
    v = T("make_timestamp(({t} - " + str(_EPOCH_TICKS) + ") // 10)", t=t)
    conds = [(T("{t} < 0 OR {t} > " + str(_MAX_TICKS), t=t),
              lw.error("ArgumentOutOfRangeException: ticks outside DateTime's range", node)),
             (T("{t} % 10 <> 0", t=t),
              lw.error("the ticks are not a whole microsecond, which the engine's DateTime cannot hold", node))]
    if kind is not None:
        conds.insert(0, (T("{k} < 0 OR {k} > 2", k=kind), lw.error("ArgumentException: invalid DateTimeKind", node)))
    return exp.Case(ifs=[exp.If(this=c, true=e) for c, e in conds], default=v)


# -- Guid -------------------------------------------------------------------------------------------

_HEX32 = "[0-9a-fA-F]{32}"
_DASHED = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_GUID_FORMATS = {"N": _HEX32, "D": _DASHED, "B": r"\{" + _DASHED + r"\}", "P": r"\(" + _DASHED + r"\)"}


def _parse_guid(lw, s, t, formats, node, what):
    s = _nonnull(lw, s, t, node, f"{what}(null)")
    s = T("trim({s})", s=s) if len(formats) > 1 else s
    return let(lw, s, lambda s: _guid_of(lw, s, formats, node))


def _guid_of(lw, s, formats, node):
    pattern = "^(" + "|".join(_GUID_FORMATS[f] for f in formats) + ")$"
    h = T("lower(regexp_replace({s}, '[^0-9a-fA-F]', '', 'g'))", s=s)
    dashed = T("substr({h}, 1, 8) || '-' || substr({h}, 9, 4) || '-' || substr({h}, 13, 4) || '-' || substr({h}, 17, 4) "
               "|| '-' || substr({h}, 21, 12)", h=h)
    return T("CASE WHEN NOT regexp_matches({s}, {p}) THEN {err} ELSE {v} END", s=s, p=pattern,
             v=exp.Cast(this=dashed, to=exp.DataType.build("UUID")),
             err=lw.error("FormatException: the string is not a Guid in the format "
                          + "/".join(formats), node))


def guid_format(x, fmt: str, node) -> exp.Expression:
    """Guid.ToString(fmt): N (32 digits), D (dashes), B ({...}), P ((...)); lower case as .NET."""
    d = exp.Cast(this=x, to=exp.DataType.build("VARCHAR"))
    f = fmt.upper() if fmt else "D"
    if f == "D":
        return d
    if f == "N":
        return T("replace({d}, '-', '')", d=d)
    if f == "B":
        return T("'{' || {d} || '}'", d=d)
    if f == "P":
        return T("'(' || {d} || ')'", d=d)
    raise CannotRun(f"the Guid format {fmt!r} is not supported by the engine", node)


# -- the hooks ----------------------------------------------------------------------------------------

def static_member(lw, cls, name, node):
    if cls == "StringSplitOptions" and name in ("None", "RemoveEmptyEntries"):
        return exp.Literal.string(f"{cls}.{name}"), UType(cls)     # read by Split from the tree
    if cls == "Encoding" and name == "UTF8":
        return lit("utf-8"), _ENC_LAX
    if cls == "Guid" and name == "Empty":
        return exp.Cast(this=lit("00000000-0000-0000-0000-000000000000"), to=exp.DataType.build("UUID")), GUID
    if cls == "DateTimeKind" and name in ("Unspecified", "Utc", "Local"):
        return lit({"Unspecified": 0, "Utc": 1, "Local": 2}[name]), KIND
    if cls == "uint" and name in ("MaxValue", "MinValue"):
        return exp.Cast(this=lit(2 ** 32 - 1 if name == "MaxValue" else 0), to=exp.DataType.build("INT UNSIGNED")), UType("uint")
    if cls == "ulong" and name in ("MaxValue", "MinValue"):
        return exp.Cast(this=lit(2 ** 64 - 1 if name == "MaxValue" else 0), to=exp.DataType.build("BIGINT UNSIGNED")), UType("ulong")
    return None


def static_call(lw, cls, name, call: A.Call, scope):
    if cls == "BitConverter":
        return _bitconverter(lw, name, call, scope)
    n = len(call.args)
    if cls == "Convert" and name in ("ToBase64String", "FromBase64String") and n == 1:
        x, t = lw.expr(call.args[0], scope)
        if name == "ToBase64String":
            if t.name != "byte[]":
                raise EngineError(f"Convert.ToBase64String takes a byte[], not {t}", call)
            return T("to_base64({b})", b=_nonnull(lw, x, t, call, "Convert.ToBase64String(null)")), Ty.STRING
        if not t.is_string:
            raise EngineError(f"Convert.FromBase64String takes a string, not {t}", call)
        return _from_base64(lw, x, t, call), BYTES
    if cls == "decimal" and name == "GetBits" and n == 1:
        x, t = lw.expr(call.args[0], scope)
        if t.name != "decimal" or t.nullable:
            raise EngineError(f"decimal.GetBits takes a decimal, not {t}", call)
        return _get_bits(lw, x, call), UType("array", True, (Ty.INT,))
    if cls == "Guid" and name in ("Parse", "ParseExact") and n in (1, 2):
        x, t = lw.expr(call.args[0], scope)
        if name == "Parse" and n == 1:
            return _parse_guid(lw, x, t, ("N", "D", "B", "P"), call, "Guid.Parse"), GUID
        if name == "ParseExact" and n == 2 and isinstance(call.args[1], A.StringLiteral) and \
                call.args[1].value.upper() in _GUID_FORMATS:
            return _parse_guid(lw, x, t, (call.args[1].value.upper(),), call, "Guid.ParseExact"), GUID
        raise CannotRun(f"Guid.{name} with these arguments is not supported by the engine", call)
    return None


def new(lw, e: A.New, scope):
    t = e.type
    name = t.name if t is not None else ""
    n = len(e.args)
    if name in ("UTF8Encoding", "System.Text.UTF8Encoding") and n <= 2 and e.initializer is None:
        if not all(isinstance(a, A.BoolLiteral) for a in e.args):
            raise CannotRun("new UTF8Encoding needs literal arguments to run on the engine", e)
        strict = n == 2 and e.args[1].value
        return lit("utf-8"), (_ENC_STRICT if strict else _ENC_LAX)
    if name in ("Guid", "System.Guid") and n == 1 and e.initializer is None:     # new Guid(string): as Guid.Parse
        x, xt = lw.expr(e.args[0], scope)
        if not xt.is_string:
            raise CannotRun(f"new Guid({xt}) is not supported by the engine", e)
        return _parse_guid(lw, x, xt, ("N", "D", "B", "P"), e, "new Guid"), GUID
    if name in ("DateTime", "System.DateTime") and n in (1, 2):
        ticks, tt = lw.expr(e.args[0], scope)
        if not tt.is_integral or tt.nullable:
            raise EngineError(f"new DateTime(ticks) takes a long, not {tt}", e)
        kind = None
        if n == 2:
            kind, kt = lw.expr(e.args[1], scope)
            if kt.name != "DateTimeKind":
                raise EngineError(f"the second argument of new DateTime(ticks, kind) is a DateTimeKind, not {kt}", e)
        return _from_ticks(lw, ticks, kind, e), Ty.DATETIME
    if name in ("decimal", "Decimal", "System.Decimal") and n == 1 and not t.array_rank:
        a, at = lw.expr(e.args[0], scope)
        if at.name != "array" or not at.args[0].is_integral:
            raise CannotRun(f"new decimal({at}) is not supported by the engine", e)
        return _new_decimal(lw, lw.deref(a, at, e, "new decimal(bits)"), e), Ty.DECIMAL
    if name in ("KeyValuePair", "System.Collections.Generic.KeyValuePair") and len(t.args) == 2 and n == 2:
        kt, vt = Ty.from_ast(t.args[0]), Ty.from_ast(t.args[1])
        k, _ = lw.expr(e.args[0], scope)
        v, _ = lw.expr(e.args[1], scope)
        return T("struct_pack(key := {k}, value := {v})", k=exp.Cast(this=k, to=exp.DataType.build(kt.sql())),
                 v=exp.Cast(this=v, to=exp.DataType.build(vt.sql()))), UType("kvp", False, (kt, vt))
    if name in ("SQL.MAP", "SqlMap") and n == 1 and e.initializer is None:
        ut = Ty.from_ast(t)
        x, xt = lw.expr(e.args[0], scope)
        if xt.name != "array" or xt.args[0].name != "kvp":
            raise EngineError(f"new SQL.MAP needs a sequence of KeyValuePair, not {xt}", e)
        x = lw.deref(x, xt, e, "new SQL.MAP(null)")
        return exp.Cast(this=T("map_from_entries({x})", x=x), to=exp.DataType.build(ut.sql())), ut
    return None


def method(lw, x, t: UType, name: str, call: A.Call, scope):
    n = len(call.args)
    if t.name in (_ENC_STRICT.name, _ENC_LAX.name) and name in ("GetBytes", "GetString") and n == 1:
        a, at = lw.expr(call.args[0], scope)
        if name == "GetBytes":
            if not at.is_string:
                raise EngineError(f"GetBytes takes a string here, not {at}", call)
            return T("encode({s})", s=_nonnull(lw, a, at, call, "GetBytes(null)")), BYTES
        if at.name != "byte[]":
            raise EngineError(f"GetString takes a byte[], not {at}", call)
        return _get_string(lw, a, at, t.name == _ENC_STRICT.name, call), Ty.STRING
    if t.is_string and name == "ToCharArray" and n == 0:
        return T("string_split({s}, '')", s=lw.deref(x, t, call, "ToCharArray()")), UType("array", True, (UType("char"),))
    if t.name == "Guid" and name == "ToString" and n == 1 and isinstance(call.args[0], A.StringLiteral):
        return guid_format(lw.deref(x, t, call, "ToString") if t.nullable else x, call.args[0].value, call), Ty.STRING
    return None


def property(lw, x, t: UType, name: str, node):
    if t.name == "DateTime" and name == "Kind":
        # the engine's DateTime carries no Kind: every value is Unspecified
        if t.nullable:
            return T("CASE WHEN {x} IS NULL THEN {err} ELSE 0 END", x=x,
                     err=lw.error("InvalidOperationException: Nullable object must have a value", node)), KIND
        return lit(0), KIND
    return None


def cast_kind(lw, e: A.Cast, scope):
    """(DateTimeKind) n: any int, as C# allows (new DateTime checks it)."""
    x, t = lw.expr(e.operand, scope)
    if not (t.is_integral or t.name == "DateTimeKind") or t.nullable:
        raise EngineError(f"cannot cast {t} to DateTimeKind", e)
    return exp.Cast(this=x, to=exp.DataType.build("INTEGER")), KIND


def convert(lw, x, t: UType, to: UType, e):
    """Casts between char and the integral types (a char is one UTF-16 code unit); and from a
    DateTimeKind to an integer. None for any other cast."""
    if t.name == "DateTimeKind" and to.is_integral:
        return exp.Cast(this=x, to=exp.DataType.build(to.sql())), to
    if t.name == "char" and to.is_integral:
        return exp.Cast(this=let(lw, x, lambda x: _char_code(lw, x, t, to, e)), to=exp.DataType.build(to.sql())), to
    if to.name == "char" and t.is_integral:
        if t.nullable and not to.nullable:
            x = T("CASE WHEN {x} IS NULL THEN {err} ELSE {x} END", x=x,
                  err=lw.error("InvalidOperationException: Nullable object must have a value", e))
        unit = T("((CAST({x} AS BIGINT) % 65536) + 65536) % 65536", x=x)      # unchecked: the low 16 bits
        return let(lw, unit, lambda u: T("CASE WHEN {u} BETWEEN 55296 AND 57343 THEN {err} ELSE chr(CAST({u} AS INTEGER)) END",
                                         u=u, err=lw.error("a lone UTF-16 surrogate cannot be a char of the engine's "
                                                           "strings", e))), to
    return None


def _char_code(lw, x, t, to, e):
    c = T("unicode({x})", x=x)
    if t.nullable and not to.nullable:
        c = T("CASE WHEN {x} IS NULL THEN {err} ELSE {c} END", x=x, c=c,
              err=lw.error("InvalidOperationException: Nullable object must have a value", e))
    return T("CASE WHEN {c} > 65535 THEN {err} ELSE {c} END", c=c, err=lw.error("the char is not one UTF-16 code unit", e))
