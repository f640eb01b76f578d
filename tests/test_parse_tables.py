"""usqlrw's own parse tables (usqlrw/tables.py): built once from Lark's analysis, kept in the cache
as plain marshal data, checked before use, and loaded with no Lark import on the parse path.
That the parses over them equal Lark's own is tests/test_parser_lexer.py's proof."""
from __future__ import annotations

import copy
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from usqlrw import tables as T
from usqlrw.tokens import Token

ROOT = Path(__file__).parent.parent

VALID = '@x = SELECT a FROM @t WHERE b == 1; // done\nOUTPUT @x TO "/o.csv" USING Outputters.Csv();\n'


def _python(code: str, cache: Path, **env):
    e = dict(os.environ, USQLRW_CACHE_DIR=str(cache), **env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env=e, timeout=300)


@pytest.fixture(scope="module")
def built():
    return T.build()


def test_the_key_names_the_lark_version_without_importing_lark():
    import importlib.metadata
    assert T.lark_version() == importlib.metadata.version("lark")
    assert f"-{T.lark_version()}-" in T.table_key("grammar")


def test_the_tables_are_plain_data_and_round_trip(built):
    raw = T.encode(built)
    assert T.decode(raw, built["key"]) == built
    assert built["schema"] == T.SCHEMA and len(built["states"]) > 1000
    assert all(type(r) is bytes for r in built["states"])
    row = T.state_row(built, built["start"])
    assert row and all(type(a) is int for a in row.values()) and "USE" in row


@pytest.mark.parametrize("damage", ["magic", "checksum", "truncated", "key", "schema", "shape"])
def test_a_damaged_or_foreign_file_is_refused(built, damage):
    import marshal
    import zlib
    raw = T.encode(built)
    key = built["key"]
    if damage == "magic":
        raw = b"x" + raw[1:]
    elif damage == "checksum":
        raw = raw[:-1] + bytes([raw[-1] ^ 1])
    elif damage == "truncated":
        raw = raw[: len(raw) // 2]
    elif damage == "key":
        key = "0" * len(key)
    else:
        data = dict(built)
        if damage == "schema":
            data["schema"] = T.SCHEMA + 1
        else:
            data["state_lexer"] = data["state_lexer"][:-1]
        payload = marshal.dumps(data)
        raw = T._MAGIC + zlib.crc32(payload).to_bytes(4, "big") + payload
    with pytest.raises(T.TablesError):
        T.decode(raw, key)


def test_a_fresh_process_builds_caches_and_then_parses_without_lark(tmp_path):
    code = ("import sys, usqlrw; s = usqlrw.parse(%r); print(len(s.statements), len(s.comments),"
            " 'lark' in sys.modules)" % VALID)
    first = _python(code, tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.split() == ["2", "1", "True"]        # built: Lark ran once
    files = list(tmp_path.glob("usql-*.tables"))
    assert len(files) == 1
    again = _python(code, tmp_path)
    assert again.stdout.split() == ["2", "1", "False"]        # loaded: no Lark at all
    # a damaged file is rebuilt, not trusted
    files[0].write_bytes(files[0].read_bytes()[:1000])
    third = _python(code, tmp_path)
    assert third.stdout.split() == ["2", "1", "True"]
    assert T.decode(files[0].read_bytes(), files[0].name[len("usql-"):-len(".tables")])


def test_check_of_a_valid_script_imports_no_lark(tmp_path):
    f = tmp_path / "ok.usql"
    f.write_text('@x = SELECT * FROM (VALUES (1)) AS T(a);\nOUTPUT @x TO "/o.csv" USING Outputters.Csv();\n')
    code = ("import sys; sys.argv = ['usqlrw', 'check', %r]; from usqlrw.cli import cli\n"
            "try:\n    cli()\nexcept SystemExit as e:\n    print('exit', e.code, 'lark' in sys.modules)") % str(f)
    _python(code, tmp_path)   # builds the tables
    p = _python(code, tmp_path)
    assert p.stdout.split()[-3:] == ["exit", "0", "False"], p.stdout + p.stderr


def test_an_invalid_script_is_worded_by_the_slow_path(tmp_path):
    code = ("import sys, usqlrw\ntry:\n    usqlrw.parse('@x = SELECT a FROM @t WHER b;')\n"
            "except usqlrw.USqlSyntaxError as e:\n    print(e.line, e.column, 'lark' in sys.modules)")
    _python(code, tmp_path)
    p = _python(code, tmp_path)
    assert p.stdout.split() == ["1", "23", "True"], p.stdout + p.stderr


def test_an_unwritable_cache_still_parses(tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("")     # the cache directory cannot be made under a file (even by root)
    p = _python("import usqlrw; print(len(usqlrw.parse(%r).statements))" % VALID, blocked / "cache")
    assert p.returncode == 0 and p.stdout.strip() == "2", p.stderr


def test_token_behaves_like_larks():
    import lark
    ours = Token("NAME", "abc", 3, 1, 4, 1, 7, 6)
    theirs = lark.Token("NAME", "abc", 3, 1, 4, 1, 7, 6)
    assert ours == "abc" and ours == theirs and hash(ours) == hash("abc")
    assert not Token("STRING", "abc") == Token("NAME", "abc")   # as Lark's: != is str's
    assert repr(ours) == repr(theirs)
    back = pickle.loads(pickle.dumps(ours))
    assert type(back) is Token and (back.type, back.end_pos, back.end_column) == ("NAME", 6, 7)
    c = copy.deepcopy(ours)
    assert c is not ours and c == ours and c.start_pos == 3
    b = Token.new_borrow_pos("$END", "", ours)
    assert (b.type, b.line, b.column, b.end_pos) == ("$END", 1, 4, 6)
