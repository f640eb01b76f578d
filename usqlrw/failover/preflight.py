"""Files first: before a failover submits anything, every input its jobs and imports read (EXTRACT
and DEPLOY RESOURCE, after the rewrite, file sets expanded) must exist on the secondary's stores.

``exists(store_account, pattern)`` answers whether a path (``*`` for a file set's pattern parts)
names at least one file on a store: :func:`client_exists` asks the stores themselves through the
``azure-datalake-store`` client (an emulator's over WebHDFS, Azure's with credentials), and the
embedded emulator's is a glob in its store folders. Locations that cannot be told before the job
runs (a value computed at run time) are left out.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

__all__ = ["MissingInput", "missing_inputs", "store_path", "client_exists", "endpoint_exists"]

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


def as_run(step: dict, data: bytes) -> tuple[str, int]:
    """A step's script as its job runs it: the plan's parameters for the step prepended as DECLAREs
    (as ``submit`` sends them), and how many lines they take (to give the script's own lines)."""
    from ..jobs.submit import declare_prelude, parse_param
    text = data.decode("utf-8-sig")
    params = [parse_param(f"{p['name']}:{p['type']}={p['value']}") for p in step.get("parameters") or []]
    if not params:
        return text, 0
    return declare_prelude(params, "\n") + text, len(params)


def missing_inputs(plan, config, exists) -> list[MissingInput]:
    """Every input of the plan's import and job steps that is not on its store, in step order,
    with the values the step's parameters give."""
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
            text, prelude = as_run(step, data)
            script = parse(text)
        except Exception:       # the plan checked its scripts; one that does not parse fails its job
            continue
        for loc in locations(script):
            value = loc.folded.value
            if loc.role not in ("input", "resource") or value is None or loc.node.span.line <= prelude:
                continue
            where = store_path(value, config.secondary_store)
            if where is None:
                continue
            if not exists(*where):
                out.append(MissingInput(step["id"], step["script"], loc.node.span.line - prelude,
                                        loc.node.span.column, value, *where))
    return out


def client_exists(open_store):
    """``exists`` through the ``azure-datalake-store`` client: ``open_store(name)`` gives a
    :class:`usqlrw.datalake.Store` (opened once per store); a file set's pattern exists when one
    file matches it. StoreError when a store cannot be asked."""
    stores: dict = {}

    def exists(store: str, pattern: str) -> bool:
        if store not in stores:
            stores[store] = open_store(store)
        return bool(stores[store].glob(pattern, limit=1))
    return exists


def endpoint_exists(ep, credentials=None):
    """``exists`` for the stores of a jobs endpoint, or None when they are not to be checked: an
    emulator at a URL that runs its jobs (asked at ``/_emulator/health``; one that only accepts them
    reads no file), or Azure when credentials are at hand. The token: the one of the jobs'
    ``credentials`` (msrest, a fixed token), else $USQLRW_ADLA_TOKEN, else (an emulator) its
    placeholder or (Azure) azure-identity's."""
    import os

    from ..datalake import open_store
    from ..jobs.client import TOKEN_ENV
    token = getattr(credentials, "token", None)
    token = token.get("access_token") if isinstance(token, dict) else None
    token = token if isinstance(token, str) and token else os.environ.get(TOKEN_ENV) or None
    if ep.emulator is not None:       # embedded: it serves its stores over WebHDFS too
        return client_exists(lambda name: open_store(name, ep, token=token)) if ep.emulator.execute else None
    if ep.url:
        if not _emulator_executes(ep.url, token or "emulator-placeholder-token"):
            return None
        return client_exists(lambda name: open_store(name, ep, token=token))
    if ep.template:
        return None
    if not token:
        import importlib.util
        if importlib.util.find_spec("azure.identity") is None:
            return None
    return client_exists(lambda name: open_store(name, ep, token=token))


def _emulator_executes(url: str, token: str) -> bool:
    """Whether the emulator at ``url`` runs the jobs it is sent (its health route says so)."""
    import requests
    s = requests.Session()
    s.trust_env = False          # the token goes to the emulator and nowhere else
    try:
        r = s.get(url.rstrip("/") + "/_emulator/health", headers={"Authorization": f"Bearer {token}"},
                  timeout=10, allow_redirects=False)
        return r.status_code == 200 and r.json().get("executes") is True
    except (requests.RequestException, ValueError, AttributeError):
        return False
    finally:
        s.close()
