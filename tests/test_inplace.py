"""`rewrite --in-place` behaves like a careful editor: links, owners, modes, read-only files and
folders, and edits made by someone else while a batch runs. Real files, real processes."""
from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from usqlrw.cli import cli

HERE = Path(__file__).parent / "fixtures" / "rewrite"
CONFIG = str(HERE / "dr.toml")
ROOT = Path(__file__).parent.parent
BEFORE = b"USE DATABASE Sales;\n@x = SELECT * FROM Orders;\n"
AFTER = b"USE DATABASE SalesDR;\n@x = SELECT * FROM OrdersDR;\n"


def run(*args):
    r = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return r.exit_code, r.stdout_bytes.decode(), r.stderr


def test_a_symlink_is_written_through_and_stays_a_link(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "job.usql"
    target.write_bytes(BEFORE)
    (tmp_path / "jobs").mkdir()
    link = tmp_path / "jobs" / "job.usql"
    link.symlink_to(target)
    code, _, err = run("rewrite", "-c", CONFIG, "--in-place", str(link))
    assert code == 0, err
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() == AFTER
    assert not list((tmp_path / "jobs").iterdir())[1:]   # nothing left beside the link


def test_a_link_and_its_target_in_one_batch_are_rewritten_once(tmp_path):
    target = tmp_path / "a.usql"
    target.write_bytes(BEFORE)
    (tmp_path / "b.usql").symlink_to("a.usql")
    code, out, err = run("rewrite", "-c", CONFIG, "--in-place", "--format", "json", str(tmp_path))
    assert code == 0, err
    assert target.read_bytes() == AFTER and (tmp_path / "b.usql").is_symlink()
    import json
    files = {Path(f["path"]).name: f for f in json.loads(out)["files"]}
    assert files["a.usql"]["status"] == "changed" and files["b.usql"]["status"] == "unchanged"
    assert json.loads(out)["changed"] == 1


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_mode_owner_and_group_are_kept(tmp_path):
    f = tmp_path / "job.usql"
    f.write_bytes(BEFORE)
    os.chown(f, 65534, 65534)
    os.chmod(f, 0o664)
    ino = f.stat().st_ino
    code, _, err = run("rewrite", "-c", CONFIG, "--in-place", str(f))
    assert code == 0, err
    st = f.stat()
    assert f.read_bytes() == AFTER
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (65534, 65534, 0o664)
    assert st.st_ino != ino                      # replaced atomically, not truncated and rewritten


def test_hard_linked_and_read_only_files_are_refused_and_the_batch_goes_on(tmp_path):
    for n in ("linked.usql", "readonly.usql", "ok.usql"):
        (tmp_path / n).write_bytes(BEFORE)
    os.link(tmp_path / "linked.usql", tmp_path / "other-name.txt")
    os.chmod(tmp_path / "readonly.usql", 0o444)
    code, _, err = run("rewrite", "-c", CONFIG, "--in-place", str(tmp_path))
    assert code == 1
    lines = [l for l in err.splitlines() if "IO not written" in l]
    assert len(lines) == 2 and "Traceback" not in err
    assert any(l.startswith(f"{tmp_path / 'linked.usql'}:1:1: IO not written: has 2 hard links") for l in lines)
    assert any(l.startswith(f"{tmp_path / 'readonly.usql'}:1:1: IO not written: is read-only") for l in lines)
    assert (tmp_path / "linked.usql").read_bytes() == BEFORE == (tmp_path / "other-name.txt").read_bytes()
    assert os.stat(tmp_path / "linked.usql").st_nlink == 2
    assert (tmp_path / "readonly.usql").read_bytes() == BEFORE
    assert (tmp_path / "ok.usql").read_bytes() == AFTER
    assert "3 scripts: 1 rewritten, 2 failed" in err


def test_a_file_edited_after_it_was_read_is_not_overwritten(tmp_path, monkeypatch):
    """Someone saves a file between usqlrw's read and its write: their edit wins, usqlrw says so."""
    import usqlrw.batch as batch
    for n in ("a.usql", "b.usql", "c.usql"):
        (tmp_path / n).write_bytes(BEFORE)
    edited = BEFORE + b"// a colleague's edit\n"
    real = batch.rewrite_input

    def rewrite_then_someone_saves(inp, config):
        r = real(inp, config)
        if inp.path.endswith("b.usql"):
            (tmp_path / "b.usql").write_bytes(edited)
        return r
    monkeypatch.setattr(batch, "rewrite_input", rewrite_then_someone_saves)
    code, _, err = run("rewrite", "-c", CONFIG, "--in-place", "-j", "1", str(tmp_path))
    assert code == 1
    assert f"{tmp_path / 'b.usql'}:1:1: IO not written: changed on disk since it was read" in err
    assert (tmp_path / "b.usql").read_bytes() == edited
    assert (tmp_path / "a.usql").read_bytes() == AFTER == (tmp_path / "c.usql").read_bytes()


def test_write_in_place_api_checks_the_bytes_just_before_renaming(tmp_path):
    from usqlrw.files import WriteRefused, write_in_place
    f = tmp_path / "x.usql"
    f.write_bytes(b"new")
    with pytest.raises(WriteRefused, match="changed on disk"):
        write_in_place(f, AFTER, b"old")
    assert f.read_bytes() == b"new" and [p.name for p in tmp_path.iterdir()] == ["x.usql"]
    assert write_in_place(f, AFTER, b"new") == str(f) and f.read_bytes() == AFTER


# -- as an unprivileged user ---------------------------------------------------------------------

def _unprivileged():
    """argv prefix running a command as 'nobody' without root's capabilities, or None."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        return None
    argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
            "--bounding-set=-all"]
    try:
        p = subprocess.run(argv + [sys.executable, "-c", "import os; print(os.geteuid())"],
                           capture_output=True, text=True, timeout=60)
    except OSError:
        return None
    return argv if p.returncode == 0 and p.stdout.strip() == "65534" else None


@pytest.fixture
def shared_dir():
    """A folder 'nobody' can reach (pytest's tmp_path is private to root)."""
    d = tempfile.mkdtemp(prefix="usqlrw-inplace-")
    os.chmod(d, 0o755)
    try:
        yield Path(d)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_read_only_folder_and_foreign_file_without_root_capabilities(shared_dir):
    argv = _unprivileged()
    if argv is None:
        pytest.skip("cannot run a command as an unprivileged user here (needs root and setpriv)")
    ro, rw = shared_dir / "readonly-folder", shared_dir / "writable"
    ro.mkdir()
    rw.mkdir()
    (ro / "a.usql").write_bytes(BEFORE)
    (rw / "mine.usql").write_bytes(BEFORE)
    (rw / "roots.usql").write_bytes(BEFORE)      # root's file, writable by all: the owner cannot be kept
    os.chmod(rw / "roots.usql", 0o666)
    for p in (ro / "a.usql", rw / "mine.usql", rw):
        os.chown(p, 65534, 65534)
    os.chmod(ro, 0o555)
    config = shared_dir / "dr.toml"
    shutil.copy(CONFIG, config)
    os.chmod(config, 0o644)
    p = subprocess.run(argv + [sys.executable, "-m", "usqlrw", "rewrite", "-c", str(config), "--in-place",
                               str(ro), str(rw)], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert p.returncode == 1, p.stderr
    assert "Traceback" not in p.stderr
    lines = p.stderr.splitlines()
    assert f"{ro / 'a.usql'}:1:1: IO not written: cannot create a file in its folder {ro}: permission denied" in lines
    assert f"{rw / 'roots.usql'}:1:1: IO not written: its owner or group cannot be kept by this user; " \
           "not rewritten" in lines
    assert (rw / "mine.usql").read_bytes() == AFTER          # the batch went on
    assert (ro / "a.usql").read_bytes() == BEFORE and (rw / "roots.usql").read_bytes() == BEFORE
    assert os.stat(rw / "roots.usql").st_uid == 0
    assert sorted(x.name for x in rw.iterdir()) == ["mine.usql", "roots.usql"]   # no temp file left
    assert "3 scripts: 1 rewritten, 2 failed" in p.stderr


# -- kill -9 ------------------------------------------------------------------------------------

def _children(pid: int) -> list[int]:
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                fields = Path(f"/proc/{d}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(d))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"          # a zombie has ended; only its exit status is left to collect


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_kill_9_leaves_no_worker_no_torn_file_and_a_rerun_cleans_up(tmp_path):
    import signal
    import threading
    import time
    src = (HERE / "catalog.in.usql").read_bytes()
    want = (HERE / "catalog.out.usql").read_bytes()
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    n = 3000
    for i in range(n):
        (jobs / f"s{i:05}.usql").write_bytes(src)
    # a stray of an earlier killed run (its pid no longer exists), and one of a live run (ours)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stray = jobs / f".s00001.usql.usqlrw-{dead.pid}-abc123.tmp"
    stray.write_bytes(b"partial")
    live = jobs / f".s00002.usql.usqlrw-{os.getpid()}-def456.tmp"
    live.write_bytes(b"in use")

    cmd = [sys.executable, "-m", "usqlrw", "rewrite", "-c", CONFIG, "--in-place", "-j", "2", str(jobs)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=ROOT)
    workers: set = set()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        workers.update(_children(proc.pid))
        if len(workers) >= 2 and (jobs / "s00000.usql").read_bytes() == want:
            break
        time.sleep(0.005)
    assert proc.poll() is None, "the run ended before it could be killed; give it more files"
    assert len(workers) >= 2
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    eof = threading.Event()        # nothing may hold the dead parent's stdout open
    threading.Thread(target=lambda: (proc.stdout.read(), eof.set()), daemon=True).start()
    end = time.monotonic() + 30
    while time.monotonic() < end and any(_alive(w) for w in workers):
        time.sleep(0.1)
    assert not [w for w in workers if _alive(w)], "worker processes outlived their killed parent"
    assert eof.wait(30), "the parent's stdout is still held open"
    proc.stdout.close()

    contents = {p.name: p.read_bytes() for p in jobs.glob("*.usql")}
    assert len(contents) == n and set(contents.values()) <= {src, want}   # no torn file
    assert live.exists()

    p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    assert all(f.read_bytes() == want for f in jobs.glob("*.usql"))
    leftovers = sorted(f.name for f in jobs.iterdir() if not f.name.endswith(".usql"))
    assert leftovers == [live.name]    # the strays of the killed runs are gone, the live run's stays


def test_strays_go_even_from_a_folder_with_nothing_left_to_write(tmp_path):
    (tmp_path / "done.usql").write_bytes(AFTER)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stray = tmp_path / f".done.usql.usqlrw-{dead.pid}-x1y2z3.tmp"
    stray.write_bytes(b"partial")
    other = tmp_path / ".done.usql.backup.tmp"       # not usqlrw's: kept
    other.write_bytes(b"keep")
    assert run("rewrite", "-c", CONFIG, "--check", str(tmp_path))[0] == 0
    assert stray.exists()                            # --check changes nothing
    code, _, err = run("rewrite", "-c", CONFIG, "--in-place", str(tmp_path))
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == [other.name, "done.usql"]
