"""Every TOML file usqlrw reads (the DR config, usqlrw.toml, pyproject.toml) fails in one line
that names it, whatever is wrong with it, and never shows a secret it contains."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from usqlrw.config import ConfigError, load_config
from usqlrw.lint.settings import SettingsError, find_settings, load_settings

ROOT = Path(__file__).parent.parent
GOOD = ('[primary]\nanalytics_account = "p-adla"\nstore_account = "pstore"\n'
        '[secondary]\nanalytics_account = "s-adla"\nstore_account = "sstore"\n')

BAD = {
    "not utf-8": (b'[primary]\nanalytics_account = "\xff\xfe"\n', "not UTF-8 text: byte 0xff at line 2, column 22"),
    "utf-16": ('x = "y"\n'.encode("utf-16"), "not UTF-8 text"),
    "5000 deep": (b"a = " + b"[" * 5000 + b"]" * 5000 + b"\n", "nested deeper than"),
    "40 deep": (b"a = " + b"[" * 40 + b"]" * 40 + b"\n", "nested deeper than"),
    "deep tables": (b"[" + b".".join([b"t"] * 200) + b"]\nx = 1\n", "nested deeper than"),
    "syntax": (b"[primary\n", "not valid TOML"),
    "binary": (b"\x00\x01\x02\x03", "not valid TOML"),
}


def _one_line(msg: str, path) -> None:
    assert "\n" not in msg and str(path) in msg and len(msg) < 500


@pytest.mark.parametrize("name", sorted(BAD))
def test_a_bad_dr_config_is_one_line_naming_the_file(tmp_path, name):
    data, want = BAD[name]
    p = tmp_path / "dr.toml"
    p.write_bytes(data)
    with pytest.raises(ConfigError) as e:
        load_config(p)
    _one_line(str(e.value), p)
    assert want in str(e.value)
    (tmp_path / "a.usql").write_text("@a = SELECT * FROM @b;\n")
    r = subprocess.run([sys.executable, "-m", "usqlrw", "rewrite", "-c", str(p), "--check", str(tmp_path / "a.usql")],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr and want in r.stderr
    assert len(r.stderr.splitlines()) <= 4     # click's usage lines and the one error


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_lint_settings_are_one_line_naming_the_file(tmp_path, name):
    data, want = BAD[name]
    p = tmp_path / "usqlrw.toml"
    p.write_bytes(data)
    with pytest.raises(SettingsError) as e:
        load_settings(str(p))
    _one_line(str(e.value), p)
    assert want in str(e.value)
    (tmp_path / "a.usql").write_text("@a = SELECT * FROM @b;\n")
    # found by walking up from the script, as well as named with --config
    r = subprocess.run([sys.executable, "-m", "usqlrw", "check", str(tmp_path / "a.usql")],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr and want in r.stderr and str(p) in r.stderr


def test_unreadable_paths(tmp_path):
    for p, want in ((tmp_path, "is a directory"), (tmp_path / "missing.toml", "no such file")):
        with pytest.raises(ConfigError, match=want):
            load_config(p)
        with pytest.raises(SettingsError, match=want):
            load_settings(str(p))


def test_a_bom_and_a_pyproject_with_a_wrong_table(tmp_path):
    p = tmp_path / "dr.toml"
    p.write_bytes(b"\xef\xbb\xbf" + GOOD.encode())
    assert load_config(p).primary_analytics == "p-adla"
    (tmp_path / "pyproject.toml").write_text('[tool]\nusqlrw = "everything"\n')
    with pytest.raises(SettingsError, match=r"\[tool.usqlrw\] must be a table"):
        load_settings(str(tmp_path / "pyproject.toml"))


def test_a_sas_signature_in_a_config_error_is_masked(tmp_path):
    p = tmp_path / "dr.toml"
    p.write_text(GOOD + '[stores]\npstore2 = "https://x.blob.core.windows.net/c?sv=2020&sig=SuperSecretSig123"\n'
                 '[catalog.databases]\n"Db?Password=Hunter2;" = 7\n')
    with pytest.raises(ConfigError) as e:
        load_config(p)
    assert "SuperSecretSig123" not in str(e.value) and "sig=***" in str(e.value)
    (tmp_path / "a.usql").write_text("@a = SELECT * FROM @b;\n")
    r = subprocess.run([sys.executable, "-m", "usqlrw", "rewrite", "-c", str(p), "--check", str(tmp_path / "a.usql")],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 2 and "sig=***" in r.stderr and "SuperSecretSig123" not in r.stderr
    p.write_text(GOOD + '[catalog.databases]\n"Db;Password=Hunter2" = 7\n')
    with pytest.raises(ConfigError) as e:
        load_config(p)
    assert "Hunter2" not in str(e.value)


def test_a_secret_in_lint_settings_is_masked(tmp_path):
    p = tmp_path / "usqlrw.toml"
    p.write_text('select = ["sig=SuperSecretSig123"]\n"token=abcdef123" = 1\n')
    with pytest.raises(SettingsError) as e:
        load_settings(str(p))
    assert "SuperSecretSig123" not in str(e.value)
    p.write_text('"token=abcdef123" = 1\n')
    s = find_settings(str(tmp_path))
    assert s.warnings and not any("abcdef123" in w for w in s.warnings)
