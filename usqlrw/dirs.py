"""Where usqlrw keeps its own files, outside the working tree (as black and ruff keep their caches).

- state (the local emulator's SQLite files, the default submission ledger): ``$USQLRW_STATE_DIR``,
  else ``$XDG_STATE_HOME/usqlrw``, else ``~/.local/state/usqlrw``;
- cache (the parse tables): ``$USQLRW_CACHE_DIR``, else ``$XDG_CACHE_HOME/usqlrw``, else
  ``~/.cache/usqlrw`` (``usqlrw.tables.cache_dir``, kept there so a parse imports nothing more).
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path


def state_dir(create: bool = True) -> Path:
    d = os.environ.get("USQLRW_STATE_DIR")
    if d:
        p = Path(d)
    else:
        base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
        p = Path(base) / "usqlrw"
    if create:
        p.mkdir(parents=True, exist_ok=True)
    return p


def emulator_state(config_path: str | os.PathLike | None = None) -> str:
    """The embedded emulator's state file: one per DR config (so commands run with the same
    config see the same emulator), in the state folder."""
    if config_path is None:
        return str(state_dir() / "emulator.sqlite")
    key = hashlib.sha256(os.path.abspath(config_path).encode()).hexdigest()[:12]
    return str(state_dir() / f"emulator-{Path(config_path).stem}-{key}.sqlite")


def default_ledger() -> str:
    return str(state_dir() / "submissions.jsonl")
