"""``usqlrw failover verify PLAN``: after a failover (or a drill), compare the primary and the
secondary: every replicated table's rows, and every file the plan's jobs write.

**Tables.** For each table of the plan's catalog model, one job on each account writes the table's
rows with the same outputter (``Outputters.Csv(quoting: true)``, so both sides render values alike)
to ``/usqlrw/verify/RUN/TABLE.csv`` on the account's default store; the two files are read back and
compared as multisets of rows: counts on each side, and a sample of the rows only one side has.
A table that differs, or whose export fails (a table missing on one side), is an error.

**Job outputs.** For each job step of the plan, the files its OUTPUT statements write: on the
primary where the source job names them, on the secondary where the rewritten job does (both folded
with the step's parameters, as the job was submitted). Each pair is read from its store and compared
as a multiset of rows (text lines), or in order when the OUTPUT has an ORDER BY. A difference, a
file missing on either side, or a location that cannot be told before the job runs is an error.

The stores are read through a reader ``(store account, path) -> bytes | None``; by default the
``azure-datalake-store`` client on the endpoint's stores (:mod:`usqlrw.failover.stores`).
"""
from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .folder import PlanError, _plan_dir, load_plan, plan_config
from .stores import store_reader

__all__ = ["OutputComparison", "TableComparison", "Verification", "compare_rows", "job_outputs",
           "verify", "verify_plan"]


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
            return f"{self.primary} -> {self.secondary}: equal ({_rows_text(self.primary_rows)})"
        out = [f"{self.primary} -> {self.secondary}: DIFFERENT ({self.primary_rows} rows on the primary, "
               f"{self.secondary_rows} on the secondary)"]
        out += [f"    only on the primary ({n}x): {r}" for r, n in self.only_primary]
        out += [f"    only on the secondary ({n}x): {r}" for r, n in self.only_secondary]
        return "\n".join(out)


def _rows_text(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"


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
    out = {}
    for o in model.get("objects", []) if isinstance(model, dict) else []:
        if isinstance(o, dict) and o.get("kind") == "table":
            parts = (o.get("database"), o.get("schema"), o.get("name"))
            if all(isinstance(p, str) and p for p in parts):
                cols = o.get("columns")
                ok = isinstance(cols, list) and all(
                    isinstance(c, list) and len(c) == 2 and all(isinstance(x, str) for x in c) for c in cols)
                out[parts] = [tuple(c) for c in cols] if ok else []
    return sorted(out.items())


def _select_list(columns) -> str:
    """The export's SELECT list: every column as it is, but SQL.MAP and SQL.ARRAY (which the built-in
    outputters cannot write) as text, in the staging format's rendering; ``*`` when the model has
    no columns."""
    from ..replicate.staging import encode_expr
    if not columns:
        return "*"
    items = []
    for name, typ in columns:
        q = _ident(name)
        compact = typ.replace(" ", "")
        items.append(f"{encode_expr(compact, q)} AS {q}" if compact.startswith(("SQL.MAP<", "SQL.ARRAY<")) else q)
    return ", ".join(items)


def _secondary_name(config, db: str, sch: str, name: str) -> tuple:
    return (config.database(db), config.schemas.get((db, sch), sch), config.objects.get((db, sch, name), name))


def verify_plan(plan_dir, *, endpoint: str | None = None, credentials=None, read_store=None,
                sample: int = 5, config_path=None, timeout: float = 600.0,
                poll_interval: float = 0.05) -> list[TableComparison]:
    """Compare every replicated table of a plan on its primary and secondary account (the tables
    of :func:`verify`, without the job outputs)."""
    return verify(plan_dir, endpoint=endpoint, credentials=credentials, read_store=read_store, sample=sample,
                  config_path=config_path, timeout=timeout, poll_interval=poll_interval, outputs=False).tables


def _guarded(read):
    """A store reader whose failures (a store that cannot be read) are one line, as the comparison's error."""
    from ..datalake import StoreError

    def read_store(store, path):
        try:
            return read(store, path)
        except StoreError as e:
            raise _Unreadable(str(e)) from None
    return read_store


class _Unreadable(Exception):
    pass


def verify(plan_dir, *, endpoint: str | None = None, credentials=None, read_store=None, sample: int = 5,
           config_path=None, timeout: float = 600.0, poll_interval: float = 0.05, tables: bool = True,
           outputs: bool = True) -> "Verification":
    """Compare a plan's replicated tables and its jobs' outputs on the primary and the secondary.

    ``read_store(store_account, path)``: the bytes of a file on a store (None if there is none);
    by default the endpoint's stores through the ``azure-datalake-store`` client (an emulator's over
    WebHDFS, Azure's with the jobs' token or azure-identity); a store that cannot be read is the
    error of the table or output that needed it."""
    from ..jobs.client import make_clients, resolve_endpoint
    d = _plan_dir(plan_dir)
    plan = load_plan(d)
    config = plan_config(plan, d, config_path)
    if endpoint is None and config.emulator:
        endpoint = "emulator"
    result = Verification()
    if outputs:   # what the jobs write, before anything is sent: a bad source is a usage error
        pairs = job_outputs(plan, d, config)
    try:
        ep = resolve_endpoint(endpoint, state_file=plan.data.get("emulator_state") or str(d / "emulator.sqlite"))
    except ValueError as e:
        raise PlanError(str(e)) from None
    try:
        if read_store is None:     # the stores through the azure-datalake-store client
            read_store = _guarded(store_reader(ep, credentials))
        if ep.emulator is not None:
            for acct, store in ((config.primary_analytics, config.primary_store),
                                (config.secondary_analytics, config.secondary_store)):
                ep.emulator.store.add_account(acct, store)
        if tables:
            clients = make_clients(ep, credentials)
            result.tables = _compare_tables(plan, d, config, clients, read_store, sample, timeout, poll_interval)
        if outputs:
            result.outputs = [_compare_output(o, read_store, sample) for o in pairs]
        return result
    finally:
        ep.close()


def _compare_tables(plan, d, config, clients, read_store, sample, timeout, poll_interval) -> list:
    run = uuid.uuid4().hex[:12]
    out = []
    for (db, sch, name), columns in _tables(plan, d):
        sec = _secondary_name(config, db, sch, name)
        cmp = TableComparison(f"{db}.{sch}.{name}", ".".join(sec))
        lines = []
        for account, store, parts in ((config.primary_analytics, config.primary_store, (db, sch, name)),
                                      (config.secondary_analytics, config.secondary_store, sec)):
            q = ".".join(_ident(p) for p in parts)
            path = f"/usqlrw/verify/{run}/{'.'.join(parts)}.csv"
            script = (f"@usqlrw_rows = SELECT {_select_list(columns)} FROM {q};\n"
                      f'OUTPUT @usqlrw_rows TO "{path}" USING Outputters.Csv(quoting: true);\n')
            err = _run_job(clients, account, script, f"usqlrw verify {'.'.join(parts)}", timeout, poll_interval)
            if err:
                cmp.error = f"{account}: {err}"
                break
            try:
                data = read_store(store, path)
            except _Unreadable as e:
                cmp.error = f"{account}: {e}"
                break
            if data is None:
                cmp.error = f"{account}: the export job wrote no {path} on {store}"
                break
            lines.append(data.decode("utf-8", "replace").splitlines())
        if cmp.error is None:
            cmp.primary_rows, cmp.secondary_rows = len(lines[0]), len(lines[1])
            cmp.only_primary, cmp.only_secondary = compare_rows(lines[0], lines[1], sample)
        out.append(cmp)
    return out


# -- job outputs ---------------------------------------------------------------------------------

@dataclass
class OutputComparison:
    """One file a job writes, as the primary's job names it and as the secondary's does."""
    step: str                         # the plan's job step
    source: str                       # the source script, as the plan names it
    line: int                         # the OUTPUT's line in the source script
    primary: str                      # the location on the primary (as folded), or a description
    secondary: str                    # the same on the secondary (rewritten)
    where: tuple = ()                 # ((store, path) on the primary, (store, path) on the secondary)
    ordered: bool = False             # the OUTPUT has an ORDER BY: compared in order
    primary_rows: int = 0
    secondary_rows: int = 0
    only_primary: list = field(default_factory=list)
    only_secondary: list = field(default_factory=list)
    first_difference: tuple | None = None   # ordered: (row number, primary's row, secondary's row)
    error: str | None = None

    @property
    def equal(self) -> bool:
        return (self.error is None and not self.only_primary and not self.only_secondary
                and self.first_difference is None)

    def line_text(self) -> str:
        head = f"{self.source}:{self.line}: {self.primary} -> {self.secondary}"
        if self.error:
            return f"{head}: error: {self.error}"
        how = " in order" if self.ordered else ""
        if self.equal:
            return f"{head}: equal{how} ({_rows_text(self.primary_rows)})"
        out = [f"{head}: DIFFERENT{how} ({self.primary_rows} rows on the primary, "
               f"{self.secondary_rows} on the secondary)"]
        if self.first_difference is not None:
            n, a, b = self.first_difference
            out.append(f"    first difference at row {n}: primary {a!r}, secondary {b!r}")
        out += [f"    only on the primary ({n}x): {r}" for r, n in self.only_primary]
        out += [f"    only on the secondary ({n}x): {r}" for r, n in self.only_secondary]
        return "\n".join(out)

    def to_dict(self) -> dict:
        return {"step": self.step, "source": self.source, "line": self.line, "primary": self.primary,
                "secondary": self.secondary, "ordered": self.ordered, "equal": self.equal,
                "primary_rows": self.primary_rows, "secondary_rows": self.secondary_rows,
                "only_primary": [[r, n] for r, n in self.only_primary],
                "only_secondary": [[r, n] for r, n in self.only_secondary],
                "first_difference": list(self.first_difference) if self.first_difference else None,
                "error": self.error}


@dataclass
class Verification:
    tables: list = field(default_factory=list)      # [TableComparison]
    outputs: list = field(default_factory=list)     # [OutputComparison]

    @property
    def equal(self) -> bool:
        return all(c.equal for c in self.tables) and all(o.equal for o in self.outputs)

    def lines(self) -> list:
        out = [c.line() for c in self.tables]
        out += [o.line_text() for o in self.outputs]
        return out

    def summary(self) -> str:
        bt = sum(not c.equal for c in self.tables)
        bo = sum(not o.equal for o in self.outputs)
        return (f"{len(self.tables) - bt} of {len(self.tables)} tables equal" + (f", {bt} not" if bt else "")
                + f"; {len(self.outputs) - bo} of {len(self.outputs)} job outputs equal"
                + (f", {bo} not" if bo else ""))

    def to_dict(self) -> dict:
        return {"equal": self.equal,
                "tables": [{"primary": c.primary, "secondary": c.secondary, "equal": c.equal,
                            "primary_rows": c.primary_rows, "secondary_rows": c.secondary_rows,
                            "only_primary": [[r, n] for r, n in c.only_primary],
                            "only_secondary": [[r, n] for r, n in c.only_secondary], "error": c.error}
                           for c in self.tables],
                "outputs": [o.to_dict() for o in self.outputs]}


def _sent_text(step, data: bytes, source: str) -> str:
    """The script as the job was (or is) submitted: the step's parameters declared before it."""
    from ..jobs.submit import ParamError, parse_param, prepare_request
    params = [parse_param(f"{p['name']}:{p['type']}={p['value']}") for p in step["parameters"]]
    try:
        return prepare_request(step["account"], data, source=source, params=params).script
    except ParamError as e:
        raise PlanError(f"{source}: {e}") from None


def _outputs_of(text: str, source: str) -> list:
    """[(line, folded value or None, ordered)] of a script's OUTPUT statements."""
    from .. import ast as A
    from ..parser import USqlSyntaxError, parse
    from ..resolve import locations
    try:
        script = parse(text, path=source)
    except USqlSyntaxError as e:
        raise PlanError(f"{source}:{e.line}:{e.column}: does not parse: {e.message}") from None
    out = []
    for loc in locations(script):
        if loc.role != "output":
            continue
        ordered = any(isinstance(n, A.Output) and n.target is loc.node and n.order_by is not None
                      for n in A.walk(loc.statement))
        out.append((loc.node.span.line, loc.folded.value, ordered))
    return out


def _source_bytes(plan, d: Path, step) -> bytes:
    """The source script of a job step, as the plan recorded it (PlanError if it is not)."""
    from .folder import _sha
    sources = dict(zip(plan.data["inputs"], plan.data["sources"]))
    src = sources.get(step["source"])
    if src is None:
        raise PlanError(f"{d / 'plan.json'}: step {step['id']}: its source {step['source']!r} is not "
                        "among the plan's inputs")
    path = d / src["path"]
    try:
        data = path.read_bytes()
    except OSError as e:
        raise PlanError(f"{path}: cannot read the job's source: {e.strerror or e}") from None
    if _sha(data) != src["sha256"]:
        raise PlanError(f"{path}: changed since the plan was made; make the plan again")
    return data


def job_outputs(plan, d: Path, config) -> list:
    """[OutputComparison] still to read: every OUTPUT of the plan's job steps, located on both sides.

    The primary's side is the source script (it must be as the plan recorded it), the secondary's
    the plan's rewritten script; both with the step's parameters."""
    from .preflight import store_path
    out = []
    for step in plan.steps:
        if step["kind"] != "job":
            continue
        prim = _outputs_of(_sent_text(step, _source_bytes(plan, d, step), step["source"]), step["source"])
        sec = _outputs_of(_sent_text(step, plan.files[step["script"]], step["script"]), step["script"])
        prelude = len(step["parameters"])
        if len(prim) != len(sec):   # the rewrite keeps every statement: this is a plan that lies
            raise PlanError(f"{d / step['script']}: writes {len(sec)} output(s), its source "
                            f"{step['source']} {len(prim)}")
        for (line, pv, ordered), (_, sv, _) in zip(prim, sec):
            cmp = OutputComparison(step["id"], step["source"], line - prelude, pv or "(computed at run time)",
                                   sv or "(computed at run time)", ordered=ordered)
            if pv is None or sv is None:
                cmp.error = "the location is computed when the job runs: it cannot be compared"
            else:
                a, b = store_path(pv, config.primary_store), store_path(sv, config.secondary_store)
                if a is None or b is None:
                    cmp.error = "not a location on a Data Lake Store or Blob storage account"
                else:
                    cmp.where = (a, b)
                    cmp.primary = pv if "://" in pv else f"{a[0]}:{pv}"
                    cmp.secondary = sv if "://" in sv else f"{b[0]}:{sv}"
            out.append(cmp)
    return out


def _rows(data: bytes) -> list:
    try:
        return data.decode("utf-8").splitlines()
    except UnicodeDecodeError:   # a binary format (Parquet...): the file as one row
        import hashlib
        return [f"(binary, {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()})"]


def _compare_output(cmp: OutputComparison, read_store, sample: int) -> OutputComparison:
    if cmp.error:
        return cmp
    rows = []
    for side, (store, path) in zip(("primary", "secondary"), cmp.where):
        if "*" in path:
            cmp.error = f"{path} is a file set; only single files are compared"
            return cmp
        try:
            data = read_store(store, path)
        except _Unreadable as e:
            cmp.error = f"{side}: {e}"
            return cmp
        if data is None:
            cmp.error = f"missing on the {side}: no {path} on the store {store}"
            return cmp
        rows.append(_rows(data))
    a, b = rows
    cmp.primary_rows, cmp.secondary_rows = len(a), len(b)
    if cmp.ordered:
        if a != b:
            n = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
            cmp.first_difference = (n + 1, a[n] if n < len(a) else None, b[n] if n < len(b) else None)
    cmp.only_primary, cmp.only_secondary = compare_rows(a, b, sample)
    return cmp


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
