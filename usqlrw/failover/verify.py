"""``usqlrw failover verify PLAN``: after a failover, compare the replicated tables' rows on the
primary and the secondary account, as multisets.

For each table of the plan's catalog model, one job on each account writes the table's rows with
the same outputter (``Outputters.Csv(quoting: true)``, so both sides render values alike) to
``/usqlrw/verify/RUN/TABLE.csv`` on the account's default store; the two files are read back and
compared as multisets of rows: counts on each side, and a sample of the rows only one side has.
A table that differs, or whose export fails (a table missing on one side), is an error.

The stores are read through a reader ``(store account, path) -> bytes | None``; the embedded
emulator's is its store folders. Job outputs are not compared yet.
"""
from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .folder import PlanError, _plan_dir, load_plan, plan_config

__all__ = ["TableComparison", "compare_rows", "verify_plan"]


@dataclass
class TableComparison:
    """One table on both accounts."""
    primary: str                      # DB.SCHEMA.TABLE on the primary
    secondary: str                    # the same on the secondary (mapped names)
    primary_rows: int = 0
    secondary_rows: int = 0
    only_primary: list = field(default_factory=list)     # a sample: (row, how many more on the primary)
    only_secondary: list = field(default_factory=list)
    error: str | None = None

    @property
    def equal(self) -> bool:
        return self.error is None and not self.only_primary and not self.only_secondary

    def line(self) -> str:
        if self.error:
            return f"{self.primary} -> {self.secondary}: error: {self.error}"
        if self.equal:
            return f"{self.primary} -> {self.secondary}: equal ({self.primary_rows} rows)"
        out = [f"{self.primary} -> {self.secondary}: DIFFERENT ({self.primary_rows} rows on the primary, "
               f"{self.secondary_rows} on the secondary)"]
        out += [f"    only on the primary ({n}x): {r}" for r, n in self.only_primary]
        out += [f"    only on the secondary ({n}x): {r}" for r, n in self.only_secondary]
        return "\n".join(out)


def compare_rows(primary: list, secondary: list, sample: int = 5) -> tuple[list, list]:
    """The rows (text lines) one multiset has more of than the other: (row, excess) samples of
    at most ``sample`` each, sorted."""
    a, b = Counter(primary), Counter(secondary)
    only_a = sorted((a - b).items())[:sample]
    only_b = sorted((b - a).items())[:sample]
    return only_a, only_b


def _ident(name: str) -> str:
    from ..keywords import quote_ident
    return quote_ident(name)


def _tables(plan, d: Path) -> list:
    rel = plan.data.get("catalog", {}).get("model") or "catalog/model.json"
    p = (d / rel).resolve()
    if not p.is_relative_to(d.resolve()):
        raise PlanError(f"{d / 'plan.json'}: its catalog model {rel!r} is outside the plan folder")
    try:
        model = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PlanError(f"{p}: missing; make the plan again") from None
    except (OSError, ValueError) as e:
        raise PlanError(f"{p}: cannot be read as JSON ({e})") from None
    out = []
    for o in model.get("objects", []) if isinstance(model, dict) else []:
        if isinstance(o, dict) and o.get("kind") == "table":
            parts = (o.get("database"), o.get("schema"), o.get("name"))
            if all(isinstance(p, str) and p for p in parts):
                out.append(parts)
    return sorted(set(out))


def _secondary_name(config, db: str, sch: str, name: str) -> tuple:
    return (config.database(db), config.schemas.get((db, sch), sch), config.objects.get((db, sch, name), name))


def verify_plan(plan_dir, *, endpoint: str | None = None, credentials=None, read_store=None,
                sample: int = 5, config_path=None, timeout: float = 600.0,
                poll_interval: float = 0.05) -> list[TableComparison]:
    """Compare every replicated table of a plan on its primary and secondary account.

    ``read_store(store_account, path)``: the bytes of a file on a store (None if there is none);
    by default the embedded emulator's store folders (a drill), else a usage error."""
    from ..jobs.client import make_clients, resolve_endpoint
    d = _plan_dir(plan_dir)
    plan = load_plan(d)
    config = plan_config(plan, d, config_path)
    if endpoint is None and config.emulator:
        endpoint = "emulator"
    try:
        ep = resolve_endpoint(endpoint, state_file=plan.data.get("emulator_state") or str(d / "emulator.sqlite"))
    except ValueError as e:
        raise PlanError(str(e)) from None
    try:
        if read_store is None:
            if ep.emulator is None:
                raise PlanError("verify reads the accounts' stores; for this endpoint pass a store reader "
                                "(the Data Lake Store client is not wired in yet)", code=2)
            emu = ep.emulator

            def read_store(store, path):
                f = Path(emu.store_path(store)) / path.lstrip("/")
                return f.read_bytes() if f.is_file() else None
        if ep.emulator is not None:
            for acct, store in ((config.primary_analytics, config.primary_store),
                                (config.secondary_analytics, config.secondary_store)):
                ep.emulator.store.add_account(acct, store)
        clients = make_clients(ep, credentials)
        run = uuid.uuid4().hex[:12]
        out = []
        for db, sch, name in _tables(plan, d):
            sec = _secondary_name(config, db, sch, name)
            cmp = TableComparison(f"{db}.{sch}.{name}", ".".join(sec))
            lines = []
            for account, store, parts in ((config.primary_analytics, config.primary_store, (db, sch, name)),
                                          (config.secondary_analytics, config.secondary_store, sec)):
                q = ".".join(_ident(p) for p in parts)
                path = f"/usqlrw/verify/{run}/{'.'.join(parts)}.csv"
                script = (f"@usqlrw_rows = SELECT * FROM {q};\n"
                          f'OUTPUT @usqlrw_rows TO "{path}" USING Outputters.Csv(quoting: true);\n')
                err = _run_job(clients, account, script, f"usqlrw verify {'.'.join(parts)}", timeout, poll_interval)
                if err:
                    cmp.error = f"{account}: {err}"
                    break
                data = read_store(store, path)
                if data is None:
                    cmp.error = f"{account}: the export job wrote no {path} on {store}"
                    break
                lines.append(data.decode("utf-8", "replace").splitlines())
            if cmp.error is None:
                cmp.primary_rows, cmp.secondary_rows = len(lines[0]), len(lines[1])
                cmp.only_primary, cmp.only_secondary = compare_rows(lines[0], lines[1], sample)
            out.append(cmp)
        return out
    finally:
        ep.close()


def _run_job(clients, account: str, script: str, name: str, timeout: float, poll_interval: float) -> str | None:
    """Submit one job and wait for it: None when it succeeded, else why not (one line)."""
    from azure.mgmt.datalake.analytics.job.models import CreateJobParameters, CreateUSqlJobProperties, JobType
    jid = str(uuid.uuid4())
    try:
        clients.job.job.create(account, jid, CreateJobParameters(
            type=JobType.usql, name=name, properties=CreateUSqlJobProperties(script=script)))
        deadline = time.monotonic() + timeout
        while True:
            info = clients.job.job.get(account, jid)
            if info.state.value == "Ended":
                break
            if time.monotonic() > deadline:
                return f"job {jid} did not end within {timeout:g}s"
            time.sleep(poll_interval)
    except Exception as e:   # the SDK's errors: one line, never a traceback
        from ..secrets import redact
        return f"cannot run the export job: {redact(str(e))[:300]}"
    if info.result.value != "Succeeded":
        msgs = [f"line {m.line_number}: {m.message}" if m.line_number else str(m.message)
                for m in info.error_message or []]
        return f"the export job {jid} {info.result.value.lower()}" + (f": {msgs[0]}" if msgs else "")
    return None
