"""writer: the thread that appends judged chunks to the result files and commits them, with
the checkpoint, to the ledger.

Once a chunk's lines are on disk (fsynced), the writer tells the kernel it will not read them
again (`POSIX_FADV_DONTNEED`): an audit writes hundreds of megabytes it does not read back, and
left in the page cache they push out what other programs use, and every chunk takes pages the
kernel has to find anew (on this project's virtual machines, a third of the writer's CPU with
one job). The few lines the audit reads again at the end (the report's cases) come from disk."""

from __future__ import annotations

import os
import queue
import threading
import time

from .ledger import Ledger
from .worker import Spilled


class Writer:
    """Appends the judged chunks to the files and commits them to the ledger, in a thread of its
    own, while the next chunks are judged. Each chunk as before: its lines written and fsynced,
    then its rows and the new checkpoint committed in one transaction."""

    def __init__(self, results, errors, ledger: Ledger, point: dict, sheet=None):
        self.files = (results, errors)
        self.sheet = sheet  # cases.csv's rows so far (`files.CASES_PART`)
        self.ledger = ledger
        self.units, self.docs = point["units"], point["docs"]
        self.results_bytes, self.errors_bytes = point["results_bytes"], point["errors_bytes"]
        self.sheet_bytes = point.get("cases_bytes", 0)
        self.batch_day = point.get("batch_day")  # the latest day a case was judged on (the batch rules')
        self.cpu = 0.0  # CPU seconds the thread spent writing
        self.kept = {}  # file descriptor → (page, end) its pages were let go from and up to (`_let_go`)
        self.queue: queue.Queue = queue.Queue(maxsize=2)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._loop, name="audit-writer", daemon=True)
        self.thread.start()

    def put(self, units: int, judged) -> None:
        if self.error is not None:
            self._raise()
        self.queue.put((units, judged))

    def close(self) -> None:
        """Waits until every chunk put is written; raises what stopped the writer, if anything."""
        if self.thread.is_alive():
            self.queue.put(None)
            self.thread.join()
        if self.error is not None:
            self._raise()

    def _raise(self):
        error, self.error = self.error, None
        raise error

    def _loop(self) -> None:
        while True:
            item = self.queue.get()
            if item is None:
                return
            if self.error is None:  # after a failure, only empty the queue
                try:
                    self._write(*item)
                except BaseException as error:  # noqa: BLE001 - raised again in the main thread
                    self.error = error

    def _write(self, units: int, judged) -> None:
        start = time.thread_time()
        try:
            self._write_chunk(units, judged)
        finally:
            self.cpu += time.thread_time() - start

    def _let_go(self, fd: int) -> None:
        """The pages of a file written and fsynced since the last call, dropped from the page
        cache: from the page where the last call stopped (the kernel keeps a page partly
        written) to the end."""
        if _FADVISE is None:
            return
        end = os.lseek(fd, 0, os.SEEK_CUR)
        start, done = self.kept.get(fd, (0, 0))
        if end > done:
            try:
                _FADVISE(fd, start, end - start, os.POSIX_FADV_DONTNEED)
            except OSError:  # only advice: a file system that takes none changes nothing
                return
            self.kept[fd] = (end - end % _PAGE, end)

    def _write_chunk(self, units: int, judged) -> None:
        out_blob, err_blob, records, statuses, day, sheet_rows = judged
        docs, results_bytes, errors_bytes = self.docs, self.results_bytes, self.errors_bytes
        cases, error_rows, batch = [], [], {}
        for is_verdict, length, row, added in records:
            if is_verdict:
                cases.append((docs, *row, results_bytes, length))
                results_bytes += length
                for index, rows in added:
                    case_id = row[2]
                    batch.setdefault(index, []).extend((docs, case_id, *r) for r in rows)
            else:
                error_rows.append((docs, *row))
                errors_bytes += length
            docs += 1
        results, errors = self.files
        written = [results, errors]
        _append(results, out_blob)
        _append(errors, err_blob)
        sheet_bytes = self.sheet_bytes
        if self.sheet is not None and sheet_rows is not None:
            _append(self.sheet, sheet_rows)
            sheet_bytes += len(sheet_rows)
            written.append(self.sheet)
        for fh in written:
            os.fsync(fh.fileno())
            self._let_go(fh.fileno())
        if day is not None and (self.batch_day is None or day > self.batch_day):
            self.batch_day = day
        self.ledger.commit_chunk(cases, error_rows, batch, statuses,
                                 {"units": self.units + units, "docs": docs, "results_bytes": results_bytes,
                                  "errors_bytes": errors_bytes, "cases_bytes": sheet_bytes,
                                  "batch_day": self.batch_day})
        self.sheet_bytes = sheet_bytes
        self.units += units
        self.docs, self.results_bytes, self.errors_bytes = docs, results_bytes, errors_bytes


_FADVISE = getattr(os, "posix_fadvise", None)  # (not on macOS)
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _append(fh, data) -> None:
    """Bytes, or a chunk's results a worker wrote to a file (`Spilled`: copied by the kernel,
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
    _write_all(fd, data)


def _write_all(fd: int, data: bytes) -> int:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    return len(data)
