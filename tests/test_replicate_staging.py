"""The staging format: lossless and unambiguous for every U-SQL column type (property tests of the
Python codec that mirrors the generated C#), and the generated expressions' shape."""
import decimal
import math
import struct
import uuid

import pytest
from hypothesis import given, settings, strategies as st

import usqlrw
from usqlrw import ast as A
from usqlrw.replicate import staging as S

INTS = {k: st.integers(lo, hi) for k, (lo, hi) in S._RANGES.items()}
FLOAT32 = st.integers(-2**31, 2**31 - 1).map(lambda i: struct.unpack("<f", struct.pack("<i", i))[0])
DOUBLE = st.integers(-2**63, 2**63 - 1).map(lambda i: struct.unpack("<d", struct.pack("<q", i))[0])
DECIMAL = st.builds(lambda m, s, neg: decimal.Decimal((neg, tuple(int(d) for d in str(m)), -s)),
                    st.integers(0, 2**96 - 1), st.integers(0, 28), st.integers(0, 1))
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
SCALARS = {
    **INTS, "bool": st.booleans(), "char": st.characters(max_codepoint=0xFFFF, blacklist_categories=("Cs",)),
    "string": TEXT, "byte[]": st.binary(max_size=40), "float": FLOAT32, "double": DOUBLE, "decimal": DECIMAL,
    "DateTime": st.builds(S.DotNetDateTime, st.integers(0, 3155378975999999999), st.integers(0, 2)),
    "Guid": st.uuids(),
}


def same(a, b):
    """Equality that tells -0.0 from 0.0, NaN payloads, and decimal scale apart."""
    if isinstance(a, float):
        return struct.pack("<d", a) == struct.pack("<d", b)
    if isinstance(a, decimal.Decimal):
        return a.as_tuple() == b.as_tuple() or (a == 0 and b == 0 and a.as_tuple()[2] == b.as_tuple()[2])
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return a == b


def nullable(t, strat):
    ref = t in ("string", "byte[]")
    return (t, strat) if ref else (t + "?", st.one_of(st.none(), strat))


TYPES = [(t, s) for t, s in SCALARS.items()] + [nullable(t, s) for t, s in SCALARS.items()]
TYPES += [(f"SQL.ARRAY<{t}>", st.lists(s, max_size=5)) for t, s in TYPES]
TYPES += [("SQL.MAP<string, int?>", st.dictionaries(TEXT, st.one_of(st.none(), INTS["int"]), max_size=5)),
          ("SQL.MAP<Guid, byte[]>", st.dictionaries(st.uuids(), st.one_of(st.none(), st.binary(max_size=8)), max_size=4)),
          ("SQL.MAP<long, DateTime?>", st.dictionaries(INTS["long"], st.one_of(st.none(), SCALARS["DateTime"]), max_size=4))]


@pytest.mark.parametrize("typ,strat", TYPES, ids=[t for t, _ in TYPES])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_round_trip_is_lossless_and_delimiter_free(typ, strat, data):
    v = data.draw(strat)
    field = S.encode_value(typ, v)
    assert not set(field) & set("\t\r\n\"")
    assert field == S.NULL_ESCAPE or field.startswith("=")
    back = S.decode_value(typ, field)
    assert (back is None and v is None) or same(v, back)


def test_null_empty_and_empty_collections_differ():
    fields = {S.encode_value("string", None), S.encode_value("string", ""),
              S.encode_value("SQL.ARRAY<string>", []), S.encode_value("SQL.ARRAY<string>", [""]),
              S.encode_value("SQL.ARRAY<string>", [None])}
    assert len(fields) == 4 and S.encode_value("string", "") == S.encode_value("SQL.ARRAY<string>", [])
    assert S.decode_value("SQL.ARRAY<string>", "=") == [] and S.decode_value("SQL.ARRAY<string>", "==") == [""]
    assert S.decode_value("SQL.ARRAY<string>", "=~") == [None]


def test_special_floats_and_decimal_scale_survive():
    for v in (-0.0, math.inf, -math.inf, float("nan"), 5e-324, 0.1):
        assert same(S.decode_value("double", S.encode_value("double", v)), v)
    for text in ("1.500", "-0.00", "79228162514264337593543950335", "0.0000000000000000000000000001"):
        v = decimal.Decimal(text)
        assert S.decode_value("decimal", S.encode_value("decimal", v)).as_tuple() == v.as_tuple()


def test_files_round_trip_and_refusals():
    cols = [("id", "long"), ("tags", "SQL.ARRAY<string>"), ("note", "string"), ("g", "Guid?")]
    rows = [[1, ["a\tb", None, ""], "line\nbreak", None], [2, [], None, uuid.UUID(int=7)]]
    data = S.write_rows(cols, rows)
    assert data.count(b"\n") == 2
    assert S.read_rows(cols, data) == rows
    with pytest.raises(S.StagingError):
        S.encode_value("int", None)                 # a non-nullable column cannot hold null
    with pytest.raises(S.StagingError):
        S.encode_value("MyLib.Point", object())      # user-defined types are refused, by name
    with pytest.raises(S.StagingError):
        S.encode_value("string", "\ud800")          # invalid UTF-16 fails like the strict encoder
    with pytest.raises(S.StagingError):
        S.read_rows(cols, b"=1\t=\n")


@pytest.mark.parametrize("typ", [t for t, _ in TYPES])
def test_generated_expressions_parse_and_cast_to_the_type(typ):
    e = S.encode_expr(typ, "c")
    d = S.decode_expr(typ, "c")
    s = usqlrw.parse(f"@x = SELECT {e} AS c FROM @r;\n@y = SELECT {d} AS c FROM @x;")
    item = next(A.find_all(s.statements[1], A.AliasedItem))
    assert isinstance(item.expr, A.Cast)
    assert "".join(item.expr.type.text.split()) == "".join(S.parse_type(typ).text.split())
