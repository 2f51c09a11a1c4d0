"""spill: a chunk's lines on their way to the output files — written by the process that judged
them, as the pieces they were made in (`os.writev`: no copy joins them first), either to the
output file itself or, in a pool's worker, to a file of their own (`Spilled`) that the writer
appends by the kernel (`os.copy_file_range`) and removes."""

from __future__ import annotations

import os
from typing import NamedTuple

# The pieces one `writev` takes at most (POSIX's IOV_MAX; 1024 on Linux).
try:
    _IOV_MAX = os.sysconf("SC_IOV_MAX")
except (AttributeError, ValueError, OSError):
    _IOV_MAX = 16
_IOV_MAX = min(_IOV_MAX, 1024) if _IOV_MAX > 0 else 16
_WRITEV = getattr(os, "writev", None)


class Spilled(NamedTuple):
    """A chunk's results written by the worker to a file of their own, for the audit to append
    to results.jsonl by the kernel (`os.copy_file_range`) rather than receive and write."""

    path: str
    size: int


def write_pieces(fd: int, pieces: list[bytes]) -> int:
    """The pieces written whole, in order, at the position of `fd` (unbuffered), a few system
    calls for a chunk; how many bytes that was."""
    total = 0
    if _WRITEV is None:  # (not on Windows)
        for piece in pieces:
            total += _write_all(fd, piece)
        return total
    for first in range(0, len(pieces), _IOV_MAX):
        group = pieces[first:first + _IOV_MAX]
        size = sum(map(len, group))
        written = _WRITEV(fd, group)
        total += size
        if written < size:  # a short write (a signal, a full pipe): the rest a piece at a time
            for piece in group:
                if written >= len(piece):
                    written -= len(piece)
                    continue
                _write_all(fd, memoryview(piece)[written:])
                written = 0
    return total


def spill(path: str, pieces: list[bytes]) -> Spilled:
    """The pieces written to a new file of their own."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0), 0o644)
    try:
        size = write_pieces(fd, pieces)
    finally:
        os.close(fd)
    return Spilled(path, size)


def append(fh, data: list[bytes] | Spilled) -> None:
    """Pieces, or a chunk's results a worker wrote to a file (`Spilled`: copied by the kernel,
    then removed), written whole at the position of an unbuffered file."""
    fd = fh.fileno()
    if isinstance(data, Spilled):
        with open(data.path, "rb", buffering=0) as source:
            left = data.size
            while left:
                try:
                    sent = os.copy_file_range(source.fileno(), fd, left)
                except OSError:  # another file system, or a kernel without it
                    sent = _write_all(fd, source.read(min(left, 2**20)))
                if not sent:
                    raise OSError(f"`{data.path}` is shorter than the worker wrote")
                left -= sent
        os.unlink(data.path)
        return
    write_pieces(fd, data)


def _write_all(fd: int, data) -> int:
    view = memoryview(data)
    size = len(view)
    while view:
        view = view[os.write(fd, view):]
    return size
