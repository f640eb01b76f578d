"""The engine's conformance suite: tests/conformance/<reference page>/<case>/ holds script.usql,
the store's input files (store/), and either the expected output files (expected/, worked out by
hand from the reference) or error.txt (``line:col: text`` the one-line error must contain; the
job must then leave no output). params.txt: NAME=VALUE lines for -p."""
from __future__ import annotations

import os
import shutil

import pytest

from usqlrw.engine import EngineError, run_file

ROOT = os.path.join(os.path.dirname(__file__), "conformance")
CASES = sorted(os.path.relpath(d, ROOT) for d, _, files in os.walk(ROOT) if "script.usql" in files)


def _dirs(root):
    return sorted(os.path.relpath(d, root) for d, _, _ in os.walk(root) if not os.path.relpath(d, root).startswith("catalog"))


def _files(root):
    out = {}
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            rel = os.path.relpath(p, root)
            if not rel.startswith("catalog" + os.sep):
                out[rel] = p
    return out


def test_suite_size():
    assert len(CASES) >= 60
    pages = {c.split("/")[0] for c in CASES}
    assert len(pages) >= 25


@pytest.mark.parametrize("case", CASES)
def test_conformance(case, tmp_path):
    check_case(case, tmp_path)


def _spark_gaps() -> dict:
    """tests/conformance/spark-gaps.txt: ``case: reason`` of each case Spark does not yet pass
    (run as strict xfail: a case that starts passing must be taken off the list)."""
    out = {}
    p = os.path.join(ROOT, "spark-gaps.txt")
    if os.path.exists(p):
        for line in open(p, encoding="utf-8"):
            line = line.strip()
            if line and not line.startswith("#"):
                case, _, why = line.partition(":")
                out[case.strip()] = why.strip()
    return out


SPARK_GAPS = _spark_gaps()


def test_spark_gaps_name_real_cases():
    assert set(SPARK_GAPS) <= set(CASES), set(SPARK_GAPS) - set(CASES)


@pytest.mark.spark
@pytest.mark.parametrize("case", [pytest.param(c, marks=pytest.mark.xfail(reason=SPARK_GAPS[c], strict=True))
                                  if c in SPARK_GAPS else c for c in CASES])
def test_conformance_spark(case, tmp_path, spark_session):
    """The same case, the same expected bytes, on Spark (one local[2] session for the run)."""
    check_case(case, tmp_path, engine="spark", master=spark_session)


def check_case(case, tmp_path, engine="duckdb", master=None):
    kw = {} if engine == "duckdb" else {"engine": engine, "master": master}
    d = os.path.join(ROOT, case)
    store = tmp_path / "store"
    if os.path.isdir(os.path.join(d, "store")):
        shutil.copytree(os.path.join(d, "store"), store)
    else:
        store.mkdir()
    before = set(_files(str(store)))
    dirs_before = _dirs(str(store))
    params = {}
    if os.path.exists(os.path.join(d, "params.txt")):
        for line in open(os.path.join(d, "params.txt")):
            k, _, v = line.rstrip("\n").partition("=")
            params[k] = v
    script = os.path.join(d, "script.usql")
    err_file = os.path.join(d, "error.txt")
    if os.path.exists(err_file):
        want = open(err_file).read().strip()
        with pytest.raises(EngineError) as ei:
            run_file(script, str(store), params, **kw)
        msg = str(ei.value)
        assert "\n" not in msg
        assert msg.startswith(script + ":"), msg
        assert want in msg, msg
        assert set(_files(str(store))) == before, "a failed job left files behind"
        assert _dirs(str(store)) == dirs_before, "a failed job left folders behind"
        return
    run_file(script, str(store), params, **kw)
    expected = _files(os.path.join(d, "expected"))
    got = {k: v for k, v in _files(str(store)).items() if k not in before}
    assert sorted(got) == sorted(expected)
    for rel, p in expected.items():
        assert open(got[rel], "rb").read() == open(p, "rb").read(), rel
