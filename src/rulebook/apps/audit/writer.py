"""writer: the thread that appends judged chunks to the result files and commits them, with
the checkpoint, to the ledger."""

from __future__ import annotations

import os
import queue
import threading
import time

from .ledger import Ledger


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
        self.cpu = 0.0  # CPU seconds the thread spent writing
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

    def _write_chunk(self, units: int, judged) -> None:
        out_blob, err_blob, records, statuses, rows = judged
        docs, results_bytes, errors_bytes = self.docs, self.results_bytes, self.errors_bytes
        cases, error_rows, step_rows = [], [], []
        for is_verdict, length, row, steps in records:
            if is_verdict:
                cases.append((docs, *row, results_bytes, length))
                results_bytes += length
                if steps:
                    step_rows.extend((docs, *step) for step in steps)
            else:
                error_rows.append((docs, *row))
                errors_bytes += length
            docs += 1
        results, errors = self.files
        written = [results, errors]
        results.write(out_blob)
        errors.write(err_blob)
        sheet_bytes = self.sheet_bytes
        if self.sheet is not None and rows is not None:
            self.sheet.write(rows)
            sheet_bytes += len(rows)
            written.append(self.sheet)
        for fh in written:
            fh.flush()
            os.fsync(fh.fileno())
        self.ledger.commit_chunk(cases, error_rows, step_rows, statuses,
                                 {"units": self.units + units, "docs": docs, "results_bytes": results_bytes,
                                  "errors_bytes": errors_bytes, "cases_bytes": sheet_bytes})
        self.sheet_bytes = sheet_bytes
        self.units += units
        self.docs, self.results_bytes, self.errors_bytes = docs, results_bytes, errors_bytes


