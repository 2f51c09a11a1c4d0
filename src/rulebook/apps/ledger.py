"""The audit's ledger: what has been judged so far, kept in SQLite in the output folder.

One row per case and per error, the steps' hours for the cross-case checks, the
counts per rule and status, and the checkpoint — how many input units are
done and how long the output files were then. A chunk's rows and the checkpoint
are committed in one transaction, after the chunk's lines are on disk: after a
crash, the ledger and the truncated files agree, and `--resume` goes on from there.
Totals, duplicates and implausible hours are SQL queries over it: the batch is
never held in memory.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

LEDGER = ".ledger.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cases (
    seq INTEGER PRIMARY KEY,       -- document number in input order
    origin TEXT, line INTEGER,
    case_id TEXT, verdict TEXT, failed TEXT, -- failed results, "rule@subject" joined by spaces
    due INTEGER, at_stake INTEGER, claimed INTEGER,
    expert TEXT, sme TEXT,
    offset INTEGER, length INTEGER -- where its verdict is in results.jsonl
);
CREATE TABLE IF NOT EXISTS errors (
    seq INTEGER PRIMARY KEY, origin TEXT, line INTEGER, case_id TEXT, message TEXT
);
CREATE TABLE IF NOT EXISTS steps (
    seq INTEGER, expert TEXT, first_day TEXT, last_day TEXT, hours REAL, case_id TEXT
);
CREATE TABLE IF NOT EXISTS statuses (
    rule TEXT, status TEXT, count INTEGER, PRIMARY KEY (rule, status)
);
"""

# Made once the rows are in (`Ledger.index`), not kept up to date by every insert.
_INDEXES = """
CREATE INDEX IF NOT EXISTS cases_by_id ON cases (case_id);
CREATE INDEX IF NOT EXISTS steps_by_expert ON steps (expert, first_day);
"""


class Ledger:
    def __init__(self, folder: Path):
        self.path = folder / LEDGER
        # The audit's writer thread commits the chunks while the main thread waits for the next
        # ones; the two never use the connection at the same time.
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        # NORMAL is enough: a commit lost with the machine only sends --resume back to an
        # earlier checkpoint, and the output files are fsynced before each commit.
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)

    def index(self) -> None:
        """The indexes of the summary's queries, made when every row is in."""
        self.db.executescript(_INDEXES)

    def close(self) -> None:
        self.db.close()

    # ----------------------------------------------------------------- meta
    def get(self, key: str, default=None):
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def set(self, key: str, value) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, json.dumps(value)))

    def checkpoint(self) -> dict:
        return self.get("checkpoint", {"units": 0, "docs": 0, "results_bytes": 0, "errors_bytes": 0})

    # --------------------------------------------------------------- writing
    def commit_chunk(self, cases, errors, steps, statuses, checkpoint: dict) -> None:
        """A chunk's rows and the new checkpoint, all or nothing."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany("INSERT INTO cases VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", cases)
            db.executemany("INSERT INTO errors VALUES (?,?,?,?,?)", errors)
            db.executemany("INSERT INTO steps VALUES (?,?,?,?,?,?)", steps)
            db.executemany(
                "INSERT INTO statuses VALUES (?,?,?) ON CONFLICT (rule, status) DO UPDATE SET count = count + ?",
                [(rule, status, n, n) for (rule, status), n in statuses.items()])
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('checkpoint', ?)", (json.dumps(checkpoint),))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    # --------------------------------------------------------------- reading
    def query(self, sql: str, args=()):
        return self.db.execute(sql, args)
