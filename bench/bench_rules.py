"""Where evaluation's time goes, rule by rule: `evaluate_case` with one part taken out at a time.

On N generated snapshots with the facts of further-rules.md (as `make bench`), in one process:
the generated `evaluate_case` of the bundled rulebook as it is, and once without each rule's
block (its lines in the plan's source, `plan.rule_lines`, left out: the rule gives no result) and
once without the payout's amounts (each amount 0: the rules that read the payout still run).
Each variant runs on every case, in interleaved rounds, best of them in CPU time of this thread;
a part's cost is the time the whole takes less the time without it. The floor
(`bench/floor.py`) and `book.evaluate` (the call through `Evaluator.evaluate`, with the
`Evaluation` it makes) are timed in the same rounds.

    .venv/bin/python bench/bench_rules.py [--cases 10000] [--rounds 9]

The parts' costs do not add up to the whole exactly: a part taken out changes what the others
find in the processor's caches, and a rule whose failure the payout reads changes the payout's work.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

os.environ["RULEBOOK_CACHE"] = "off"  # the compiler of this tree, not a cached plan
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import floor  # noqa: E402
import orjson  # noqa: E402
from measure import best_of_rounds  # noqa: E402

import rulebook  # noqa: E402
from rulebook.engine import codegen  # noqa: E402
from rulebook.engine import compile as compile_  # noqa: E402
from rulebook.engine.order import checker  # noqa: E402
from samples import generate  # noqa: E402


def without_rule(plan, index: int) -> str:
    """The plan's source with rule `index`'s block left out (a case rule's result None)."""
    lines = plan.source.split("\n")
    spans = [(first, last) for first, last, i in plan.rule_lines if i == index]
    one = plan.rules[index].subject != "each_step"
    for k, (first, last) in enumerate(spans):
        indent = re.match(r"\s*", lines[first - 1]).group(0)
        for j in range(first - 1, last):
            lines[j] = None
        lines[first - 1] = indent + (f"r{index} = None" if one and k == len(spans) - 1 else "pass")
    return "\n".join(line for line in lines if line is not None)


def without_payout():
    """The bundled rulebook compiled with every amount of its payout 0 (its source and constants)."""
    kept = compile_._Generator.payout

    def zero(self, section):
        made = kept(self, section)  # what it sets up for the driver, as before
        local = "_s" if section.subject == "each_step" else "_c"
        # (its first statement, the slots' start, kept: the driver reads the section by it)
        return [made[0], codegen.assign([f"{local}{i}" for i in range(len(section.amounts))], codegen.literal(0))]

    compile_._Generator.payout = zero
    try:
        plan = rulebook.load(cache=False).plan
    finally:
        compile_._Generator.payout = kept
    return plan.source, plan.constants


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()

    book = rulebook.load()
    plan = book.plan
    evaluator = book._evaluator
    models = [book.validate(orjson.dumps(c)).case for c in generate(args.cases, seed=2026, further=True)]
    orders = [checker(plan.orders[name], plan.fields) for name in sorted(plan.orders)]

    def function(source: str, constants) -> object:
        return codegen.execute(source, constants, plan.fields, orders=orders, label="ablated")["evaluate_case"]

    variants = {"the whole of evaluate_case": function(plan.source, plan.constants),
                "the payout's amounts": function(*without_payout())}
    for index in sorted({i for _first, _last, i in plan.rule_lines}):
        variants[plan.rules[index].id] = function(without_rule(plan, index), plan.constants)

    params_at = evaluator.params_at
    calls = [(m, m.steps, m.as_of, params_at(m.as_of), params_at, m.as_of) for m in models]

    def timed(fn):
        def run():
            for call in calls:
                fn(*call)
        return run

    def floor_all():
        for m in models:
            floor.judge(m, further=True)

    def evaluate_all():
        evaluate = book.evaluate
        for m in models:
            evaluate(m)

    phases = {"floor": floor_all, "book.evaluate": evaluate_all, **{k: timed(f) for k, f in variants.items()}}
    for run in phases.values():
        run()  # warm up
    best = best_of_rounds(phases, args.rounds)
    per_case = {name: seconds / len(models) * 1e6 for name, seconds in best.items()}
    whole = per_case["the whole of evaluate_case"]
    print(f"where evaluation goes — {len(models):,} generated cases, best of {args.rounds} interleaved rounds (CPU time)")
    print()
    print(f"floor (bench/floor.py): {per_case['floor']:.2f} µs; book.evaluate: {per_case['book.evaluate']:.2f} µs "
          f"({per_case['book.evaluate'] / per_case['floor']:.2f}× the floor); evaluate_case alone: {whole:.2f} µs "
          f"(the call through Evaluator.evaluate: {per_case['book.evaluate'] - whole:.2f})")
    print()
    print("| part taken out | µs per case without it | the part's cost |")
    print("| --- | ---: | ---: |")
    for name in variants:
        if name != "the whole of evaluate_case":
            print(f"| {name} | {per_case[name]:.2f} | {whole - per_case[name]:.2f} |")


if __name__ == "__main__":
    main()
