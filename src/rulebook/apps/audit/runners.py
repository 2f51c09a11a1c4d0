"""runners: the chunks judged in this process, in a pool of worker processes, or on a Dask
cluster; their results come back in input order, with a bounded number in flight."""

from __future__ import annotations

import itertools
import os
import sys
from collections import deque

from .options import AuditError
from .spill import Turn
from .worker import adopt, init_worker, judge_chunk, keep_freed_memory, take_turns


def _in_order(chunks, submit, ahead: int):
    """(chunk, its records) in input order, with at most `ahead` chunks in flight."""
    window = deque()
    for chunk in chunks:
        window.append((chunk, submit(chunk)))
        if len(window) >= ahead:
            done, future = window.popleft()
            yield done, future.result()
    while window:
        done, future = window.popleft()
        yield done, future.result()


class LocalRunner:
    """Chunks judged in this process (one job), or in a pool of worker processes."""

    def __init__(self, jobs: int, rules, as_of, compact, lang=None, spill: str | None = None, book=None,
                 results: tuple[str, int] | None = None):
        """`book`: the rulebook loaded from `rules` by the audit, judged with in this process
        (1 job) or handed down to the pool's workers forked from it. `results`: (the path of
        results.jsonl, the offset its next line goes to), for forked workers to write their
        chunk's results there themselves in its turn (`turn`, which the writer follows)."""
        self.jobs = jobs
        self.args = (rules, as_of, compact)
        self.lang = lang  # cases.csv's language (its rows are made with the chunks)
        self.spill = spill  # the folder the pool's workers write their chunks' results into
        self.pool = None
        self.turn: Turn | None = None
        method = "spawn" if sys.platform == "darwin" else "fork"
        if book is not None:
            adopt(book, *self.args, fork=jobs > 1 and method == "fork")
        if jobs == 1:  # this process judges: the memory a chunk frees kept for the next, as a worker keeps it
            keep_freed_memory()
        if jobs > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            context = multiprocessing.get_context(method)
            if method == "fork" and results is not None and spill is not None:
                self.turn = Turn(context, *results)
            take_turns(self.turn)  # (inherited by the workers: a lock crosses a fork only)
            self.pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=init_worker,
                                            initargs=(*self.args, os.getpid()))
            # Start the workers now, before the audit starts its writer thread: a process forked
            # while another thread holds a lock could wait for it forever.
            self.pool.submit(int).result()

    def map(self, chunks):
        """Results of the chunks, in order, with at most a few chunks in flight."""
        if self.pool is None:
            for chunk in chunks:
                yield chunk, judge_chunk(chunk, *self.args, self.lang)
            return
        from concurrent.futures.process import BrokenProcessPool

        numbers = itertools.count()
        try:
            yield from _in_order(chunks, lambda chunk: self.pool.submit(judge_chunk, chunk, *self.args, self.lang,
                                                                        self.spill, next(numbers)),
                                 self.jobs * 3)
        except BrokenProcessPool:
            raise AuditError("判定中のワーカープロセスが途中で終了しました(強制終了やメモリ不足など)。"
                             "書き込んだ分はそのままで、--resume でそこから続けられます",
                             "a worker process ended while it judged a chunk (killed, or out of memory, say); what "
                             "was written is intact, and --resume goes on from there") from None

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
            take_turns(None)


class DaskRunner:
    """Chunks judged on a Dask distributed cluster (`--dask tcp://host:8786` or `--dask local`)."""

    def __init__(self, address: str, jobs: int, rules, as_of, compact, lang=None):
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise AuditError("Dask がインストールされていません: pip install 'rulebook[dask]'",
                             "Dask is not installed: pip install 'rulebook[dask]'") from None
        self.cluster = None
        self.turn = None  # (the cluster's workers send their results back: the writer writes them all)
        if address == "local":
            self.cluster = LocalCluster(n_workers=max(jobs, 1), threads_per_worker=1, processes=True,
                                        dashboard_address=None)
            self.client = Client(self.cluster)
        else:
            try:
                self.client = Client(address, timeout="5s")
            except OSError as error:
                raise AuditError(f"Dask のスケジューラ {address} に接続できません: {error}",
                                 f"cannot reach the Dask scheduler at {address}: {error}") from None
        self.args = (rules, as_of, compact, lang)
        self.ahead = max(len(self.client.scheduler_info().get("workers", {})), 1) * 3

    def map(self, chunks):
        yield from _in_order(chunks, lambda chunk: self.client.submit(judge_chunk, chunk, *self.args, pure=False),
                             self.ahead)

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


