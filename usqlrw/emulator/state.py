"""The emulator's state: accounts, jobs and catalog rows in SQLite, safe across threads."""
from __future__ import annotations

import json
import logging
import re
import sqlite3
import threading
import uuid
from datetime import datetime, timezone

log = logging.getLogger("usqlrw.emulator")

JOB_API_VERSION = "2017-09-01-preview"
CATALOG_API_VERSION = "2016-11-01"
ACCOUNT_API_VERSION = "2016-11-01"
_ACCOUNT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,62}$")
STATES = ("Accepted", "Compiling", "Queued", "Running", "Ended")
_NS = uuid.UUID("6c1f2b5e-4f7a-4e59-9d0c-2f8f3e0b7a11")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (name TEXT PRIMARY KEY COLLATE NOCASE, store TEXT NOT NULL,
    created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (account TEXT NOT NULL COLLATE NOCASE, id TEXT NOT NULL, seq INTEGER NOT NULL,
    step INTEGER NOT NULL DEFAULT 0, reads INTEGER NOT NULL DEFAULT 0, request TEXT NOT NULL,
    doc TEXT NOT NULL, compile TEXT, PRIMARY KEY (account, id));
CREATE TABLE IF NOT EXISTS catalog (account TEXT NOT NULL COLLATE NOCASE, kind TEXT NOT NULL,
    db TEXT NOT NULL, sch TEXT NOT NULL, name TEXT NOT NULL, doc TEXT NOT NULL,
    PRIMARY KEY (account, kind, db, sch, name));
"""


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _ts(d: datetime) -> str:
    return d.isoformat(timespec="milliseconds")


def _duration(seconds: float) -> str:
    return f"PT{max(seconds, 0):.3f}S"


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class Store:
    """The emulator's state in SQLite; every method holds the lock, so it is safe across threads."""

    def __init__(self, db: str = ":memory:"):
        self.lock = threading.RLock()
        self.conn = sqlite3.connect(db, check_same_thread=False, isolation_level=None, timeout=30)
        self.conn.execute("PRAGMA journal_mode=WAL" if db != ":memory:" else "PRAGMA journal_mode=MEMORY")
        self.conn.executescript(_SCHEMA)

    def close(self):
        with self.lock:
            self.conn.close()

    # -- accounts ---------------------------------------------------------------------------
    def add_account(self, name: str, store: str | None = None):
        with self.lock:
            self.conn.execute("INSERT OR IGNORE INTO accounts VALUES (?, ?, ?)",
                              (name, store or f"{name}store", _ts(_now())))
            self.conn.execute("INSERT OR IGNORE INTO catalog VALUES (?, 'database', 'master', '', 'master', '{}')",
                              (name,))
            self.conn.execute("INSERT OR IGNORE INTO catalog VALUES (?, 'schema', 'master', '', 'dbo', '{}')",
                              (name,))

    def account(self, name: str):
        with self.lock:
            row = self.conn.execute("SELECT name, store, created FROM accounts WHERE name = ?", (name,)).fetchone()
        return row

    def accounts(self):
        with self.lock:
            return self.conn.execute("SELECT name, store, created FROM accounts ORDER BY name").fetchall()

    # -- jobs -------------------------------------------------------------------------------
    def job_row(self, account: str, job_id: str):
        return self.conn.execute("SELECT step, reads, request, doc, compile FROM jobs WHERE account = ? AND id = ?",
                                 (account, job_id)).fetchone()

    def insert_job(self, account, job_id, request, doc, compile_errors):
        seq = self.conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM jobs").fetchone()[0]
        self.conn.execute("INSERT INTO jobs (account, id, seq, request, doc, compile) VALUES (?, ?, ?, ?, ?, ?)",
                          (account, job_id, seq, json.dumps(request, sort_keys=True), json.dumps(doc),
                           json.dumps(compile_errors)))

    def save_job(self, account, job_id, step, reads, doc):
        self.conn.execute("UPDATE jobs SET step = ?, reads = ?, doc = ? WHERE account = ? AND id = ?",
                          (step, reads, json.dumps(doc), account, job_id))

    def job_ids(self, account):
        return [r[0] for r in self.conn.execute("SELECT id FROM jobs WHERE account = ? ORDER BY seq", (account,))]

    # -- catalog ----------------------------------------------------------------------------
    def catalog_items(self, account, kind, db=None, sch=None):
        q, args = "SELECT db, sch, name, doc FROM catalog WHERE account = ? AND kind = ?", [account, kind]
        if db is not None:
            q += " AND db = ?"
            args.append(db)
        if sch is not None:
            q += " AND sch = ?"
            args.append(sch)
        with self.lock:
            return self.conn.execute(q + " ORDER BY db, sch, name", args).fetchall()
