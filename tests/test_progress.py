"""A progress bar on a terminal for long check/rewrite batches, and nothing extra when piped or with -q."""
from pathlib import Path

import pytest

pty = pytest.importorskip("pty")
from tty_support import run_usqlrw  # noqa: E402
ROOT = Path(__file__).parent.parent
GOOD = '@r = EXTRACT a int FROM "/x.csv" USING Extractors.Csv();\nOUTPUT @r TO "/o.csv" USING Outputters.Csv();\n'
BAD = '@r = EXTRACT a int FROM "/x.csv" USING Extractors.Csv();\nOUTPUT @missing TO "/o.csv" USING Outputters.Csv();\n'


def _run(args, cwd, tty: bool):
    return run_usqlrw(args, cwd, tty, COLUMNS="100")


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    d = tmp_path_factory.mktemp("batch")
    (d / "jobs").mkdir()
    for i in range(30):
        (d / "jobs" / f"s{i:02}.usql").write_text(BAD if i == 7 else GOOD)
    return d


def test_check_shows_a_bar_on_a_terminal_only(batch):
    rc, out, err = _run(["check", "--no-source", "jobs"], batch, tty=True)
    assert rc == 1
    assert "checking [" in err and "] 30/30" in err and "#" * 10 in err
    assert "30 scripts checked, 1 with findings" in err
    assert out == ("jobs/s07.usql:1:1: SEM007 rowset @r is assigned but never used [warning]\n"
                   "jobs/s07.usql:2:8: SEM005 OUTPUT of rowset @missing, which is never assigned\n")
    rc, out_p, err_p = _run(["check", "--no-source", "jobs"], batch, tty=False)
    assert rc == 1 and out_p == out and "checking" not in err_p and "\r" not in err_p
    assert err_p == "30 scripts checked, 1 with findings (1 error, 1 warning)\n"
    rc, _, err_q = _run(["check", "-q", "--no-source", "jobs"], batch, tty=True)
    assert "checking" not in err_q and "scripts checked" not in err_q


def test_rewrite_shows_a_bar_on_a_terminal_only(batch):
    cfg = str(ROOT / "examples" / "dr.toml")
    rc, out, err = _run(["rewrite", "-c", cfg, "--check", "jobs"], batch, tty=True)
    assert rc == 0 and "rewriting [" in err and "] 30/30" in err
    rc, out, err = _run(["rewrite", "-c", cfg, "--check", "jobs"], batch, tty=False)
    assert rc == 0 and "rewriting" not in err and err == "30 scripts: 0 would change, 0 failed, 0 warnings\n"


def test_small_batches_get_no_bar(batch):
    rc, out, err = _run(["check", "jobs/s00.usql", "jobs/s01.usql"], batch, tty=True)
    assert rc == 0 and "checking [" not in err and "2 scripts checked, all clean" in err
