"""Properties of the rewrite, over every fixture script and many generated configs."""
import codecs
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

import usqlrw
from usqlrw.config import parse_config
from usqlrw.rewrite import rewrite_text

ROOT = Path(__file__).parent.parent
SCRIPTS = []
for p in sorted(list((ROOT / "tests" / "fixtures").rglob("*.usql")) + list((ROOT / "examples").rglob("*.usql"))):
    try:
        usqlrw.parse(p.read_bytes())
        SCRIPTS.append(p)
    except usqlrw.USqlSyntaxError:
        pass   # error fixtures

STORES = ["fabrikamlake", "fabrikamarchive", "contosoprod", "plake"]
BLOBS = ["fabrikamblob", "contosoreports", "pblob"]
DBS = ["Sales", "Telemetry", "Web Logs", "Other", "master"]


@st.composite
def configs(draw):
    ps = draw(st.sampled_from(STORES))
    d = {"primary": {"analytics_account": "p-adla", "store_account": ps},
         "secondary": {"analytics_account": "s-adla", "store_account": ps + "dr"},
         "stores": {s: s + "dr" for s in draw(st.sets(st.sampled_from(STORES))) if s != ps},
         "blob_accounts": {b: b + "dr" for b in draw(st.sets(st.sampled_from(BLOBS)))},
         "catalog": {"databases": {x: x.replace(" ", "") + "DR" for x in draw(st.sets(st.sampled_from(DBS)))}},
         "options": {"relative_paths": draw(st.sampled_from(["keep", "absolute"]))}}
    return parse_config(d)


def variants(data: bytes, style: int) -> bytes:
    text = data.decode("utf-8-sig")
    if style & 1:
        text = text.replace("\n", "\r\n")
    out = text.encode()
    if style & 2:
        out = codecs.BOM_UTF8 + out
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(script=st.sampled_from(SCRIPTS), config=configs(), style=st.integers(0, 3))
def test_rewrite_properties(script, config, style):
    data = variants(script.read_bytes(), style)
    r = rewrite_text(data, config, script.name)
    # Output parses, and rewriting it again changes nothing.
    again = rewrite_text(r.data, config, script.name)
    assert again.data == r.data
    # Every byte outside the edits is the input's; encoding and BOM are kept.
    src = r.source.text
    pos, pieces = 0, []
    for e in sorted(r.edits, key=lambda e: e.start):
        assert r.text.startswith(src[pos:e.start], sum(len(p) for p in pieces))
        pieces += [src[pos:e.start], e.replacement]
        pos = e.end
    pieces.append(src[pos:])
    assert "".join(pieces) == r.text
    assert r.data.startswith(codecs.BOM_UTF8) == bool(style & 2)
    if not r.edits:
        assert r.data == data


@settings(max_examples=40, deadline=None)
@given(script=st.sampled_from(SCRIPTS), style=st.integers(0, 3))
def test_identity_config_returns_the_input_bytes(script, style):
    ident = parse_config({"primary": {"analytics_account": "p-adla", "store_account": "plake"},
                          "secondary": {"analytics_account": "p-adla", "store_account": "plake"}})
    data = variants(script.read_bytes(), style)
    assert rewrite_text(data, ident).data == data
