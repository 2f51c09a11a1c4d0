"""Benchmark of the engine (`make bench`): load, evaluate and render, per case.

On N generated snapshots with the facts of further-rules.md (JSON, as a batch file holds them;
`samples.generate(…, further=True)`), in one run:
  - load: JSON text → validated snapshot (pydantic, with the schema's constraints);
  - evaluate: the whole rulebook, with its trace of facts, and the payout;
  - render: the explained verdict (both languages) serialised to JSON;
  - floor: the same rules hand-written as plain Python functions (bench/floor.py, with
    further-rules.md: `judge(case, further=True)`);
  - cold start: `rulebook check` of one file, a new process each time.
Each phase's figure is the best of several interleaved runs, in CPU time of the benchmark's thread (the
time the other programs of a shared machine take from it is not counted; the wall-clock time
counted it too, and the ratio of two phases moved by ±10% from run to run); speed is reported
as ratios against the floor measured in the same run, since this machine is shared and noisy.

The ratio evaluate / floor, the figure issue 16 asks about, is also measured on its own, in many
short pairs: the cases cut in chunks (`--chunk`, 500), each chunk judged by the floor and then
evaluated, or the other way round (the order alternates), each in CPU time, the pair's ratio
kept; `--pairs` of them (400, the chunks in turn), and their median with the quartiles and the
range printed. Both halves of a pair run some milliseconds apart, so what the machine's other
users take from one they mostly take from the other too. The best of each side over whole runs,
divided, gave 1.45× to 1.63× for one code in four runs on an idle machine; the pairs' median of
one code gave 1.50× to 1.54× in three runs, one of them beside the whole test suite.

`--instructions` adds a figure no other program on the machine can move: the instructions the
CPU runs for the floor and for evaluate on the same cases (`--instructions-cases`, 2,000), counted
by `valgrind --tool=callgrind` (only inside the calls of an `itertools.starmap` over the cases,
`--toggle-collect=starmap_next`, with a fixed hash seed), and their ratio. It counts work, not
time (a cache miss counts as one instruction), so it is a second figure, not the first; a run
takes a minute or two per code.

`--baseline DIR` compares this code with another checkout (`git worktree add ../before main`):
each round runs this benchmark once on each code, as new processes one after the other, and
the best of the rounds is compared phase by phase; the pairs' ratios of all the rounds of a code
are pooled for its median and spread (and, with `--instructions`, each code's instructions are
counted once).
"""

from __future__ import annotations

import argparse
import gc
import itertools
import re
import tempfile
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections import deque
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import floor  # noqa: E402  (bench/floor.py: the rules hand-written in plain Python)

import rulebook  # noqa: E402
from rulebook.engine.plan import NO_VALUE  # noqa: E402
from samples import generate  # noqa: E402


def timed(fn, repeats: int) -> float:
    """Median seconds of `repeats` runs of fn()."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def quartiles(values: list[float]) -> tuple[float, float, float]:
    """(first quartile, median, third quartile) of values."""
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q2, q3


def pair_ratios(floor_chunk, evaluate_chunk, chunks: list, pairs: int) -> list[float]:
    """evaluate / floor per pair: each of `pairs` pairs times both on one chunk (the chunks in
    turn), one after the other, in CPU time of this thread, the order alternating."""
    clock = time.thread_time
    ratios = []
    for i in range(pairs):
        chunk = chunks[i % len(chunks)]
        order = (evaluate_chunk, floor_chunk) if i % 2 else (floor_chunk, evaluate_chunk)
        took = {}
        for run in order:
            start = clock()
            run(chunk)
            took[run] = clock() - start
        floored, evaluated = took[floor_chunk], took[evaluate_chunk]
        if floored > 0:
            ratios.append(evaluated / floored)
    return ratios


def spread(ratios: list[float]) -> str:
    """The median of ratios, with their quartiles and range, in words."""
    q1, q2, q3 = quartiles(ratios)
    return f"median {q2:.3f}× (quartiles {q1:.3f}–{q3:.3f}, range {min(ratios):.3f}–{max(ratios):.3f})"


def instructions_run(which: str, cases: int) -> None:
    """The work that `count_instructions` counts: set up, warm up, then `which` ("floor" or
    "evaluate") over the cases inside one `itertools.starmap`."""
    book = rulebook.load()
    models = [book.validate(orjson.dumps(c)).case for c in generate(cases, seed=2026, further=True)]
    evaluate = book.evaluate
    for m in models:  # warm up: the plan linked, the days' parameters made, the code specialised
        evaluate(m)
        floor.judge(m, None, True)
    if which == "evaluate":
        deque(itertools.starmap(evaluate, [(m,) for m in models]), 0)  # run to its end, in C
    else:
        deque(itertools.starmap(floor.judge, [(m, None, True) for m in models]), 0)


def count_instructions(src: Path, cases: int) -> dict:
    """{"floor": …, "evaluate": …}: instructions per case of each, counted by callgrind, with the
    rulebook of `src`."""
    env = dict(os.environ, PYTHONPATH=str(src), PYTHONHASHSEED="0")
    env.pop("RULEBOOK_CACHE", None)
    counts = {}
    with tempfile.TemporaryDirectory() as scratch:
        runs = {which: subprocess.Popen(["valgrind", "--tool=callgrind", "--toggle-collect=starmap_next",
                                         f"--callgrind-out-file={scratch}/{which}.out", sys.executable, __file__,
                                         "--instructions-run", which, "--cases", str(cases)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
                for which in ("floor", "evaluate")}  # both at once: a count does not depend on the load
        for which, run in runs.items():
            _, stderr = run.communicate()
            collected = re.search(r"Collected : (\d+)", stderr)
            if run.returncode or collected is None:
                sys.exit(f"callgrind's count of {which} failed:\n{stderr}")
            counts[which] = int(collected.group(1)) / cases
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--starts", type=int, default=7, help="cold starts of `rulebook check` to time")
    parser.add_argument("--baseline", type=Path, help="another checkout to compare with, round by round")
    parser.add_argument("--rounds", type=int, default=5, help="with --baseline: rounds on each code")
    parser.add_argument("--pairs", type=int, default=400, help="short pairs (floor, evaluate) timed for the ratio")
    parser.add_argument("--chunk", type=int, default=500, help="cases per pair")
    parser.add_argument("--instructions", action="store_true",
                        help="also count the instructions of both under valgrind --tool=callgrind")
    parser.add_argument("--instructions-cases", type=int, default=2_000, help="cases the instructions are counted on")
    parser.add_argument("--instructions-run", choices=("floor", "evaluate"), help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # one round's figures
    args = parser.parse_args()
    if args.instructions_run:
        instructions_run(args.instructions_run, args.cases)
        return
    if args.baseline:
        compare(args)
        return

    book = rulebook.load()
    raw = [orjson.dumps(c) for c in generate(args.cases, seed=2026, further=True)]
    n = len(raw)
    models = [book.validate(r).case for r in raw]
    outcomes = [book.evaluate(m) for m in models]

    # The floor must agree with the engine, or the comparison means nothing.
    status_of = {}
    for outcome in outcomes:
        for rule_index, subject, _step, clause, *_facts in outcome.results:
            rule = book.plan.rules[rule_index]
            status_of[(outcome.case.case_id, rule.id, subject)] = (
                rule.clauses[clause].status if clause >= 0 else "fail" if clause == NO_VALUE else "not_applicable")
    disagreements = 0
    for m in models:
        triples, _payout = floor.judge(m, further=True)
        for rule_id, subject, status in triples:
            if status_of.get((m.case_id, rule_id, subject)) != status:
                disagreements += 1
    results = sum(len(o.results) for o in outcomes)

    validate = book.validate
    evaluate = book.evaluate

    def load_all():
        for r in raw:
            validate(r)

    def evaluate_all():
        for m in models:
            evaluate(m)

    explainer = book._explainer

    def render_all():
        for o in outcomes:
            orjson.dumps(explainer.explain(o))

    def floor_all():
        for m in models:
            floor.judge(m, further=True)

    def judge_all():  # what `rulebook check --format jsonl` does per case
        for r in raw:
            orjson.dumps(book.judge(r))

    # Interleaved rounds, best of each: the machine is shared, and the best run is the
    # one least disturbed. The objects made above are frozen out of the garbage collector's
    # way, as a streaming run never holds them.
    phases = [("floor", floor_all), ("evaluate", evaluate_all), ("load", load_all),
              ("render", render_all), ("judge", judge_all)]
    for _, fn in phases:
        fn()  # warm up
    gc.collect()
    gc.freeze()
    best = {name: float("inf") for name, _ in phases}
    for _ in range(args.repeats):
        for name, fn in phases:
            start = time.thread_time()
            fn()
            best[name] = min(best[name], time.thread_time() - start)
    figures = {name: seconds / n * 1e6 for name, seconds in best.items()}

    def floor_chunk(chunk):
        for m in chunk:
            floor.judge(m, further=True)

    def evaluate_chunk(chunk):
        for m in chunk:
            evaluate(m)

    chunks = [models[i:i + args.chunk] for i in range(0, n, args.chunk)]
    ratios = pair_ratios(floor_chunk, evaluate_chunk, chunks, args.pairs)

    env = dict(os.environ)
    env.pop("RULEBOOK_CACHE", None)
    example = str(ROOT / "examples" / "seed-case.yaml")
    command = [str(Path(sys.executable).with_name("rulebook")), "check", example]
    subprocess.run(command, capture_output=True, env=env, check=False)  # fills the plan cache
    starts = []
    for _ in range(args.starts):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, env=env, check=False)
        starts.append(time.perf_counter() - start)
    python_start = timed(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), args.starts)
    cold = statistics.median(starts)
    if args.json:
        print(json.dumps({**figures, "cold": cold * 1e6, "disagreements": disagreements, "ratios": ratios}))
        return
    counted = count_instructions(ROOT / "src", args.instructions_cases) if args.instructions else None

    load_eval = figures["load"] + figures["evaluate"]
    print(f"rulebook engine benchmark — {n:,} generated cases, {results:,} results, "
          f"best of {args.repeats} interleaved runs (CPU time); Python {platform.python_version()}, {os.cpu_count()} cores")
    print(f"floor agrees with the engine on every result: {'yes' if not disagreements else f'NO ({disagreements})'}")
    print()
    print("| phase | µs per case | × floor |")
    print("| --- | ---: | ---: |")
    print(f"| hand-written Python (floor) | {figures['floor']:.1f} | 1.00 |")
    print(f"| evaluate (whole rulebook, trace on, payout) | {figures['evaluate']:.1f} | "
          f"{figures['evaluate'] / figures['floor']:.2f} |")
    print(f"| load (JSON → validated snapshot) | {figures['load']:.1f} | {figures['load'] / figures['floor']:.2f} |")
    print(f"| render (explained verdict → JSON) | {figures['render']:.1f} | "
          f"{figures['render'] / figures['floor']:.2f} |")
    print(f"| judge end to end (load + evaluate + render) | {figures['judge']:.1f} | "
          f"{figures['judge'] / figures['floor']:.2f} |")
    print()
    print(f"load + evaluate on one core: {1e6 / load_eval:,.0f} cases/s (target ≥ 10,000)")
    print(f"evaluate vs floor: {figures['evaluate'] / figures['floor']:.2f}× (target ≤ 2×; issue 16: ≤ 1.5×)")
    print(f"evaluate / floor in {len(ratios)} interleaved pairs of {min(args.chunk, n):,} cases (CPU time): "
          f"{spread(ratios)}")
    if counted:
        print(f"instructions per case (callgrind, {args.instructions_cases:,} cases): floor {counted['floor']:,.0f}, "
              f"evaluate {counted['evaluate']:,.0f}: {counted['evaluate'] / counted['floor']:.3f}×")
    print(f"`rulebook check` of one file, cold process: {cold * 1000:.0f} ms median of {args.starts} "
          f"(bare `python -c pass`: {python_start * 1000:.0f} ms; target < 500 ms)")
    if disagreements:
        sys.exit(1)


def compare(args) -> None:
    """This code against `args.baseline`, in interleaved rounds of new processes."""
    codes = {"baseline": args.baseline.resolve() / "src", "this": ROOT / "src"}
    best: dict = {code: {} for code in codes}
    ratios: dict = {code: [] for code in codes}
    for _ in range(args.rounds):
        for code, src in codes.items():
            env = dict(os.environ, PYTHONPATH=str(src))
            env.pop("RULEBOOK_CACHE", None)
            done = subprocess.run([sys.executable, __file__, "--json", "--cases", str(args.cases), "--repeats", "1",
                                   "--starts", str(args.starts), "--pairs", str(args.pairs),
                                   "--chunk", str(args.chunk)],
                                  capture_output=True, text=True, env=env, check=True)
            for phase, value in json.loads(done.stdout.splitlines()[-1]).items():
                if phase == "ratios":
                    ratios[code] += value
                else:
                    best[code][phase] = min(best[code].get(phase, float("inf")), value)
    this, base = best["this"], best["baseline"]
    print(f"this code against {args.baseline}: {args.cases:,} cases, best of {args.rounds} interleaved rounds")
    print()
    print("| phase | baseline µs | this µs | this / baseline | baseline × floor | this × floor |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for phase in ("floor", "evaluate", "load", "render", "judge"):
        print(f"| {phase} | {base[phase]:.1f} | {this[phase]:.1f} | {this[phase] / base[phase]:.3f} | "
              f"{base[phase] / base['floor']:.2f} | {this[phase] / this['floor']:.2f} |")
    print(f"| `rulebook check`, cold process (ms) | {base['cold'] / 1000:.0f} | {this['cold'] / 1000:.0f} | "
          f"{this['cold'] / base['cold']:.3f} | | |")
    print()
    print(f"evaluate / floor in interleaved pairs of {min(args.chunk, args.cases):,} cases (CPU time), "
          f"{len(ratios['baseline'])} and {len(ratios['this'])} pairs over the rounds:")
    print(f"- baseline: {spread(ratios['baseline'])}")
    print(f"- this:     {spread(ratios['this'])}")
    if args.instructions:
        counted = {code: count_instructions(src, args.instructions_cases) for code, src in codes.items()}
        print()
        print(f"instructions per case (callgrind, {args.instructions_cases:,} cases):")
        print("| code | floor | evaluate | evaluate / floor |")
        print("| --- | ---: | ---: | ---: |")
        for code in codes:
            floor_ir, evaluate_ir = counted[code]["floor"], counted[code]["evaluate"]
            print(f"| {code} | {floor_ir:,.0f} | {evaluate_ir:,.0f} | {evaluate_ir / floor_ir:.3f} |")
    if this["disagreements"] or base["disagreements"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
