"""spill: a chunk's lines on their way to the output files — written by the process that judged
them, as the pieces they were made in (`os.writev`: no copy joins them first), either to the
output file itself or, in a pool's worker, to a file of their own (`Spilled`) that the writer
appends by the kernel (`os.copy_file_range`) and removes.

A pool's worker whose chunk is the next in input order to be written (`Turn`) writes its results
straight into results.jsonl, where they belong, and hands back only their size (`Written`): the
lines are written once, not spilled, copied and removed. What keeps such a write out of a file a
`--resume` has begun to cut back is the folder's fence (`folder.FolderLock`): an audit holds it
from its start, its forked workers with it, and the next audit into the folder waits for it
until the last of them has ended."""

from __future__ import annotations

import contextlib
import os
from typing import NamedTuple

# The pieces one `writev` takes at most (POSIX's IOV_MAX; 1024 on Linux).
try:
    _IOV_MAX = os.sysconf("SC_IOV_MAX")
except (AttributeError, ValueError, OSError):
    _IOV_MAX = 16
_IOV_MAX = min(_IOV_MAX, 1024) if _IOV_MAX > 0 else 16
_WRITEV = getattr(os, "writev", None)
TURN_WAIT = 30.0  # seconds
_PWRITEV = getattr(os, "pwritev", None)


class Written(NamedTuple):
    """A chunk's results a pool's worker wrote into results.jsonl itself, in its turn (`Turn`)."""

    size: int


class Spilled(NamedTuple):
    """A chunk's results written by the worker to a file of their own, for the audit to append
    to results.jsonl by the kernel (`os.copy_file_range`) rather than receive and write."""

    path: str
    size: int


def write_pieces(fd: int, pieces: list[bytes], at: int | None = None) -> int:
    """The pieces written whole, in order, at the position of `fd` (unbuffered) — or, with `at`,
    from that offset of the file, its position left as it was —, a few system calls for a
    chunk; how many bytes that was."""
    total = 0
    if _WRITEV is None or (at is not None and _PWRITEV is None):  # (not on Windows, nor pwritev on macOS)
        for piece in pieces:
            total += _write_all(fd, piece, None if at is None else at + total)
        return total
    for first in range(0, len(pieces), _IOV_MAX):
        group = pieces[first:first + _IOV_MAX]
        size = sum(map(len, group))
        written = _WRITEV(fd, group) if at is None else _PWRITEV(fd, group, at + total)
        if written < size:  # a short write (a signal, a full pipe): the rest a piece at a time
            done = total + written
            for piece in group:
                if written >= len(piece):
                    written -= len(piece)
                    continue
                done += _write_all(fd, memoryview(piece)[written:], None if at is None else at + done)
                written = 0
        total += size
    return total


def spill(path: str, pieces: list[bytes]) -> Spilled:
    """The pieces written to a new file of their own."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0), 0o644)
    try:
        size = write_pieces(fd, pieces)
    finally:
        os.close(fd)
    return Spilled(path, size)


def append(fh, data: list[bytes] | Spilled, at: int | None = None) -> None:
    """Pieces, or a chunk's results a worker wrote to a file (`Spilled`: copied by the kernel,
    then removed), written whole at the position of an unbuffered file, or from offset `at`."""
    fd = fh.fileno()
    if isinstance(data, Spilled):
        with open(data.path, "rb", buffering=0) as source:
            done = 0
            while done < data.size:
                left = data.size - done
                try:
                    sent = os.copy_file_range(source.fileno(), fd, left, done, None if at is None else at + done)
                except OSError:  # another file system, or a kernel without it
                    os.lseek(source.fileno(), done, os.SEEK_SET)
                    block = source.read(min(left, 2**20))
                    sent = _write_all(fd, block, None if at is None else at + done) if block else 0
                if not sent:
                    raise OSError(f"`{data.path}` is shorter than the worker wrote")
                done += sent
        os.unlink(data.path)
        return
    write_pieces(fd, data, at)


def _write_all(fd: int, data, at: int | None = None) -> int:
    """All of `data` written at the position of `fd`, or from offset `at`."""
    view = memoryview(data)
    size = len(view)
    while view:
        view = view[(os.write(fd, view) if at is None else os.pwrite(fd, view, at + size - len(view))):]
    return size


class Turn:
    """Whose turn it is to write results.jsonl, shared by the audit's writer and its pool's
    workers (forked from the audit: a lock and two numbers in shared memory): the number of the
    next chunk to be written, in input order, and the offset its lines go to. A worker whose chunk
    is that one writes its lines there itself (`take`); the writer writes every other chunk when
    its turn comes (`pass_over`, then the lines), so the file is always written in input order
    however the chunks finish."""

    def __init__(self, context, path: str, offset: int):
        self.path = path
        self._lock = context.Lock()
        self._state = context.RawArray("q", 2)  # the next chunk's number, its offset
        self._state[1] = offset
        self._fd: tuple[int, int] | None = None  # (pid, descriptor of results.jsonl) in a worker

    def take(self, number: int, pieces: list[bytes], size: int) -> Written | None:
        """In a worker: chunk `number`'s lines (`size` bytes) written into the file if it is that
        chunk's turn (`Written`), or None (the caller spills them)."""
        state = self._state
        with self._held():
            if state[0] != number:
                return None
            at = state[1]
            state[0], state[1] = number + 1, at + size  # (the next chunk may be written beside this one)
        write_pieces(self._descriptor(), pieces, at)
        return Written(size)

    def pass_over(self, number: int, at: int, size: int) -> None:
        """In the writer: chunk `number`, which no worker wrote, is to be written from `at` (its
        `size` bytes) by the writer: the turn moves on to the next chunk."""
        state = self._state
        with self._held():
            if state[0] != number or state[1] != at:  # (a bug, never the input's doing)
                raise RuntimeError(f"chunk {number} at {at} is written out of turn: the turn is chunk {state[0]} "
                                   f"at {state[1]}")
            state[0], state[1] = number + 1, at + size

    @contextlib.contextmanager
    def _held(self):
        """The turn's lock, held for two numbers' update — waited for a bounded time: a worker
        killed while it held it (the pool is then broken) must not hang the writer."""
        if not self._lock.acquire(timeout=TURN_WAIT):
            raise RuntimeError(f"the turn to write results.jsonl was not free for {TURN_WAIT} s: a worker process "
                               "ended while it held it")
        try:
            yield
        finally:
            self._lock.release()

    def _descriptor(self) -> int:
        pid = os.getpid()
        if self._fd is None or self._fd[0] != pid:
            self._fd = (pid, os.open(self.path, os.O_WRONLY | getattr(os, "O_CLOEXEC", 0)))
        return self._fd[1]
