"""The C# members of exact encodings on the engine (usqlrw/engine/csharp_encoding.py), each checked
against an independent Python reference of .NET's behaviour: IEEE-754 bits (struct), Base64
(base64), strict UTF-8, decimal.GetBits layout, ticks, Guid formats, char code units."""
from __future__ import annotations

import base64
import decimal
import random
import struct
import uuid
from pathlib import Path

import pytest

from usqlrw.engine import EngineError, run_text


def _run(tmp_path, select: str, rows: list, cols: str = "x", *, dtype="string"):
    """Run ``SELECT <select> FROM @r`` over the one-column rows; the output's text lines."""
    values = ", ".join(f"(({dtype}) {r})" if r == "null" else f"({r})" for r in rows)
    text = (f"@r = SELECT * FROM (VALUES {values}) AS T({cols});\n@o = SELECT {select} FROM @r;\n"
            f'OUTPUT @o TO "/o.tsv" USING Outputters.Tsv(quoting: false);\n')
    run_text(text, str(tmp_path))
    return Path(tmp_path, "o.tsv").read_text(encoding="utf-8").splitlines()


def _double_bits(v: float) -> int:
    if v != v:
        return -2251799813685248          # .NET's double.NaN: 0xFFF8000000000000
    return struct.unpack("<q", struct.pack("<d", v))[0]


def _float_bits(v: float) -> int:
    if v != v:
        return -4194304                   # float.NaN: 0xFFC00000
    return struct.unpack("<i", struct.pack("<f", v))[0]


RNG = random.Random(16)
DOUBLES = [0.0, -0.0, 1.0, -1.0, 0.1, 5e-324, -5e-324, 2.2250738585072014e-308, 2.225073858507201e-308,
           1.7976931348623157e308, float("inf"), float("-inf"), float("nan"), 2.0 ** 52, 2.0 ** -1022, 3.0, 0.75]
DOUBLES += [struct.unpack("<d", struct.pack("<q", RNG.randrange(-2 ** 63, 2 ** 63)))[0] for _ in range(60)]
DOUBLES = [d for d in DOUBLES if d == d or d is DOUBLES[12]]     # random NaN payloads: .NET keeps them, the engine one NaN


def test_double_bits_both_ways_match_ieee_754(tmp_path):
    bits = [_double_bits(d) for d in DOUBLES]
    out = _run(tmp_path, "BitConverter.DoubleToInt64Bits(BitConverter.Int64BitsToDouble(long.Parse(x))) AS b, "
               "BitConverter.DoubleToInt64Bits(BitConverter.Int64BitsToDouble(long.Parse(x)) * 1.0) AS c",
               [f'"{b}"' for b in bits])
    assert [tuple(map(int, line.split("\t"))) for line in out] == [(b, b) for b in bits]


def test_float_bits_through_getbytes_match_ieee_754(tmp_path):
    floats = [0.0, -0.0, 1.5, -2.75, 1e-45, 1.1754943508222875e-38, 3.4028234663852886e38, float("inf"),
              float("-inf"), float("nan")] + [struct.unpack("<f", struct.pack("<i", RNG.randrange(-2 ** 31, 2 ** 31)))[0]
                                              for _ in range(40)]
    floats = [f for f in floats if f == f] + [float("nan")]
    bits = [_float_bits(f) for f in floats]
    out = _run(tmp_path, "BitConverter.ToInt32(BitConverter.GetBytes("
               "BitConverter.ToSingle(BitConverter.GetBytes(x), 0)), 0) AS b", [str(b) for b in bits], dtype="int")
    assert [int(line) for line in out] == bits


def test_base64_and_strict_utf8_match_python(tmp_path):
    texts = ["", "a", "h\u00e9llo", "\u4e16\U0001F600\t\n", "x" * 100]
    out = _run(tmp_path, "Convert.ToBase64String(new System.Text.UTF8Encoding(false, true).GetBytes(x)) AS b, "
               "new System.Text.UTF8Encoding(false, true).GetString(Convert.FromBase64String("
               "Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(x)))) == x AS same",
               ['"' + t.replace("\t", "\\t").replace("\n", "\\n") + '"' for t in texts])
    assert [line.split("\t") for line in out] == [[base64.b64encode(t.encode()).decode(), "True"] for t in texts]


@pytest.mark.parametrize("bad,message", [('"!!!!"', "FormatException"), ('"QQ="', "FormatException"),
                                         ('"/w=="', "UTF8"), ("null", "ArgumentNullException")])
def test_invalid_base64_or_utf8_fails_the_job(tmp_path, bad, message):
    with pytest.raises(EngineError) as e:
        _run(tmp_path, "new System.Text.UTF8Encoding(false, true).GetString(Convert.FromBase64String(x)) AS s", [bad])
    assert message.lower() in str(e.value).lower()


def _bits(d: decimal.Decimal) -> list:
    from usqlrw.replicate.staging import _decimal_bits
    return _decimal_bits(d.normalize(decimal.Context(prec=60)) if d != 0 else decimal.Decimal(0))


def test_decimal_getbits_and_new_decimal_match_dotnet_layout(tmp_path):
    values = ["0", "1.5", "-1.5", "0.0000000001", "7922816251426433759354395033.5", "-123456789012345678.0123456789",
              "4294967296", "18446744073709551616", "-1"]
    out = _run(tmp_path, 'string.Join(":", decimal.GetBits(x).Select(b => b.ToString())) AS bits, '
               "new decimal(decimal.GetBits(x)) == x AS same", [f"{v}m" for v in values])
    got = [line.split("\t") for line in out]
    assert got == [[":".join(map(str, _bits(decimal.Decimal(v)))), "True"] for v in values]


@pytest.mark.parametrize("bits,message", [("{1, 0, 0, 786432}", "10 decimal places"),      # 1E-12
                                          ("{1, 0, 0, 1900544}", "ArgumentException"),      # scale 29
                                          ("{1, 0, 0, 1}", "ArgumentException"),
                                          ("{-1, -1, -1, 0}", "28 digits")])
def test_new_decimal_refuses_what_dotnet_or_the_engine_cannot_hold(tmp_path, bits, message):
    with pytest.raises(EngineError) as e:
        _run(tmp_path, f"new decimal(new int[] {bits}) AS d", ["1"], dtype="int")
    assert message in str(e.value)


def test_ticks_and_kind_round_trip(tmp_path):
    ticks = [0, 10, 630822816000000000, 638000000000000010, 3155378975999999990]
    out = _run(tmp_path, "new DateTime(x, DateTimeKind.Utc).Ticks AS t, (int) new DateTime(x, DateTimeKind.Local).Kind AS k, "
               'new DateTime(x).ToString("yyyy-MM-dd HH:mm:ss.ffffff") AS s', [f"{t}L" for t in ticks], dtype="long")
    import datetime
    dts = [datetime.datetime(1, 1, 1) + datetime.timedelta(microseconds=t // 10) for t in ticks]
    want = [[str(t), "0", f"{d.year:04d}-" + d.strftime("%m-%d %H:%M:%S.%f")] for t, d in zip(ticks, dts)]
    assert [line.split("\t") for line in out] == want
    for bad, message in (("5L", "whole microsecond"), ("-10L", "ArgumentOutOfRangeException")):
        with pytest.raises(EngineError) as e:
            _run(tmp_path, "new DateTime(x) AS d", [bad], dtype="long")
        assert message in str(e.value)


def test_guid_formats_and_parse(tmp_path):
    g = uuid.UUID("0123456789abcdef0123456789ABCDEF")
    out = _run(tmp_path, 'x.ToString("N") AS n, x.ToString("D") AS d, x.ToString("B") AS b, x.ToString("P") AS p, '
               'Guid.ParseExact(x.ToString("N"), "N") == x AS e, Guid.Parse("{" + x.ToString() + "}") == x AS q',
               [f'new Guid("{str(g).upper()}")'])
    assert out == ["\t".join([g.hex, str(g), "{%s}" % g, "(%s)" % g, "True", "True"])]
    with pytest.raises(EngineError, match="FormatException"):
        _run(tmp_path, 'Guid.ParseExact(x, "N") AS g', [f'"{g}"'])


def test_char_code_units(tmp_path):
    out = _run(tmp_path, "(int) x AS code, (char) ((int) x + 1) AS next, ((char) 65601).ToString() AS wrapped",
               ["'a'", "'\u00e9'", "'\uffff'"], dtype="char")
    # the Tsv outputter writes a char as its code (charFormat uint16); (char) 65536 wraps to 0
    assert out == ["97\t98\tA", "233\t234\tA", "65535\t0\tA"]


def test_split_remove_empty_entries_and_map_from_pairs(tmp_path):
    out = _run(tmp_path, 'x.Split(";,".ToCharArray(), StringSplitOptions.RemoveEmptyEntries).Count() AS n, '
               "new SQL.MAP<string, int>(x.Split(';').Where(s => s != \"\").Select(s => "
               "new System.Collections.Generic.KeyValuePair<string, int>(s, s.Length))).Count AS m",
               ['";a;;bb,c;"'])
    assert out == ["3\t2"]
