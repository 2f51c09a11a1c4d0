"""The audit's ledger: what has been judged so far, kept in SQLite in the output folder.

One row per case and per error, the rows each case adds to the batch rules (a table per
rule, `batch_N`), the counts per rule and status, and the checkpoint — how many input units are
done and how long the output files were then. A chunk's rows and the checkpoint
are committed in one transaction, after the chunk's lines are on disk: after a
crash, the ledger and the truncated files agree, and `--resume` goes on from there.
Totals, the batch rules' rows in the order their sweeps read them, and the findings are SQL
queries over it, all of them here (the summary and the files shape what these give): the batch
is never held in memory.
"""

from __future__ import annotations

import functools
import itertools
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
CREATE TABLE IF NOT EXISTS statuses (
    rule TEXT, status TEXT, count INTEGER, PRIMARY KEY (rule, status)
);
"""

# Made once the rows are in (`Ledger.index`), not kept up to date by every insert.
_INDEXES = """
CREATE INDEX IF NOT EXISTS cases_by_id ON cases (case_id);
"""

# The rows one INSERT takes (`VALUES (…), (…), …`): the sqlite3 module binds a block's values in
# one call and SQLite inserts them in one step, where `executemany` goes back and forth between
# them for every row (a third of the ledger's cost of a chunk's rows, measured).
_BLOCK = 64


@functools.lru_cache(maxsize=64)
def _statement(table: str, width: int, rows: int, shifted: tuple) -> str:
    """INSERT of `rows` rows of `width` values into `table`; the values are parameters 3, 4, …,
    row after row, and each column of `shifted` ((column, parameter), …) has parameter 1 or 2
    (shared by the rows: where the chunk starts) added to it."""
    added = dict(shifted)
    values = []
    for row in range(rows):
        base = 3 + row * width
        values.append("(" + ",".join(f"?{base + j}+?{added[j]}" if j in added else f"?{base + j}"
                                     for j in range(width)) + ")")
    return f"INSERT INTO {table} VALUES " + ",".join(values)


def _insert(db, table: str, rows: list, shared: tuple[int, int], shifted: dict) -> None:
    """Rows inserted into `table` a block at a time (`_BLOCK`), the columns `shifted` (column →
    1 or 2) plus `shared[0]` or `shared[1]`."""
    if not rows:
        return
    width, shift = len(rows[0]), tuple(sorted(shifted.items()))
    count = len(rows)
    whole = count - count % _BLOCK
    chain = itertools.chain.from_iterable
    if whole:
        block = _statement(table, width, _BLOCK, shift)
        for start in range(0, whole, _BLOCK):
            db.execute(block, (*shared, *chain(rows[start:start + _BLOCK])))
    size = _BLOCK // 2
    while whole < count:  # the rest in blocks of 32, 16, … 1 rows: few statements, all kept prepared
        if count - whole >= size:
            db.execute(_statement(table, width, size, shift), (*shared, *chain(rows[whole:whole + size])))
            whole += size
        size //= 2


def finding_rows(rows) -> list[tuple]:
    """Findings — (rule index, first input position or None, key values, case ids, number of
    cases, the entry) — as the ledger keeps them (`Ledger.keep_findings`): the lists and the
    entry as JSON."""
    dumps = json.dumps
    return [(rule, seq, dumps(key, ensure_ascii=False), dumps(cases, ensure_ascii=False), count,
             dumps(entry, ensure_ascii=False)) for rule, seq, key, cases, count, entry in rows]


class Ledger:
    def __init__(self, folder: Path, read_only: bool = False, temporary: bool = False):
        """The ledger of the audit in `folder`; `read_only`: a connection of its own that only
        reads (a process forked at the end, `checks.Search`), made with no table — with
        `temporary`, one that may make temporary tables (`_people_table`) but opens the ledger's
        file read-only (`files.People`), rather than one that can make nothing (`query_only`)."""
        self.path = folder / LEDGER
        self.case_keyed: frozenset[int] = frozenset()  # (`prepare_batch`)
        if read_only and temporary:
            self.db = sqlite3.connect(f"{self.path.absolute().as_uri()}?mode=ro", uri=True, isolation_level=None)
            return
        if read_only:
            self.db = sqlite3.connect(self.path, isolation_level=None)
            self.db.execute("PRAGMA query_only=ON")
            return
        self.db = self._connect()
        self.db.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        # The audit's writer thread commits the chunks while the main thread waits for the next
        # ones; the two never use the connection at the same time.
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        # NORMAL is enough: a commit lost with the machine only sends --resume back to an
        # earlier checkpoint, and the output files are fsynced before each commit.
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    def reopen(self) -> None:
        """The connection made anew after `close` — around a fork: SQLite's state must not cross
        one (a child holding a connection of its parent's, even unused, can upset the locks of
        its own). What lived only in the connection (temporary tables, attached ledgers) is gone."""
        self.db = self._connect()

    def index(self) -> None:
        """The indexes of the summary's queries, made when every row is in."""
        self.db.executescript(_INDEXES)

    def prepare_batch(self, layouts: list[list[str]], case_keyed=()) -> None:
        """A table for the rows of each batch rule: the case's place and id, then the rule's
        columns (`layouts`, names the engine makes: `k0`, `first_day`, `v0`, …). The rules
        `case_keyed` (their indexes: rules whose rows are each case's id, `BatchRulePlan.case_keyed`)
        keep no rows of their own: they are read from the table of cases."""
        self.case_keyed = frozenset(case_keyed)
        for index, columns in enumerate(layouts):
            self.db.execute(f"CREATE TABLE IF NOT EXISTS batch_{index} (seq INTEGER, case_id TEXT"
                            + "".join(f", {name}" for name in columns) + ")")

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
    def commit_chunk(self, cases, errors, batch: dict, statuses, checkpoint: dict, first: int = 0,
                     offset: int = 0) -> None:
        """A chunk's rows and the new checkpoint, all or nothing. The rows are numbered from the
        chunk's start (`worker.Judged`): `first` is added to each document's number, `offset`
        to each verdict's offset in results.jsonl (`batch`: batch rule index → its rows)."""
        db = self.db
        shared = (int(first), int(offset))  # (numbers only)
        db.execute("BEGIN IMMEDIATE")
        try:
            _insert(db, "cases", cases, shared, {0: 1, 11: 2})
            _insert(db, "errors", errors, shared, {0: 1})
            for index, rows in batch.items():
                if index not in self.case_keyed:
                    _insert(db, f"batch_{int(index)}", rows, shared, {0: 1})
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

    def places_of(self, case_id: str, limit: int | None = None):
        """(origin, line) of the first `limit` cases with this id, in input order."""
        return self.query("SELECT origin, line FROM cases WHERE case_id = ? ORDER BY seq LIMIT ?",
                          (case_id, -1 if limit is None else limit))

    def count_of(self, case_id: str) -> int:
        """How many cases have this id."""
        return self.query("SELECT COUNT(*) FROM cases WHERE case_id = ?", (case_id,)).fetchone()[0]

    _HELD_BACK = "FROM cases WHERE at_stake > due ORDER BY at_stake - due DESC, at_stake DESC, seq LIMIT ?"

    def top_cases(self, limit: int):
        """The cases with the most honorarium held back (at stake but not due), most first."""
        return self.query("SELECT case_id, verdict, failed, due, at_stake, claimed, expert, sme, origin, line "
                          + self._HELD_BACK, (limit,))

    def top_places(self, limit: int):
        """(offset, length) in results.jsonl of the same cases as `top_cases`."""
        return self.query("SELECT offset, length " + self._HELD_BACK, (limit,))

    def case_rows(self):
        """Every case's row as the table holds it, in input order (for cases.csv)."""
        return self.query("SELECT seq, origin, line, case_id, verdict, failed, due, at_stake, claimed, expert, sme "
                          "FROM cases ORDER BY seq")

    # ------------------------------------------------------------ batch rules
    def batch_rows(self, index: int, columns: list[str], order: list[str]):
        """The rows of batch rule `index`, `columns` of them, sorted by `order`: by SQLite's
        sorter, which keeps at most the connection's cache in memory and the rest in temporary
        files (no index is written: a read-only connection can sort, and a sort costs less than
        an index made then scanned, measured). A case-keyed rule's rows (k0, case_id, seq) are
        each case's id, through the cases' own index (`index`, made before)."""
        if index in self.case_keyed:
            return self.query("SELECT case_id, case_id, seq FROM cases ORDER BY case_id, seq")
        return self.query(f"SELECT {', '.join(columns)} FROM batch_{index} ORDER BY {', '.join(order)}")

    def batch_rows_but_lone(self, index: int, columns: list[str], order: list[str], keys: int,
                            picked: list[tuple]):
        """`batch_rows`, but of the groups of one row (by the first `keys` columns) only those
        whose values (`v0…`, with their SQLite types: `lone_values`) are `picked`: the rows
        of every group of more than one row, of a group whose key has a NULL, and of those.
        (SQLite groups and sorts by the same equality, so the groups read are whole.)"""
        if index in self.case_keyed:  # (no values: one of its lone groups decides for all)
            return self.query("SELECT case_id, case_id, seq FROM cases WHERE case_id IS NULL OR case_id IN "
                              "(SELECT case_id FROM cases GROUP BY case_id HAVING COUNT(*) > 1) "
                              "ORDER BY case_id, seq")
        names = [f"k{i}" for i in range(keys)]
        key = names[0] if keys == 1 else f"({', '.join(names)})"
        where = [f"{name} IS NULL" for name in names]
        where.append(f"{key} IN (SELECT {', '.join(names)} FROM batch_{index} GROUP BY {', '.join(names)} "
                     "HAVING COUNT(*) > 1)")
        args: list = []
        for values in picked:
            where.append("(" + " AND ".join(f"v{i} IS ? AND typeof(v{i}) = ?" for i in range(len(values) // 2))
                         + ")")
            args += values
        return self.query(f"SELECT {', '.join(columns)} FROM batch_{index} WHERE {' OR '.join(where)} "
                          f"ORDER BY {', '.join(order)}", args)

    def lone_values(self, index: int, keys: int, width: int, limit: int, lone_only: bool) -> list[tuple] | None:
        """Distinct values of a batch rule's rows (`width` values `v0…`, each followed by its
        SQLite type), among them every one a group of one row has (grouped by the first `keys`
        columns): those of all its rows (one pass, no sort), or, `lone_only`, those of its groups
        of one row alone; None if there are more than `limit`. A case-keyed rule's rows have
        none: [()]."""
        if index in self.case_keyed or width == 0:
            return [()]
        values = [f"v{i}" for i in range(width)]
        source = f"batch_{index}"
        if lone_only:
            source = (f"(SELECT {', '.join(values)} FROM batch_{index} GROUP BY {', '.join(f'k{i}' for i in range(keys))} "
                      "HAVING COUNT(*) = 1)")
        rows = self.query(f"SELECT DISTINCT {', '.join(f'{v}, typeof({v})' for v in values)} FROM {source} LIMIT ?",
                          (limit + 1,)).fetchall()
        return None if len(rows) > limit else rows

    def batch_day(self) -> str | None:
        """The latest day a case of the audit was judged on (ISO), None before any."""
        return self.checkpoint().get("batch_day")

    # The findings of the batch rules (`checks`), kept for this connection's life, in the order
    # found: by rule, then by key.
    def clear_findings(self) -> None:
        self.db.executescript("""DROP TABLE IF EXISTS temp.findings;
            CREATE TEMP TABLE findings (rule INTEGER, first_seq INTEGER, key TEXT, cases TEXT, case_count INTEGER,
                                        entry TEXT);  -- key, cases: JSON lists; entry: summary.json's, as JSON""")

    def keep_findings(self, rows, kept: bool = False) -> None:
        """(rule index, first input position or None, key values, case ids, number of cases,
        the entry) of findings; with `kept`, already as `finding_rows` makes them."""
        self.db.executemany("INSERT INTO temp.findings VALUES (?,?,?,?,?,?)", rows if kept else finding_rows(rows))

    def drop_findings(self, rule: int) -> None:
        """Forget what a rule found before it failed part way."""
        self.db.execute("DELETE FROM temp.findings WHERE rule = ?", (rule,))

    def findings(self, rule: int, limit: int | None = None, first_seen: bool = False):
        """(key, case ids, number of cases, entry) of the first `limit` findings of a rule (all
        of them with None), by key, or by the input position of their first case."""
        order = "first_seq, rowid" if first_seen else "rowid"
        for key, cases, count, entry in self.query(
                f"SELECT key, cases, case_count, entry FROM temp.findings WHERE rule = ? ORDER BY {order} LIMIT ?",
                (rule, -1 if limit is None else limit)):
            yield json.loads(key), json.loads(cases), count, json.loads(entry)

    def finding_count(self, rule: int) -> int:
        return self.query("SELECT COUNT(*) FROM temp.findings WHERE rule = ?", (rule,)).fetchone()[0]

    def found_places(self, rule: int):
        """(case_id, how many cases have it, origin, line) of every case whose id is the key of a
        finding of `rule` (a rule keyed by case id): the findings by first seen, each one's
        cases in input order."""
        return self.query("""SELECT cases.case_id, found.n, origin, line
                             FROM (SELECT json_extract(key, '$[0]') AS case_id, first_seq, rowid AS k,
                                          (SELECT COUNT(*) FROM cases AS c WHERE c.case_id = json_extract(key, '$[0]')) AS n
                                   FROM temp.findings WHERE rule = ?) AS found
                             JOIN cases ON cases.case_id = found.case_id
                             ORDER BY found.first_seq, found.k, cases.seq""", (rule,))

    def _people_table(self, column: str) -> str:
        """The temporary table of the totals per expert or per SME (name, cases, ineligible, due,
        at stake, claimed), those with the most money held back first; grouped once per audit,
        for the summary and the spreadsheets."""
        table = f"temp.people_{column}"
        if not self.query("SELECT 1 FROM temp.sqlite_master WHERE name = ?", (f"people_{column}",)).fetchone():
            self.query(f"""
                CREATE TEMP TABLE people_{column} AS
                SELECT {column} AS name, COUNT(*) AS cases, SUM(verdict = 'ineligible') AS ineligible,
                       SUM(due) AS due, SUM(at_stake) AS at_stake, SUM(COALESCE(claimed, 0)) AS claimed
                FROM cases WHERE {column} IS NOT NULL GROUP BY {column}
                ORDER BY SUM(at_stake) - SUM(due) DESC, SUM(at_stake) DESC, {column}""")
        return table

    def people(self, column: str, limit: int | None, text: bool = False):
        """The first `limit` rows of the totals per expert or per SME (all of them with None);
        with `text`, the numbers as their digits (a spreadsheet's cells, as the csv module
        writes them)."""
        figures = ("cases", "ineligible", "due", "at_stake", "claimed")
        columns = ", ".join(f"CAST({name} AS TEXT)" for name in figures) if text else ", ".join(figures)
        return self.query(f"SELECT name, {columns} FROM {self._people_table(column)} ORDER BY rowid LIMIT ?",
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
