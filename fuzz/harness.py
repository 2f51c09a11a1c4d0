"""What the fuzz targets share: the property, the bound on each input, atheris, the replay.

A target is a module of `fuzz/` with

    NAME = "documents"              # its corpus is fuzz/corpus/<NAME>/
    def setup() -> state            # imports rulebook and builds what every input needs
    def check(data: bytes, state)   # one input; raises Failure when the property does not hold

The property, for every target: any input gives a verdict or our structured error
(rulebook's error types, `rulebook.error/v1`, RB diagnostics, a 4xx JSON body), within
`SECONDS` of wall time and `MEMORY` bytes of memory. Anything else — an uncaught exception, a
500, a hang, a memory blow-up — is a failure.

Run a target under atheris (coverage-guided):   python fuzz/fuzz_documents.py [libFuzzer flags] [corpus…]
Run it for a while, in rounds, keeping a small corpus:  python -m fuzz.harness documents --seconds 300
Replay a corpus without atheris (the tests do):  replay(target, corpus_dir)

fuzz/corpus/<target>/ is what atheris keeps (merged to a minimal set after each round);
fuzz/found/<target>/ holds, by name, the inputs that once broke the property (each has a
regression test in tests/unit/test_fuzz_findings.py too).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import pkgutil
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
ROOT = FUZZ.parent
CORPUS = FUZZ / "corpus"
FOUND = FUZZ / "found"  # inputs that once failed, by name: replayed, and read (not merged) by the fuzzer
TARGETS = ("documents", "rules", "service", "events")

SECONDS = 5.0  # wall time for one input
MEMORY = 512 * 1024 * 1024  # growth of the process's peak memory during one input
MAX_LEN = 8192  # the longest input atheris makes (the corpus stays small)


class Failure(Exception):
    """The property does not hold for an input."""


class Hang(BaseException):
    """Raised by the alarm; a BaseException, so that no `except Exception` in rulebook hides it."""


def _alarm(signum, frame):
    raise Hang()


def _rss() -> int:
    """The process's resident memory now, in bytes."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


def _peak() -> int:
    """The process's peak resident memory so far, in bytes (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


@contextlib.contextmanager
def bounded(seconds: float = SECONDS, memory: int = MEMORY):
    """Run the block within the bound: Failure if it takes longer than `seconds` of wall time
    (SIGALRM, so only in the main thread) or raises the process's peak memory to more than
    `memory` above what it held before. (An input that stays under an earlier, higher peak is
    not caught here, but it is bounded by that peak; atheris adds -rss_limit_mb as a backstop.)"""
    before, peak_before = _rss(), _peak()
    previous = signal.signal(signal.SIGALRM, _alarm)
    started = time.monotonic()
    outer, _ = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except Hang:
        raise Failure(f"no answer within {seconds:g} s") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer:  # an alarm set around this one (pytest-timeout's, in the tests) rings as it would have
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - started), 0.001))
    # The peak is the process's so far: only an input that raises it can be blamed for it.
    peak = _peak()
    grew = peak - before
    if peak > peak_before and grew > memory:
        raise Failure(f"memory grew by {grew // 2**20} MiB (bound {memory // 2**20} MiB)")


def judge(target, data: bytes, state, seconds: float = SECONDS, memory: int = MEMORY) -> None:
    """One input through the property: returns, or raises Failure naming what went wrong."""
    try:
        with bounded(seconds, memory):
            target.check(data, state)
    except Failure:
        raise
    except Hang:  # the alarm rang as the input finished, before `bounded` could stop it
        raise Failure(f"no answer within {seconds:g} s") from None
    except RecursionError:
        raise Failure("RecursionError (an input nested deeply enough overflows the stack)") from None
    except Exception as error:  # noqa: BLE001 - any other exception is what the fuzzing looks for
        raise Failure(f"uncaught {type(error).__name__}: {error}\n{traceback.format_exc()}") from None


def load_target(name: str):
    return importlib.import_module(f"fuzz.fuzz_{name}")


@dataclass
class Replayed:
    inputs: int
    failures: list[tuple[str, str]]  # (file name, what failed)


def replay(target, corpus_dir: str | os.PathLike, state=None, seconds: float = SECONDS,
           memory: int = MEMORY) -> Replayed:
    """Every file of a corpus folder through the property, without atheris."""
    if isinstance(target, str):
        target = load_target(target)
    if state is None:
        state = target.setup()
    files = sorted(p for p in Path(corpus_dir).iterdir() if p.is_file())
    failures = []
    for path in files:
        try:
            judge(target, path.read_bytes(), state, seconds, memory)
        except Failure as failure:
            failures.append((path.name, str(failure)))
    return Replayed(len(files), failures)


# ------------------------------------------------------------------ atheris

def _import_rulebook() -> None:
    """Import every module of rulebook (inside atheris.instrument_imports, to instrument them)."""
    import rulebook

    for module in pkgutil.iter_modules(rulebook.__path__):
        if module.name not in ("cli",):
            importlib.import_module(f"rulebook.{module.name}")


def fuzz_main(name: str) -> None:
    """The entry point of a target script: atheris with rulebook instrumented; argv are
    libFuzzer's (flags, then corpus folders: new inputs go to the first)."""
    import atheris

    sys.path.insert(0, str(ROOT))
    with atheris.instrument_imports(include=["rulebook"]):
        _import_rulebook()
    target = load_target(name)
    state = target.setup()

    def test_one_input(data: bytes) -> None:
        judge(target, data, state)  # a Failure propagates: atheris reports it and saves the input

    # libFuzzer runs argv[0] again through the shell to merge: name the interpreter too.
    argv = [f"{sys.executable} {Path(sys.argv[0]).resolve()}"] + sys.argv[1:]
    if not any(a.startswith("-max_len=") for a in argv):
        argv.append(f"-max_len={MAX_LEN}")
    if not any(a.startswith("-timeout=") for a in argv):
        # The bound is ours (SIGALRM, `bounded`, which hands libFuzzer's alarm back after each
        # input). libFuzzer's own is a backstop well above it: told none (0), atheris ends an
        # input that has run for a second when that alarm rings — on a loaded machine, any
        # input slower than a second.
        argv.append(f"-timeout={int(SECONDS * 12)}")
    if not any(a.startswith("-rss_limit_mb=") for a in argv):
        argv.append("-rss_limit_mb=2048")  # a backstop above ours, for leaks across inputs
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


_RUNS = re.compile(rb"Done (\d+) runs in (\d+) second")


def run(name: str, seconds: int, rounds: int = 5, corpus: Path | None = None, log=print) -> dict:
    """Fuzz one target for about `seconds`, in `rounds` libFuzzer runs (a crash ends a round;
    the input is kept in fuzz/crashes/<name>/). Between rounds the corpus is merged into a
    minimal set with the same coverage, so that it stays small. Returns the counts."""
    corpus = corpus or CORPUS / name
    corpus.mkdir(parents=True, exist_ok=True)
    crashes = FUZZ / "crashes" / name
    crashes.mkdir(parents=True, exist_ok=True)
    script = FUZZ / f"fuzz_{name}.py"
    total_runs, failures = 0, 0
    per_round = max(1, seconds // rounds)
    with tempfile.TemporaryDirectory() as tmp:
        for number in range(1, rounds + 1):
            fresh = Path(tmp) / f"round{number}"
            fresh.mkdir()
            out = subprocess.run(
                [sys.executable, str(script), f"-max_total_time={per_round}", f"-artifact_prefix={crashes}/",
                 "-print_final_stats=1", str(fresh), str(corpus)] + ([str(FOUND / name)] if (FOUND / name).is_dir() else []),
                cwd=ROOT, capture_output=True)
            done = _RUNS.findall(out.stderr)
            runs = int(done[-1][0]) if done else sum(int(m) for m in re.findall(rb"stat::number_of_executed_units:\s+(\d+)", out.stderr))
            total_runs += runs
            crashed = out.returncode != 0
            failures += crashed
            log(f"{name}: round {number}: {runs:,} runs, {len(list(fresh.iterdir()))} new inputs"
                + (f", FAILED (exit {out.returncode}):\n{_tail(out.stderr)}" if crashed else ""))
            # Keep a minimal corpus: merge what is there and what is new into an empty folder.
            merged = Path(tmp) / f"merged{number}"
            merged.mkdir()
            subprocess.run([sys.executable, str(script), "-merge=1", f"-artifact_prefix={crashes}/",
                            str(merged), str(corpus), str(fresh)], cwd=ROOT, capture_output=True)
            if any(merged.iterdir()):
                for old in corpus.iterdir():
                    old.unlink()
                for new in merged.iterdir():
                    shutil.copy(new, corpus / new.name)
    return {"target": name, "runs": total_runs, "seconds": seconds, "failed_rounds": failures,
            "corpus": len(list(corpus.iterdir()))}


def _tail(data: bytes, lines: int = 30) -> str:
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fuzz rulebook's entry points with atheris, in rounds.")
    parser.add_argument("targets", nargs="*", metavar="TARGET", help=f"some of {', '.join(TARGETS)} (default: all)")
    parser.add_argument("--seconds", type=int, default=300, help="per target (default 300)")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    unknown = [t for t in args.targets if t not in TARGETS]
    if unknown:
        parser.error(f"unknown target {', '.join(unknown)}: the targets are {', '.join(TARGETS)}")
    results = []
    for name in args.targets or TARGETS:
        start = time.monotonic()
        result = run(name, args.seconds, args.rounds)
        result["wall"] = round(time.monotonic() - start)
        results.append(result)
        print(f"{name}: {result['runs']:,} executions in {args.seconds} s, {result['failed_rounds']} failed rounds, "
              f"corpus {result['corpus']} inputs", flush=True)
    return 1 if any(r["failed_rounds"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
