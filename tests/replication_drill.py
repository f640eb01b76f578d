"""Every replication script the replicate tests generate, run end to end on the engine.

:func:`drill` takes the jobs of a bundle (or of one plan): on a "primary" (an ADLA account of the
emulator's store layout, run in process by ``usqlrw.emulator.stores.execute``) it creates the
catalog the model describes and runs each job's DR copy (or the job itself when it stages nothing);
on the "secondary" it runs the catalog sync and each job's import after its DR copy. Then every
table the scripts move must hold the same rows on both accounts (a multiset, compared by value:
-0.0 is not 0.0, NaN equals NaN), and rerunning every import must change nothing.

The inputs a job reads are written when the engine says they are missing (a few rows of the
EXTRACT's column types). A DR copy that fails is only accepted when the job itself fails the same
way on the same primary (e.g. it inserts into a table no script creates): then the DR copy cannot
do better, and the drill says so instead of checking rows.

:func:`recording` is the autouse fixture the replicate test modules import: it wraps the
``build_bundle`` and ``plan_job`` the test module calls, and drills everything a test generated
when the test ends."""
from __future__ import annotations

import collections
import dataclasses
import decimal
import hashlib
import math
import os
import re
import shutil
import struct
import tempfile

import pytest

import usqlrw
from usqlrw import ast as A
from usqlrw.replicate import staging as S
from usqlrw.emulator.stores import catalog_dir, execute, store_dir


@dataclasses.dataclass
class Unit:
    """One job: its name, original text, DR copy and import (either may be None)."""
    name: str
    original: str
    dr_copy: str | None
    import_script: str | None


@dataclasses.dataclass
class Report:
    compared: dict = dataclasses.field(default_factory=dict)    # "db.sch.T" -> rows on each side
    rows: dict = dataclasses.field(default_factory=dict)        # "db.sch.T" -> the primary's rows (Counter)
    skipped: str | None = None                                  # why the rows were not compared


def identity(config):
    """The same config with nothing renamed: the catalog sync it gives creates the primary's catalog."""
    return dataclasses.replace(config, secondary_analytics=config.primary_analytics,
                               secondary_store=config.primary_store, secondary_default_store=config.primary_store,
                               stores={}, blob_accounts={}, locations=(), databases={}, schemas={}, objects={},
                               assemblies={}, data_sources={}, credentials={}, servers={})


class Accounts:
    def __init__(self, base: str, config):
        self.base, self.config = base, config
        self.sides = {"primary": (config.primary_analytics, config.primary_store),
                      "secondary": (config.secondary_analytics, config.secondary_store)}
        for adla, store in self.sides.values():
            os.makedirs(store_dir(base, store), exist_ok=True)

    def run(self, side: str, text: str) -> list:
        adla, store = self.sides[side]
        return execute(usqlrw.parse(text), self.base, adla, store)

    def run_with_inputs(self, side: str, text: str) -> list:
        """Run; when an input file is missing, write one for the EXTRACT that reads it and retry."""
        for _ in range(8):
            errors = self.run(side, text)
            m = re.match(r"no input file (.+) in the store$", errors[0]["message"]) if errors else None
            if not m or not self._synthesize(side, text, m.group(1), errors[0]["lineNumber"]):
                return errors
        return errors

    def _synthesize(self, side, text, rel, line) -> bool:
        script = usqlrw.parse(text)
        # the EXTRACT the error points into: the last one starting on or before its line
        exts = [n for n in A.walk(script) if isinstance(n, A.Extract)]
        ext = max((n for n in exts if n.span.line <= line), key=lambda n: n.span.line, default=None)
        if ext is None:
            return False
        path = os.path.join(store_dir(self.base, self.sides[side][1]), rel)
        if os.path.exists(path):
            return False
        os.makedirs(os.path.dirname(path), exist_ok=True)
        using = script.source.text[ext.using.span.start:ext.using.span.end] if ext.using is not None else ""
        delim = "," if "Csv" in using else ("\t" if "Tsv" in using else "\t")
        m = re.search(r'delimiter\s*:\s*\'(.)\'', using)
        delim = m.group(1) if m else delim
        skip = int(re.search(r"skipFirstNRows\s*:\s*(\d+)", using).group(1)) if "skipFirstNRows" in using else 0
        cols = [(c.name.name, c.type.text) for c in ext.columns if isinstance(c, A.ColumnDefinition)]
        lines = ["header"] * skip + [delim.join(_sample(t, i) for _, t in cols) for i in range(3)]
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write("".join(x + "\r\n" for x in lines))
        return True

    def rows(self, side: str, db: str, sch: str, name: str):
        """The table's rows as a multiset of canonical tuples (None: no such table)."""
        import duckdb
        path = os.path.join(catalog_dir(self.base, self.sides[side][0]), "usql.duckdb")
        if not os.path.exists(path):
            return None
        con = duckdb.connect(path, read_only=True)
        try:
            known = con.execute("SELECT columns FROM usqlrw_meta.objects WHERE db = ? AND sch = ? AND name = ? "
                                "AND kind = 'table'", [db, sch, name]).fetchall()
            if not known:
                return None
            rows = con.execute(f'SELECT * FROM "{db}.{sch}"."{name}"').fetchall()
        finally:
            con.close()
        return collections.Counter(tuple(_canon(v) for v in r) for r in rows)


def _sample(t: str, i: int) -> str:
    base = t.rstrip("?")
    if t.endswith("?") and i == 2:
        return ""
    return {"int": str(i + 1), "long": str(100 + i), "short": str(i), "byte": str(i), "Guid":
            f"00000000-0000-0000-0000-00000000000{i + 1}", "decimal": f"{i}2.5", "double": f"{i}.25",
            "float": "0.5", "char": str(65 + i), "bool": "True" if i % 2 else "False",
            "DateTime": "2024-01-03T00:00:00", "string": f"x{i};y\u00e9"}.get(base, str(i))


def _canon(v):
    if isinstance(v, float):
        return ("nan",) if math.isnan(v) else ("f", struct.pack("<d", v))
    if isinstance(v, decimal.Decimal):
        return ("d", v.normalize(decimal.Context(prec=60)))     # no rounding at 28 digits
    if isinstance(v, list):
        return ("list",) + tuple(_canon(x) for x in v)
    if isinstance(v, dict):
        return ("map",) + tuple((_canon(k), _canon(x)) for k, x in v.items())
    return v


def _mapped(config, db, sch, name):
    return (config.database(db), config.schemas.get((db, sch), sch), config.objects.get((db, sch, name), name))


def units_of_bundle(scripts, bundle) -> list:
    """The jobs of a bundle in input order, with their DR copy and import (from the manifest)."""
    steps = bundle.manifest.get("steps", [])
    out = []
    for item in scripts:
        name, script = item[0], item[1]
        short = os.path.basename(str(name))
        dr = imp = None
        for s in steps:
            if os.path.basename(s.get("source", "")) == short and s["script"].startswith("primary/jobs/"):
                dr = bundle.files[s["script"]].decode()
            if os.path.basename(s.get("source", "")) == short and s["script"].startswith("secondary/jobs/"):
                imp = bundle.files[s["script"]].decode()
        if dr or imp:
            out.append(Unit(short, script.source.text, dr, imp))
    return out


_DONE: dict = {}        # the key of every drill that passed -> its report


def drill(model, config, units: list, problems=(), base: str | None = None, files: dict | None = None,
          secondary_setup: str | None = None) -> Report:
    """:func:`_drill_once`, once per session for the same scripts, catalog model and config: tests
    that generate identical bundles (the determinism tests, reruns) are drilled once."""
    key = None
    if base is None and files is None and secondary_setup is None:
        key = hashlib.sha256(repr((units, sorted(model.objects), [repr(o) for _, o in sorted(model.objects.items())],
                                   repr(config), list(problems))).encode("utf-8", "surrogatepass")).hexdigest()
        if key in _DONE:
            return _DONE[key]
    report = _drill_once(model, config, units, problems, base, files, secondary_setup)
    if key is not None:
        _DONE[key] = report
    return report


def _drill_once(model, config, units: list, problems=(), base: str | None = None, files: dict | None = None,
                secondary_setup: str | None = None) -> Report:
    """Run the units on a fresh primary and secondary; assert both hold the same rows, twice.
    ``files``: store path -> bytes on the primary before anything runs; ``secondary_setup``: a
    script the secondary runs after its catalog sync (partitions that differ from the primary's)."""
    from usqlrw.replicate.sync import sync_script
    report = Report()
    own = base is None
    base = base or tempfile.mkdtemp(prefix="usqlrw-drill-")
    try:
        acc = Accounts(base, config)
        # the primary's databases exist before any of the scripts runs
        dbs = sorted({o.database for o in model.objects.values() if getattr(o, "database", "")} - {"master"})
        if dbs:
            assert not acc.run("primary", "".join(f"CREATE DATABASE IF NOT EXISTS {S.quote_ident(d)};\n" for d in dbs))
        for side, cfg in (("primary", identity(config)), ("secondary", config)):
            try:
                parts = sync_script(model, cfg).parts
            except usqlrw.USqlSyntaxError as e:        # e.g. a column of a user-defined type
                report.skipped = f"the catalog cannot be created on the engine: {e}"
                return report
            for _name, part, _objs in parts:
                try:
                    errors = acc.run(side, part)
                except usqlrw.USqlSyntaxError as e:        # e.g. a column of a user-defined type
                    report.skipped = f"the catalog cannot be created on the engine: {e}"
                    return report
                if errors and errors[0]["errorId"] == "E_EMULATOR_CANNOTRUN":
                    report.skipped = f"the catalog cannot be created on the engine: {errors[0]['message']}"
                    return report
                assert not errors, f"catalog sync on the {side}: {errors[0]['message']}"
        for rel, data in (files or {}).items():
            path = os.path.join(store_dir(base, config.primary_store), rel.lstrip("/"))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
        if secondary_setup:
            errors = acc.run("secondary", secondary_setup)
            assert not errors, f"the secondary's setup: {errors[0]['message']}"
        imports = []
        for u in units:
            primary = u.dr_copy or u.original
            before = _snapshot(base)
            errors = acc.run_with_inputs("primary", primary)
            if errors:
                # the DR copy may only fail where the job itself fails, the same way
                _restore(base, before)
                own_errors = acc.run_with_inputs("primary", u.original)
                assert own_errors, f"{u.name}: the DR copy fails where the job runs: {errors[0]['message']}"
                assert own_errors[0]["message"] == errors[0]["message"], (
                    f"{u.name}: the DR copy fails otherwise than the job: {errors[0]['message']} / "
                    f"{own_errors[0]['message']}")
                report.skipped = f"{u.name}: the job itself fails on the engine: {own_errors[0]['message']}"
                return report
            shutil.rmtree(before, ignore_errors=True)
            if u.import_script:
                errors = acc.run("secondary", u.import_script)
                assert not errors, f"{u.name}: the import fails: {errors[0]['message']} (line {errors[0]['lineNumber']})"
                imports.append(u)
        tables = _moved_tables(model, config, units)
        tables = [t for t in tables if not any(".".join(t) in p for p in problems)]
        for t in tables:
            p, s = acc.rows("primary", *t), acc.rows("secondary", *_mapped(config, *t))
            assert p == s, f"{'.'.join(t)}: the secondary's rows differ from the primary's:\n{_diff(p, s)}"
            report.compared[".".join(t)] = sum((p or {}).values())
            report.rows[".".join(t)] = p
        for u in imports:     # a rerun of every import adds nothing
            errors = acc.run("secondary", u.import_script)
            assert not errors, f"{u.name}: the import's rerun fails: {errors[0]['message']}"
        for t in tables:
            assert acc.rows("secondary", *_mapped(config, *t)) == acc.rows("primary", *t), \
                f"{'.'.join(t)}: rerunning the imports changed the secondary"
        return report
    finally:
        if own:
            shutil.rmtree(base, ignore_errors=True)


def _snapshot(base: str) -> str:
    dst = tempfile.mkdtemp(prefix="usqlrw-drill-before-")
    shutil.copytree(base, dst, dirs_exist_ok=True)
    return dst


def _restore(base: str, saved: str) -> None:
    shutil.rmtree(base)
    shutil.copytree(saved, base)
    shutil.rmtree(saved, ignore_errors=True)


def _moved_tables(model, config, units) -> list:
    """(db, schema, table) of every table a unit writes or replays (resolved as the plans do)."""
    from usqlrw.replicate.jobs import plan_job
    out = []
    for u in units:
        plan = plan_job(u.name, usqlrw.parse(u.original), model, config)
        for m in plan.moves:
            t = tuple(m["table"].split("."))
            if t not in out:
                out.append(t)
    return out


def _diff(p, s) -> str:
    p, s = p or collections.Counter(), s or collections.Counter()
    only_p, only_s = p - s, s - p
    return "\n".join([f"  primary only: {r!r} x{n}" for r, n in list(only_p.items())[:5]]
                     + [f"  secondary only: {r!r} x{n}" for r, n in list(only_s.items())[:5]])


# -- the fixture the replicate test modules use -----------------------------------------------------

DRILLED: list = []      # (test id, what, report) of every drill, for the figures


@pytest.fixture(autouse=True)
def recording(request, monkeypatch):
    """Record what the test generates (build_bundle, plan_job as the module calls them) and drill it
    when the test ends."""
    from usqlrw.replicate import bundle as B
    from usqlrw.replicate import jobs as J
    made = []
    real_bundle, real_plan = B.build_bundle, J.plan_job

    def build_bundle(scripts, config, *a, **kw):
        b = real_bundle(scripts, config, *a, **kw)
        made.append(("bundle", list(scripts), config, b))
        return b

    def plan_job(path, script, model, config, name=None):
        p = real_plan(path, script, model, config, name)
        made.append(("plan", (path, script), config, (model, p)))
        return p
    for mod in (request.module,):
        if hasattr(mod, "build_bundle"):
            monkeypatch.setattr(mod, "build_bundle", build_bundle)
        if hasattr(mod, "plan_job"):
            monkeypatch.setattr(mod, "plan_job", plan_job)
    monkeypatch.setattr("usqlrw.replicate.build_bundle", build_bundle)
    yield made
    for kind, inputs, config, out in made:
        if kind == "bundle":
            if out.model is None:
                continue
            units = units_of_bundle(inputs, out)
            if units:
                DRILLED.append((request.node.nodeid, "bundle", drill(out.model, config, units, out.problems)))
        else:
            (path, script), (model, plan) = inputs, out
            if plan.dr_copy or plan.import_script:
                u = Unit(os.path.basename(path), script.source.text, plan.dr_copy,
                         plan.import_script and _rewritten(plan.import_script, config))
                DRILLED.append((request.node.nodeid, "plan", drill(model, config, [u], plan.problems)))


def _rewritten(text: str, config) -> str:
    """A plan's import is written with primary names: the bundle passes it through the failover
    rewrite, as here."""
    from usqlrw.rewrite import rewrite_text
    return rewrite_text(text, config, "import.usql").text
