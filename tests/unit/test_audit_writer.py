"""The audit's writer thread and the worker's hand-back: what a chunk's judging gives the writer,
how the writer appends it and records it in the ledger, and what it leaves in the page cache."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import orjson
import pytest

from rulebook.apps.audit import worker as worker_module
from rulebook.apps.audit import writer as writer_module
from samples import generate

from .test_audit import audit, contents, write_batch


def test_the_writer_lets_go_of_every_page_it_wrote_once_it_is_on_disk(tmp_path, monkeypatch):
    """After each chunk's fsync the writer advises the kernel to drop the pages of what it
    appended (`POSIX_FADV_DONTNEED`), from where it last did to the end: every whole page of
    results.jsonl and of cases.csv's rows is let go once, in order; the files are unchanged."""
    path = write_batch(tmp_path / "cases.jsonl", generate(40, seed=3), broken={4: b"{not json"})
    plain = tmp_path / "plain"
    monkeypatch.setattr(writer_module, "_FADVISE", None)
    assert audit(path, "--out", plain, "--jobs", "1", "--chunk-size", "7", "--compact").exit_code == 2
    advised = []

    def advise(fd, start, length, advice):
        assert advice == os.POSIX_FADV_DONTNEED
        advised.append((os.fstat(fd).st_ino, start, length, os.fstat(fd).st_size))

    monkeypatch.setattr(writer_module, "_FADVISE", advise)
    out = tmp_path / "out"
    assert audit(path, "--out", out, "--jobs", "1", "--chunk-size", "7", "--compact").exit_code == 2
    assert contents(out) == contents(plain)
    page = writer_module._PAGE
    for name in ("results.jsonl", ".cases.csv.part"):
        inode = (out / name).stat().st_ino
        ranges = [(start, length, size) for ino, start, length, size in advised if ino == inode]
        assert len(ranges) == 6  # one a chunk: 41 lines, 7 to a chunk
        assert ranges[0][0] == 0
        for (start, length, size), (after, _length, _size) in zip(ranges, ranges[1:]):
            assert start + length == size  # up to what was written
            assert after == size - size % page  # the next from the page where this one stopped
        assert ranges[-1][0] + ranges[-1][1] == (out / name).stat().st_size
    errors = (out / "errors.jsonl").stat().st_ino
    assert [(start, length) for ino, start, length, _size in advised if ino == errors] == [
        (0, (out / "errors.jsonl").stat().st_size)]


def _ledger_rows(folder) -> dict:
    """Every row of the ledger's tables of cases, errors and batch rows, by table."""
    import sqlite3

    db = sqlite3.connect(folder / ".ledger.sqlite")
    try:
        tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        assert {"cases", "errors", "batch_0"} <= set(tables)
        rows = {table: db.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()
                for table in tables if table in ("cases", "errors") or table.startswith("batch_")}
        rows["statuses"] = db.execute("SELECT * FROM statuses ORDER BY rule, status").fetchall()
        return rows
    finally:
        db.close()


def test_the_ledgers_rows_are_the_same_whatever_the_chunks_and_the_jobs(tmp_path):
    """A worker numbers its rows from the chunk's start and the writer adds where the chunk
    starts: the ledger holds the same rows — each document's number, each verdict's offset and
    length in results.jsonl, the batch rules' rows — in one chunk or in many, with 1 or 2 jobs,
    and each offset finds its case's line."""
    cases = generate(30, seed=8)
    cases[3]["case_id"] = cases[1]["case_id"]  # a duplicate: batch rows of two documents with one id
    path = write_batch(tmp_path / "cases.jsonl", cases, broken={2: b"{not json", 11: b"[1]"})
    runs = {}
    for name, jobs, size in (("one chunk", "1", "1000"), ("chunks of 4", "1", "4"), ("2 jobs", "2", "3")):
        out = tmp_path / name
        assert audit(path, "--out", out, "--jobs", jobs, "--chunk-size", size, "--compact").exit_code == 2
        runs[name] = _ledger_rows(out)
    one = runs["one chunk"]
    assert all(rows == one for rows in runs.values())
    assert [row[0] for row in one["cases"]] == [n for n in range(32) if n not in (2, 11)]
    assert [row[0] for row in one["errors"]] == [2, 11]
    results = (tmp_path / "2 jobs" / "results.jsonl").read_bytes()
    for row in one["cases"]:
        offset, length = row[-2:]
        line = results[offset:offset + length]
        assert line.endswith(b"\n") and orjson.loads(line)["case_id"] == row[3]
    assert sum(row[-1] for row in one["cases"]) == len(results)
    # batch_0, the duplicate case ids, is read from the cases (`case_keyed`): no rows of its own;
    # the SME cap's rows are one per case
    assert one["batch_0"] == []
    assert [row[0] for row in one["batch_2"]] == [row[0] for row in one["cases"]]


@pytest.mark.parametrize("count", [0, 1, 31, 32, 63, 64, 65, 127, 128, 200, 1000])
def test_a_chunks_rows_are_in_the_ledger_as_given_however_many_they_are(tmp_path, count):
    """The ledger inserts a chunk's rows 64 to a statement and the rest in blocks of 32, 16, …:
    every row is there once, in order, numbered from where its chunk starts, whatever their
    number; with a case-keyed rule's rows left out."""
    from rulebook.apps.audit.ledger import Ledger

    ledger = Ledger(tmp_path)
    ledger.prepare_batch([["k0"], ["k0", "v0"]], case_keyed=[0])
    expected_cases, expected_batch = [], []
    for first, offset in ((0, 0), (count, 10**6)):  # two chunks, the second where the first ends
        cases = [(n, "in.jsonl", n + 1, f"C-{first + n}", "eligible", "", n, 2 * n, None, "e", "s", 7 * n, 7)
                 for n in range(count)]
        batch = {0: [(n, f"C-{first + n}", f"C-{first + n}") for n in range(count)],
                 1: [(n, f"C-{first + n}", f"k{n % 3}", n * 10) for n in range(count)]} if count else {}
        ledger.commit_chunk(cases, [], batch, {("r", "pass"): count}, {"units": first + count, "docs": first + count},
                            first=first, offset=offset)
        expected_cases += [(first + n, *row[1:11], offset + row[11], row[12]) for n, row in enumerate(cases)]
        expected_batch += [(first + n, *row[1:]) for n, row in enumerate(batch.get(1, []))]
    assert ledger.query("SELECT * FROM cases ORDER BY rowid").fetchall() == expected_cases
    assert ledger.query("SELECT * FROM batch_1 ORDER BY rowid").fetchall() == expected_batch
    assert ledger.query("SELECT COUNT(*) FROM batch_0").fetchone() == (0,)
    assert ledger.query("SELECT * FROM statuses").fetchall() == [("r", "pass", 2 * count)]
    ledger.close()


def test_pieces_are_written_whole_in_order_even_when_the_system_writes_part_of_them(tmp_path, monkeypatch):
    """`write_pieces` writes a chunk's lines in a few `writev` calls (at most IOV_MAX pieces
    each); a call that writes only part of what it was given is finished piece by piece."""
    from rulebook.apps.audit import spill

    pieces = [bytes([65 + i % 26]) * (i % 7) + b"\n" for i in range(2500)]
    calls = []
    real = os.writev

    def short(fd, group):
        calls.append(len(group))
        return real(fd, group[: len(group) // 2] + [group[len(group) // 2][:1]])  # half of them and one byte

    monkeypatch.setattr(spill, "_WRITEV", short)
    monkeypatch.setattr(spill, "_IOV_MAX", 1000)
    fd = os.open(tmp_path / "out", os.O_WRONLY | os.O_CREAT)
    try:
        assert spill.write_pieces(fd, pieces) == len(b"".join(pieces))
    finally:
        os.close(fd)
    assert (tmp_path / "out").read_bytes() == b"".join(pieces)
    assert calls == [1000, 1000, 500]
    spilled = spill.spill(str(tmp_path / "spilled"), pieces[:10])
    assert spilled.size == len(b"".join(pieces[:10]))
    with open(tmp_path / "target", "wb", buffering=0) as target:
        target.write(b"before\n")
        spill.append(target, spilled)
        spill.append(target, [b"after", b"\n"])
    assert (tmp_path / "target").read_bytes() == b"before\n" + b"".join(pieces[:10]) + b"after\n"
    assert not (tmp_path / "spilled").exists()


_FAULTS = """
import resource, sys
from rulebook.apps.audit.worker import keep_freed_memory
if sys.argv[1] == "keep":
    keep_freed_memory()
def chunk():
    lines = [bytes(6000) for _ in range(1500)]  # a chunk's lines: 9 MB, freed after
    return len(lines)
chunk()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    chunk()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's allocator")
def test_a_worker_keeps_the_memory_a_chunk_freed_for_the_next(tmp_path):
    """After `keep_freed_memory`, the megabytes a chunk's lines took and freed are used again by
    the next chunk's instead of being given back to the system and taken again page by page."""
    faults = {how: int(subprocess.run([sys.executable, "-c", _FAULTS, how], capture_output=True, text=True,
                                      check=True).stdout) for how in ("default", "keep")}
    assert faults["default"] > 5 * 2000  # each chunk's 9 MB taken again: 2,200 pages of 4 KiB
    assert faults["keep"] < faults["default"] / 10


def test_the_pools_workers_judge_with_the_audits_rulebook_without_loading_it_again(tmp_path, monkeypatch):
    """Forked from the audit, which `adopt`ed its rulebook (made ready and moved out of the
    collector's way) before the pool started, a worker judges with that rulebook as it is: no
    worker loads one, and the files are those of one job."""
    from rulebook import book as book_module

    loads = tmp_path / "loads"
    real = book_module.load

    def load(*args, **kwargs):
        with open(loads, "a") as fh:
            fh.write(f"{os.getpid()}\n")
        return real(*args, **kwargs)

    monkeypatch.setattr(book_module, "load", load)
    path = write_batch(tmp_path / "cases.jsonl", generate(20, seed=4), broken={3: b"{not json"})
    one, two = tmp_path / "one", tmp_path / "two"
    assert audit(path, "--out", one, "--jobs", "1", "--chunk-size", "4", "--compact").exit_code == 2
    monkeypatch.setattr(worker_module, "_BOOK", None)  # (not the one the run above left in this process)
    assert audit(path, "--out", two, "--jobs", "2", "--chunk-size", "4", "--compact").exit_code == 2
    assert contents(two) == contents(one)
    assert set(loads.read_text().split()) == {str(os.getpid())}  # only the audit's own process loaded one


def test_pieces_written_at_an_offset_land_there_even_when_the_system_writes_part_of_them(tmp_path, monkeypatch):
    """With `at`, `write_pieces` writes from that offset of the file (`pwritev`), whatever the
    file's position, and finishes a short write piece by piece at the right offsets; a spilled
    chunk is appended at an offset too."""
    from rulebook.apps.audit import spill

    pieces = [bytes([65 + i % 26]) * (i % 7) + b"\n" for i in range(2500)]
    real = os.pwritev

    def short(fd, group, at):
        return real(fd, group[: len(group) // 2] + [group[len(group) // 2][:1]], at)

    monkeypatch.setattr(spill, "_PWRITEV", short)
    monkeypatch.setattr(spill, "_IOV_MAX", 1000)
    whole = b"".join(pieces)
    fd = os.open(tmp_path / "out", os.O_RDWR | os.O_CREAT)
    try:
        os.write(fd, b"x" * 10)
        assert spill.write_pieces(fd, pieces, at=3) == len(whole)
        assert os.lseek(fd, 0, os.SEEK_CUR) == 10  # (the position left as it was)
    finally:
        os.close(fd)
    assert (tmp_path / "out").read_bytes() == b"xxx" + whole
    spilled = spill.spill(str(tmp_path / "spilled"), pieces[:10])
    with open(tmp_path / "target", "w+b", buffering=0) as target:
        target.write(b"0123456789")
        spill.append(target, spilled, at=4)
    assert (tmp_path / "target").read_bytes() == b"0123" + b"".join(pieces[:10])


def test_a_chunk_is_written_by_its_worker_in_its_turn_and_by_the_writer_otherwise(tmp_path):
    """`Turn`: only the next chunk in input order is written by the worker that judged it, at
    the offset the chunks before it end at; the writer moves the turn past the chunks it writes
    itself, and a chunk written out of its turn is a bug it says."""
    import multiprocessing

    from rulebook.apps.audit.spill import Turn, Written

    path = tmp_path / "results.jsonl"
    path.write_bytes(b"kept\n")
    turn = Turn(multiprocessing.get_context("fork"), str(path), 5)
    assert turn.take(1, [b"one\n"], 4) is None  # chunk 0 is not written yet
    assert turn.take(0, [b"zero", b"\n"], 5) == Written(5)
    assert turn.take(2, [b"two\n"], 4) is None
    with pytest.raises(RuntimeError, match="out of turn"):
        turn.pass_over(2, 10, 4)
    turn.pass_over(1, 10, 4)  # the writer writes chunk 1 itself…
    with open(path, "r+b", buffering=0) as fh:
        fh.seek(10)
        fh.write(b"one\n")
    assert turn.take(2, [b"two\n"], 4) == Written(4)  # …and chunk 2 is its worker's to write
    assert path.read_bytes() == b"kept\nzero\none\ntwo\n"


def test_a_pool_writes_most_chunks_in_their_turn_and_the_files_are_those_of_one_job(tmp_path, monkeypatch):
    """With 2 jobs, the chunks' results are written by their workers in their turn or spilled and
    appended by the writer; results.jsonl and every other file are the bytes of a 1-job audit."""
    path = write_batch(tmp_path / "cases.jsonl", generate(300, seed=11), broken={17: b"{not json"})
    one = tmp_path / "one"
    assert audit(path, "--out", one, "--jobs", "1", "--chunk-size", "9", "--compact").exit_code == 2
    kinds = []
    real = writer_module.Writer._write_chunk

    def counted(self, units, judged):
        kinds.append(type(judged.results).__name__)
        return real(self, units, judged)

    monkeypatch.setattr(writer_module.Writer, "_write_chunk", counted)
    two = tmp_path / "two"
    assert audit(path, "--out", two, "--jobs", "2", "--chunk-size", "9", "--compact").exit_code == 2
    assert contents(two) == contents(one)
    assert "Written" in kinds and set(kinds) <= {"Written", "Spilled"}
    assert len(kinds) == -(-300 // 9)


def test_a_turn_held_by_a_worker_that_died_stops_the_writer_instead_of_hanging_it(tmp_path, monkeypatch):
    """The turn's lock is waited for a bounded time (`TURN_WAIT`): a worker killed while it
    held it (its pool is broken then) cannot leave the writer waiting forever."""
    import multiprocessing

    from rulebook.apps.audit import spill

    (tmp_path / "results.jsonl").write_bytes(b"")
    turn = spill.Turn(multiprocessing.get_context("fork"), str(tmp_path / "results.jsonl"), 0)
    monkeypatch.setattr(spill, "TURN_WAIT", 0.1)
    turn._lock.acquire()  # as a worker killed in its two numbers' update would leave it
    with pytest.raises(RuntimeError, match="a worker process ended while it held it"):
        turn.pass_over(0, 0, 10)
    turn._lock.release()
    turn.pass_over(0, 0, 10)
    assert turn.take(1, [b"x"], 1) is not None
    assert (tmp_path / "results.jsonl").read_bytes() == bytes(10) + b"x"


def test_an_audit_that_judges_in_its_own_process_keeps_freed_memory_as_a_worker_does(tmp_path, monkeypatch):
    """With 1 job the audit's process judges the chunks itself: it keeps the memory a chunk
    freed for the next (`keep_freed_memory`), as a pool's worker does; with 2 jobs its workers do."""
    from rulebook.apps.audit import runners

    calls = []
    monkeypatch.setattr(runners, "keep_freed_memory", lambda: calls.append("kept"))
    path = write_batch(tmp_path / "cases.jsonl", generate(5, seed=3))
    assert audit(path, "--out", tmp_path / "two", "--jobs", "2", "--compact").exit_code in (0, 1)
    assert calls == []
    assert audit(path, "--out", tmp_path / "one", "--jobs", "1", "--compact").exit_code in (0, 1)
    assert calls == ["kept"]


def _dies(units, *args):
    """A pool worker's judging that ends its process, as the kernel's OOM killer would."""
    if units and units[0].line > 1:  # (the first chunk judged as usual)
        os._exit(9)
    return worker_module.judge_chunk(units, *args)


def test_a_worker_killed_mid_audit_stops_it_with_a_message_and_resume_finishes_it(tmp_path, monkeypatch):
    """A pool worker that dies while it judges (killed, out of memory) stops the audit with a plain
    message in ja and en, exit status 2 and no traceback; what was written stays, and `--resume`
    gives the files of an uninterrupted audit."""
    from rulebook.apps.audit import runners

    path = write_batch(tmp_path / "cases.jsonl", generate(60, seed=5))
    whole = tmp_path / "whole"
    assert audit(path, "--out", whole, "--jobs", "2", "--chunk-size", "10", "--compact").exit_code in (0, 1)
    out = tmp_path / "out"
    monkeypatch.setattr(runners, "judge_chunk", _dies)
    stopped = audit(path, "--out", out, "--jobs", "2", "--chunk-size", "10", "--compact")
    assert stopped.exit_code == 2
    assert "判定中のワーカープロセスが途中で終了しました" in stopped.output
    assert "a worker process ended while it judged a chunk" in stopped.output
    assert "Traceback" not in stopped.output
    monkeypatch.undo()
    resumed = audit(path, "--out", out, "--jobs", "2", "--chunk-size", "10", "--compact", "--resume")
    assert resumed.exit_code in (0, 1), resumed.output
    assert contents(out) == contents(whole)
