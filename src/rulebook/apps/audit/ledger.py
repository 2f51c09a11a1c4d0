"""The audit's ledger: what has been judged so far, kept in SQLite in the output folder.

One row per case and per error, the steps' hours for the cross-case checks, the
counts per rule and status, and the checkpoint — how many input units are
done and how long the output files were then. A chunk's rows and the checkpoint
are committed in one transaction, after the chunk's lines are on disk: after a
crash, the ledger and the truncated files agree, and `--resume` goes on from there.
Totals, duplicates and implausible hours are SQL queries over it, all of them here (the
summary and the files shape what these give): the batch is never held in memory.
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

    def verdict_counts(self):
        """(verdict, cases) of every verdict given."""
        return self.query("SELECT verdict, COUNT(*) FROM cases GROUP BY verdict")

    def status_counts(self):
        """(rule, status, results) of every pair seen."""
        return self.query("SELECT rule, status, count FROM statuses")

    def money(self, schema: str = "main") -> tuple[int, int, int]:
        """The honorarium due, at stake and claimed, over every case (of `schema`: an attached ledger)."""
        return self.query("SELECT COALESCE(SUM(due), 0), COALESCE(SUM(at_stake), 0), COALESCE(SUM(claimed), 0) "
                          f"FROM {schema}.cases").fetchone()

    def error_count(self) -> int:
        return self.query("SELECT COUNT(*) FROM errors").fetchone()[0]

    _REPEATED = "FROM cases GROUP BY case_id HAVING COUNT(*) > 1"

    def duplicates(self, limit: int | None = None):
        """(case_id, count) of the first `limit` case ids seen more than once, in the order first seen."""
        return self.query(f"SELECT case_id, COUNT(*) {self._REPEATED} ORDER BY MIN(seq) LIMIT ?",
                          (-1 if limit is None else limit,))

    def duplicate_count(self) -> int:
        return self.query(f"SELECT COUNT(*) FROM (SELECT 1 {self._REPEATED})").fetchone()[0]

    def places_of(self, case_id: str, limit: int | None = None):
        """(origin, line) of the first `limit` cases with this id, in input order."""
        return self.query("SELECT origin, line FROM cases WHERE case_id = ? ORDER BY seq LIMIT ?",
                          (case_id, -1 if limit is None else limit))

    def duplicate_places(self):
        """(case_id, count, origin, line) of every case whose id is seen more than once: the ids in
        the order first seen, each one's places in input order."""
        return self.query(f"""SELECT cases.case_id, repeated.n, origin, line
                              FROM (SELECT case_id, COUNT(*) AS n, MIN(seq) AS first {self._REPEATED}) AS repeated
                              JOIN cases ON cases.case_id = repeated.case_id
                              ORDER BY repeated.first, cases.seq""")

    _HELD_BACK = "FROM cases WHERE at_stake > due ORDER BY at_stake - due DESC, at_stake DESC, seq LIMIT ?"

    def top_cases(self, limit: int):
        """The cases with the most honorarium held back (at stake but not due), most first."""
        return self.query("SELECT case_id, verdict, failed, due, at_stake, claimed, expert, sme, origin, line "
                          + self._HELD_BACK, (limit,))

    def top_places(self, limit: int):
        """(offset, length) in results.jsonl of the same cases as `top_cases`."""
        return self.query("SELECT offset, length " + self._HELD_BACK, (limit,))

    def case_rows(self):
        """Every case's row, in input order (for cases.csv)."""
        return self.query("SELECT case_id, verdict, failed, due, at_stake, claimed, expert, sme, origin, line "
                          "FROM cases ORDER BY seq")

    # The days of implausible hours (`checks`), kept for this connection's life.
    def clear_implausible_hours(self) -> None:
        self.db.executescript("""DROP TABLE IF EXISTS temp.implausible_hours;
            CREATE TEMP TABLE implausible_hours (expert TEXT, day TEXT, hours REAL, case_count INTEGER,
                                                 cases TEXT);  -- the first few case ids, as JSON""")

    def keep_implausible_hours(self, rows) -> None:
        """(expert, day, hours, number of cases, first case ids) of days over the bound."""
        self.db.executemany("INSERT INTO temp.implausible_hours VALUES (?,?,?,?,?)",
                            [(*row[:4], json.dumps(row[4], ensure_ascii=False)) for row in rows])

    def implausible_hours(self, limit: int | None = None):
        """The first `limit` days kept (all of them with None), by expert and day: (expert, day,
        hours, number of cases, first case ids)."""
        for expert, day, hours, count, cases in self.query(
                "SELECT * FROM temp.implausible_hours ORDER BY rowid LIMIT ?", (-1 if limit is None else limit,)):
            yield expert, day, hours, count, json.loads(cases)

    def implausible_hours_count(self) -> int:
        return self.query("SELECT COUNT(*) FROM temp.implausible_hours").fetchone()[0]

    def steps_by_expert(self, unit: int):
        """(expert, first_day, last_day, hours a day, case_id) of every step, by expert and first
        day: its hours spread evenly over its days, in 1/`unit` of an hour, rounded to the nearest."""
        return self.query("""SELECT expert, first_day, last_day,
                                    CAST(round(hours * ? / (julianday(last_day) - julianday(first_day) + 1)) AS INTEGER),
                                    case_id
                             FROM steps ORDER BY expert, first_day""", (unit,))

    def _people_table(self, column: str) -> str:
        """The temporary table of the totals per expert or per SME (name, cases, ineligible, due,
        at stake, claimed), those with the most money held back first; grouped once per audit,
        for the summary and the spreadsheets."""
        table = f"temp.people_{column}"
        if not self.query("SELECT 1 FROM temp.sqlite_master WHERE name = ?", (f"people_{column}",)).fetchone():
            self.query(f"""
                CREATE TEMP TABLE people_{column} AS
                SELECT {column}, COUNT(*), SUM(verdict = 'ineligible'), SUM(due), SUM(at_stake),
                       SUM(COALESCE(claimed, 0))
                FROM cases WHERE {column} IS NOT NULL GROUP BY {column}
                ORDER BY SUM(at_stake) - SUM(due) DESC, SUM(at_stake) DESC, {column}""")
        return table

    def people(self, column: str, limit: int | None):
        """The first `limit` rows of the totals per expert or per SME (all of them with None)."""
        return self.query(f"SELECT * FROM {self._people_table(column)} ORDER BY rowid LIMIT ?",
                          (-1 if limit is None else limit,))

    def people_count(self, column: str) -> int:
        return self.query(f"SELECT COUNT(*) FROM {self._people_table(column)}").fetchone()[0]

    # ------------------------------------------------ an earlier audit, attached
    def attach(self, path: Path, name: str = "before") -> None:
        """Attach an earlier audit's ledger, read-only, as `name`."""
        self.query(f"ATTACH DATABASE ? AS {name}", (f"file:{path}?mode=ro",))

    def detach(self, name: str = "before") -> None:
        self.query(f"DETACH DATABASE {name}")

    _CHANGED = """FROM cases AS now JOIN before.cases AS old ON old.case_id = now.case_id
                  WHERE old.verdict != now.verdict"""

    def changed_verdicts(self, limit: int | None = None):
        """(case_id, verdict before, verdict now) of the first `limit` cases whose verdict changed,
        in input order."""
        return self.query(f"SELECT now.case_id, old.verdict, now.verdict {self._CHANGED} ORDER BY now.seq LIMIT ?",
                          (-1 if limit is None else limit,))

    def changed_count(self) -> int:
        return self.query(f"SELECT COUNT(*) {self._CHANGED}").fetchone()[0]

    def changes(self):
        """(case_id, verdict before or None, verdict now, failed now, failed before or '') of every
        case whose verdict changed or that fails now, in input order."""
        return self.query("""SELECT now.case_id, old.verdict, now.verdict, now.failed, COALESCE(old.failed, '')
                             FROM cases AS now LEFT JOIN before.cases AS old ON old.case_id = now.case_id
                             WHERE old.verdict != now.verdict OR now.failed != '' ORDER BY now.seq""")

    def failures_then_and_now(self):
        """(case_id, failed now, failed before or '') of the cases that fail now, in input order."""
        return self.query("""SELECT now.case_id, now.failed, COALESCE(old.failed, '') FROM cases AS now
                             LEFT JOIN before.cases AS old ON old.case_id = now.case_id
                             WHERE now.failed != '' ORDER BY now.seq""")

    def new_case_count(self) -> int:
        return self.query("SELECT COUNT(*) FROM cases WHERE case_id NOT IN "
                          "(SELECT case_id FROM before.cases)").fetchone()[0]
