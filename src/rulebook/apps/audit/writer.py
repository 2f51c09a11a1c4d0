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
from .spill import Turn, Written, append, write_pieces
from .worker import Judged

_FADVISE = getattr(os, "posix_fadvise", None)  # (not on macOS)
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class Writer:
    """Appends the judged chunks to the files and commits them to the ledger, in a thread of its
    own, while the next chunks are judged. Each chunk as before: its lines written and fsynced,
    then its rows and the new checkpoint committed in one transaction."""

    def __init__(self, results, errors, ledger: Ledger, point: dict, sheet=None, turn: Turn | None = None):
        """`turn`: whose turn it is to write results.jsonl, when pool workers write their chunks'
        results there themselves (`spill.Turn`): the writer writes those of the other chunks, each
        in its turn. The results are written at their offsets, wherever the file's position is."""
        self.files = (results, errors)
        self.turn = turn
        self.chunks = 0  # chunks written by this writer's audit
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

    def _let_go(self, fd: int, end: int | None = None) -> None:
        """The pages of a file written and fsynced since the last call, dropped from the page
        cache: from the page where the last call stopped (the kernel keeps a page partly
        written) to `end` (the file's position if None)."""
        if _FADVISE is None:
            return
        if end is None:
            end = os.lseek(fd, 0, os.SEEK_CUR)
        start, done = self.kept.get(fd, (0, 0))
        if end > done:
            try:
                _FADVISE(fd, start, end - start, os.POSIX_FADV_DONTNEED)
            except OSError:  # only advice: a file system that takes none changes nothing
                return
            self.kept[fd] = (end - end % _PAGE, end)

    def _write_chunk(self, units: int, judged: Judged) -> None:
        results, errors = self.files
        written = [errors] if judged.errors else []
        if not isinstance(judged.results, Written):  # (or else a worker wrote them in their turn)
            if self.turn is not None:
                self.turn.pass_over(self.chunks, self.results_bytes, judged.results_size)
            append(results, judged.results, at=self.results_bytes)
        append(errors, judged.errors)
        sheet_bytes = self.sheet_bytes
        if self.sheet is not None and judged.sheet is not None:
            write_pieces(self.sheet.fileno(), [judged.sheet])
            sheet_bytes += len(judged.sheet)
            written.append(self.sheet)
        os.fsync(results.fileno())
        self._let_go(results.fileno(), self.results_bytes + judged.results_size)
        for fh in written:
            os.fsync(fh.fileno())
            self._let_go(fh.fileno())
        day = judged.day
        if day is not None and (self.batch_day is None or day > self.batch_day):
            self.batch_day = day
        docs = self.docs + judged.documents
        results_bytes, errors_bytes = self.results_bytes + judged.results_size, self.errors_bytes + judged.errors_size
        self.ledger.commit_chunk(judged.cases, judged.error_rows, judged.batch, judged.statuses,
                                 {"units": self.units + units, "docs": docs, "results_bytes": results_bytes,
                                  "errors_bytes": errors_bytes, "cases_bytes": sheet_bytes,
                                  "batch_day": self.batch_day},
                                 first=self.docs, offset=self.results_bytes)
        self.sheet_bytes = sheet_bytes
        self.chunks += 1
        self.units += units
        self.docs, self.results_bytes, self.errors_bytes = docs, results_bytes, errors_bytes

