"""Batch writes happen in the worker processes (batch.Sink): the parent only collects results.
Real files and real worker processes."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from usqlrw.batch import Sink, rewrite_many
from usqlrw.config import load_config
from usqlrw.files import clean_strays, iter_inputs

HERE = Path(__file__).parent / "fixtures" / "rewrite"
CONFIG = load_config(str(HERE / "dr.toml"))
BEFORE = b"USE DATABASE Sales;\n@x = SELECT * FROM Orders;\n"
AFTER = b"USE DATABASE SalesDR;\n@x = SELECT * FROM OrdersDR;\n"


def _tree(root: Path, n: int) -> None:
    for i in range(n):
        d = root / f"team{i % 3}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"job{i:03}.usql").write_bytes(BEFORE if i % 5 else b"@x = SELECT * FROM ;\n")


def test_workers_write_under_out_and_send_back_no_bytes(tmp_path):
    src, out = tmp_path / "src", tmp_path / "out"
    _tree(src, 90)
    results = list(rewrite_many(iter_inputs([str(src)]), CONFIG, jobs=2, sink=Sink(str(out))))
    assert len(results) == 90
    ok = [r for r in results if r.status == "changed"]
    bad = [r for r in results if r.status == "failed"]
    assert len(ok) == 72 and len(bad) == 18
    for r in ok:
        # the parent got no bytes back, yet the file is there: a worker wrote it
        assert r.data is None and r.original is None and r.write_error is None
        assert Path(r.written).read_bytes() == AFTER
        assert Path(r.written) == out / r.relative
    assert all(r.written is None and not (out / r.relative).exists() for r in bad)
    assert not [p for p in out.rglob("*") if p.is_file() and not p.name.endswith(".usql")]


def test_keep_data_keeps_the_bytes_for_a_diff(tmp_path):
    src, out = tmp_path / "src", tmp_path / "out"
    _tree(src, 4)
    results = list(rewrite_many(iter_inputs([str(src)]), CONFIG, jobs=2, sink=Sink(str(out), keep_data=True)))
    changed = [r for r in results if r.status == "changed"]
    assert changed and all(r.data == AFTER and r.original == BEFORE for r in changed)
    assert "+USE DATABASE SalesDR;" in changed[0].diff()


def test_in_place_writes_a_file_once_through_two_paths_and_reports_refusals(tmp_path):
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    for i in range(70):
        (jobs / f"s{i:02}.usql").write_bytes(BEFORE)
    (tmp_path / "link.usql").symlink_to(jobs / "s00.usql")
    ro = jobs / "s01.usql"
    ro.chmod(0o444)
    paths = [str(jobs), str(tmp_path / "link.usql")]
    results = list(rewrite_many(iter_inputs(paths), CONFIG, jobs=2, sink=Sink()))
    by_path = {r.path: r for r in results}
    assert by_path[str(tmp_path / "link.usql")].same_as == str(jobs / "s00.usql")
    assert by_path[str(tmp_path / "link.usql")].written is None
    assert "read-only" in by_path[str(ro)].write_error
    assert ro.read_bytes() == BEFORE
    written = [r for r in results if r.written]
    assert len(written) == 69       # 70 files, one read-only; the link is no second write
    assert all(Path(r.written).read_bytes() == AFTER for r in written)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_stray_of_a_zombie_worker_is_removed(tmp_path):
    """A worker of a killed run that nobody has reaped yet still answers kill(pid, 0)."""
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    try:
        import time
        for _ in range(200):   # wait until it has ended (a zombie: not reaped below)
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            if state == "Z":
                break
            time.sleep(0.01)
        assert state == "Z"
        stray = tmp_path / f".a.usql.usqlrw-{pid}-abc.tmp"
        stray.write_bytes(b"partial")
        mine = tmp_path / f".b.usql.usqlrw-{os.getpid()}-def.tmp"
        mine.write_bytes(b"in use")
        assert clean_strays(tmp_path) == [str(stray)]
        assert mine.exists()
    finally:
        os.waitpid(pid, 0)
