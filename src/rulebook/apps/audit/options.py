"""options: what an audit is asked to do, what it found, and the error that stops it."""

from __future__ import annotations

import contextlib
import datetime as dt
import resource
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path


class AuditError(Exception):
    """A problem that stops the audit (not a bad case): said plainly, in Japanese and English,
    exit status 2."""

    def __init__(self, ja: str, en: str):
        super().__init__(en)
        self.ja, self.en = ja, en

    def lines(self, lang: str = "ja") -> list[str]:
        """The message in both languages, `lang` first."""
        return [self.ja, self.en] if lang == "ja" else [self.en, self.ja]


@dataclass
class Options:
    inputs: list[str]
    out: Path
    jobs: int = 0  # 0: every core
    compact: bool = False
    lang: str = "ja"
    as_of: dt.date | None = None
    rules: str | None = None
    resume: bool = False
    since: Path | None = None
    dask: str | None = None
    chunk: int = 1024
    hours_bound: float | None = None  # --hours-per-day: the batch rules' `hours_per_day` (None: the rulebook's)
    progress: bool | None = None  # None: on a terminal
    top: int = 100


class Timings(dict):
    """The CPU seconds an audit spent, by stage: where a case's time goes (`make bench-audit`
    prints them). `stage` times this process (all its threads), and the stage's wall seconds
    (`wall`); the worker processes' and the writer thread's CPU are added apart."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.wall: dict[str, float] = {}

    @contextlib.contextmanager
    def stage(self, name: str):
        start, wall = time.process_time(), time.perf_counter()
        try:
            yield
        finally:
            self[name] = self.get(name, 0.0) + time.process_time() - start
            self.wall[name] = self.wall.get(name, 0.0) + time.perf_counter() - wall

    @staticmethod
    def children() -> float:
        """CPU seconds of this process's children that have ended (the pool's workers)."""
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime


@dataclass
class Outcome:
    cases: int = 0
    errors: int = 0
    verdicts: Counter = field(default_factory=Counter)
    timings: Timings = field(default_factory=Timings)
    # batch rules that could not be evaluated over the batch: {rule id: why, in ja and en}
    not_evaluated: dict = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        if self.errors or self.not_evaluated:
            return 2
        if self.verdicts.get("ineligible"):
            return 1
        if self.verdicts.get("incomplete"):
            return 3
        return 0
