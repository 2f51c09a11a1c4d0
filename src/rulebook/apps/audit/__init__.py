"""audit: a batch of case snapshots → results, errors, summary, report and spreadsheets.

    options   what is asked (Options), what was found (Outcome), what stops it (AuditError)
    ledger    the SQLite ledger of what is judged, with the summary's queries
    chunks    the input's units cut into chunks; a checkpoint's units skipped
    worker    a chunk judged, in whatever process runs it
    runners   the chunks judged here, in worker processes or on Dask, in input order
    writer    the thread that writes the judged chunks and commits them with a checkpoint
    summary   summary.json's content, from the ledger
    files     summary.json, report.html and the spreadsheets, each written whole or not at all
    run       the audit from start to end, and --resume
"""

from .options import AuditError, Options, Outcome
from .run import run

__all__ = ["AuditError", "Options", "Outcome", "run"]
