"""The audit's writer thread and the worker's hand-back: what a chunk's judging gives the writer,
how the writer appends it and records it in the ledger, and what it leaves in the page cache."""

from __future__ import annotations

import os

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
