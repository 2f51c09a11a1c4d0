"""Benchmark of `rulebook audit` (`make bench-audit`): end-to-end cases/s and peak memory.

Generates N cases as JSON Lines, then times `rulebook audit --compact` as a new
process with 1 and 2 jobs (best of R runs each), and reports the scaling ratio
and the peak resident memory of the largest process of the run (the main
process or a worker). With --big, a second input of 5× the size shows whether
memory depends on the input size.

With --baseline SRC (another source tree of rulebook, e.g. a `git worktree` of main), the same
audits run with that tree's code too, in interleaved rounds (this tree, then the other, for each
number of jobs, round after round): on a shared, noisy machine a speedup is the ratio of two
figures measured in the same run.

With --cross N, the cross-case checks: N cases of one expert, begun within 30 days so that
their steps overlap (most days are implausible, each with hundreds of cases), against the same
N cases each with an expert of its own; time, CPU, peak memory and the sizes of summary.json
and report.html, in interleaved rounds (target: the first within 1.5× the second).
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import sys
import tempfile
from pathlib import Path

import orjson

from measure import best_of_rounds, run_measured
from samples import make_case

HERE = Path(__file__).resolve().parent
# The stages after the judging, whose wall time the audit's --timings gives beside their CPU, and
# the CPU of the processes the end forks (the batch rules', the people's, with 2 jobs or more).
END_STAGES = ("indexes", "batch rules", "summary", "files")
END_CHILDREN = ("batch rules (its processes)", "files (their processes)")


def write_cases(path: Path, count: int) -> None:
    import random

    rng = random.Random(2026)
    with open(path, "wb") as fh:
        for i in range(count):
            fh.write(orjson.dumps(make_case(rng, i)) + b"\n")


def write_cross(path: Path, count: int, one_expert: bool) -> None:
    """`count` cases begun within 30 days, of one expert or each of its own (otherwise the same)."""
    import random

    rng = random.Random(2027)
    with open(path, "wb") as fh:
        for i in range(count):
            fh.write(orjson.dumps(make_case(rng, i, expert=0 if one_expert else i, days=30)) + b"\n")


def run_audit(inputs: Path, jobs: int, work: Path, source: Path | None = None,
              sizes: dict | None = None, stages: dict | None = None, walls: dict | None = None
              ) -> tuple[float, int, float]:
    """(seconds, peak RSS in KiB of the largest process, CPU seconds of all its processes) of one
    audit, in a fresh process; with `source`, the rulebook of that source tree (its `src` first
    on the path). The CPU time (user and system, of the audit and of its workers) is what a
    case costs a core, whatever else the machine runs at the time. `sizes`, if given, gets the
    size of each file the audit wrote; `stages`, the CPU seconds the audit says it spent by
    stage (`audit --timings`; not from a baseline that cannot say); `walls`, the wall seconds
    of the stages this process timed (not from a baseline whose --timings gives none)."""
    out = work / f"out-{jobs}"
    shutil.rmtree(out, ignore_errors=True)
    command = [str(Path(sys.executable).with_name("rulebook")), "audit", str(inputs), "--out", str(out),
               "--jobs", str(jobs), "--compact", "--no-progress"]
    timings = work / "timings.json"
    if stages is not None:
        command += ["--timings", str(timings)]
    seconds, cpu, rss, code, stderr = run_measured(command, source)
    if code == 2 and stages is not None and "--timings" in stderr:  # a baseline without --timings
        stages = None
        seconds, cpu, rss, code, stderr = run_measured(command[:-2], source)
    if code not in (0, 1, 3):
        raise SystemExit(f"audit failed ({code}): {stderr}")
    if sizes is not None:
        sizes.update((path.name, path.stat().st_size) for path in out.iterdir())
    if stages is not None:
        stages.clear()
        said = orjson.loads(timings.read_bytes())
        stages.update(said["cpu"])
        stages["(all of it: the process and its workers, measured from outside)"] = cpu
        if walls is not None:
            walls.clear()
            walls.update(said.get("wall", {}))
    shutil.rmtree(out, ignore_errors=True)
    return float(seconds), int(rss), float(cpu)


# The work after the judging alone, in a new process, on a copy of a judged folder: `finish` as
# run.py runs it (or, for a tree before it, the end its run.py ran); prints [wall, CPU of this
# process, CPU of its children] in seconds.
_END = r"""
import importlib, json, resource, sqlite3, sys, time
from pathlib import Path

work, jobs = Path(sys.argv[1]), int(sys.argv[2])
db = sqlite3.connect(work / ".ledger.sqlite")  # the end makes its indexes again, as an audit's does
for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'").fetchall():
    db.execute(f"DROP INDEX {name}")
db.commit()
db.close()
from rulebook.book import load
from rulebook.apps.audit.ledger import Ledger
from rulebook.apps.audit.options import Options, Timings
run = importlib.import_module("rulebook.apps.audit.run")
book = load(None)
options = Options(inputs=["cases.jsonl"], out=work, jobs=jobs, compact=True)
ledger = Ledger(work)
rules = book.plan.batch_rules
ledger.prepare_batch([book.batch.layout(r.index) for r in rules], [r.index for r in rules if r.case_keyed])

def children():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime

wall, cpu, kids = time.perf_counter(), time.process_time(), children()
if hasattr(run, "finish"):
    run.finish(options, work, ledger, Timings(), book, jobs)
else:  # a tree from before `finish`: its end, one piece after the other
    from rulebook.apps.audit.checks import find, parameters
    from rulebook.apps.audit.files import write_reports
    from rulebook.apps.audit.summary import build_summary
    ledger.index()
    params = parameters(book, ledger, None)
    not_evaluated = find(book, ledger, params)
    write_reports(work, ledger, build_summary(ledger, options, book, params, not_evaluated), options, book, params)
print(json.dumps([time.perf_counter() - wall, time.process_time() - cpu, children() - kids]))
"""


def end_alone(work: Path, count: int, repeats: int, trees: dict) -> None:
    """The work after the judging (batch rules, summary, files) alone, on a folder of `count`
    judged cases (judged once, by this tree, 1 job): its wall time against its CPU with 1 and 2
    jobs, each tree's code in interleaved rounds of new processes (best of `repeats`)."""
    import subprocess

    inputs = work / "end.jsonl"
    write_cases(inputs, count)
    judged = work / "end-judged"
    command = [str(Path(sys.executable).with_name("rulebook")), "audit", str(inputs), "--out", str(judged),
               "--jobs", "1", "--compact", "--no-progress"]
    code = subprocess.run(command, capture_output=True).returncode
    if code not in (0, 1, 3):
        raise SystemExit(f"audit failed ({code})")
    runs: dict = {(name, jobs): [] for name in trees for jobs in (1, 2)}
    copy = work / "end-copy"
    for _ in range(repeats):
        for (name, jobs), said in runs.items():
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(judged, copy, ignore=shutil.ignore_patterns("results.jsonl"))
            (copy / "results.jsonl").touch()  # (compact: the end reads none of it)
            env = dict(os.environ)
            if trees[name] is not None:
                env["PYTHONPATH"] = str(trees[name] / "src")
            out = subprocess.run([sys.executable, "-c", _END, str(copy), str(jobs)], capture_output=True, text=True,
                                 env=env)
            if out.returncode:
                raise SystemExit(f"the end failed: {out.stderr}")
            said.append(orjson.loads(out.stdout.splitlines()[-1]))
    shutil.rmtree(copy, ignore_errors=True)
    print(f"The work after the judging alone (batch rules, summary, files), on {count:,} judged cases, "
          f"best of {repeats} interleaved rounds:")
    print()
    print("| code | jobs | seconds | CPU seconds (the process and its own) | time against CPU |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for (name, jobs), said in runs.items():
        wall = min(r[0] for r in said)
        cpu = min(r[1] + r[2] for r in said)
        print(f"| {name} | {jobs} | {wall:.2f} | {cpu:.2f} | {wall / cpu:.2f}× |")
    print()


def spread(runs: dict, cases: int, trees: dict) -> None:
    """Run to run: each round's cases per CPU second and its scaling from 1 to 2 jobs (the two
    audits of one round), their median and range over the rounds — on a shared machine the same
    code moves by several percent from run to run, and a target is judged on the median, not on
    the best run."""
    from statistics import median

    print()
    print("Run to run (each round's own figures: median, and the range over the rounds):")
    print()
    print("| code | jobs | cases per CPU second, median | range |")
    print("| --- | ---: | ---: | ---: |")
    for (name, jobs), rs in runs.items():
        rates = [cases / cpu for _seconds, _rss, cpu in rs]
        print(f"| {name} | {jobs} | {median(rates):,.0f} | {min(rates):,.0f}–{max(rates):,.0f} |")
    print()
    for name in trees:
        ratios = [one[0] / two[0] for one, two in zip(runs[(name, 1)], runs[(name, 2)])]
        print(f"{name}: scaling from 1 to 2 jobs, round by round: median {median(ratios):.2f}× "
              f"(range {min(ratios):.2f}×–{max(ratios):.2f}×; target ≥ 1.8×)")


def breakdown(inputs: Path, count: int = 20_000, repeats: int = 5) -> list[tuple[str, float]]:
    """CPU µs per case of each stage of judging a case for the compact results, in this process,
    on the first `count` cases of `inputs` (best of `repeats`, stages interleaved), with the
    collector set as an audit's workers set it.

    The stages alone, each over all the cases in a row (which keeps its code and data in the
    processor's caches), then the same stages added one after the other for each case, as in a
    real run: a line's reading, decoding (the schema's decoder; the pydantic model for
    comparison), the evaluation, the compact line, the batch rules' rows, and what the worker adds
    (the ledger row, cases.csv's row)."""
    import gc

    from rulebook.apps.audit.chunks import cut
    from rulebook.apps.audit.worker import _lines_of, init_worker, judge_chunk
    from rulebook.input.documents import iter_units

    init_worker(None, None, True)
    from rulebook.apps.audit import worker

    book = worker._BOOK
    chunks = list(cut(itertools.islice(iter_units([str(inputs)], span_lines=1024), -(-count // 1024)), 1024))
    lines = [unit.payload for chunk in chunks for unit in _lines_of(chunk)]
    count = len(lines)
    validator, evaluator, writer = book._validator, book._evaluator, book.compact_writer
    decoded = [validator.validate_line(line) for line in lines]
    outcomes = [evaluator.evaluate(c.case) for c in decoded]
    tally = writer.tally()
    model = book.model.__pydantic_validator__.validate_json
    validate_line, validate, evaluate, line_of = validator.validate_line, validator.validate, evaluator.evaluate, \
        writer.line

    def each(function, items):  # one after the other, each result dropped as in a real run
        def stage():
            for item in items:
                function(*item)
        return stage

    def read():
        for chunk in chunks:
            for _unit in _lines_of(chunk):
                pass

    def decode_evaluate():
        for line in lines:
            evaluate(validate_line(line).case)

    def decode_evaluate_write():
        for line in lines:
            checked = validate_line(line)
            line_of(evaluate(checked.case), checked.warnings, tally)

    def chunk_all():
        for chunk in chunks:
            judge_chunk(chunk, None, None, True, "ja")

    lines1 = [(line,) for line in lines]
    stages = {
        "alone: read the lines of a span": read,
        "alone: decode (the schema's decoder, its checks, the repeated-key screen)": each(validate_line, lines1),
        "alone, for comparison: the pydantic model's validate_json": each(model, lines1),
        "alone, for comparison: the pydantic model with rulebook's own checks": each(validate, lines1),
        "alone: evaluate the rules": each(evaluate, [(c.case,) for c in decoded]),
        "alone: the compact line": each(line_of, [(o, c.warnings, tally) for o, c in zip(outcomes, decoded)]),
        "alone: the batch rules' rows": each(book.batch_rows, [(o.case, o.payout, o.case.as_of) for o in outcomes]),
        "in turn: decode": each(validate_line, lines1),
        "in turn: decode, evaluate": decode_evaluate,
        "in turn: decode, evaluate, the compact line": decode_evaluate_write,
        "in turn: the worker's whole chunk (and the batch rules' rows, the ledger's rows, cases.csv's rows)":
            chunk_all,
    }
    gc.set_threshold(50_000, 20, 20)
    best = best_of_rounds(stages, repeats)
    return [(name, seconds / count * 1e6) for name, seconds in best.items()]


def cross(work: Path, count: int, repeats: int, trees: dict) -> None:
    """The cross-case checks' cost: one expert's overlapping cases against distinct experts'."""
    kinds = {"one expert, steps overlapping": True, "a distinct expert each": False}
    inputs = {}
    for kind, one in kinds.items():
        inputs[kind] = work / f"cross-{int(one)}.jsonl"
        write_cross(inputs[kind], count, one)
    keys = [(tree, kind) for tree in trees for kind in kinds]
    runs: dict = {key: [] for key in keys}
    sizes: dict = {key: {} for key in keys}
    for _ in range(repeats):
        for tree, kind in keys:
            runs[(tree, kind)].append(run_audit(inputs[kind], 2, work, trees[tree], sizes=sizes[(tree, kind)]))
    best = {key: (min(r[0] for r in rs), max(r[1] for r in rs), min(r[2] for r in rs)) for key, rs in runs.items()}
    print(f"rulebook audit --compact --jobs 2 — cross-case checks, {count:,} cases begun within 30 days, "
          f"best of {repeats}{' interleaved rounds' if repeats > 1 or len(trees) > 1 else ''}")
    print()
    print("| code | cases | seconds | CPU seconds | peak RSS | summary.json | report.html |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for (tree, kind), (seconds, rss, cpu) in best.items():
        size = sizes[(tree, kind)]
        print(f"| {tree} | {kind} | {seconds:.1f} | {cpu:.1f} | {rss / 1024:.0f} MiB | "
              f"{size.get('summary.json', 0) / 1024:,.0f} KiB | {size.get('report.html', 0) / 1024:,.0f} KiB |")
    print()
    for tree in trees:
        one, many = (best[(tree, kind)] for kind in kinds)
        print(f"{tree}: one expert against distinct experts: {one[0] / many[0]:.2f}× the time, "
              f"{one[2] / many[2]:.2f}× the CPU, {one[1] / many[1]:.2f}× the peak memory (target ≤ 1.5×)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--big", type=int, default=0, help="also measure memory on this many cases")
    parser.add_argument("--baseline", type=Path, default=None, metavar="SRC",
                        help="also run another rulebook source tree, in interleaved rounds")
    parser.add_argument("--cross", type=int, default=0, metavar="N",
                        help="also compare N overlapping cases of one expert with N cases of distinct experts "
                             "(with --baseline, that tree's too: code before the fix needs memory in N²)")
    parser.add_argument("--cross-only", action="store_true", help="only the --cross comparison")
    parser.add_argument("--end", type=int, default=0, metavar="N",
                        help="also time the work after the judging alone, on N judged cases, with 1 and 2 jobs")
    parser.add_argument("--end-only", action="store_true", help="only the --end comparison")
    args = parser.parse_args()
    if args.baseline is not None and not (args.baseline / "src" / "rulebook").is_dir():
        parser.error(f"{args.baseline} is not a rulebook source tree (no src/rulebook)")
    trees = {"this tree": None}
    if args.baseline is not None:
        trees["baseline"] = args.baseline.resolve()
    work = Path(tempfile.mkdtemp(prefix="rulebook-bench-audit-"))
    try:
        if args.cross:
            cross(work, args.cross, args.repeats, trees)
            if args.cross_only:
                return
            print()
        if args.end:
            end_alone(work, args.end, args.repeats, trees)
            if args.end_only:
                return
        inputs = work / "cases.jsonl"
        write_cases(inputs, args.cases)
        size = inputs.stat().st_size
        runs: dict = {(name, jobs): [] for name in trees for jobs in (1, 2)}
        # each tree's CPU by stage, of its run with the least CPU (none from a baseline that cannot say)
        stages: dict = {(name, jobs): {} for jobs in (1, 2) for name in trees}
        walls: dict = {(name, jobs): {} for jobs in (1, 2) for name in trees}  # (of the same runs)
        for _ in range(args.repeats):
            for jobs in (1, 2):
                for name, source in trees.items():
                    said: dict = {}
                    wall: dict = {}
                    runs[(name, jobs)].append(run_audit(inputs, jobs, work, source, stages=said, walls=wall))
                    if said and runs[(name, jobs)][-1][2] <= min(r[2] for r in runs[(name, jobs)]):
                        stages[(name, jobs)], walls[(name, jobs)] = said, wall
        figures = {key: (min(r[0] for r in rs), max(r[1] for r in rs), min(r[2] for r in rs))
                   for key, rs in runs.items()}
        print(f"rulebook audit --compact — {args.cases:,} generated cases ({size / 2**20:,.0f} MiB of JSON Lines), "
              f"best of {args.repeats}{' interleaved rounds' if len(trees) > 1 else ''}; {os.cpu_count()} cores")
        print()
        print("| code | jobs | seconds | cases/s | CPU seconds | cases per CPU second | peak RSS (largest process) |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for (name, jobs), (seconds, rss, cpu) in figures.items():
            print(f"| {name} | {jobs} | {seconds:.1f} | {args.cases / seconds:,.0f} | {cpu:.1f} | "
                  f"{args.cases / cpu:,.0f} | {rss / 1024:.0f} MiB |")
        print()
        for name in trees:
            print(f"{name}: scaling from 1 to 2 jobs: {figures[(name, 1)][0] / figures[(name, 2)][0]:.2f}× "
                  "(target ≥ 1.8×)")
        if len(trees) > 1:
            for jobs in (1, 2):
                print(f"speedup over the baseline with {jobs} job{'s' if jobs > 1 else ''}: "
                      f"{figures[('baseline', jobs)][0] / figures[('this tree', jobs)][0]:.2f}× in time, "
                      f"{figures[('baseline', jobs)][2] / figures[('this tree', jobs)][2]:.2f}× in CPU")
        if args.repeats > 1:
            spread(runs, args.cases, trees)
        print()
        columns = [key for key in stages if stages[key]]
        print(f"Where a case's time goes in the audits above (each tree's run with the least CPU; CPU µs "
              f"per case, as the audit counts it with --timings):")
        print()
        print("| stage | " + " | ".join(f"{name}, {jobs} job{'s' if jobs > 1 else ''}" for name, jobs in columns) + " |")
        print("| --- |" + " ---: |" * len(columns))
        names = list(dict.fromkeys(n for key in columns for n in stages[key]))
        for stage in names:
            print(f"| {stage} | " + " | ".join(f"{stages[key][stage] / args.cases * 1e6:.1f}" if stage in stages[key]
                                              else "—" for key in columns) + " |")
        print()
        for key in columns:  # the serial end: its wall time against the CPU it took
            if walls[key]:
                end = [n for n in END_STAGES if n in walls[key]]
                cpu = sum(stages[key].get(n, 0.0) for n in end) + sum(stages[key].get(n, 0.0) for n in END_CHILDREN)
                wall = sum(walls[key][n] for n in end)
                print(f"{key[0]}, {key[1]} job{'s' if key[1] > 1 else ''}: the end after the judging "
                      f"({', '.join(end)}): {wall / args.cases * 1e6:.1f} µs a case of wall time for "
                      f"{cpu / args.cases * 1e6:.1f} of CPU (this process and the end's own processes), "
                      f"{wall / cpu:.2f}× its CPU")
        print()
        print("(`start`: Python, the imports and the rulebook, before the audit begins; `judge (this process…)`"
              " with 1 job is the judging and the writer thread, with 2 jobs the reading, sending and"
              " receiving of the chunks and the writer thread; the worker processes' CPU includes their start.)")
        print()
        print(f"The stages of judging a case (CPU µs per case, in one process, first {min(args.cases, 20_000):,} "
              "cases):")
        print()
        print("| stage | µs per case | cases per CPU second |")
        print("| --- | ---: | ---: |")
        for name, micros in breakdown(inputs, min(args.cases, 20_000)):
            print(f"| {name} | {micros:.1f} | {1e6 / micros:,.0f} |")
        if args.big:
            big = work / "big.jsonl"
            write_cases(big, args.big)
            seconds, rss, _cpu = run_audit(big, 2, work)
            print(f"{args.big:,} cases with 2 jobs: {seconds:.0f} s, peak RSS {rss / 1024:.0f} MiB "
                  f"(vs {figures[('this tree', 2)][1] / 1024:.0f} MiB at {args.cases:,})")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
