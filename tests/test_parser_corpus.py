"""The public corpora: every valid Azure/usql script and >= 98 % of the reference's scripts parse.

The corpora live outside the repository ($USQLRW_CORPUS, default /tmp/usqlrw-corpus, built by
the project's corpus tools); without them these tests are skipped. The scripts judged invalid are
listed, each with the reason, in tests/fixtures/parse/KNOWN_INVALID.md.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

import usqlrw

from parse_helpers import check_spans

CORPUS = Path(os.environ.get("USQLRW_CORPUS", "/tmp/usqlrw-corpus"))
KNOWN = Path(__file__).parent / "fixtures" / "parse" / "KNOWN_INVALID.md"
NOT_SCRIPTS = [Path(os.environ.get("USQLRW_NOT_SCRIPTS", "/work/shared/tools/refblocks-not-scripts.txt")),
               CORPUS / "refblocks-not-scripts.txt"]


def known_invalid() -> set[str]:
    """The paths named in KNOWN_INVALID.md; "`a/x__2.sql`, `__3.sql`" names a/x__2.sql and a/x__3.sql."""
    names = set()
    for line in KNOWN.read_text(encoding="utf-8").splitlines():
        base = None
        for m in re.finditer(r"`((?:azure_usql|refblocks)/[^`]+|__\d+\.sql)`", line):
            name = m.group(1)
            if name.startswith("__"):
                if base is None:
                    continue
                name = re.sub(r"__\d+\.sql$", name, base)
            else:
                base = name
            names.add(name)
    return names


def failures(files) -> set[str]:
    bad = set()
    for f in files:
        try:
            script = usqlrw.parse(f.read_bytes(), path=str(f))
        except usqlrw.USqlSyntaxError:
            bad.add(f.relative_to(CORPUS).as_posix())
            continue
        check_spans(script)
    return bad


@pytest.mark.skipif(not (CORPUS / "azure_usql").is_dir(), reason="corpus not built")
def test_azure_usql_scripts():
    files = sorted((CORPUS / "azure_usql").rglob("*.usql"))
    assert len(files) > 100
    expected = {n for n in known_invalid() if n.startswith("azure_usql/")}
    assert failures(files) == expected


@pytest.mark.skipif(not (CORPUS / "refblocks").is_dir(), reason="corpus not built")
def test_reference_blocks():
    skip = set()
    for p in NOT_SCRIPTS:
        if p.is_file():
            skip |= {l.split("#")[0].strip() for l in p.read_text().splitlines() if l.split("#")[0].strip()}
    files = sorted(f for f in (CORPUS / "refblocks").glob("*.sql") if f.name not in skip)
    bad = failures(files)
    # (a known-invalid block the shared exclusion list skips is not parsed at all)
    expected = {n for n in known_invalid() if n.startswith("refblocks/") and n.split("/", 1)[1] not in skip}
    assert bad == expected
    assert (len(files) - len(bad)) / len(files) >= 0.98
