"""What the failover tests share: a copy of the bundled example, an emulator that accepts jobs
(the example's scripts read data no test provides), the CLI in-process, a fast retry policy, and
a plan made from the copy. Test modules import the fixtures by name, so pytest finds them."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from usqlrw.cli import cli
from usqlrw.jobs.emulator import Emulator
from usqlrw.jobs.submit import RetryPolicy

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "examples"
DR, PROD = "contosodr-adla", "contosoprod-adla"


@pytest.fixture
def project(tmp_path):
    shutil.copytree(EXAMPLE / "project", tmp_path / "project")
    shutil.copy(EXAMPLE / "dr.toml", tmp_path / "dr.toml")
    return tmp_path


@pytest.fixture
def emu():
    e = Emulator(accounts={DR: "contosodr", PROD: "contosoprod"}, execute=False).start()
    yield e
    e.stop()


def run(*args):
    r = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


def fast():
    return RetryPolicy(attempts=2, base=0.01, cap=0.02)


def make_plan(project, *extra, out="plan"):
    code, _, err = run("failover", "plan", "-c", project / "dr.toml", "--out", project / out, *extra,
                       project / "project")
    assert code == 0, err
    return project / out
