import os
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).parent.parent


@pytest.fixture
def fixtures():
    return FIXTURES


@pytest.fixture(autouse=True)
def _own_state_dir(tmp_path_factory, monkeypatch):
    """usqlrw's state folder (emulator state, default ledger) per test, never the user's."""
    monkeypatch.setenv("USQLRW_STATE_DIR", str(tmp_path_factory.mktemp("usqlrw-state")))
