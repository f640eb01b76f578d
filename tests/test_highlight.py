"""The Pygments lexer: exact round trips on every fixture, no Error tokens on valid scripts,
the right token types, and its registration as a Pygments plugin."""
import subprocess
import sys
from pathlib import Path

import pytest
from pygments.token import Comment, Error, Keyword, Name, Number, String

from usqlrw.highlight import USqlLexer
from usqlrw.source import decode

ROOT = Path(__file__).parent.parent
SCRIPTS = sorted({*(ROOT / "tests" / "fixtures").rglob("*.usql"), *(ROOT / "examples").rglob("*.usql")})


def tokens(text):
    return [(t, v) for _, t, v in USqlLexer().get_tokens_unprocessed(text)]


def parses(data: bytes) -> bool:
    from usqlrw import USqlSyntaxError, parse
    try:
        parse(data)
        return True
    except USqlSyntaxError:
        return False


def test_there_are_fixtures():
    assert len(SCRIPTS) > 30


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_round_trip_and_no_error_tokens(path):
    data = path.read_bytes()
    try:
        text = decode(data).text
    except ValueError:
        pytest.skip("not text")
    toks = tokens(text)
    assert "".join(v for _, v in toks) == text
    with_bom = "\ufeff" + text
    assert "".join(v for _, v in tokens(with_bom)) == with_bom
    if parses(data):
        errors = [(v, text[:200]) for t, v in toks if t in Error]
        assert errors == []


def test_token_types():
    src = ('// line\n/* block\ncomment */ DECLARE EXTERNAL @day DateTime = new DateTime(2024, 1, 15);\n'
           '@r = SELECT [Sales Data].x AS y, "a\\tb" AS s, @"c:\\dir\\""q""" AS v, \'c\' AS ch, 0x1F AS h, 2.5e3 AS f,\n'
           '        @@FeaturePreviews AS fp, x ?? 1 AS n, true AS t, null AS z\n'
           '     FROM @t WHERE Select == 1 AND s.Contains("x");\n')
    toks = [(t, v) for t, v in tokens(src) if v.strip()]
    kinds = dict((v, t) for t, v in toks)
    assert kinds["// line"] in Comment.Single
    assert kinds["/* block\ncomment */"] in Comment.Multiline
    for kw in ("DECLARE", "EXTERNAL", "SELECT", "AS", "FROM", "WHERE", "AND", "new"):
        assert kinds[kw] in Keyword, kw
    assert kinds["DateTime"] in Keyword.Type
    assert kinds["Select"] in Name          # U-SQL keywords are upper case only
    assert kinds["@day"] in Name.Variable and kinds["@r"] in Name.Variable
    assert kinds["@@FeaturePreviews"] in Name.Variable.Global
    assert kinds["[Sales Data]"] in Name
    assert kinds['@"c:\\dir\\""q"""'] in String
    assert [v for t, v in toks if t in String.Escape] == ["\\t"]
    assert kinds["'c'"] in String.Char
    assert kinds["0x1F"] in Number.Hex and kinds["2.5e3"] in Number.Float and kinds["2024"] in Number.Integer
    assert kinds["true"] in Keyword.Constant and kinds["null"] in Keyword.Constant
    assert kinds["Contains"] in Name.Function
    assert not [v for t, v in toks if t in Error]


def test_unterminated_string_stops_at_the_line_end():
    src = '@r = SELECT "oops AS x FROM @t;\nOUTPUT @r TO "/o" USING Outputters.Csv();\n'
    toks = tokens(src)
    assert "".join(v for _, v in toks) == src
    assert ("OUTPUT" in [v for t, v in toks if t in Keyword])


def test_garbage_round_trips_with_error_tokens():
    src = "SELECT # $ `\r\n"
    toks = tokens(src)
    assert "".join(v for _, v in toks) == src
    assert [v for t, v in toks if t in Error] == ["#", "$", "`"]


def test_registered_as_a_pygments_plugin():
    from pygments.lexers import find_lexer_class_for_filename, get_lexer_by_name
    assert isinstance(get_lexer_by_name("usql"), USqlLexer)
    assert isinstance(get_lexer_by_name("u-sql"), USqlLexer)
    assert find_lexer_class_for_filename("job.usql") is USqlLexer


def test_pygmentize_command(tmp_path):
    f = tmp_path / "x.usql"
    f.write_text('@r = SELECT 1 AS a FROM @t; // c\n')
    exe = Path(sys.executable).with_name("pygmentize")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "pygments"]
    out = subprocess.run(cmd + ["-l", "usql", "-f", "html", str(f)], capture_output=True, text=True, check=True).stdout
    assert '<span class="k">SELECT</span>' in out and '<span class="nv">@r</span>' in out
    assert '<span class="c1">// c</span>' in out


def test_any_text_round_trips():
    from hypothesis import given, settings, strategies as st
    alphabet = st.sampled_from(list('@"\'[]/*\\\n\r\t {}();,.=<>!?:+-%&|^~#$`0123456789aZ_SELECTFROM') + ["\u00e9", "\ufeff"])

    @settings(max_examples=300, deadline=None)
    @given(st.lists(alphabet, max_size=80).map("".join))
    def check(text):
        assert "".join(v for _, v in tokens(text)) == text
    check()


def test_ansi_helpers_only_add_escapes():
    from usqlrw.highlight import ansi, ansi_diff, strip_ansi
    src = '/* two\nlines */ @r = SELECT "a" AS x FROM @t; // c\r\n'
    coloured = ansi(src)
    assert coloured != src and strip_ansi(coloured) == src
    # each line of a multi-line comment is coloured on its own: a line starts with an escape
    assert coloured.split("\n")[1].startswith("\x1b[") and strip_ansi(coloured.split("\n")[1]).startswith("lines */")
    diff = ('--- a/x.usql\n+++ b/x.usql\n@@ -1,2 +1,2 @@\n USE DATABASE Sales;\r\n'
            '-@x = SELECT * FROM Orders;\r\n+@x = SELECT * FROM OrdersDR;\r\n')
    cd = ansi_diff(diff)
    assert strip_ansi(cd) == diff
    assert "\x1b[31m-\x1b[0m" in cd and "\x1b[32m+\x1b[0m" in cd and "SELECT" in strip_ansi(cd)
