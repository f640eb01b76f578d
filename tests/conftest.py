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


def pytest_configure(config):
    config.addinivalue_line("markers", "spark: runs on Apache Spark (needs the usqlrw[spark] extra and Java 17)")


@pytest.fixture(scope="session")
def spark_session():
    """One local[2] SparkSession for the whole test run; the master URL the engine is given.
    Skipped, with the reason, where PySpark is not installed."""
    pytest.importorskip("pyspark", reason="PySpark is not installed (pip install -e '.[spark]')")
    import shutil
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("Spark needs Java 17 (no java on PATH, no JAVA_HOME)")
    from usqlrw.engine.spark_engine import session
    master = "local[2]"
    s = session(master)
    yield master
    s.stop()
