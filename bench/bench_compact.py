"""The compact line in one process, against another tree's (`python bench/bench_compact.py
--baseline SRC`): CPU µs a case of `CompactWriter.line` (and of its entries alone: the
generated entry functions over a case's results), this tree's and the baseline's in
interleaved rounds, on the same outcomes held in memory, with their best of the rounds and the
ratio.

The baseline's `output/compact.py` is loaded beside this tree's, as a module of this package,
on this tree's plan, engine and decoder: it measures a change of the compact writer alone (a
baseline whose compact.py imports what this tree lacks cannot be loaded so). Before timing, every
line, verdict, failure list and payout of the two writers, and their tallies' counts, are
checked to be the same.

The cases are the first `--cases` of `--input` (JSON Lines; by default the generated cases of
`bench/bench_audit.py`, written to a temporary file), read as an audit's worker reads them.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from measure import best_of_rounds  # noqa: E402


def outcomes(path: Path, count: int):
    """(outcomes, warnings) of the first `count` cases of `path`, as a worker reads them."""
    from rulebook.apps.audit.chunks import cut
    from rulebook.apps.audit.worker import _lines_of, init_worker
    from rulebook.input.documents import iter_units

    init_worker(None, None, True)
    from rulebook.apps.audit import worker

    book = worker._BOOK
    chunks = list(cut(itertools.islice(iter_units([str(path)], span_lines=1024), -(-count // 1024)), 1024))
    lines = [unit.payload for chunk in chunks for unit in _lines_of(chunk)][:count]
    decoded = [book._validator.validate_line(line) for line in lines]
    return book, [book._evaluator.evaluate(c.case) for c in decoded], [c.warnings for c in decoded]


def baseline_writer(src: Path, book):
    """The baseline tree's CompactWriter class, loaded beside this tree's compact module."""
    path = src / "src" / "rulebook" / "output" / "compact.py"
    spec = importlib.util.spec_from_file_location("rulebook.output._compact_baseline", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.CompactWriter(book.plan, book.digest, book._explainer)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", type=Path, required=True, metavar="SRC", help="another checkout")
    parser.add_argument("--input", type=Path, default=None, help="JSON Lines cases (default: generated)")
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        inputs = args.input
        if inputs is None:
            from bench_audit import write_cases

            inputs = Path(work) / "cases.jsonl"
            write_cases(inputs, args.cases)
        book, outs, warned = outcomes(inputs, args.cases)
    count = len(outs)
    writers = {"this tree": book.compact_writer, "baseline": baseline_writer(args.baseline, book)}
    tallies = {name: writer.tally() for name, writer in writers.items()}
    this, base = writers.values()
    for outcome, warnings in zip(outs, warned):
        a = this.line(outcome, warnings, tallies["this tree"])
        b = base.line(outcome, warnings, tallies["baseline"])
        if a != b:
            raise SystemExit(f"not the same line for {outcome.case.case_id}")
    if this.counts(tallies["this tree"]) != base.counts(tallies["baseline"]):
        raise SystemExit("not the same counts")
    results = [outcome.results for outcome in outs]

    def line(writer, tally):
        write = writer.line

        def run():
            for outcome, warnings in zip(outs, warned):
                write(outcome, warnings, tally)
        return run

    def entries(writer, tally):
        made = writer._entries

        def run():
            for rs in results:
                failed: list = []
                [made[r[0]](r, tally, failed) for r in rs]
        return run

    stages = {}
    for name, writer in writers.items():
        stages[f"the compact line, {name}"] = line(writer, tallies[name])
        stages[f"its entries alone, {name}"] = entries(writer, tallies[name])
    best = best_of_rounds(stages, args.rounds)
    print(f"{count:,} cases, the same lines and counts from both writers; CPU µs a case, best of {args.rounds} "
          "interleaved rounds:")
    for name, seconds in best.items():
        print(f"  {seconds / count * 1e6:7.2f}  {name}")
    for what in ("the compact line", "its entries alone"):
        ratio = best[f"{what}, this tree"] / best[f"{what}, baseline"]
        print(f"{what}: {ratio:.3f}× the baseline's")


if __name__ == "__main__":
    main()
