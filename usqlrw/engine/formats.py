"""The built-in extractors and outputters (Extractors/Outputters.Csv, Tsv, Text) and their
parameters, as the reference describes them (extractor-parameters-u-sql.md,
outputter-parameters-u-sql.md, files-and-file-sets-as-inputs-and-outputs-u-sql.md).

Reading: every data column is read as text by the engine's CSV reader (no type sniffing), then
converted with the column's U-SQL type: a value that does not convert fails the job, or becomes
null for a nullable column under ``silent: true`` (where rows with the wrong number of columns
are skipped). Writing is done here, value by value, with the .NET formats of the reference."""
from __future__ import annotations

import datetime as _dt
import decimal
import math
import re
import struct
from dataclasses import dataclass

from .. import ast as A
from . import types as Ty
from .errors import CannotRun, EngineError, JobFailed
from .rowset import Rowset
from .sqlbuild import T, col, exp, ident, lit

__all__ = ["ExtractOptions", "OutputOptions", "extract", "output_options", "Writer", "format_value"]

_ENCODINGS = {"UTF8": "utf-8", "Unicode": "utf-16", "BigEndianUnicode": "utf-16-be", "UTF32": "utf-32",
              "ASCII": "ascii", "UTF7": "utf-7", "Default": None}


@dataclass
class ExtractOptions:
    delimiter: str = ","
    skip: int = 0
    quoting: bool = True
    encoding: str = "utf-8"
    null_escape: str | None = None
    silent: bool = False
    row_delimiter: str | None = None
    escape: str | None = None


@dataclass
class OutputOptions:
    delimiter: str = ","
    quoting: bool = True
    header: bool = False
    null_escape: str | None = None
    row_delimiter: str = "\r\n"
    datetime_format: str = "O"
    encoding: str = "utf-8"
    escape: str | None = None
    char_format: str = "uint16"


def _udo(using: A.Using, family: str):
    """(kind, {param: (value, node)}) of ``USING Extractors.Csv(...)``; CannotRun for user code."""
    e = using.expr if using is not None else None
    call = e if isinstance(e, A.Call) else None
    f = call.func if call is not None else e
    if not (isinstance(f, A.MemberAccess) and isinstance(f.target, A.Name) and f.target.ident.name == family
            and isinstance(f.member, A.Identifier)):
        what = "extractor" if family == "Extractors" else "outputter"
        raise CannotRun(f"a custom {what} (user code) is not supported by the engine: "
                        f"only {family}.Csv, {family}.Tsv and {family}.Text run", e or using)
    kind = f.member.name
    if kind not in ("Csv", "Tsv", "Text"):
        raise CannotRun(f"{family}.{kind} is not supported by the engine (only Csv, Tsv and Text)", e)
    params = {}
    for a in (call.args if call is not None else ()):
        if not isinstance(a, A.NamedArgument):
            raise EngineError(f"{family}.{kind} takes named parameters (name: value)", a)
        params[a.name.name] = (_const(a.value), a.value)
    return kind, params


def _const(e):
    if isinstance(e, (A.StringLiteral, A.CharLiteral)):
        return e.value
    if isinstance(e, A.BoolLiteral):
        return e.value
    if isinstance(e, A.NullLiteral):
        return None
    if isinstance(e, A.NumberLiteral):
        return int(e.text.rstrip("lLuU"))
    if isinstance(e, A.MemberAccess) and isinstance(e.member, A.Identifier):
        tgt = e.target
        while isinstance(tgt, A.MemberAccess):
            tgt = tgt.target
        if e.member.name in _ENCODINGS:
            enc = _ENCODINGS[e.member.name]
            if enc is None:
                raise EngineError("Encoding.Default is not supported (reference: extractor parameters)", e)
            return ("encoding", enc)
    if isinstance(e, A.Paren):
        return _const(e.expr)
    raise CannotRun("extractor and outputter parameters must be literals to run on the engine", e)


def _check(params, allowed, kind, family):
    for name, (_, node) in params.items():
        if name not in allowed:
            raise EngineError(f"{family}.{kind} has no parameter {name}", node)


def extract_options(using) -> ExtractOptions:
    kind, p = _udo(using, "Extractors")
    allowed = {"skipFirstNRows", "quoting", "encoding", "nullEscape", "silent", "rowDelimiter", "escapeCharacter",
               "charFormat"} | ({"delimiter"} if kind == "Text" else set())
    _check(p, allowed, kind, "Extractors")
    o = ExtractOptions(delimiter={"Csv": ",", "Tsv": "\t", "Text": ","}[kind])
    v = lambda k, d: p[k][0] if k in p else d   # noqa: E731
    o.delimiter = v("delimiter", o.delimiter)
    o.skip = v("skipFirstNRows", 0)
    o.quoting = v("quoting", True)
    enc = v("encoding", ("encoding", "utf-8"))
    o.encoding = enc[1] if isinstance(enc, tuple) else "utf-8"
    o.null_escape = v("nullEscape", None)
    o.silent = v("silent", False)
    o.row_delimiter = v("rowDelimiter", None)
    o.escape = v("escapeCharacter", None)
    if o.encoding not in ("utf-8", "utf-16", "ascii"):
        raise CannotRun(f"the input encoding {o.encoding} is not supported by the engine (UTF8, Unicode, ASCII)",
                        p["encoding"][1])
    if o.escape is not None:
        raise CannotRun("escapeCharacter is not supported by the engine", p["escapeCharacter"][1])
    if o.row_delimiter not in (None, "\n", "\r\n", "\r"):
        raise CannotRun("a rowDelimiter other than \\n, \\r\\n or \\r is not supported by the engine",
                        p["rowDelimiter"][1])
    return o


def output_options(using) -> OutputOptions:
    kind, p = _udo(using, "Outputters")
    allowed = {"quoting", "encoding", "nullEscape", "rowDelimiter", "escapeCharacter", "outputHeader",
               "dateTimeFormat", "charFormat"} | ({"delimiter"} if kind == "Text" else set())
    _check(p, allowed, kind, "Outputters")
    o = OutputOptions(delimiter={"Csv": ",", "Tsv": "\t", "Text": ","}[kind])
    v = lambda k, d: p[k][0] if k in p else d   # noqa: E731
    o.delimiter = v("delimiter", o.delimiter)
    o.quoting = v("quoting", True)
    o.header = v("outputHeader", False)
    o.null_escape = v("nullEscape", None)
    o.row_delimiter = v("rowDelimiter", None) or "\r\n"
    o.datetime_format = v("dateTimeFormat", None) or "O"
    enc = v("encoding", ("encoding", "utf-8"))
    o.encoding = enc[1] if isinstance(enc, tuple) else "utf-8"
    if o.encoding == "utf-16":
        o.encoding = "utf-16-le"       # the built-in outputters write no BOM
    elif o.encoding == "utf-32":
        o.encoding = "utf-32-le"
    o.escape = v("escapeCharacter", None)
    o.char_format = v("charFormat", None) or "uint16"
    return o


# -- EXTRACT --------------------------------------------------------------------------------------

_PATTERN = re.compile(r"\{([^{}]*)\}")
_PART_RE = {"yyyy": r"(\d{4})", "yy": r"(\d{2})", "MM": r"(\d{2})", "M": r"(\d{1,2})", "dd": r"(\d{2})",
            "d": r"(\d{1,2})", "HH": r"(\d{2})", "H": r"(\d{1,2})", "mm": r"(\d{2})", "m": r"(\d{1,2})",
            "ss": r"(\d{2})", "s": r"(\d{1,2})"}


def extract(lw, q: A.Extract) -> Rowset:
    opts = extract_options(q.using)
    cols = []
    filefn: dict = {}          # column -> URI, MODIFIED, CREATED or LENGTH of the file each row comes from
    for c in q.columns:
        if isinstance(c, A.VirtualColumn):
            fn = _file_function(c.value)
            if fn is None or c.value.args:
                raise CannotRun("a virtual column of EXTRACT must be FILE.URI(), FILE.MODIFIED(), FILE.CREATED() "
                                "or FILE.LENGTH()", c)
            filefn[c.name.name] = fn
            cols.append((c.name.name, _FILE_TYPES[fn], c))
            continue
        if not isinstance(c, A.ColumnDefinition):
            raise CannotRun(f"{c.kind} in EXTRACT is not supported by the engine", c)
        cols.append((c.name.name, Ty.from_ast(c.type), c))
    names = {n for n, _, _ in cols}
    pieces = []
    for src in q.sources:
        path = lw.job.location(src)
        pieces.append((src, path))
    virtual: dict = {}
    globs, regexes = [], []
    for src, path in pieces:
        parts, rx, pos = [], [], 0
        for m in _PATTERN.finditer(path):
            rx.append(re.escape(path[pos:m.start()]))
            parts.append(path[pos:m.start()])
            pos = m.end()
            spec = m.group(1)
            if spec == "*":
                rx.append(r"[^/]*")
                parts.append("*")
                continue
            name, _, fmt = spec.partition(":")
            if name not in names:
                raise EngineError(f"the file set names {{{name}}}, which is not a column of the EXTRACT", src)
            if fmt:
                if fmt not in _PART_RE:
                    raise CannotRun(f"the file set pattern {{{spec}}} is not supported by the engine", src)
                rx.append(_PART_RE[fmt])
            else:
                rx.append(r"([^/]*?)")
            parts.append("*")
            virtual.setdefault(name, []).append((len(regexes), sum(1 for x in rx if x.startswith("(")), fmt))
        rx.append(re.escape(path[pos:]))
        parts.append(path[pos:])
        globs.append("".join(parts))
        regexes.append("^" + "".join(rx) + "$")
    if len(pieces) > 1 and virtual:
        raise CannotRun("several FROM sources with file set columns are not supported by the engine", q)
    data_cols = [(n, t, node) for n, t, node in cols if n not in virtual and n not in filefn]
    files = lw.job.input_files(globs, q, [p for _, p in pieces])
    later = getattr(lw.job, "files_at_run_time", False)      # a transpiled program lists the files itself
    if filefn and (len(files) > _PER_FILE_LIMIT or later):
        raise CannotRun(f"FILE.* columns over more than {_PER_FILE_LIMIT} files are not supported by the engine"
                        if not later else "FILE.* columns of a file set are not transpiled", q)
    if (virtual or filefn) and len(files) <= _PER_FILE_LIMIT and not later:
        # one branch per file with its virtual columns as constants: a filter on them is folded
        # by the optimizer and the files it excludes are never read (partition elimination)
        rx = re.compile(regexes[0])
        branches = []
        for f in files:
            m = rx.match(f)
            consts = {n: _virtual_const(lw, n, t, virtual[n], m, node) for n, t, node in cols if n in virtual}
            consts.update({n: file_property(lw.job, filefn[n], f) for n in filefn})
            branches.append(_branch(lw, [f], data_cols, cols, opts, consts))
        sel = branches[0]
        for b in branches[1:]:
            sel = exp.Union(this=sel, expression=b, distinct=False)
        return Rowset(sel, [(n, t) for n, t, _ in cols])
    read = _read_call(files, data_cols, opts, bool(virtual))
    raw = exp.select(exp.Star()).from_(read)
    if opts.silent:
        raw = raw.offset(0)       # keep TRY_CAST out of the reader (duckdb issue 23818)
    sub = lw.fresh("x")
    items = []
    for n, t, node in cols:
        if n in virtual:
            v = _virtual(lw, n, t, virtual[n], regexes[0], sub, node)
        else:
            v = _convert(lw, col(n, sub), t, opts, node)
        items.append(exp.alias_(v, ident(n)))
    sel = exp.select(*items).from_(exp.Subquery(this=raw, alias=ident(sub)))
    return Rowset(sel, [(n, t) for n, t, _ in cols])


_PER_FILE_LIMIT = 2000
_FILE_TYPES = {"URI": Ty.STRING, "MODIFIED": Ty.DATETIME.null(), "CREATED": Ty.DATETIME.null(),
               "LENGTH": Ty.LONG.null(), "EXISTS": Ty.BOOL}


def _file_function(e) -> str | None:
    """``URI`` for ``FILE.URI(...)`` and the like, else None."""
    if (isinstance(e, A.Call) and isinstance(e.func, A.MemberAccess) and isinstance(e.func.target, A.Name)
            and e.func.target.ident.name == "FILE" and isinstance(e.func.member, A.Identifier)
            and e.func.member.name.upper() in _FILE_TYPES):
        return e.func.member.name.upper()
    return None


def file_property(job, fn: str, path: str) -> exp.Expression:
    """A FILE.* value of a local file, as a constant (file-functions-u-sql.md: evaluated at
    compile time). URI is the default-store path (``/in/x.csv``); CREATED is the status change
    time where the file system keeps no creation time; a missing file or a folder gives null
    (EXISTS false)."""
    import datetime as _dt
    import os
    if fn == "URI":
        return exp.Literal.string("/" + os.path.relpath(path, job.store.root).replace(os.sep, "/"))
    ok = os.path.isfile(path)
    if fn == "EXISTS":
        return exp.Boolean(this=ok)
    if not ok:
        return exp.Cast(this=exp.Null(), to=exp.DataType.build(_FILE_TYPES[fn].sql()))
    st = os.stat(path)
    if fn == "LENGTH":
        return exp.Cast(this=lit(st.st_size), to=exp.DataType.build("BIGINT"))
    t = getattr(st, "st_birthtime", None) if fn == "CREATED" else None
    t = t if t is not None else (st.st_mtime if fn == "MODIFIED" else st.st_ctime)
    v = _dt.datetime.fromtimestamp(t, _dt.timezone.utc).replace(tzinfo=None)
    return exp.Cast(this=lit(v.isoformat(sep=" ")), to=exp.DataType.build("TIMESTAMP"))
_READER_TYPES = {"int", "long", "short", "byte", "sbyte", "uint", "ulong", "ushort", "double", "float"}


def _typed(t: Ty.UType, opts: ExtractOptions) -> bool:
    """Numbers are converted by the reader itself (a bad value fails the job with the column
    named); under silent every column is read as text and converted leniently."""
    return t.name in _READER_TYPES and not opts.silent


def _branch(lw, files, data_cols, cols, opts, consts) -> exp.Expression:
    raw = exp.select(exp.Star()).from_(_read_call(files, data_cols, opts, False))
    if opts.silent:
        raw = raw.offset(0)
    sub = lw.fresh("x")
    items = [exp.alias_(consts[n] if n in consts else _convert(lw, col(n, sub), t, opts, node), ident(n))
             for n, t, node in cols]
    return exp.select(*items).from_(exp.Subquery(this=raw, alias=ident(sub)))


def _virtual_const(lw, name, t, uses, m, node) -> exp.Expression:
    """The value of a file set column for one file, as a typed constant."""
    if t.name == "DateTime":
        parts = {fmt: int(m.group(group)) for _, group, fmt in uses}
        import datetime as _dt
        y = parts.get("yyyy", 2000 + parts.get("yy", 1) if "yy" in parts else 1)
        try:
            v = _dt.datetime(y, parts.get("MM", parts.get("M", 1)), parts.get("dd", parts.get("d", 1)),
                             parts.get("HH", parts.get("H", 0)), parts.get("mm", parts.get("m", 0)),
                             parts.get("ss", parts.get("s", 0)))
        except ValueError:
            raise JobFailed(f"the file {m.group(0)} does not name a valid date for column {name}", node) from None
        return exp.Cast(this=lit(v.isoformat(sep=" ")), to=exp.DataType.build("TIMESTAMP"))
    text = m.group(uses[0][1])
    if t.is_string:
        return exp.Literal.string(text)
    return T("CAST({v} AS " + t.sql() + ")", v=exp.Literal.string(text))


def _read_call(files, data_cols, opts: ExtractOptions, filename: bool) -> exp.Expression:
    args = [exp.Array(expressions=[lit(f) for f in files])]
    kv = {
        "delim": opts.delimiter, "header": False, "auto_detect": False, "skip": opts.skip,
        "quote": '"' if opts.quoting else "", "escape": '"' if opts.quoting else "",
        "allow_quoted_nulls": False, "ignore_errors": bool(opts.silent), "strict_mode": True,
        "null_padding": False, "encoding": opts.encoding if opts.encoding != "ascii" else "utf-8",
        "filename": filename,
        "hive_partitioning": False,   # a folder named NAME=VALUE is a folder, not a column NAME
    }
    if opts.null_escape is not None and opts.null_escape != "":
        kv["nullstr"] = opts.null_escape
    else:
        kv["nullstr"] = ""
        if opts.null_escape == "":
            kv["allow_quoted_nulls"] = True
    if opts.row_delimiter is not None:
        kv["new_line"] = opts.row_delimiter
    for k, v in kv.items():
        args.append(exp.PropertyEQ(this=exp.Identifier(this=k), expression=lit(v)))
    structs = exp.Struct(expressions=[exp.PropertyEQ(this=exp.Literal.string(n), expression=lit(
        t.sql() if _typed(t, opts) else "VARCHAR")) for n, t, _ in data_cols])
    args.append(exp.PropertyEQ(this=exp.Identifier(this="columns"), expression=structs))
    return exp.Anonymous(this="read_csv", expressions=args)


def _convert(lw, raw, t: Ty.UType, opts: ExtractOptions, node) -> exp.Expression:
    """Text of a field -> the column's type. Null (an empty unquoted field or nullEscape) into a
    non-nullable column fails the job; a bad value fails it, or is null under silent."""
    if t.is_string:
        return raw
    nullable = t.nullable
    if _typed(t, opts):
        if nullable:
            return raw
        return T("CASE WHEN {x} IS NULL THEN {nul} ELSE {x} END", x=raw, nul=lw.error(
            f"E_RUNTIME_USER_EXTRACT_COLUMN_CONVERSION_NULL_ERROR: null in the non-nullable "
            f"column {node.name.name} ({t})", node))
    null_err = lw.error(f"E_RUNTIME_USER_EXTRACT_COLUMN_CONVERSION_NULL_ERROR: null in the non-nullable "
                        f"column {node.name.name} ({t})", node)
    bad = lw.error(f"E_RUNTIME_USER_EXTRACT_COLUMN_CONVERSION: a value of column {node.name.name} "
                   f"is not a valid {t.name}", node)
    lenient = opts.silent and nullable
    if t.name in ("array", "map", "byte[]"):
        raise CannotRun(f"EXTRACT of a {t} column is not supported by the engine", node)
    if t.name == "DateTime":
        from .csharp import _DT_FORMATS
        parsed = T("coalesce(TRY_CAST({x} AS TIMESTAMP), try_strptime(trim({x}), {f}))", x=raw,
                   f=exp.Array(expressions=[lit(f) for f in _DT_FORMATS]))
    elif t.name == "char":
        parsed = T("chr(TRY_CAST({x} AS INTEGER))", x=raw)
    elif t.name == "bool":
        parsed = T("CASE lower(trim({x})) WHEN 'true' THEN true WHEN 'false' THEN false END", x=raw)
    else:
        parsed = exp.TryCast(this=raw, to=exp.DataType.build(t.sql()), safe=True)
    if lenient:
        return parsed
    if nullable:       # null stays null; a value that does not convert fails the job
        return T("CASE WHEN {x} IS NULL THEN NULL ELSE coalesce({p}, {bad}) END", x=raw, p=parsed, bad=bad)
    return T("CASE WHEN {x} IS NULL THEN {nul} ELSE coalesce({p}, {bad}) END", x=raw, p=parsed, bad=bad, nul=null_err)


def _virtual(lw, name, t, uses, regex, sub, node):
    fname = col("filename", sub)
    if t.name == "DateTime":
        parts = {}
        for _, group, fmt in uses:
            parts[fmt] = T("CAST(regexp_extract({f}, {r}, {g}) AS INTEGER)", f=fname, r=regex, g=group)
        y = parts.get("yyyy", lit(1))
        mo = parts.get("MM", parts.get("M", lit(1)))
        d = parts.get("dd", parts.get("d", lit(1)))
        h = parts.get("HH", parts.get("H", lit(0)))
        mi = parts.get("mm", parts.get("m", lit(0)))
        s = parts.get("ss", parts.get("s", lit(0)))
        return T("make_timestamp({y}, {mo}, {d}, {h}, {mi}, {s})", y=y, mo=mo, d=d, h=h, mi=mi, s=s)
    _, group, fmt = uses[0]
    v = T("regexp_extract({f}, {r}, {g})", f=fname, r=regex, g=group)
    if t.is_string:
        return v
    return T("CAST({v} AS " + t.sql() + ")", v=v)


# -- OUTPUT ---------------------------------------------------------------------------------------

def format_double(v: float, single: bool = False) -> str:
    """.NET round-trip text of a double (``1``, ``0.1``, ``1E+20``, ``NaN``, ``Infinity``)."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    if single:
        for p in range(1, 10):
            s = f"{v:.{p}g}"
            if struct.unpack("f", struct.pack("f", float(s)))[0] == struct.unpack("f", struct.pack("f", v))[0]:
                break
    else:
        s = repr(v)
    if "e" in s:
        mant, ex = s.split("e")
        if mant.endswith(".0"):
            mant = mant[:-2]
        n = int(ex)
        if -5 <= n < 15:
            s = format(decimal.Decimal(s), "f")
        else:
            return f"{mant}E{'+' if n > 0 else '-'}{abs(n):02d}"
    if s.endswith(".0"):
        s = s[:-2]
    return s


def format_datetime(d: _dt.datetime, fmt: str) -> str:
    from .csharp import _STANDARD_DT
    if len(fmt) == 1:
        fmt = _STANDARD_DT.get(fmt, fmt)
    out, i = [], 0
    tokens = [("yyyy", lambda: f"{d.year:04d}"), ("yy", lambda: f"{d.year % 100:02d}"), ("MMMM", lambda: d.strftime("%B")),
              ("MMM", lambda: d.strftime("%b")), ("MM", lambda: f"{d.month:02d}"), ("M", lambda: str(d.month)),
              ("dddd", lambda: d.strftime("%A")), ("ddd", lambda: d.strftime("%a")), ("dd", lambda: f"{d.day:02d}"),
              ("d", lambda: str(d.day)), ("HH", lambda: f"{d.hour:02d}"), ("H", lambda: str(d.hour)),
              ("hh", lambda: f"{(d.hour % 12) or 12:02d}"), ("h", lambda: str((d.hour % 12) or 12)),
              ("mm", lambda: f"{d.minute:02d}"), ("m", lambda: str(d.minute)), ("ss", lambda: f"{d.second:02d}"),
              ("s", lambda: str(d.second)), ("fffffff", lambda: f"{d.microsecond:06d}0"),
              ("ffffff", lambda: f"{d.microsecond:06d}"), ("fffff", lambda: f"{d.microsecond:06d}"[:5]),
              ("ffff", lambda: f"{d.microsecond:06d}"[:4]), ("fff", lambda: f"{d.microsecond:06d}"[:3]),
              ("ff", lambda: f"{d.microsecond:06d}"[:2]), ("f", lambda: f"{d.microsecond:06d}"[:1]),
              ("tt", lambda: "AM" if d.hour < 12 else "PM"), ("K", lambda: "")]
    while i < len(fmt):
        ch = fmt[i]
        if ch in "'\"":
            j = fmt.find(ch, i + 1)
            j = len(fmt) if j < 0 else j
            out.append(fmt[i + 1:j])
            i = j + 1
            continue
        if ch == "\\" and i + 1 < len(fmt):
            out.append(fmt[i + 1])
            i += 2
            continue
        for tok, f in tokens:
            if fmt.startswith(tok, i):
                out.append(f())
                i += len(tok)
                break
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def format_value(v, t: Ty.UType, o: OutputOptions) -> str:
    if v is None:
        return o.null_escape if o.null_escape is not None else ""
    n = t.name
    if n == "string":
        s = v
        if o.escape:
            s = s.replace(o.escape, o.escape * 2).replace(o.delimiter, o.escape + o.delimiter)
        if o.quoting:
            return '"' + s.replace('"', '""') + '"'
        return s
    if n == "bool":
        return "True" if v else "False"
    if n in ("double", "float"):
        return format_double(v, n == "float")
    if n == "decimal":
        d = decimal.Decimal(v).normalize()
        s = format(d, "f")
        return s
    if n == "DateTime":
        return format_datetime(v, o.datetime_format)
    if n == "char":
        return str(ord(v)) if o.char_format in ("uint16", None) else v
    if n == "Guid":
        return str(v)
    return str(v)


class Writer:
    """Writes one output file (to a temporary path the job renames when it commits)."""

    def __init__(self, path: str, columns, o: OutputOptions, node):
        for c, t in columns:
            if t.name in ("array", "map", "byte[]", "TimeSpan", "kvp"):
                raise JobFailed(f"the built-in outputters cannot write column {c} of type {t}", node)
        self.columns, self.o = columns, o
        self.f = open(path, "w", encoding=o.encoding, newline="", errors="strict")
        if o.header:
            names = [format_value(c, Ty.STRING, o) for c, _ in columns]
            self.f.write(o.delimiter.join(names) + o.row_delimiter)

    def write(self, rows) -> None:
        o, types = self.o, [t for _, t in self.columns]
        d, nl = o.delimiter, o.row_delimiter
        self.f.write("".join(d.join([format_value(v, t, o) for v, t in zip(r, types)]) + nl for r in rows))

    def close(self) -> None:
        self.f.close()
