"""The failover rewrite on the public Azure/usql scripts, when that corpus has been built.

The corpus is built outside this repository by ../shared/tools/corpus-setup.sh (CORPUS, default
/tmp/usqlrw-corpus); without it these tests are skipped.
"""
import os
from pathlib import Path

import pytest

import usqlrw
from usqlrw.config import load_config, parse_config
from usqlrw.rewrite import rewrite_text

CORPUS = Path(os.environ.get("CORPUS") or os.path.join(os.environ.get("TMPDIR", "/tmp"), "usqlrw-corpus"))
SCRIPTS = sorted((CORPUS / "azure_usql").rglob("*.usql")) if (CORPUS / "azure_usql").is_dir() else []
REFBLOCKS = sorted((CORPUS / "refblocks").glob("*.sql")) if (CORPUS / "refblocks").is_dir() else []
CONFIG = load_config(Path(__file__).parent / "fixtures" / "corpus" / "azure_usql_dr.toml")
IDENTITY = parse_config({"primary": {"analytics_account": "samples-adla", "store_account": "samplesadls"},
                         "secondary": {"analytics_account": "samples-adla", "store_account": "samplesadls"}})

pytestmark = pytest.mark.skipif(not SCRIPTS, reason=f"no Azure/usql corpus under {CORPUS}")


def _parsable(files=None):
    for p in (SCRIPTS if files is None else files):
        data = p.read_bytes()
        try:
            usqlrw.parse(data)
        except usqlrw.USqlSyntaxError:
            continue
        yield p, data


def test_corpus_rewrites_parse_and_are_idempotent():
    n = changed = 0
    for p, data in _parsable():
        r = rewrite_text(data, CONFIG, str(p))       # verifies that the output parses
        assert rewrite_text(r.data, CONFIG, str(p)).data == r.data, p
        assert r.data.startswith(b"\xef\xbb\xbf") == data.startswith(b"\xef\xbb\xbf")
        n += 1
        changed += r.changed
    assert n >= 150 and changed >= 100


def test_corpus_identity_rewrite_is_byte_identical():
    n = 0
    for p, data in _parsable(SCRIPTS + REFBLOCKS):
        assert rewrite_text(data, IDENTITY, str(p)).data == data, p
        n += 1
    assert n >= 150 + (450 if REFBLOCKS else 0)


def test_corpus_rewrites_keep_the_tree_apart_from_names_and_literals():
    """The rewrite proof holds on every real script: re-parsed output equals the input's tree
    apart from the names and literals the edits target (rewrite_text raises otherwise)."""
    from usqlrw.rewrite import changed_elsewhere, edits_for
    for p, data in _parsable(SCRIPTS + REFBLOCKS):
        script = usqlrw.parse(data)
        r = rewrite_text(data, CONFIG, str(p))
        if r.changed:
            assert changed_elsewhere(script, usqlrw.parse(r.data), edits_for(script, CONFIG)[0]) is None, p
