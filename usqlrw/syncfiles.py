"""Files first: copy what the jobs read from the primary's stores to the secondary's, incrementally.

    inputs = inputs_of_scripts(["jobs/daily.usql"], config)        # or inputs_of_plan("plan/")
    report = sync_files(inputs, open_primary, open_secondary)      # Store, or store name -> Store
    print(report.summary())

Every location a job reads (EXTRACT ... FROM, DEPLOY RESOURCE) of the scripts, folded in its
scope, is taken on the primary as the script names it and on the secondary as the rewrite names
it (the DR config's mapping, :func:`usqlrw.locations.map_location`); file sets are expanded on the primary store
(``{...}`` parts match within one path segment). A location with a value computed at run time,
one on Blob storage, or one the mapping cannot follow is listed as skipped with the reason.

Incremental: a file is skipped when the secondary already has it. "Already has" means: the
record of the last copy (``/usqlrw/sync/from-<primary store>.json`` on the secondary store) says
the primary's file had the same length and modification time then, and the secondary's copy still
has the length and modification time it had right after the copy; or, without such a record, both
files have the same length and the same SHA-256 of their contents (read from both stores). A copy
is written atomically (temporary file, then renamed over the old one); nothing on the secondary is
ever deleted, except a file of the same name replaced by its new copy. The record is checked
before it is trusted; one that is not valid is ignored (the files are compared by content).
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from typing import Callable, Iterable

from .datalake import Store, StoreError

__all__ = ["FileInput", "SyncItem", "SyncReport", "inputs_of_scripts", "inputs_of_plan", "sync_files",
           "RECORD_DIR", "RECORD_FORMAT"]

RECORD_DIR = "/usqlrw/sync/"
#: the roles of the locations a job reads from its store: EXTRACT's inputs and DEPLOY RESOURCE's files
_READ = ("input", "resource")
RECORD_FORMAT = "usqlrw-sync-record/1"
_HEX = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class FileInput:
    """One input location a job reads: where on the primary, where on the secondary (after the rewrite)."""
    script: str
    line: int
    column: int
    location: str | None          # as the script names it (folded); None when computed at run time
    source: tuple | None = None   # (primary store, path with * for file set parts)
    target: tuple | None = None   # (secondary store, path with * for file set parts)
    reason: str | None = None     # why it cannot be copied (then source/target are None)
    step: str | None = None       # the plan step that reads it, if from a plan

    @property
    def where(self) -> str:
        return f"{self.script}:{self.line}:{self.column}"


@dataclass
class SyncItem:
    status: str                   # copied | would-copy | skipped | failed
    source: str                   # store:path on the primary (the pattern when nothing was expanded)
    target: str                   # store:path on the secondary
    bytes: int = 0
    reason: str = ""
    readers: list = field(default_factory=list)   # script:line:col of the inputs that read it

    def __str__(self) -> str:
        what = {"copied": "copied", "would-copy": "would copy", "skipped": "skipped", "failed": "FAILED"}[self.status]
        size = f" ({self.bytes} bytes)" if self.status in ("copied", "would-copy") else ""
        where = f"{self.source} -> {self.target}" if self.target else self.source
        return f"{what}: {where}{size}" + (f": {self.reason}" if self.reason else "")


@dataclass
class SyncReport:
    items: list = field(default_factory=list)
    dry_run: bool = False
    notes: list = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for i in self.items if i.status == status)

    @property
    def copied(self) -> int:
        return self.count("would-copy" if self.dry_run else "copied")

    @property
    def skipped(self) -> int:
        return self.count("skipped")

    @property
    def failed(self) -> int:
        return self.count("failed")

    @property
    def bytes_copied(self) -> int:
        return sum(i.bytes for i in self.items if i.status in ("copied", "would-copy"))

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def summary(self) -> str:
        verb = "would copy" if self.dry_run else "copied"
        return (f"{self.copied} file(s) {verb} ({self.bytes_copied} bytes), {self.skipped} skipped, "
                f"{self.failed} failed")

    def to_json(self) -> dict:
        return {"dry_run": self.dry_run, "copied": self.copied, "skipped": self.skipped, "failed": self.failed,
                "bytes": self.bytes_copied, "notes": list(self.notes), "items": [asdict(i) for i in self.items]}


# -- inputs ---------------------------------------------------------------------------------------

def _inputs_of_text(text: str, name: str, config, step: str | None = None, prelude: int = 0) -> list[FileInput]:
    """The inputs of one script; ``prelude``: lines prepended to it (parameters), left out of lines."""
    from .failover.preflight import store_path
    from .locations import Unsafe, map_location
    from .parser import parse
    from .resolve import locations
    script = parse(text, path=name)
    out = []
    for loc in locations(script):
        if loc.role not in _READ or loc.node.span.line <= prelude:
            continue
        span = _Shifted(loc.node.span.line - prelude, loc.node.span.column)
        value = loc.folded.value
        if value is None:
            prefix = loc.folded.known_prefix
            out.append(FileInput(name, span.line, span.column, None, step=step,
                                 reason="computed at run time" + (f" (it starts {prefix!r})" if prefix else "")))
            continue
        try:
            mapped = map_location(value, config) or value
        except Unsafe as e:
            out.append(FileInput(name, span.line, span.column, value, reason=str(e), step=step))
            continue
        src = store_path(value, config.primary_store)
        dst = store_path(mapped, config.secondary_default_store)
        if src is None or dst is None:
            out.append(FileInput(name, span.line, span.column, value, step=step,
                                 reason="not on a Data Lake Store (copy it with the tools of its service)"))
            continue
        if re.match(r"(?i)^wasbs?://", value) or re.match(r"(?i)^wasbs?://", mapped):
            out.append(FileInput(name, span.line, span.column, value, step=step,
                                 reason="on Blob storage, not a Data Lake Store (copy it with AzCopy)"))
            continue
        out.append(FileInput(name, span.line, span.column, value, src, dst, step=step))
    return out


@dataclass(frozen=True)
class _Shifted:
    line: int
    column: int


def inputs_of_scripts(paths: Iterable, config, errors: list | None = None) -> list[FileInput]:
    """The input locations of scripts (files, or folders searched for ``*.usql``) as they read them on
    the primary and, after the rewrite, on the secondary. A script that cannot be read or does not
    parse: its one-line error (file:line:col) goes to ``errors`` and the others go on; without
    ``errors``, ValueError."""
    from .files import iter_inputs
    from .parser import USqlSyntaxError
    out = []
    for inp in iter_inputs([str(p) for p in paths]):
        try:
            if inp.data is None:
                raise ValueError(f"{inp.path}: {inp.error}")
            try:
                out += _inputs_of_text(inp.data.decode("utf-8-sig"), inp.path, config)
            except USqlSyntaxError as e:
                raise ValueError(str(e)) from None
            except UnicodeDecodeError:
                raise ValueError(f"{inp.path}: not UTF-8 text") from None
        except ValueError as e:
            if errors is None:
                raise
            errors.append(str(e))
    return out


def inputs_of_plan(plan_dir, config_path=None) -> list[FileInput]:
    """The inputs of a failover plan's job steps, from their source scripts (as the plan recorded
    them: a source changed since is refused) with the step's parameters and the plan's DR config."""
    from .failover.folder import PlanError, _plan_dir, _sha, changed_sources, load_plan, plan_config
    from .failover.preflight import as_run
    d = _plan_dir(plan_dir)
    plan = load_plan(d)
    config = plan_config(plan, d, config_path)
    changed, missing = changed_sources(plan, d)
    if changed or missing:
        bad = (changed + missing)[0]
        raise PlanError(f"{d / bad}: {'changed' if changed else 'missing'} since the plan was made; "
                        "make the plan again")
    import os
    recorded = {os.path.realpath(d / s["path"]): (s["path"], s["sha256"]) for s in plan.data["sources"]}
    out = []
    for st in plan.steps:
        if st.get("kind") != "job":
            continue
        src = os.path.realpath(d / st.get("source", ""))    # recorded absolute (or relative to the plan)
        if src not in recorded:
            raise PlanError(f"{d / 'plan.json'}: step {st['id']} names a source the plan does not record")
        rel, sha = recorded[src]
        data = (d / rel).read_bytes()
        if _sha(data) != sha:
            raise PlanError(f"{d / rel}: changed since the plan was made; make the plan again")
        text, prelude = as_run(st, data)         # with the step's parameters, as its job runs
        out += _inputs_of_text(text, st["source"], config, step=st["id"], prelude=prelude)
    return out


# -- the record of past copies ---------------------------------------------------------------------

def _record_path(source_store: str) -> str:
    return f"{RECORD_DIR}from-{source_store}.json"


def _valid_entry(e) -> bool:
    ints = ("source_length", "source_mtime_ms", "target_length", "target_mtime_ms")
    return (isinstance(e, dict) and all(isinstance(e.get(k), int) and not isinstance(e.get(k), bool)
                                        and e[k] >= 0 for k in ints)
            and isinstance(e.get("sha256"), str) and bool(_HEX.match(e["sha256"]))
            and isinstance(e.get("target_path"), str))


def _load_record(target: Store, source_store: str, notes: list) -> dict:
    path = _record_path(source_store)
    try:
        if target.stat(path) is None:
            return {}
        raw = target.read(path)
    except StoreError as e:
        notes.append(f"the record of past copies could not be read ({e}); files are compared by content")
        return {}
    try:
        doc = json.loads(raw)
    except ValueError:
        doc = None
    if (not isinstance(doc, dict) or doc.get("format") != RECORD_FORMAT or doc.get("source") != source_store
            or not isinstance(doc.get("files"), dict)):
        notes.append(f"{target.name}:{path}: not a valid record of past copies; ignored "
                     "(files are compared by content)")
        return {}
    files = {k: v for k, v in doc["files"].items() if isinstance(k, str) and _valid_entry(v)}
    if len(files) != len(doc["files"]):
        notes.append(f"{target.name}:{path}: {len(doc['files']) - len(files)} entries not valid; ignored")
    return files


def _save_record(target: Store, source_store: str, files: dict) -> None:
    doc = {"format": RECORD_FORMAT, "source": source_store, "target": target.name, "files": files}
    target.write(_record_path(source_store), (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode())


# -- sync -----------------------------------------------------------------------------------------

def _opener(spec) -> Callable[[str], Store]:
    if isinstance(spec, Store):
        def one(name: str) -> Store:
            if name.lower() != spec.name:
                raise StoreError(f"the store {name} is not open here (only {spec.name})")
            return spec
        return one
    cache: dict = {}

    def many(name: str) -> Store:
        if name not in cache:
            cache[name] = spec(name)
        return cache[name]
    return many


def _concrete_target(src_pattern: str, dst_pattern: str, src_path: str) -> str | None:
    """The secondary path of one file of a file set: the patterns share their tail from the first
    ``*`` on (the mapping changes a prefix), so the file keeps that tail under the target's prefix."""
    if "*" not in src_pattern:
        return dst_pattern
    star = src_pattern.index("*")
    tail = src_pattern[src_pattern.rfind("/", 0, star) + 1:]
    if not dst_pattern.endswith(tail):
        return None
    return dst_pattern[:len(dst_pattern) - len(tail)] + src_path[len(src_pattern) - len(tail):]


def _hash(chunks) -> str:
    h = hashlib.sha256()
    for c in chunks:
        h.update(c)
    return h.hexdigest()


def sync_files(inputs: Iterable[FileInput], source, target, *, dry_run: bool = False,
               progress: Callable[[SyncItem], None] | None = None) -> SyncReport:
    """Copy the files the inputs read from the primary's stores to the secondary's.

    ``source`` and ``target``: a :class:`~usqlrw.datalake.Store`, or a function from a store account's
    name to its Store (for inputs on several stores). Files already equal are skipped (see the
    module's doc), a changed file is copied again, nothing on the secondary is deleted. With
    ``dry_run`` nothing is written (files are still compared). ``progress`` is called with each item."""
    open_src, open_dst = _opener(source), _opener(target)
    report = SyncReport(dry_run=dry_run)
    progress = progress or (lambda item: None)
    done: dict = {}         # (src store, path) -> item
    records: dict = {}      # (src store, dst store) -> record files
    dirty: set = set()

    def add(item: SyncItem):
        report.items.append(item)
        progress(item)

    for inp in inputs:
        if inp.reason is not None:
            add(SyncItem("skipped", f"{inp.where}" + (f" {inp.location}" if inp.location else ""), "",
                         reason=inp.reason, readers=[inp.where]))
            continue
        (s_store, s_pat), (d_store, d_pat) = inp.source, inp.target
        shown = f"{s_store}:{s_pat}"
        try:
            src = open_src(s_store)
            files = src.glob(s_pat)
        except StoreError as e:
            add(SyncItem("failed", shown, f"{d_store}:{d_pat}", reason=str(e), readers=[inp.where]))
            continue
        if not files:
            add(SyncItem("failed", shown, f"{d_store}:{d_pat}", readers=[inp.where],
                         reason="no such file on the primary store" + (" (no file matches the file set)"
                                                                        if "*" in s_pat else "")))
            continue
        for f in files:
            key = (s_store, f.path)
            if key in done:
                done[key].readers.append(inp.where)
                continue
            d_path = _concrete_target(s_pat, d_pat, f.path)
            if d_path is None:
                item = SyncItem("skipped", f"{s_store}:{f.path}", f"{d_store}:{d_pat}", readers=[inp.where],
                                reason="the mapping changes the file set's pattern itself")
                done[key] = item
                add(item)
                continue
            item = SyncItem("failed", f"{s_store}:{f.path}", f"{d_store}:{d_path}", readers=[inp.where])
            done[key] = item
            try:
                dst = open_dst(d_store)
                rk = (s_store, d_store)
                if rk not in records:
                    records[rk] = _load_record(dst, s_store, report.notes)
                _sync_one(src, dst, f, d_path, records[rk], item, dry_run)
                if item.status == "copied" or item.reason.startswith("same content"):
                    dirty.add(rk)
            except StoreError as e:
                item.status, item.reason = "failed", str(e)
            add(item)
    if not dry_run:
        for rk in sorted(dirty):
            try:
                _save_record(open_dst(rk[1]), rk[0], records[rk])
            except StoreError as e:
                report.notes.append(f"the record of this copy could not be written ({e}); the next run compares "
                                    "files by content")
    return report


def _sync_one(src: Store, dst: Store, f, d_path: str, record: dict, item: SyncItem, dry_run: bool):
    there = dst.stat(d_path)
    if there is not None and not there.is_file:
        item.status, item.reason = "failed", "a folder is there on the secondary store"
        return
    rec = record.get(f.path)
    if (there is not None and rec is not None and rec["target_path"] == d_path
            and (rec["source_length"], rec["source_mtime_ms"]) == (f.length, f.mtime_ms)
            and (rec["target_length"], rec["target_mtime_ms"]) == (there.length, there.mtime_ms)):
        item.status, item.reason = "skipped", "unchanged since the last copy (length and modification time)"
        return
    if there is not None and there.length == f.length:
        digest = _hash(src.iter_read(f.path))
        if digest == _hash(dst.iter_read(d_path)):
            item.status, item.reason = "skipped", "same content on both stores (length and SHA-256)"
            if not dry_run:
                record[f.path] = {"source_length": f.length, "source_mtime_ms": f.mtime_ms, "sha256": digest,
                                  "target_path": d_path, "target_length": there.length,
                                  "target_mtime_ms": there.mtime_ms}
            return
    why = "not on the secondary store" if there is None else "changed on the primary"
    if dry_run:
        item.status, item.bytes, item.reason = "would-copy", f.length, why
        return
    h = hashlib.sha256()

    def chunks():
        for c in src.iter_read(f.path):
            h.update(c)
            yield c
    n = dst.write(d_path, chunks())
    after = dst.stat(d_path)
    if after is None:
        raise StoreError(f"{dst.name}:{d_path}: gone right after it was written")
    record[f.path] = {"source_length": f.length, "source_mtime_ms": f.mtime_ms, "sha256": h.hexdigest(),
                      "target_path": d_path, "target_length": after.length, "target_mtime_ms": after.mtime_ms}
    item.status, item.bytes, item.reason = "copied", n, why
