"""forks: the end's work done in processes forked for it (the batch rules' search, `checks.Search`;
the people's totals and sheets, `files.People`), beside the audit's own. A forked process starts as
a copy of the audit, so nothing is sent to it but its arguments; it sends back messages —
(kind, value) — through a pipe, then ("end", None), or what stopped it ("failed", the error).

No SQLite connection crosses a fork (`closed`): the ledger is closed around it and made anew,
and each process opens a connection of its own. A forked process ends when the audit is gone
(`lifetime.end_with`), leaves Ctrl-C to the audit, and is ended by the audit when anything stops
it (`Child.end`)."""

from __future__ import annotations

import contextlib
import os
import signal
import sys

from .lifetime import end_with
from .options import AuditError


def can_fork() -> bool:
    """Whether the end's work may go to forked processes: fork only (a process spawned would load
    the rulebook again; macOS's fork is unsafe)."""
    return hasattr(os, "fork") and sys.platform != "darwin"


@contextlib.contextmanager
def closed(ledger):
    """The ledger's connection closed while processes are forked, made anew after (see
    `Ledger.reopen`: what lived only in the connection is gone)."""
    ledger.close()
    try:
        yield
    finally:
        ledger.reopen()


class Child:
    """A forked process (`start`) and the end of its pipe this process reads."""

    def __init__(self, process, receive):
        self.process, self.receive = process, receive

    def received(self, ja: str, en: str):
        """The messages (kind, value) the process sends, up to its next ("end", None); what
        stopped it raised here: its error, or, if it died, the AuditError that says so (`ja`,
        `en`: what the process was doing, as the subject of a sentence)."""
        while True:
            try:
                kind, value = self.receive.recv()
            except EOFError:
                self.process.join()
                code = self.process.exitcode
                raise AuditError(f"{ja}が途中で終了しました(終了コード {code})",
                                 f"{en} ended before it was done (exit code {code})") from None
            if kind == "failed":
                raise value
            if kind == "end":
                return
            yield kind, value

    def end(self, done: bool) -> None:
        """The pipe closed and the process joined — ended first if not `done` (the audit stops)."""
        self.receive.close()
        if not done:
            self.process.terminate()
        self.process.join()


def start(name: str, body, *args) -> Child:
    """A process forked to run `body(*args)`, a generator of the messages to send (see the
    module's docstring). The ledger must be `closed` around it."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_run, args=(send, os.getpid(), body, args), name=name, daemon=True)
    process.start()
    send.close()
    return Child(process, receive)


def _run(send, parent: int, body, args) -> None:
    """A forked process: `body`'s messages sent, or what stopped it."""
    end_with(parent)  # (a kill -9 of the audit ends this process too)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # (Ctrl-C is the audit's to handle)
    try:
        for message in body(*args):
            send.send(message)
    except Exception as error:  # noqa: BLE001 - raised again in the audit's process
        if not isinstance(error, OSError):  # (an OSError is said as the audit says one; others as text)
            import traceback

            error = RuntimeError("".join(traceback.format_exception(error)))
        with contextlib.suppress(OSError):  # (the audit gone: no one to tell)
            send.send(("failed", error))
    finally:
        send.close()
