"""Files first: before a failover submits anything, every input its jobs and imports read (after
the rewrite, file sets expanded) must exist on the secondary's stores.

``exists(store_account, pattern)`` answers whether a path (``*`` for a file set's pattern parts)
names at least one file on a store; the embedded emulator's is a glob in its store folders.
Locations that cannot be told before the job runs (a value computed at run time) are left out.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

__all__ = ["MissingInput", "missing_inputs", "store_path"]

_ADL = re.compile(r"^(?:adl|swebhdfs|webhdfs|https?)://([^/.:]+)\.[^/]*?(?::\d+)?(/.*)?$", re.I)
_WASB = re.compile(r"^wasbs?://([^@/]+)@([^/.]+)(?:\.[^/]*)?(/.*)?$", re.I)
_FILESET = re.compile(r"\{[^{}]*\}")


@dataclass(frozen=True)
class MissingInput:
    step: str
    script: str          # the step's script, relative to the plan folder
    line: int
    column: int
    location: str        # as the job names it (after the rewrite)
    store: str
    path: str

    def __str__(self) -> str:
        return (f"{self.script}:{self.line}:{self.column}: step {self.step} reads {self.location}, "
                f"which is not on the store {self.store}")


def store_path(location: str, default_store: str) -> tuple[str, str] | None:
    """(store account, path with ``*`` for file set parts) of a location; None if not a store."""
    loc = location.strip()
    m = _WASB.match(loc)
    if m:
        return m.group(2).lower(), "/" + m.group(1) + unquote(m.group(3) or "/")
    m = _ADL.match(loc)
    if m:
        path = m.group(2) or "/"
        if path.startswith("/webhdfs/v1"):
            path = path[len("/webhdfs/v1"):]
        store, path = m.group(1).lower(), unquote(path)
    elif "://" in loc:
        return None
    else:
        store, path = default_store.lower(), "/" + unquote(loc).lstrip("/")
    return store, _FILESET.sub("*", path)


def missing_inputs(plan, config, exists) -> list[MissingInput]:
    """Every input of the plan's import and job steps that is not on its store, in step order."""
    from ..parser import parse
    from ..resolve import locations
    out = []
    for step in plan.steps:
        if step.get("kind") not in ("job", "import"):
            continue
        data = plan.files.get(step["script"])
        if data is None:
            continue
        try:
            script = parse(data.decode("utf-8"))
        except Exception:       # the plan checked its scripts; one that does not parse fails its job
            continue
        for loc in locations(script):
            value = loc.folded.value
            if loc.role != "input" or value is None:
                continue
            where = store_path(value, config.secondary_store)
            if where is None:
                continue
            if not exists(*where):
                out.append(MissingInput(step["id"], step["script"], loc.node.span.line, loc.node.span.column,
                                        value, *where))
    return out
