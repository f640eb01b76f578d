"""The C# expression subset the engine runs: members of string, DateTime, Convert, Math,
Nullable, SQL.ARRAY/MAP, casts and format strings, each lowered with .NET semantics.

A member outside the subset raises :class:`CannotRun` naming it. Members on a null reference
fail the job (NullReferenceException) as in C#."""
from __future__ import annotations

import re

from .. import ast as A
from . import types as Ty
from .errors import CannotRun, EngineError
from .sqlbuild import T, exp, lit
from .types import UType

__all__ = ["static_target", "static_member", "static_call", "property", "method", "new", "index",
           "cast", "to_string", "dotnet_datetime_format", "KNOWN_STATICS", "KNOWN_MEMBERS"]

_CLASSES = {"Math": "Math", "System.Math": "Math", "Convert": "Convert", "System.Convert": "Convert",
            "string": "string", "String": "string", "System.String": "string",
            "DateTime": "DateTime", "System.DateTime": "DateTime",
            "int": "int", "Int32": "int", "System.Int32": "int", "long": "long", "Int64": "long",
            "System.Int64": "long", "double": "double", "Double": "double", "System.Double": "double",
            "float": "float", "Single": "float", "decimal": "decimal", "Decimal": "decimal",
            "bool": "bool", "Boolean": "bool", "short": "short", "Int16": "short", "byte": "byte", "Byte": "byte",
            "Guid": "Guid", "System.Guid": "Guid", "Char": "char", "char": "char",
            "SqlArray": "SqlArray", "SqlMap": "SqlMap", "MidpointRounding": "MidpointRounding",
            "StringComparison": "StringComparison", "CultureInfo": "CultureInfo",
            "DateTimeKind": "DateTimeKind", "System.DateTimeKind": "DateTimeKind",
            "TimeSpan": "TimeSpan", "System.TimeSpan": "TimeSpan",
            "System.Globalization.CultureInfo": "CultureInfo"}

# what `usqlrw check --runnable` accepts statically: Class.Member and .Member names
KNOWN_STATICS = {
    "Math": {"Round", "Floor", "Ceiling", "Abs", "Max", "Min", "Pow", "Sqrt", "Log", "Log10", "Exp", "Sign",
             "Truncate", "PI", "E"},
    "Convert": {"ToInt32", "ToInt64", "ToInt16", "ToDouble", "ToDecimal", "ToString", "ToDateTime",
                "ToBoolean", "ToSingle"},
    "string": {"IsNullOrEmpty", "IsNullOrWhiteSpace", "Format", "Concat", "Join", "Empty", "Compare",
               "CompareOrdinal", "Equals"},
    "DateTime": {"Now", "UtcNow", "Today", "Parse", "ParseExact", "MinValue", "MaxValue", "TryParse"},
    "int": {"Parse", "MaxValue", "MinValue"}, "long": {"Parse", "MaxValue", "MinValue"},
    "short": {"Parse"}, "byte": {"Parse"}, "double": {"Parse"}, "float": {"Parse"},
    "decimal": {"Parse"}, "bool": {"Parse"}, "Guid": {"NewGuid", "Parse"},
    "char": {"IsDigit", "IsLetter", "IsUpper", "IsLower", "IsWhiteSpace"},
    "SqlArray": {"Create"}, "SqlMap": {"Create"},
    "MidpointRounding": {"AwayFromZero", "ToEven"},
    "StringComparison": {"Ordinal", "OrdinalIgnoreCase"},
    "DateTimeKind": {"Utc", "Local", "Unspecified"},
    "TimeSpan": {"FromDays", "FromHours", "FromMinutes", "FromSeconds", "FromMilliseconds", "Zero"},
    "CultureInfo": {"InvariantCulture"},
}
KNOWN_MEMBERS = {"Length", "ToUpper", "ToUpperInvariant", "ToLower", "ToLowerInvariant", "Trim", "TrimStart",
                 "TrimEnd", "Substring", "Contains", "StartsWith", "EndsWith", "IndexOf", "LastIndexOf",
                 "Replace", "Split", "ToString", "Equals", "PadLeft", "PadRight", "CompareTo",
                 "Year", "Month", "Day", "Hour", "Minute", "Second", "Millisecond", "Date", "DayOfYear",
                 "DayOfWeek", "AddDays", "AddHours", "AddMinutes", "AddSeconds", "AddMilliseconds", "AddMonths",
                 "AddYears", "Value", "HasValue", "GetValueOrDefault", "Count", "ContainsKey", "Keys", "Values",
                 "Ticks", "Key", "Select", "Where", "Any", "All", "Min", "Max", "Sum", "Average", "First",
                 "FirstOrDefault", "ToArray", "ToList", "Subtract", "Add", "TotalDays", "TotalHours",
                 "TotalMinutes", "TotalSeconds", "TotalMilliseconds", "Days", "Hours", "Minutes", "Seconds",
                 "Milliseconds", "Remove", "Insert"}


def static_target(t) -> str | None:
    """The class a member target names (``Math``, ``System.DateTime``...), or None."""
    if isinstance(t, A.Name):
        return _CLASSES.get(t.ident.name)
    if isinstance(t, A.MemberAccess) and isinstance(t.member, A.Identifier):
        parts = []
        x = t
        while isinstance(x, A.MemberAccess) and isinstance(x.member, A.Identifier):
            parts.append(x.member.name)
            x = x.target
        if isinstance(x, A.Name):
            parts.append(x.ident.name)
            return _CLASSES.get(".".join(reversed(parts)))
    return None


# -- TimeSpan: microseconds (BIGINT) typed TimeSpan; it is not a column type of U-SQL ----------------
_US = {"Days": 86400000000, "Hours": 3600000000, "Minutes": 60000000, "Seconds": 1000000, "Milliseconds": 1000}
TIMESPAN = UType("TimeSpan")


def time_arithmetic(lw, op, a, ta: UType, b, tb: UType, node):
    """DateTime - DateTime is a TimeSpan; DateTime +/- TimeSpan a DateTime; TimeSpan +/- TimeSpan."""
    nullable = ta.nullable or tb.nullable
    if op == "-" and ta.name == "DateTime" and tb.name == "DateTime":
        return T("epoch_us({a}) - epoch_us({b})", a=a, b=b), TIMESPAN.null(nullable)
    if op in ("+", "-") and ta.name == "DateTime" and tb.name == "TimeSpan":
        return T("{a} " + op + " to_microseconds({b})", a=a, b=b), Ty.DATETIME.null(nullable)
    if op == "+" and ta.name == "TimeSpan" and tb.name == "DateTime":
        return T("{b} + to_microseconds({a})", a=a, b=b), Ty.DATETIME.null(nullable)
    if op in ("+", "-") and ta.name == "TimeSpan" and tb.name == "TimeSpan":
        return T("{a} " + op + " {b}", a=a, b=b), TIMESPAN.null(nullable)
    raise EngineError(f"operator {op} cannot be applied to {ta} and {tb}", node)


def _timespan_property(lw, x, t, name, node):
    x = lw.deref(x, t, node, name) if t.nullable else x
    if name.startswith("Total") and name[5:] in _US:
        return T("{x} / " + f"{_US[name[5:]]}.0", x=x), Ty.DOUBLE
    if name in _US:
        mod = {"Days": None, "Hours": 24, "Minutes": 60, "Seconds": 60, "Milliseconds": 1000}[name]
        v = T("trunc({x} / " + f"{_US[name]}" + ")", x=x)     # C# truncates toward zero
        if mod:
            v = T("{v} % " + str(mod), v=v)
        return exp.Cast(this=v, to=exp.DataType.build("INTEGER")), Ty.INT
    if name == "Ticks":
        return T("{x} * 10", x=x), Ty.LONG
    return None


def _ts(v) -> exp.Expression:
    return exp.Cast(this=lit(v), to=exp.DataType.build("TIMESTAMP"))


def static_member(lw, cls, name, node):
    r = _enc.static_member(lw, cls, name, node)
    if r is not None:
        return r
    if cls == "DateTime":
        now = lw.job.now
        if name in ("Now", "UtcNow"):
            return _ts(now.strftime("%Y-%m-%d %H:%M:%S.%f")), Ty.DATETIME
        if name == "Today":
            return _ts(now.strftime("%Y-%m-%d")), Ty.DATETIME
        if name == "MinValue":
            return _ts("0001-01-01 00:00:00"), Ty.DATETIME
        if name == "MaxValue":
            return _ts("9999-12-31 23:59:59.999999"), Ty.DATETIME
    if cls == "TimeSpan" and name == "Zero":
        return exp.Cast(this=lit(0), to=exp.DataType.build("BIGINT")), TIMESPAN
    if cls == "string" and name == "Empty":
        return lit(""), Ty.STRING
    if cls == "int" and name in ("MaxValue", "MinValue"):
        return lit(2 ** 31 - 1 if name == "MaxValue" else -2 ** 31), Ty.INT
    if cls == "long" and name in ("MaxValue", "MinValue"):
        return exp.Cast(this=lit(2 ** 63 - 1 if name == "MaxValue" else -2 ** 63), to=exp.DataType.build("BIGINT")), Ty.LONG
    if cls == "Math" and name in ("PI", "E"):
        import math
        return exp.Cast(this=lit(math.pi if name == "PI" else math.e), to=exp.DataType.build("DOUBLE")), Ty.DOUBLE
    if cls in ("MidpointRounding", "StringComparison", "CultureInfo"):
        return exp.Literal.string(f"{cls}.{name}"), UType(cls)
    return None


def _args(lw, call, scope):
    out = []
    for a in call.args:
        if isinstance(a, (A.NamedArgument, A.OutArgument)):
            raise CannotRun("named and out arguments of C# methods are not supported by the engine", a)
        out.append(lw.expr(a, scope))
    return out


def _nonnull(lw, x, t, node, what):
    """ArgumentNullException for a null argument."""
    if not t.may_be_null:
        return x
    return T("CASE WHEN {x} IS NULL THEN {err} ELSE {x} END", x=x,
             err=lw.error(f"ArgumentNullException: {what}", node))


_DT_FORMATS = ["%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S",
               "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y/%m/%d %H:%M:%S",
               "%Y/%m/%d", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M",
               "%m/%d/%Y", "%Y%m%dT%H%M%S"]


def parse_datetime(lw, x, node, formats=None) -> exp.Expression:
    """DateTime.Parse (invariant/en-US forms): the job fails on text that is not a date."""
    fmts = exp.Array(expressions=[lit(f) for f in (formats or _DT_FORMATS)])
    parsed = T("coalesce(TRY_CAST({x} AS TIMESTAMP), try_strptime(trim({x}), {f}))", x=x, f=fmts)
    return T("CASE WHEN {x} IS NULL THEN NULL ELSE coalesce({p}, {err}) END", x=x, p=parsed,
             err=lw.error("FormatException: the string is not a valid DateTime", node))


def _parse_number(lw, x, t: UType, node) -> exp.Expression:
    return _enc.let(lw, x, lambda x: T(
        "CASE WHEN {x} IS NULL THEN NULL WHEN TRY_CAST(trim({x}) AS " + t.sql() + ") IS NULL THEN {err} "
        "ELSE CAST(trim({x}) AS " + t.sql() + ") END", x=x,
        err=lw.error(f"FormatException: the string is not a valid {t.name}", node)))


def _round_to_int(x, t_from: UType, to: UType):
    """Convert.ToInt32(double): banker's rounding (.NET)."""
    if t_from.name in ("double", "float", "decimal"):
        x = T("roundbankers({x}, 0)", x=x)
    return exp.Cast(this=x, to=exp.DataType.build(to.sql()))


def static_call(lw, cls, name, call: A.Call, scope):
    r = _enc.static_call(lw, cls, name, call, scope)
    if r is not None:
        return r
    args = _args(lw, call, scope)
    n = len(args)
    a0, t0 = args[0] if args else (None, None)
    if cls == "Math":
        if name == "Round":
            digits = None
            mode_away = False
            for a, t in args[1:]:
                if t.name == "MidpointRounding":
                    mode_away = a.this == "MidpointRounding.AwayFromZero"
                else:
                    digits = a
            if t0.is_integral:
                return a0, t0
            d = digits if digits is not None else lit(0)
            r = T("round({x}, {d})", x=a0, d=d) if mode_away else T("roundbankers({x}, {d})", x=a0, d=d)
            return exp.Cast(this=r, to=exp.DataType.build(t0.sql())), t0
        simple = {"Floor": "floor", "Ceiling": "ceil", "Abs": "abs", "Sqrt": "sqrt", "Exp": "exp",
                  "Log10": "log10", "Sign": "sign", "Truncate": "trunc"}
        if name in simple and n == 1:
            t = t0 if name in ("Floor", "Ceiling", "Abs", "Truncate") else Ty.DOUBLE
            if name == "Sign":
                t = Ty.INT
            e = exp.Anonymous(this=simple[name], expressions=[a0])
            return exp.Cast(this=e, to=exp.DataType.build(t.sql())), t
        if name == "Log" and n in (1, 2):
            return (T("ln({x})", x=a0) if n == 1 else T("ln({x}) / ln({b})", x=a0, b=args[1][0])), Ty.DOUBLE
        if name == "Pow" and n == 2:
            return T("pow({x}, {y})", x=a0, y=args[1][0]), Ty.DOUBLE
        if name in ("Max", "Min") and n == 2:
            t = Ty.numeric_result(t0, args[1][1])
            return T(("greatest" if name == "Max" else "least") + "({a}, {b})", a=a0, b=args[1][0]), t
    if cls == "Convert" and n >= 1:
        targets = {"ToInt32": Ty.INT, "ToInt64": Ty.LONG, "ToInt16": UType("short"), "ToDouble": Ty.DOUBLE,
                   "ToSingle": UType("float"), "ToDecimal": Ty.DECIMAL, "ToBoolean": Ty.BOOL}
        if name in targets:
            to = targets[name]
            if t0.is_string:
                if to.name == "bool":
                    v = T("CASE lower(trim({x})) WHEN 'true' THEN true WHEN 'false' THEN false ELSE {err} END",
                          x=a0, err=lw.error("FormatException: the string is not a valid Boolean", call))
                else:
                    v = _parse_number(lw, a0, to, call)
                # Convert.ToX(null string) is 0 / false
                return exp.Coalesce(this=v, expressions=[exp.Cast(this=lit(0), to=exp.DataType.build(to.sql()))
                                                         if to.name != "bool" else exp.false()]), to
            if t0.name == "null":
                return exp.Cast(this=lit(0), to=exp.DataType.build(to.sql())), to
            v = _round_to_int(a0, t0, to) if to.is_integral else exp.Cast(this=a0, to=exp.DataType.build(to.sql()))
            if t0.nullable:
                v = exp.Coalesce(this=v, expressions=[exp.Cast(this=lit(0), to=exp.DataType.build(to.sql()))])
            return v, to
        if name == "ToString":
            return exp.Coalesce(this=to_string(lw, a0, t0), expressions=[lit("")]), Ty.STRING
        if name == "ToDateTime":
            if t0.name == "DateTime":
                return a0, Ty.DATETIME
            return exp.Coalesce(this=parse_datetime(lw, a0, call), expressions=[_ts("0001-01-01 00:00:00")]), Ty.DATETIME
    if cls == "string":
        if name == "IsNullOrEmpty" and n == 1:
            return T("({x} IS NULL OR {x} = '')", x=a0), Ty.BOOL
        if name == "IsNullOrWhiteSpace" and n == 1:
            return T("({x} IS NULL OR trim({x}, ' \t\n\r\x0b\x0c') = '')", x=a0), Ty.BOOL
        if name == "Concat":
            return lw.concat(args), Ty.STRING
        if name == "Equals" and n == 2:
            return lw.equals(a0, t0, *args[1]), Ty.BOOL
        if name in ("Compare", "CompareOrdinal") and n == 2:
            return T("CASE WHEN {a} IS NOT DISTINCT FROM {b} THEN 0 WHEN {a} IS NULL THEN -1 WHEN {b} IS NULL "
                     "THEN 1 WHEN {a} < {b} THEN -1 ELSE 1 END", a=a0, b=args[1][0]), Ty.INT
        if name == "Join" and n >= 2:
            sep = args[0][0]
            if n == 2 and args[1][1].name == "array":
                return T("array_to_string(list_transform({a}, x -> coalesce(x, '')), {s})", a=args[1][0], s=sep), Ty.STRING
            items = [exp.Coalesce(this=to_string(lw, a, t), expressions=[lit("")]) for a, t in args[1:]]
            return T("array_to_string({a}, {s})", a=exp.Array(expressions=items), s=sep), Ty.STRING
        if name == "Format" and n >= 1 and isinstance(call.args[0], A.StringLiteral):
            return _format(lw, call.args[0], args[1:], call), Ty.STRING
    if cls == "DateTime":
        if name in ("Now", "UtcNow", "Today") and n == 0:
            return static_member(lw, cls, name, call)
        if name == "Parse" and n >= 1:
            return parse_datetime(lw, _nonnull(lw, a0, t0, call, "DateTime.Parse(null)"), call), Ty.DATETIME
        if name == "ParseExact" and n >= 2 and isinstance(call.args[1], A.StringLiteral):
            fmt = dotnet_datetime_format(call.args[1].value, call.args[1])
            return parse_datetime(lw, _nonnull(lw, a0, t0, call, "DateTime.ParseExact(null)"), call, [fmt]), Ty.DATETIME
    if cls in ("int", "long", "short", "byte", "double", "float", "decimal", "uint", "ulong", "sbyte", "ushort") \
            and name == "Parse" and (
            n == 1 or n == 2 and args[1][1].name == "CultureInfo"):    # the engine parses invariant anyway
        to = UType(cls)
        return _parse_number(lw, _nonnull(lw, a0, t0, call, f"{cls}.Parse(null)"), to, call), to
    if cls == "bool" and name == "Parse" and n == 1:
        return T("CASE lower(trim({x})) WHEN 'true' THEN true WHEN 'false' THEN false ELSE {err} END", x=a0,
                 err=lw.error("FormatException: the string is not a valid Boolean", call)), Ty.BOOL
    if cls == "TimeSpan" and name.startswith("From") and name[4:] in _US and n == 1:
        return T("CAST(round({x} * " + str(_US[name[4:]]) + ") AS BIGINT)", x=a0), TIMESPAN
    if cls == "Guid" and name == "NewGuid" and n == 0:
        return T("uuid()"), UType("Guid")
    if cls == "SqlArray" and name == "Create" and n == 1:
        return _array_of(lw, a0, t0, call), t0 if t0.name == "array" else t0
    if cls == "char" and n == 1:
        pats = {"IsDigit": "^[0-9]$", "IsLetter": "^[[:alpha:]]$", "IsUpper": "^[[:upper:]]$",
                "IsLower": "^[[:lower:]]$", "IsWhiteSpace": "^\\s$"}
        if name in pats:
            return T("coalesce(regexp_matches({x}, {p}), false)", x=a0, p=pats[name]), Ty.BOOL
    raise CannotRun(f"the C# method {cls}.{name} (with {n} argument{'s' if n != 1 else ''}) "
                    "is not supported by the engine", call)


def _array_of(lw, a, t, node):
    if t.name != "array":
        raise EngineError(f"SQL.ARRAY needs a sequence (an array or Split), not {t}", node)
    return a


_FMT_ITEM = re.compile(r"\{(\d+)(?:,(-?\d+))?(?::([^}]*))?\}|\{\{|\}\}")


def _format(lw, lit_node: A.StringLiteral, args, node) -> exp.Expression:
    """string.Format with {i}, {i,width} and {i:format}."""
    text = lit_node.value
    parts, pos = [], 0
    for m in _FMT_ITEM.finditer(text):
        if m.start() > pos:
            parts.append((lit(text[pos:m.start()]), Ty.STRING))
        pos = m.end()
        if m.group(0) in ("{{", "}}"):
            parts.append((lit(m.group(0)[0]), Ty.STRING))
            continue
        i = int(m.group(1))
        if i >= len(args):
            raise EngineError(f"string.Format names argument {i}, there are {len(args)}", node)
        x, t = args[i]
        s = to_string(lw, x, t, m.group(3), node) if m.group(3) else (x if t.is_string else to_string(lw, x, t))
        if m.group(2):
            w = int(m.group(2))
            s = T(("lpad" if w > 0 else "rpad") + "({s}, greatest(length({s}), {w}), ' ')", s=exp.Coalesce(
                this=s, expressions=[lit("")]), w=exp.Cast(this=lit(abs(w)), to=exp.DataType.build("INTEGER")))
        parts.append((s, Ty.STRING))
    if pos < len(text):
        parts.append((lit(text[pos:]), Ty.STRING))
    return lw.concat(parts) if parts else lit("")


def property(lw, x, t: UType, name: str, node):
    r = _enc.property(lw, x, t, name, node)
    if r is not None:
        return r
    if t.name == "TimeSpan":
        r = _timespan_property(lw, x, t, name, node)
        if r is not None:
            return r
    if t.name == "kvp" and name in ("Key", "Value"):
        return T("struct_extract({p}, " + ("'key'" if name == "Key" else "'value'") + ")", p=x), \
            t.args[0 if name == "Key" else 1]
    if t.is_string and name == "Length":
        return T("length({x})", x=lw.deref(x, t, node, "Length")), Ty.INT
    if t.nullable and t.name not in ("string", "array", "map"):
        if name == "HasValue":
            return exp.Not(this=exp.Is(this=x, expression=exp.Null())), Ty.BOOL
        if name == "Value":
            return T("CASE WHEN {x} IS NULL THEN {err} ELSE {x} END", x=x,
                     err=lw.error("InvalidOperationException: Nullable object must have a value", node)), t.null(False)
    if t.name == "DateTime":
        parts = {"Year": "year", "Month": "month", "Day": "day", "Hour": "hour", "Minute": "minute",
                 "Second": "second", "DayOfYear": "dayofyear", "DayOfWeek": "dayofweek"}
        x = lw.deref(x, t, node, name) if t.nullable else x
        if name in parts:
            return exp.Cast(this=exp.Anonymous(this=parts[name], expressions=[x]), to=exp.DataType.build("INTEGER")), Ty.INT
        if name == "Millisecond":
            return T("CAST(millisecond({x}) % 1000 AS INTEGER)", x=x), Ty.INT
        if name == "Date":
            return T("date_trunc('day', {x})", x=x), Ty.DATETIME
        if name == "Ticks":
            return T("(epoch_us({x}) + 62135596800000000) * 10", x=x), Ty.LONG
    if t.name in ("array", "map") and name == "Count":
        return T("CAST({n} AS INTEGER)", n=_size(lw.deref(x, t, node, "Count"), t.name == "map")), Ty.INT
    if t.name == "map" and name in ("Keys", "Values"):
        return T("map_keys({x})" if name == "Keys" else "map_values({x})", x=x), UType(
            "array", True, (t.args[0] if name == "Keys" else t.args[1],))
    raise CannotRun(f"the C# member {name} of {t} is not supported by the engine", node)


_LINQ = {"Select", "Where", "Any", "All", "Count", "Min", "Max", "Sum", "Average", "First", "FirstOrDefault",
         "ToArray", "ToList"}


def _elements(lw, x, t: UType, node):
    """(list expression, element type) of a sequence C# can enumerate: an array, a map (its
    KeyValuePairs), a string (its chars)."""
    if t.name == "array":
        return lw.deref(x, t, node, "enumeration"), t.args[0]
    if t.name == "map":
        return T("map_entries({m})", m=lw.deref(x, t, node, "enumeration")), UType("kvp", False, t.args)
    if t.is_string:
        return T("string_split({s}, '')", s=lw.deref(x, t, node, "enumeration")), UType("char")
    return None, None


def _lambda(lw, lam, elem: UType, scope):
    """A one-parameter C# lambda over elements of type ``elem``: (sqlglot Lambda, body type)."""
    if not isinstance(lam, A.Lambda) or len(lam.params) != 1 or not isinstance(lam.body, A.Expr):
        raise CannotRun("only one-parameter expression lambdas are supported by the engine", lam)
    pname = lw.fresh("l")
    inner = type(scope)(scope.relations, {**scope.lambdas, lam.params[0].name: (exp.column(pname), elem)})
    body, bt = lw.expr(lam.body, inner)
    return exp.Lambda(this=body, expressions=[exp.to_identifier(pname)]), bt


def linq(lw, x, t: UType, name: str, call: A.Call, scope):
    """LINQ over arrays, maps and strings with lambdas (csharp-functions-and-operators-u-sql.md,
    complex-built-in-u-sql-types.md): Select, Where, Any, All, Count, Min, Max, Sum, Average, First."""
    items, elem = _elements(lw, x, t, call)
    if items is None or len(call.args) > 1:
        return None
    lam = call.args[0] if call.args else None
    if name in ("ToArray", "ToList") and lam is None:
        return items, UType("array", True, (elem,))
    if lam is None:
        vals, vt = items, elem
    elif name in ("Select", "Min", "Max", "Sum", "Average"):
        f, vt = _lambda(lw, lam, elem, scope)
        vals = exp.Transform(this=items, expression=f)
    else:
        f, bt = _lambda(lw, lam, elem, scope)
        if bt.name != "bool":
            raise EngineError(f"the lambda of {name} must give a bool, not {bt}", lam)
        if name == "All":
            f = exp.Lambda(this=exp.Not(this=exp.Paren(this=f.this)), expressions=f.expressions)
        vals, vt = exp.ArrayFilter(this=items, expression=f), elem
    if name in ("Select", "Where"):
        return vals, UType("array", True, (vt,))
    if name == "Count":
        return T("CAST({n} AS INTEGER)", n=_size(vals)), Ty.INT
    if name == "Any":
        return T("{n} > 0", n=_size(vals)), Ty.BOOL
    if name == "All":
        return T("{n} = 0", n=_size(vals)), Ty.BOOL
    if name in ("Min", "Max", "Sum", "Average"):
        empty = lw.error(f"InvalidOperationException: {name} of an empty sequence", call)
        fn = {"Min": "list_min", "Max": "list_max", "Sum": "list_sum", "Average": "list_avg"}[name]
        rt = Ty.DOUBLE if name == "Average" else vt
        if name == "Sum":
            return exp.Cast(this=T("coalesce(list_sum({l}), 0)", l=vals), to=exp.DataType.build(vt.sql())), vt
        return T("CASE WHEN {n} = 0 THEN {err} ELSE " + fn + "({l}) END", n=_size(vals), l=vals, err=empty), rt
    if name in ("First", "FirstOrDefault"):
        if name == "First":
            return T("CASE WHEN {n} = 0 THEN {err} ELSE {v} END", n=_size(vals), v=_enc.element(lw, vals, 1), err=lw.error(
                "InvalidOperationException: Sequence contains no elements", call)), vt
        return _enc.element(lw, vals, 1), vt.null()
    return None


def _size(x, is_map: bool = False) -> exp.Expression:
    """The number of elements of a list (or a map): ``array_length``/``cardinality`` on DuckDB,
    ``size``/``cardinality`` on Spark (whose ``length`` takes only text)."""
    return exp.Anonymous(this="cardinality", expressions=[x]) if is_map else exp.ArraySize(this=x)


def method(lw, x, t: UType, name: str, call: A.Call, scope):
    if name in _LINQ and (any(isinstance(a, A.Lambda) for a in call.args) or t.name in ("array", "map")
                          and name not in ("Contains",)):
        r = linq(lw, x, t, name, call, scope)
        if r is not None:
            return r
    r = _enc.method(lw, x, t, name, call, scope)
    if r is not None:
        return r
    args = _args(lw, call, scope)
    n = len(args)
    a0 = args[0][0] if args else None
    if name == "ToString":
        x = lw.deref(x, t, call, "ToString()") if t.is_string or t.nullable and False else x
        if n and args[-1][1].name == "CultureInfo":    # CultureInfo.InvariantCulture: as the engine formats
            n -= 1
        if n == 0:
            return exp.Coalesce(this=to_string(lw, x, t), expressions=[lit("")]) if t.nullable else to_string(lw, x, t), Ty.STRING
        if n >= 1 and isinstance(call.args[0], A.StringLiteral):
            return to_string(lw, x, t, call.args[0].value, call.args[0]), Ty.STRING
    if name == "Equals" and n == 1:
        return lw.equals(lw.deref(x, t, call, "Equals"), t, *args[0]), Ty.BOOL
    if name == "GetValueOrDefault" and t.nullable and n <= 1:
        dflt = a0 if n else (lit(False) if t.name == "bool" else exp.Cast(this=lit(0), to=exp.DataType.build(t.sql())))
        return exp.Coalesce(this=x, expressions=[dflt]), t.null(False)
    if t.is_string:
        s = lw.deref(x, t, call, name + "()")
        simple = {"ToUpper": "upper", "ToUpperInvariant": "upper", "ToLower": "lower", "ToLowerInvariant": "lower"}
        if name in simple and n == 0:
            return exp.Anonymous(this=simple[name], expressions=[s]), Ty.STRING
        ws = "' \t\n\r\x0b\x0c'"
        if name in ("Trim", "TrimStart", "TrimEnd"):
            chars = ws if n == 0 else None
            if chars is None:
                if all(isinstance(a, A.CharLiteral) for a in call.args):
                    chars = "'" + "".join(a.value for a in call.args).replace("'", "''") + "'"
                else:
                    raise CannotRun(f"{name} with these arguments is not supported by the engine", call)
            fn = {"Trim": "trim", "TrimStart": "ltrim", "TrimEnd": "rtrim"}[name]
            return T(f"{fn}({{s}}, {chars})", s=s), Ty.STRING
        if name == "Substring" and n in (1, 2):
            start = a0
            if n == 1:
                return _enc.let(lw, s, lambda s: T(
                    "CASE WHEN {i} < 0 OR {i} > length({s}) THEN {err} ELSE substr({s}, {i} + 1) END",
                    s=s, i=start, err=lw.error("ArgumentOutOfRangeException: Substring startIndex", call))), Ty.STRING
            return T("CASE WHEN {i} < 0 OR {n} < 0 OR {i} + {n} > length({s}) THEN {err} "
                     "ELSE substr({s}, {i} + 1, {n}) END", s=s, i=start, n=args[1][0],
                     err=lw.error("ArgumentOutOfRangeException: Substring index and length", call)), Ty.STRING
        if name in ("Contains", "StartsWith", "EndsWith") and n >= 1:
            arg = _nonnull(lw, a0, args[0][1], call, f"{name}(null)")
            fn = {"Contains": "contains", "StartsWith": "starts_with", "EndsWith": "ends_with"}[name]
            if n == 2 and args[1][0].this == "StringComparison.OrdinalIgnoreCase":
                return T(f"{fn}(lower({{s}}), lower({{a}}))", s=s, a=arg), Ty.BOOL
            return exp.Anonymous(this=fn, expressions=[s, arg]), Ty.BOOL
        if name == "IndexOf" and n == 1:
            return T("CAST(strpos({s}, {a}) - 1 AS INTEGER)", s=s, a=_nonnull(lw, a0, args[0][1], call, "IndexOf(null)")), Ty.INT
        if name == "IndexOf" and n in (2, 3):
            start = args[1][0]
            count = args[2][0] if n == 3 else T("length({s}) - {i}", s=s, i=start)
            return T("CASE WHEN {i} < 0 OR {c} < 0 OR {i} + {c} > length({s}) THEN {err} "
                     "WHEN strpos(substr({s}, {i} + 1, {c}), {a}) = 0 THEN -1 "
                     "ELSE CAST(strpos(substr({s}, {i} + 1, {c}), {a}) + {i} - 1 AS INTEGER) END",
                     s=s, a=_nonnull(lw, a0, args[0][1], call, "IndexOf(null)"), i=start, c=count,
                     err=lw.error("ArgumentOutOfRangeException: IndexOf startIndex or count", call)), Ty.INT
        if name == "LastIndexOf" and n == 1:
            return T("CAST(CASE WHEN strpos({s}, {a}) = 0 THEN -1 ELSE length({s}) - strpos(reverse({s}), reverse({a})) "
                     "- length({a}) + 1 END AS INTEGER)", s=s, a=a0), Ty.INT
        if name == "Replace" and n == 2:
            return T("replace({s}, {a}, coalesce({b}, ''))", s=s, a=a0, b=args[1][0]), Ty.STRING
        if name in ("PadLeft", "PadRight") and n in (1, 2):
            c = args[1][0] if n == 2 else lit(" ")
            fn = "lpad" if name == "PadLeft" else "rpad"
            return T(f"CASE WHEN length({{s}}) >= {{w}} THEN {{s}} ELSE {fn}({{s}}, CAST({{w}} AS INTEGER), {{c}}) END",
                     s=s, w=a0, c=c), Ty.STRING
        if name == "Split":
            return split(lw, s, call, args), UType("array", True, (Ty.STRING,))
        if name == "Remove" and n in (1, 2):
            cnt = args[1][0] if n == 2 else T("length({s}) - {i}", s=s, i=a0)
            return T("CASE WHEN {i} < 0 OR {c} < 0 OR {i} + {c} > length({s}) THEN {err} "
                     "ELSE substr({s}, 1, {i}) || substr({s}, {i} + {c} + 1) END", s=s, i=a0, c=cnt,
                     err=lw.error("ArgumentOutOfRangeException: Remove startIndex or count", call)), Ty.STRING
        if name == "Insert" and n == 2:
            return T("CASE WHEN {i} < 0 OR {i} > length({s}) THEN {err} "
                     "ELSE substr({s}, 1, {i}) || {v} || substr({s}, {i} + 1) END", s=s, i=a0,
                     v=_nonnull(lw, args[1][0], args[1][1], call, "Insert(null)"),
                     err=lw.error("ArgumentOutOfRangeException: Insert startIndex", call)), Ty.STRING
        if name == "CompareTo" and n == 1:
            return T("CASE WHEN {a} IS NULL THEN 1 WHEN {s} = {a} THEN 0 WHEN {s} < {a} THEN -1 ELSE 1 END",
                     s=s, a=a0), Ty.INT
    if t.name == "DateTime" and name in ("Subtract", "Add") and n == 1:
        return time_arithmetic(lw, "-" if name == "Subtract" else "+", x, t, args[0][0], args[0][1], call)
    if t.name == "TimeSpan" and name in ("Add", "Subtract") and n == 1:
        return time_arithmetic(lw, "+" if name == "Add" else "-", x, t, args[0][0], args[0][1], call)
    if t.name == "DateTime":
        d = lw.deref(x, t, call, name) if t.nullable else x
        units = {"AddDays": 86400000000, "AddHours": 3600000000, "AddMinutes": 60000000, "AddSeconds": 1000000,
                 "AddMilliseconds": 1000}
        if name in units and n == 1:
            return T("{d} + to_microseconds(CAST(round({n} * {u}) AS BIGINT))", d=d, n=a0, u=units[name]), t
        if name in ("AddMonths", "AddYears") and n == 1:
            return T("CAST({d} + " + ("to_months" if name == "AddMonths" else "to_years") + "({n}) AS TIMESTAMP)",
                     d=d, n=a0), t
    if t.name in ("array", "map"):
        if name == "Contains" and t.name == "array" and n == 1:
            return T("coalesce(list_contains({x}, {v}), false)", x=lw.deref(x, t, call, "Contains"), v=a0), Ty.BOOL
        if name == "ContainsKey" and t.name == "map" and n == 1:
            return T("coalesce(list_contains(map_keys({x}), {v}), false)", x=lw.deref(x, t, call, "ContainsKey"), v=a0), Ty.BOOL
    raise CannotRun(f"the C# method {name} of {t} (with {n} argument{'s' if n != 1 else ''}) "
                    "is not supported by the engine", call)


def split(lw, s, call, args):
    """String.Split(char[, ...]) keeps empty entries; several separators split on any of them."""
    seps = []
    drop_empty = False
    for a in call.args:
        if isinstance(a, (A.CharLiteral, A.StringLiteral)):
            seps.append(a.value)
        elif isinstance(a, A.New) and a.initializer is not None and all(
                isinstance(x, (A.CharLiteral, A.StringLiteral)) for x in a.initializer.elements):
            seps.extend(x.value for x in a.initializer.elements)
        elif (isinstance(a, A.Call) and not a.args and isinstance(a.func, A.MemberAccess)
              and isinstance(a.func.member, A.Identifier) and a.func.member.name == "ToCharArray"
              and isinstance(a.func.target, A.StringLiteral)):
            seps.extend(a.func.target.value)          # ";,".ToCharArray(): each char separates
        elif isinstance(a, A.MemberAccess) and isinstance(a.member, A.Identifier) and a.member.name in (
                "None", "RemoveEmptyEntries"):
            drop_empty = drop_empty or a.member.name == "RemoveEmptyEntries"
        else:
            raise CannotRun("Split needs literal separators to run on the engine", a)
    if not seps:
        seps = [" "]
    if len(seps) == 1:
        out = T("string_split({s}, {p})", s=s, p=seps[0])
    else:
        pattern = "|".join(re.escape(x) for x in seps)
        out = T("regexp_split_to_array({s}, {p})", s=s, p=pattern)
    return T("list_filter({l}, usqlrw_x -> usqlrw_x <> '')", l=out) if drop_empty else out


def new(lw, e: A.New, scope):
    r = _enc.new(lw, e, scope)
    if r is not None:
        return r
    t = e.type
    name = t.name if t is not None else ""
    if name in ("SQL.ARRAY", "SqlArray"):
        ut = Ty.from_ast(t)
        if e.initializer is not None:
            items = [lw.expr(x, scope) for x in e.initializer.elements]
            return exp.Cast(this=exp.Array(expressions=[x for x, _ in items]), to=exp.DataType.build(ut.sql())), ut
        if len(e.args) == 1:
            x, xt = lw.expr(e.args[0], scope)
            return _array_of(lw, x, xt, e), ut
        if not e.args:
            return exp.Cast(this=exp.Array(expressions=[]), to=exp.DataType.build(ut.sql())), ut
    if name in ("SQL.MAP", "SqlMap"):
        ut = Ty.from_ast(t)
        if e.initializer is not None:
            ks, vs = [], []
            for el in e.initializer.elements:
                if not (isinstance(el, A.Initializer) and len(el.elements) == 2):
                    raise CannotRun("SQL.MAP initializers need {key, value} pairs", el)
                ks.append(lw.expr(el.elements[0], scope)[0])
                vs.append(lw.expr(el.elements[1], scope)[0])
            return exp.Cast(this=T("map({k}, {v})", k=exp.Array(expressions=ks), v=exp.Array(expressions=vs)),
                            to=exp.DataType.build(ut.sql())), ut
        if not e.args:
            return exp.Cast(this=T("map()"), to=exp.DataType.build(ut.sql())), ut
    if name in ("DateTime", "System.DateTime") and 3 <= len(e.args) <= 8:
        # new DateTime(y, M, d[, h, m, s[, ms]][, DateTimeKind.X]): the kind does not change the value
        args = list(e.args)
        if len(args) in (4, 7, 8) and _is_kind(args[-1]):
            args = args[:-1]
        if len(args) not in (3, 6, 7):
            raise CannotRun(f"new DateTime with {len(e.args)} arguments is not supported by the engine", e)
        vals = [lw.expr(a, scope)[0] for a in args] + [lit(0)] * (7 - len(args))
        secs = T("{s} + {ms} / 1000.0", s=vals[5], ms=vals[6]) if len(args) == 7 else vals[5]
        return T("make_timestamp({y}, {m}, {d}, {h}, {mi}, {s})", y=vals[0], m=vals[1], d=vals[2], h=vals[3],
                 mi=vals[4], s=secs), Ty.DATETIME
    if name in ("TimeSpan", "System.TimeSpan") and len(e.args) in (3, 4, 5):
        vals = [lw.expr(a, scope)[0] for a in e.args]
        if len(vals) == 3:
            vals = [lit(0)] + vals
        vals += [lit(0)] * (5 - len(vals))
        return T("CAST({d} AS BIGINT) * 86400000000 + CAST({h} AS BIGINT) * 3600000000 + CAST({m} AS BIGINT) * 60000000 "
                 "+ CAST({s} AS BIGINT) * 1000000 + CAST({ms} AS BIGINT) * 1000",
                 d=vals[0], h=vals[1], m=vals[2], s=vals[3], ms=vals[4]), TIMESPAN
    if e.array and e.initializer is not None or (t is not None and t.array_rank == 1 and e.initializer is not None):
        items = [lw.expr(x, scope) for x in e.initializer.elements]
        et = items[0][1] if items else Ty.STRING
        return exp.Array(expressions=[x for x, _ in items]), UType("array", True, (et,))
    raise CannotRun(f"new {t.text if t is not None else ''} is not supported by the engine", e)


def _is_kind(a) -> bool:
    return (isinstance(a, A.MemberAccess) and isinstance(a.member, A.Identifier)
            and a.member.name in ("Utc", "Local", "Unspecified") and static_target(a.target) == "DateTimeKind")


def index(lw, e: A.Index, scope):
    x, t = lw.expr(e.target, scope)
    if len(e.args) != 1:
        raise CannotRun("indexing with several arguments is not supported by the engine", e)
    i, it = lw.expr(e.args[0], scope)
    if t.name == "array":
        return _enc.let(lw, lw.deref(x, t, e, "[]"), lambda x: T(
            "CASE WHEN {i} < 0 OR {i} >= array_length({x}) THEN {err} ELSE {v} END", x=x, v=_enc.element(lw, x, T("{i} + 1", i=i)),
            i=i, err=lw.error("IndexOutOfRangeException: index outside the array", e))), t.args[0]
    if t.name == "map":      # SqlMap's indexer gives null for a missing key (map-agg-u-sql.md)
        return T("{x}[{i}]", x=lw.deref(x, t, e, "[]"), i=i), t.args[1].null()
    if t.is_string:
        return T("substr({x}, {i} + 1, 1)", x=lw.deref(x, t, e, "[]"), i=i), UType("char")
    raise CannotRun(f"indexing a {t} is not supported by the engine", e)


def cast(lw, e: A.Cast, scope):
    if _enc.is_kind_type(e.type):
        return _enc.cast_kind(lw, e, scope)
    to = Ty.from_ast(e.type)
    x, t = lw.expr(e.operand, scope)
    r = _enc.convert(lw, x, t, to, e)
    if r is not None:
        return r
    if t.name == "null":
        if not to.may_be_null:
            raise EngineError(f"null cannot be cast to the non-nullable type {to}", e)
        return exp.Cast(this=exp.Null(), to=exp.DataType.build(to.sql())), to
    if t.nullable and not to.nullable and not to.may_be_null:
        x = T("CASE WHEN {x} IS NULL THEN {err} ELSE {x} END", x=x,
              err=lw.error("InvalidOperationException: Nullable object must have a value", e))
    if to.is_integral and t.name in ("double", "float", "decimal"):
        x = T("trunc({x})", x=x)         # (int)2.7 is 2: C# truncates
    if to.name == t.name:
        return x, to
    if to.is_string and not t.is_string:
        raise EngineError(f"cannot cast {t} to string in C#: use ToString()", e)
    return exp.Cast(this=x, to=exp.DataType.build(to.sql())), to


# -- ToString and format strings ---------------------------------------------------------------

def to_string(lw, x, t: UType, fmt: str | None = None, node=None) -> exp.Expression:
    """C# ``x.ToString([fmt])`` under en-US / invariant culture (null stays null)."""
    if t.is_string or t.name == "char":
        return x
    if t.name == "null":
        return exp.Cast(this=exp.Null(), to=exp.DataType.build("VARCHAR"))
    if t.name == "bool":
        return T("CASE WHEN {x} THEN 'True' WHEN NOT {x} THEN 'False' END", x=x)
    if t.name == "DateTime":
        f = dotnet_datetime_format(fmt or "G", node)
        return T("strftime({x}, {f})", x=x, f=f)
    if t.is_numeric:
        if fmt:
            return _number_format(x, t, fmt, node)
        if t.name in ("double", "float"):
            digits = 15 if t.name == "double" else 7
            return T("CASE WHEN isnan({x}) THEN 'NaN' WHEN {x} = 'inf'::DOUBLE THEN 'Infinity' "
                     "WHEN {x} = '-inf'::DOUBLE THEN '-Infinity' ELSE "
                     "replace(replace(printf('%." + str(digits) + "G', {x}), 'E+0', 'E+'), 'E-0', 'E-') END", x=x)
        if t.name == "decimal":
            return T("CASE WHEN contains(CAST({x} AS VARCHAR), '.') THEN rtrim(rtrim(CAST({x} AS VARCHAR), '0'), '.') "
                     "ELSE CAST({x} AS VARCHAR) END", x=x)
        return exp.Cast(this=x, to=exp.DataType.build("VARCHAR"))
    if t.name == "Guid":
        return _enc.guid_format(x, fmt, node) if fmt else exp.Cast(this=x, to=exp.DataType.build("VARCHAR"))
    if t.name == "TimeSpan" and not fmt:      # [-][d.]hh:mm:ss[.fffffff]
        return T("CASE WHEN {x} < 0 THEN '-' ELSE '' END || "
                 "CASE WHEN abs({x}) >= 86400000000 THEN CAST(abs({x}) // 86400000000 AS VARCHAR) || '.' ELSE '' END || "
                 "lpad(CAST(abs({x}) // 3600000000 % 24 AS VARCHAR), 2, '0') || ':' || "
                 "lpad(CAST(abs({x}) // 60000000 % 60 AS VARCHAR), 2, '0') || ':' || "
                 "lpad(CAST(abs({x}) // 1000000 % 60 AS VARCHAR), 2, '0') || "
                 "CASE WHEN abs({x}) % 1000000 <> 0 THEN '.' || lpad(CAST(abs({x}) % 1000000 * 10 AS VARCHAR), 7, '0') "
                 "ELSE '' END", x=x)
    raise CannotRun(f"ToString of {t} is not supported by the engine", node)


def _number_format(x, t: UType, fmt: str, node) -> exp.Expression:
    m = re.fullmatch(r"([FfNnDdPpXx])(\d*)", fmt)
    if m:
        kind, digits = m.group(1).upper(), m.group(2)
        if kind == "D":
            if not t.is_integral:
                raise EngineError(f"format D is only for integers, not {t}", node)
            d = int(digits or 0)
            return T("CASE WHEN {x} < 0 THEN '-' || lpad(CAST(abs({x}) AS VARCHAR), {d}, '0') "
                     "ELSE lpad(CAST({x} AS VARCHAR), CAST(greatest({d}, length(CAST({x} AS VARCHAR))) AS INTEGER), '0') END", x=x, d=d)
        if kind == "X":
            s = T("upper(to_hex({x}))", x=x) if m.group(1) == "X" else T("lower(to_hex({x}))", x=x)
            return T("lpad({s}, CAST(greatest(length({s}), {d}) AS INTEGER), '0')", s=s, d=int(digits or 0))
        d = int(digits) if digits else 2
        if kind == "P":
            x = T("{x} * 100", x=x)
        rounded = T("round(CAST({x} AS DECIMAL(38,10)), {d})", x=x, d=d)     # away from zero, as .NET formats
        if kind == "F":
            s = T("printf({f}, {r})", f=f"%.{d}f", r=rounded)
        else:
            s = T("printf({f}, {r})", f=f"%,.{d}f", r=rounded)
        return T("{s} || ' %'", s=s) if kind == "P" else s
    if re.fullmatch(r"[#0,]*0?(\.0+|\.#+|\.0+#+)?", fmt) and "0" in fmt:
        intpart, _, frac = fmt.partition(".")
        zeros = frac.count("0")
        opt = frac.count("#")
        group = "," in intpart
        minint = intpart.replace(",", "").count("0")
        rounded = T("round(CAST({x} AS DECIMAL(38,10)), {d})", x=x, d=zeros + opt)
        s = T("printf({f}, {r})", f=f"%{',' if group else ''}.{zeros + opt}f", r=rounded)
        if opt:
            s = T("regexp_replace({s}, {p}, '')", s=s, p=r"0{1,%d}$" % opt)
            if not zeros:
                s = T("rtrim({s}, '.')", s=s)
        if minint == 0:
            s = T("regexp_replace({s}, '^(-?)0\\.', '\\1.')", s=s)
        elif minint > 1:
            s = T("CASE WHEN {x} < 0 THEN '-' || lpad(ltrim({s}, '-'), CAST({w} AS INTEGER), '0') ELSE lpad({s}, CAST({w} AS INTEGER), '0') END",
                  x=x, s=s, w=minint + (1 + zeros + opt if zeros + opt else 0))
        return s
    raise CannotRun(f"the number format string {fmt!r} is not supported by the engine", node)


_STANDARD_DT = {"d": "M/d/yyyy", "D": "dddd, MMMM d, yyyy", "f": "dddd, MMMM d, yyyy h:mm tt",
                "F": "dddd, MMMM d, yyyy h:mm:ss tt", "g": "M/d/yyyy h:mm tt", "G": "M/d/yyyy h:mm:ss tt",
                "M": "MMMM d", "m": "MMMM d", "o": "yyyy-MM-ddTHH:mm:ss.fffffff", "O": "yyyy-MM-ddTHH:mm:ss.fffffff",
                "s": "yyyy-MM-ddTHH:mm:ss", "t": "h:mm tt", "T": "h:mm:ss tt", "u": "yyyy-MM-dd HH:mm:ssZ",
                "Y": "MMMM yyyy", "y": "MMMM yyyy"}
_DT_TOKENS = [("yyyy", "%Y"), ("yy", "%y"), ("MMMM", "%B"), ("MMM", "%b"), ("MM", "%m"), ("M", "%-m"),
              ("dddd", "%A"), ("ddd", "%a"), ("dd", "%d"), ("d", "%-d"), ("HH", "%H"), ("H", "%-H"),
              ("hh", "%I"), ("h", "%-I"), ("mm", "%M"), ("m", "%-M"), ("ss", "%S"), ("s", "%-S"),
              ("fffffff", "%f0"), ("ffffff", "%f"), ("fff", "%g"), ("tt", "%p")]


def dotnet_datetime_format(fmt: str, node=None) -> str:
    """A .NET DateTime format string (standard or custom, en-US) as a strftime/strptime format."""
    if len(fmt) == 1:
        if fmt not in _STANDARD_DT:
            raise CannotRun(f"the DateTime format {fmt!r} is not supported by the engine", node)
        fmt = _STANDARD_DT[fmt]
    out, i = [], 0
    while i < len(fmt):
        ch = fmt[i]
        if ch in "'\"":
            j = fmt.find(ch, i + 1)
            if j < 0:
                raise EngineError(f"unclosed quote in the DateTime format {fmt!r}", node)
            out.append(fmt[i + 1:j].replace("%", "%%"))
            i = j + 1
            continue
        if ch == "\\" and i + 1 < len(fmt):
            out.append(fmt[i + 1].replace("%", "%%"))
            i += 2
            continue
        for tok, rep in _DT_TOKENS:
            if fmt.startswith(tok, i):
                out.append(rep)
                i += len(tok)
                break
        else:
            if ch.isalpha() and ch not in "TZ":
                raise CannotRun(f"the DateTime format {fmt!r} ({ch!r}) is not supported by the engine", node)
            out.append("%%" if ch == "%" else ch)
            i += 1
    return "".join(out)


# -- the members of exact encodings (Base64, UTF-8, BitConverter, decimal bits, ticks, Guid formats):
#    their own module, asked first by the functions above
from . import csharp_encoding as _enc  # noqa: E402

_CLASSES.update(_enc.CLASSES)
for _cls, _names in _enc.STATICS.items():
    KNOWN_STATICS.setdefault(_cls, set()).update(_names)
KNOWN_MEMBERS |= _enc.MEMBERS
