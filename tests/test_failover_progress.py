"""failover apply shows a live step table on a terminal, one line per event when piped, nothing with -q.

The CLI runs in a real process with its standard error on a pseudo-terminal or a pipe, against the
ADLA emulator through the real SDK; steps run in parallel, reporting from worker threads."""
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from usqlrw.cli.step_table import StepTable
from usqlrw.failover import load_plan, load_state
from usqlrw.jobs.emulator import Emulator

pty = pytest.importorskip("pty")
from tty_support import run_usqlrw  # noqa: E402
ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "examples"
DR = "contosodr-adla"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
ERASE = re.compile(r"\r(?:\x1b\[\d+A)?\x1b\[J")


def _run(args, cwd, tty: bool, **env_extra):
    return run_usqlrw(args, cwd, tty, **{"COLUMNS": "120", "LINES": "40", **env_extra})


def _frames(err: str) -> list[list[str]]:
    """Each drawing of the table, as lines without colour (the text between two erasures)."""
    parts = ERASE.split(ANSI.sub("", err))
    return [p.replace("\r", "").split("\n") for p in parts if "failover apply [" in p]


@pytest.fixture
def drill(tmp_path):
    shutil.copytree(EXAMPLE / "project", tmp_path / "project")
    shutil.copy(EXAMPLE / "dr.toml", tmp_path / "dr.toml")
    p = subprocess.run([sys.executable, "-m", "usqlrw", "-q", "failover", "plan", "-c", "dr.toml", "-o", "plan",
                        "project"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    e = Emulator(accounts={DR: "contosodr"}, running_reads=8, execute=False).start()   # each job runs for a few polls
    yield tmp_path, e
    e.stop()


def test_a_live_step_table_on_a_terminal(drill):
    cwd, emu = drill
    steps = load_plan(cwd / "plan").steps
    rc, out, err = _run(["failover", "apply", "--endpoint", emu.url, "--max-parallel", "2", "plan"], cwd, tty=True)
    assert rc == 0, err
    assert f"{len(steps)}/{len(steps)} steps done" in out
    frames = _frames(err)
    assert len(frames) >= 2 * len(steps)            # drawn at every start and end, at least
    assert "\x1b[32m" in err and "\x1b[34m" in err   # succeeded green, running blue

    def row(frame, sid):
        return next(line for line in frame if f" {sid} " in line + " ")

    first, last = frames[0], frames[-1]
    assert first[0].startswith("failover apply [") and f"0/{len(steps)} done" in first[0]
    assert all("waiting" in row(first, s["id"]) for s in steps)
    assert f"{len(steps)}/{len(steps)} done, 0 running" in last[0]
    assert all(re.search(r"succeeded\s+\d+\.\ds", row(last, s["id"])) for s in steps)
    # aggregate and daily_ingest need the same steps and not each other: one frame shows both running
    agg, ingest = (next(s["id"] for s in steps if n in s["id"]) for n in ("job-aggregate", "job-daily_ingest"))
    both = [f for f in frames if "running" in row(f, agg) and "running" in row(f, ingest)]
    assert both and "2 running" in both[0][0]
    state = load_state(cwd / "plan")["steps"]
    assert f"job {state[agg]['job_id'][:8]}" in row(both[0], agg)
    # a step not yet started says what it waits for
    export = next(s for s in steps if "export" in s["id"])
    assert "after 01,02,03,05" in row(first, export["id"])
    # the table is erased before the summary: the terminal ends with an erasure, no per-event lines
    assert ERASE.search(err.rstrip("\n")[-20:]) and "[ 1/" not in err


def test_piped_gets_one_line_per_event_and_quiet_gets_nothing(drill):
    cwd, emu = drill
    steps = load_plan(cwd / "plan").steps
    rc, out, err = _run(["failover", "apply", "--endpoint", emu.url, "--until", steps[1]["id"], "plan"], cwd,
                        tty=False)
    assert rc == 0, err
    assert "\x1b[" not in err and "\r" not in err and "failover apply [" not in err
    assert f"[ 1/{len(steps)}] {steps[0]['id']}: start job " in err
    assert f"[ 2/{len(steps)}] {steps[1]['id']}: done succeeded in " in err
    rc, out, err = _run(["failover", "apply", "-q", "--endpoint", emu.url, "plan"], cwd, tty=True)
    assert rc == 0 and "failover apply [" not in err and "\x1b[" not in err and "[ 3/" not in err
    assert f"{len(steps)}/{len(steps)} steps done" in out
    rc, out, err = _run(["failover", "apply", "--endpoint", emu.url, "plan"], cwd, tty=True, NO_COLOR="1")
    frames = _frames(err)     # all done earlier: drawn without colour
    assert rc == 0 and "\x1b[3" not in err and all("done earlier" in line for line in frames[-1][1:])


def test_many_steps_from_many_threads_fit_the_terminal(monkeypatch):
    import io

    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.setenv("COLUMNS", "72")
    monkeypatch.setenv("LINES", "12")
    steps = [{"id": f"{i:02d}-job-s{i}", "order": i, "needs": []} for i in range(1, 41)]
    stream = Tty()
    table = StepTable(steps, stream, color=False)
    assert table.on

    def work(chunk):
        for s in chunk:
            table.event(s, "start", "job 3f2504e0-4f89-41d3-9a0c-0305e82c3301 on contosodr-adla")
            table.event(s, "failed" if s["order"] == 7 else "done", "job ended Failed\nsecond line")

    with table:
        threads = [threading.Thread(target=work, args=(steps[i::8],)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        lines = table.frame()
    assert len(lines) <= 12 - 2 and all(len(line) < 72 for line in lines)
    assert lines[0].startswith("failover apply [") and "39/40 done, 0 running, 1 failed" in lines[0]
    assert any("07-job-s7" in line and "failed" in line and "job ended Failed" in line for line in lines)
    assert lines[-1].strip().startswith("...") and "more steps" in lines[-1]
    assert "second line" not in stream.getvalue() and "3f2504e0-4f89" not in stream.getvalue()
    assert stream.getvalue().endswith("\x1b[J")           # erased when closed


def test_ctrl_c_erases_the_table_before_saying_what_was_recorded(tmp_path):
    import json
    import signal
    import time
    shutil.copytree(EXAMPLE / "project", tmp_path / "project")
    shutil.copy(EXAMPLE / "dr.toml", tmp_path / "dr.toml")
    p = subprocess.run([sys.executable, "-m", "usqlrw", "-q", "failover", "plan", "-c", "dr.toml", "-o", "plan",
                        "project"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    first = load_plan(tmp_path / "plan").steps[0]["id"]
    e = Emulator(accounts={DR: "contosodr"}, running_reads=10 ** 6, execute=False).start()   # the first job never ends
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env.update(TERM="xterm", COLUMNS="120", LINES="40")
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "usqlrw", "failover", "apply", "--endpoint", e.url, "plan"],
                                cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=slave, text=True)
        os.close(slave)
        os.set_blocking(master, False)
        chunks, deadline = [], time.monotonic() + 120

        def read():
            try:
                chunks.append(os.read(master, 65536))
            except (BlockingIOError, OSError):
                time.sleep(0.05)

        def running():
            try:
                return json.loads((tmp_path / "plan" / "state.json").read_text())["steps"][first]["state"] == "running"
            except (OSError, ValueError, KeyError):
                return False

        while not running() and time.monotonic() < deadline:
            read()
        assert running(), "the first job never ran"
        proc.send_signal(signal.SIGINT)
        while proc.poll() is None and time.monotonic() < deadline:
            read()
        for _ in range(20):
            read()
        assert proc.wait(30) == 130
    finally:
        e.stop()
        os.close(master)
    err = b"".join(chunks).decode()
    assert "Traceback" not in err
    table_part, _, after = err.rpartition("\x1b[J")
    assert "running" in ANSI.sub("", table_part) and after.lstrip("\r\n").startswith("interrupted: what was submitted")
