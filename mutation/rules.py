"""Mutation testing of the rule files: every operator, constant, status and date of `rules/*.rules`
changed one at a time, each mutant judged by the tests that read the rulebook.

    python -m mutation.rules [--jobs 2] [--out build/mutation/rules.json] [--only steps.rules] [--limit N]

A mutant is one token of a rule file replaced (found with the language's own grammar, so nothing
inside a text or a comment is touched):

    comparison   <= ↔ <   >= ↔ >   = ↔ !=
    logic        and ↔ or; `not` dropped; is set ↔ is missing; is empty ↔ is not empty;
                 is blank ↔ is not blank; any ↔ all; no failure ↔ some failure; true ↔ false
    arithmetic   + ↔ -   * ↔ /   rounded down ↔ rounded up
    constant     every number and percentage ± 1
    date         every date ± 1 day
    status       pass → fail, fail → pass, pending → pass and → fail, not applicable → pass
    order        `first` dropped from an order graph's node

Each mutant is written into a scratch copy of the repository (one a worker) and the tests of
`MUTANT_TESTS` run against it in a forked pytest (stopping at the first failure). The outcome:
`killed` (a test failed: the test is named), `refused` (the rulebook no longer loads: the checker
caught it; the diagnostic is kept), `survived`, or `timeout`. Only the Python standard library,
lark and pytest are used; the tests themselves load the mutated rulebook as they load the real one.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import multiprocessing
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "rules"
GRAMMAR = ROOT / "grammar" / "rulebook.lark"

# The tests that judge with the bundled rulebook, fastest first: the rulebook's own YAML cases,
# the golden explained verdicts, the differential test against the hand-written floor.
MUTANT_TESTS = (
    "tests/unit/test_rulebook_cases.py",
    "tests/golden/test_explanations.py",
    "tests/unit/test_differential.py",
    "tests/unit/test_api.py",
)
COPIED = ("src", "grammar", "rules", "tests", "bench", "examples", "pyproject.toml")
REFUSED = 7  # the child's exit code when the mutated rulebook does not load
TIMEOUT = 300  # seconds for one mutant's tests: a hang guard (they take a few seconds)


@dataclasses.dataclass(frozen=True)
class Mutant:
    file: str          # rules/steps.rules
    line: int          # 1-based
    column: int        # 1-based
    start: int         # offset of the replaced text
    end: int
    original: str
    replacement: str
    kind: str          # comparison, logic, arithmetic, constant, date, status, order
    context: str       # the line, stripped

    @property
    def id(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.original} → {self.replacement}"

    def apply(self, text: str) -> str:
        return text[:self.start] + self.replacement + text[self.end:]


# ------------------------------------------------------------------ finding the mutants

_SWAPS = {
    "COMPARE": {"<=": ["<"], "<": ["<="], ">=": [">"], ">": [">="], "=": ["!="], "!=": ["="]},
    "PLUS": {"+": ["-"]}, "MINUS": {"-": ["+"]}, "TIMES": {"*": ["/"]}, "DIVIDE": {"/": ["*"]},
    "PASS": {"pass": ["fail"]}, "FAIL": {"fail": ["pass"]}, "PENDING": {"pending": ["pass", "fail"]},
    "TRUE": {"true": ["false"]}, "FALSE": {"false": ["true"]},
}
_KINDS = {"COMPARE": "comparison", "PLUS": "arithmetic", "MINUS": "arithmetic", "TIMES": "arithmetic",
          "DIVIDE": "arithmetic", "ROUNDING": "arithmetic", "PASS": "status", "FAIL": "status",
          "PENDING": "status", "NOT_APPLICABLE": "status", "TRUE": "logic", "FALSE": "logic",
          "AND": "logic", "OR": "logic", "NUMBER": "constant", "PERCENT": "constant", "DATE": "date"}


# Keywords swapped where they play this part (the token's type, its node in the syntax tree):
# `missing` is also the word of `x if missing y`, `no` of nothing else, and so on.
_LOGIC = {("AND", "and_"): "or", ("OR", "or_"): "and", ("SET", "is_set"): "missing",
          ("MISSING", "is_missing"): "set", ("ANY", "any_"): "all", ("ALL", "all_"): "any",
          ("NO", "no_failure"): "some", ("SOME", "some_failure"): "no"}


def _parser():
    from lark import Lark

    return Lark(GRAMMAR.read_text(encoding="utf-8"), parser="lalr", start="start", propagate_positions=True,
                maybe_placeholders=False, keep_all_tokens=True)


def _plus_one(text: str, delta: int) -> str | None:
    whole, dot, fraction = text.partition(".")
    value = int(whole) + delta
    return None if value < 0 else f"{value}{dot}{fraction}"


def _token_mutants(token, parent: str) -> list[tuple[str, str]]:
    """(replacement, kind) for one token whose parent node is `parent`."""
    kind, text = token.type, str(token)
    if kind in _SWAPS and text in _SWAPS[kind]:
        if kind in ("PLUS", "MINUS") and parent != "binary":
            return []  # a unary minus, or an arrow's dash
        return [(r, _KINDS[kind]) for r in _SWAPS[kind][text]]
    if kind == "NOT_APPLICABLE":
        return [("pass", "status")]
    if (kind, parent) in _LOGIC:
        return [(_LOGIC[kind, parent], "logic")]
    if kind == "ROUNDING":
        swapped = {"down": "up", "up": "down"}
        word = text.split()[-1]
        return [(text[: -len(word)] + swapped[word] if word in swapped else "rounded down", "arithmetic")]
    if kind == "NUMBER" and parent not in ("version",):
        return [(m, "constant") for m in (_plus_one(text, -1), _plus_one(text, 1)) if m is not None]
    if kind == "PERCENT":
        return [(m + "%", "constant") for m in (_plus_one(text[:-1], -1), _plus_one(text[:-1], 1)) if m is not None]
    if kind == "DATE":
        day = dt.date.fromisoformat(text)
        return [(str(day - dt.timedelta(days=1)), "date"), (str(day + dt.timedelta(days=1)), "date")]
    return []


def find_mutants(path: Path, root: Path = ROOT, parser=None) -> list[Mutant]:
    """Every mutant of one rule file, in the order of the text."""
    from lark import Token, Tree

    text = path.read_text(encoding="utf-8")
    tree = (parser or _parser()).parse(text)
    name = path.relative_to(root).as_posix()
    lines = text.splitlines()
    found: list[Mutant] = []

    def add(start: int, end: int, line: int, column: int, original: str, replacement: str, kind: str):
        found.append(Mutant(name, line, column, start, end, original, replacement, kind, lines[line - 1].strip()))

    def walk(node: Tree) -> None:
        children = node.children
        for index, child in enumerate(children):
            if isinstance(child, Tree):
                walk(child)
                continue
            assert isinstance(child, Token)
            for replacement, kind in _token_mutants(child, node.data):
                add(child.start_pos, child.end_pos, child.line, child.column, str(child), replacement, kind)
            if child.type == "NOT" and node.data in ("not_", "is_not_empty", "is_not_blank"):
                # drop the `not` (and the space after it)
                after = children[index + 1]
                end = after.start_pos if isinstance(after, Token) else after.meta.start_pos
                add(child.start_pos, end, child.line, child.column, text[child.start_pos:end], "", "logic")
            if child.type in ("EMPTY", "BLANK") and node.data in ("is_empty", "is_blank"):
                add(child.start_pos, child.start_pos, child.line, child.column, "", "not ", "logic")
            if child.type == "FIRST" and node.data == "first_node":
                after = children[index + 1]
                add(child.start_pos, after.meta.start_pos, child.line, child.column,
                    text[child.start_pos:after.meta.start_pos], "", "order")

    walk(tree)
    return found


def all_mutants(root: Path = ROOT, only: str | None = None) -> list[Mutant]:
    parser = _parser()
    out = []
    for path in sorted((root / "rules").glob("*.rules")):
        if only is None or path.name == only:
            out.extend(find_mutants(path, root, parser))
    return out


# ------------------------------------------------------------------ running the tests on a mutant

_WORKER: dict = {}


def _start_worker(tests: tuple[str, ...]) -> None:
    """A scratch copy of the repository for this worker, its `src` imported instead of the
    original (an editable install points at the original), and the tests collected once so that
    each mutant's forked run starts warm."""
    scratch = Path(tempfile.mkdtemp(prefix="rulebook-mutants-"))
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, scratch / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif source.exists():
            shutil.copy2(source, scratch / name)
    original = str(ROOT / "src")
    sys.path[:] = [str(scratch / "src"), str(scratch)] + [p for p in sys.path
                                                          if Path(p or ".").resolve() != Path(original)]
    os.chdir(scratch)
    os.environ["RULEBOOK_CACHE"] = os.environ["RULEBOOK_TEST_CACHE"] = str(scratch / ".plan-cache")
    os.environ["PYTHONPATH"] = str(scratch / "src")  # a test's subprocess runs the mutant too
    import pytest

    import rulebook

    assert Path(rulebook.__file__).resolve().is_relative_to(scratch), rulebook.__file__
    from rulebook.language.parse import parse
    from rulebook.language.source import Source

    parse(Source("<prebuild>", ""))  # the parser, built once: every forked run inherits it
    _WORKER.update(scratch=scratch, tests=tests)
    with open(os.devnull, "w") as quiet:
        saved = os.dup(1), os.dup(2)
        os.dup2(quiet.fileno(), 1)
        os.dup2(quiet.fileno(), 2)
        try:
            pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider", *tests])
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)


class _FirstFailure:
    """A pytest plugin that notes the first failing test."""

    def __init__(self, into: Path):
        self.into = into

    def pytest_runtest_logreport(self, report):
        if report.failed and not self.into.exists():
            self.into.write_text(report.nodeid, encoding="utf-8")


def _run_tests(timeout: float) -> tuple[str, str]:
    """('passed' | 'failed' | 'refused' | 'timeout', what decided it) for the scratch copy as it
    is now. The child loads the rulebook first (a mutant the checker refuses goes no further; one
    it accepts is compiled once, into the worker's plan cache, which the tests then read)."""
    scratch: Path = _WORKER["scratch"]
    note = scratch / ".first-failure"
    note.unlink(missing_ok=True)
    pid = os.fork()
    if pid == 0:  # the child: quiet, the rulebook loaded, then pytest stopping at the first failure
        code = 3
        try:
            signal.alarm(int(timeout))  # the default action ends the child: a timeout
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            import pytest

            import rulebook
            from rulebook.language.diagnostic import RulebookError

            try:
                rulebook.load()
            except RulebookError as error:
                first = error.diagnostics[0]
                note.write_text(f"{first.code}: {first.message}", encoding="utf-8")
                os._exit(REFUSED)
            code = int(pytest.main(["-x", "-q", "-p", "no:cacheprovider", "-p", "no:timeout",
                                    "--hypothesis-profile=mutate", *_WORKER["tests"]],
                                   plugins=[_FirstFailure(note)]))
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return "timeout", f"signal {os.WTERMSIG(status)}"
    code = os.WEXITSTATUS(status)
    first = note.read_text(encoding="utf-8") if note.exists() else ""
    if code == 0:
        return "passed", ""
    if code == REFUSED:
        return "refused", first
    return "failed", first or f"pytest exit code {code}"


def judge_mutant(mutant: Mutant, timeout: float = TIMEOUT) -> dict:
    scratch: Path = _WORKER["scratch"]
    target = scratch / mutant.file
    original = target.read_text(encoding="utf-8")
    started = time.monotonic()
    try:
        target.write_text(mutant.apply(original), encoding="utf-8")
        ran, by = _run_tests(timeout)
    finally:
        target.write_text(original, encoding="utf-8")
    outcome = {"passed": "survived", "failed": "killed", "refused": "refused", "timeout": "timeout"}[ran]
    return {**dataclasses.asdict(mutant), "id": mutant.id, "outcome": outcome, "by": by,
            "seconds": round(time.monotonic() - started, 2)}


def _clean_run(_=None) -> tuple[str, str]:
    return _run_tests(TIMEOUT)


def run(mutants: list[Mutant], jobs: int, tests: tuple[str, ...] = MUTANT_TESTS, progress=None) -> list[dict]:
    """Each mutant's outcome, in the order given (the tests must pass on the rules as they are)."""
    # Workers start as new interpreters (spawn), so that each imports rulebook from its scratch
    # copy even when the caller has imported it already (a test, say).
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_start_worker, initargs=(tests,)) as pool:
        for clean in pool.map(_clean_run, range(jobs)):
            if clean[0] != "passed":
                raise SystemExit(f"the tests fail on the rules as they are ({clean[1]}): fix them first")
        results = []
        for result in pool.map(judge_mutant, mutants):
            results.append(result)
            if progress:
                progress(result)
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mutation.rules", description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "mutation" / "rules.json")
    parser.add_argument("--only", help="one rule file (its name, e.g. steps.rules)")
    parser.add_argument("--limit", type=int, help="the first N mutants only")
    parser.add_argument("--list", action="store_true", help="list the mutants and stop")
    parser.add_argument("--again", action="store_true",
                        help="run only the mutants that survived (or timed out) in --out and those it does not "
                             "hold (new, or moved by an edit), and update it")
    parser.add_argument("--new-only", action="store_true", help="with --again: only those --out does not hold")
    args = parser.parse_args(argv)
    mutants = all_mutants(only=args.only)
    earlier: dict = {}
    if args.again:
        earlier = json.loads(args.out.read_text(encoding="utf-8"))
        known = {r["id"]: r for r in earlier["mutants"]}
        mutants = [m for m in mutants if m.id not in known
                   or (not args.new_only and known[m.id]["outcome"] in ("survived", "timeout"))]
        current = {m.id for m in all_mutants()}
        earlier["mutants"] = [r for r in earlier["mutants"] if r["id"] in current]  # gone with an edit
    if args.limit:
        mutants = mutants[:args.limit]
    if args.list:
        for m in mutants:
            print(f"{m.id}   [{m.kind}]   {m.context}")
        print(f"{len(mutants)} mutants")
        return 0
    started = time.monotonic()
    done = [0]

    def progress(result):
        done[0] += 1
        print(f"[{done[0]}/{len(mutants)}] {result['outcome']:8} {result['id']}"
              + (f"   ({result['by']})" if result["outcome"] != "survived" else ""), flush=True)

    results = run(mutants, args.jobs, progress=progress)
    seconds = round(time.monotonic() - started)
    if earlier:  # the new outcomes in the place of the old ones, in the order of the text
        merged = {r["id"]: r for r in earlier["mutants"]} | {r["id"]: r for r in results}
        results = [merged[m.id] for m in all_mutants() if m.id in merged]
        seconds = earlier["seconds"]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"seconds": seconds, "jobs": args.jobs, "tests": list(MUTANT_TESTS),
                                    "mutants": results}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    counts = {k: sum(r["outcome"] == k for r in results) for k in ("killed", "refused", "survived", "timeout")}
    print(f"{len(results)} mutants in {time.monotonic() - started:.0f} s: {counts}; written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
