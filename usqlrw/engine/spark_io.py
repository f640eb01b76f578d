"""U-SQL's built-in extractors and outputters on Spark: used by the Spark engine and imported by
the programs ``usqlrw transpile --to pyspark`` writes.

:func:`read_csv` is Spark's CSV reader with the EXTRACT's parameters (every column read as text;
the conversion to the column types is done in SQL with safe casts). :func:`write_output` writes
one file in U-SQL's format (not a folder of part files): rows streamed to the driver partition by
partition and formatted as the built-in outputters do (.NET number and date formats)."""
from __future__ import annotations

import os

__all__ = ["read_csv", "write_output", "store_files", "find_line", "TRANSPILE_ROOT"]

#: the store's root in the paths a transpiled program's queries compare file names with
TRANSPILE_ROOT = os.path.abspath(os.sep + "usqlrw-store")


def store_files(store: str, *patterns: str) -> list:
    """The files of store-relative paths and file sets (``*`` in a path), listed when the program
    runs; a file set that matches no file fails as U-SQL's job does."""
    import glob
    out = []
    for p in patterns:
        full = os.path.join(store, p)
        if "*" in p:
            hit = sorted(f for f in glob.glob(full) if os.path.isfile(f))
            if not hit:
                raise FileNotFoundError(f"no input file matches the file set {p} in the store {store}")
            out.extend(hit)
        else:
            out.append(full)
    return out


_EMPTY = "\u0001usqlrw-quoted-empty\u0001"    # a quoted "" while Spark reads it

# the lowering's DuckDB reader types -> Spark types (numbers only: the rest is read as text)
_TYPES = {"INTEGER": "INT", "BIGINT": "BIGINT", "SMALLINT": "SMALLINT", "TINYINT": "TINYINT",
          "UTINYINT": "SMALLINT", "USMALLINT": "INT", "UINTEGER": "BIGINT", "UBIGINT": "DECIMAL(20,0)",
          "FLOAT": "FLOAT", "DOUBLE": "DOUBLE"}


def read_csv(spark, files, columns, *, delim=",", skip=0, quote='"', escape='"', nullstr="",
             allow_quoted_nulls=False, encoding="utf-8", ignore_errors=False, new_line=None,
             filename=False, store=None, **_ignored):
    """A DataFrame of the files' rows: ``columns`` are names (read as text) or (name, reader type)
    pairs, numbers converted here (a value that does not convert fails the job naming the column
    and file); ``filename``: plus the file's path (``store``: as :data:`TRANSPILE_ROOT` + its path
    in the store). Rows with another number of columns fail the job, or are skipped
    (``ignore_errors``, U-SQL's ``silent: true``)."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField, StructType
    columns = [c if isinstance(c, tuple) else (c, "VARCHAR") for c in columns]
    names = [n for n, _ in columns]
    schema = StructType([StructField(n, StringType(), True) for n in names] +
                        [StructField("_usqlrw_corrupt", StringType(), True)])
    # Spark turns a field equal to nullValue into null after unquoting, so a quoted "" would be
    # null too: it is read as a marker, turned back into "" below (U-SQL keeps "" apart from null)
    keep_empty = not allow_quoted_nulls and nullstr == "" and bool(quote)
    opts = {
        "sep": delim, "header": "false", "quote": quote if quote else "\u0000",
        "escape": escape or "\\", "nullValue": nullstr,
        "emptyValue": _EMPTY if keep_empty else None if allow_quoted_nulls else "",
        "encoding": "UTF-16" if encoding == "utf-16" else "UTF-8",
        "mode": "PERMISSIVE", "columnNameOfCorruptRecord": "_usqlrw_corrupt",
        "ignoreLeadingWhiteSpace": "false", "ignoreTrailingWhiteSpace": "false", "multiLine": "false",
        "enforceSchema": "true",
    }
    if new_line and new_line != "\r\n":
        opts["lineSep"] = new_line
    if opts["encoding"] != "UTF-8":
        opts["multiLine"] = "true"      # Spark reads other encodings whole-file only
    opts = {k: v for k, v in opts.items() if v is not None}
    reader = spark.read.options(**opts).schema(schema)
    skip = int(skip or 0)
    # Spark's CSV reader skips empty lines; U-SQL reads one as a row (of one null field)
    blank_rows = len(names) == 1 and opts["encoding"] == "UTF-8" and not new_line
    blank = F.lit(None).cast("string")
    if skip:
        # Spark's reader has no skip: drop the first lines of each file, then parse the rest
        frames = []
        for f in files:
            lines = spark.sparkContext.textFile(f, 1).zipWithIndex().filter(
                lambda p, n=skip: p[1] >= n).map(lambda p: p[0])
            # (lines of an RDD have no input file name: each file's path is a constant)
            frames.append(reader.csv(lines).withColumn("_usqlrw_file", F.lit(os.path.abspath(f))))
            if blank_rows:
                blanks = spark.createDataFrame(lines.filter(lambda x: x.strip("\r") == "").map(lambda x: (x,)), "v STRING")
                frames.append(blanks.select(
                    blank.alias(names[0]), blank.alias("_usqlrw_corrupt"), F.lit(os.path.abspath(f)).alias("_usqlrw_file")))
        df = frames[0]
        for d in frames[1:]:
            df = df.unionAll(d)
    else:
        df = reader.csv(list(files)).withColumn("_usqlrw_file", F.regexp_replace(
            F.input_file_name(), "^file:(//)?", ""))
        if blank_rows:
            empty = spark.read.text(list(files)).where("value = '' OR value = '\r'").select(
                blank.alias(names[0]), blank.alias("_usqlrw_corrupt"),
                F.regexp_replace(F.input_file_name(), "^file:(//)?", "").alias("_usqlrw_file"))
            df = df.unionAll(empty)
    if keep_empty:
        df = df.select(*[F.when(F.col(n) == _EMPTY, F.lit("")).otherwise(F.col(n)).alias(n) for n in names],
                       "_usqlrw_corrupt", "_usqlrw_file")
    if filename:
        df = df.withColumn("filename", F.col("_usqlrw_file"))
        if store is not None:
            df = df.withColumn("filename", F.concat(F.lit(TRANSPILE_ROOT), F.expr(
                f"substring(filename, {len(os.path.abspath(store)) + 1})")))
    if ignore_errors:
        df = df.filter("_usqlrw_corrupt IS NULL")
    else:       # lazily, as DuckDB's strict reader: a file never read (pruned) never fails
        first = names[0]
        df = df.withColumn(first, F.when(F.col("_usqlrw_corrupt").isNotNull(), F.raise_error(F.concat(
            F.lit(f"an input line does not have the EXTRACT's {len(names)} columns "
                  "(silent: true skips such rows): "), F.substring("_usqlrw_corrupt", 1, 60))))
            .otherwise(F.col(first)))
    df = df.drop("_usqlrw_corrupt")
    for n, t in columns:
        st = _TYPES.get(t.upper())
        if st is None:
            continue
        raw = F.col(n)
        parsed = F.expr(f"try_cast(`{n}` AS {st})")
        df = df.withColumn(n, F.when(raw.isNotNull() & parsed.isNull(), F.raise_error(F.concat(
            F.lit('E_RUNTIME_USER_EXTRACT_COLUMN_CONVERSION: the value "'), raw,
            F.lit(f'" of column {n} does not convert (input file '),
            F.col("_usqlrw_file"), F.lit(")")))).otherwise(parsed))
    return df.drop("_usqlrw_file")


def find_line(path: str, column: str, value: str, columns, *, delim=",", skip=0, quote='"',
              encoding="utf-8", **_ignored) -> int | None:
    """The line of ``path`` whose field ``column`` is ``value`` (the first one), for the error of a
    value that does not convert (Spark's reader does not know line numbers); None if not found."""
    import csv
    names = [c[0] if isinstance(c, tuple) else c for c in columns]
    if column not in names or len(delim) != 1:
        return None
    i = names.index(column)
    try:
        with open(path, encoding="utf-16" if encoding == "utf-16" else "utf-8-sig", newline="") as f:
            rows = csv.reader(f, delimiter=delim, quotechar=quote or None, quoting=csv.QUOTE_MINIMAL if quote
                              else csv.QUOTE_NONE, doublequote=True)
            for n, row in enumerate(rows):
                if n >= int(skip or 0) and i < len(row) and row[i] == value:
                    return rows.line_num
    except (OSError, UnicodeError, csv.Error):
        return None
    return None


def write_output(df, path: str, columns, **options) -> None:
    """Writes ``df`` to the one file ``path`` as Outputters.Csv/Tsv/Text do. ``columns``: (name,
    U-SQL type name) in order; ``options``: the fields of
    :class:`usqlrw.engine.formats.OutputOptions` (delimiter, quoting, header, ...)."""
    from .formats import OutputOptions, Writer
    from .types import UType
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    w = Writer(tmp, [(n, UType(t)) for n, t in columns], OutputOptions(**options), None)
    try:
        batch = []
        for r in df.toLocalIterator():
            batch.append(tuple(r))
            if len(batch) >= 10000:
                w.write(batch)
                batch = []
        w.write(batch)
    finally:
        w.close()
    os.replace(tmp, path)
