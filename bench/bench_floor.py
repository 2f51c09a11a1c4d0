"""Benchmark of the hand-written floor itself (bench/floor.py): its cost per case, against a baseline.

    python bench/bench_floor.py [--cases N] [--repeats R] [--baseline REV]

The baseline is bench/floor.py as it is at the git revision REV (`main` by default), loaded
from `git show` into a module of its own, so the two are timed in the same run, in
interleaved rounds (each phase in each place in turn), best of each, in CPU time of the
thread (`time.thread_time`: the machine is shared, and time spent waiting for a core is not
the floor's; figures are ratios all the same).
Timed, per case, on the same validated snapshots:
  - the baseline's judge(case) (requirements.md alone);
  - judge(case) with further=False (must cost no more than the baseline);
  - judge(case, further=True) on the same cases, and on cases generated with the further
    facts (samples.generate(..., further=True)), where every further rule has work to do;
  - the same on those cases copied into plain objects that have every further field
    (None or [] when absent). The snapshot model does not declare the further fields yet, so
    the floor reads them with getattr(), which on a pydantic model goes through its
    __getattr__ (about 1 µs for an extra field, 3 µs for a missing one, against 0.1 µs for a
    declared field): the last figure is what the further rules cost once the schema has them.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import floor  # noqa: E402

import rulebook  # noqa: E402
from samples import generate  # noqa: E402


def baseline_floor(revision: str):
    """bench/floor.py at `revision`, as a module named floor_baseline."""
    text = subprocess.run(["git", "-C", str(HERE), "show", f"{revision}:bench/floor.py"],
                          check=True, capture_output=True, text=True).stdout
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False, encoding="utf-8") as out:
        out.write(text)
    spec = importlib.util.spec_from_file_location("floor_baseline", out.name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    Path(out.name).unlink()
    return module


FURTHER_FIELDS = {"sme": {"kind": None, "industry": None, "capital_jpy": None, "employees": None,
                          "prior_honorarium_jpy": None},
                  "expert": {"kind": None, "qualifications": []},
                  "plan": {"contract_type": None, "hourly_rate_jpy": None},
                  "step": {"recorded": None}}


def _plain(value, fields=None):
    """A validated snapshot (or a part of it) as SimpleNamespace objects, with `fields` as defaults."""
    if isinstance(value, list):
        return [_plain(item, fields) for item in value]
    if not hasattr(value, "model_fields_set"):
        return value
    names = dict(fields or {})
    names.update({name: getattr(value, name) for name in type(value).model_fields})
    names.update(value.__pydantic_extra__ or {})
    return SimpleNamespace(**{name: _plain(v, FURTHER_FIELDS.get(name if name != "steps" else "step"))
                              for name, v in names.items()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=5_000)
    parser.add_argument("--repeats", type=int, default=16)
    parser.add_argument("--baseline", default="main", help="git revision of the baseline floor (default main)")
    args = parser.parse_args()

    book = rulebook.load()
    base = baseline_floor(args.baseline)
    plain = [book.validate(c).case for c in generate(args.cases, seed=2026)]
    rich = [book.validate(c).case for c in generate(args.cases, seed=2026, further=True)]
    declared = [_plain(m) for m in rich]
    for m, d in zip(rich, declared):
        if floor.judge(m, None, True) != floor.judge(d, None, True):
            raise SystemExit(f"the plain copy of {m.case_id} is judged differently")
    for m in plain:  # further=False must give the baseline's answers, or the timing means nothing
        if floor.judge(m) != base.judge(m):
            raise SystemExit(f"floor.judge differs from the baseline on {m.case_id}")

    judge, old = floor.judge, base.judge

    def baseline_all():
        for m in plain:
            old(m)

    def requirements_all():
        for m in plain:
            judge(m)

    def further_plain_all():
        for m in plain:
            judge(m, None, True)

    def further_rich_all():
        for m in rich:
            judge(m, None, True)

    def further_declared_all():
        for m in declared:
            judge(m, None, True)

    phases = [("baseline", baseline_all), ("further=False", requirements_all),
              ("further=True", further_plain_all), ("further=True, further facts", further_rich_all),
              ("further=True, further facts as declared fields", further_declared_all)]
    for _, fn in phases:
        fn()  # warm up
    gc.collect()
    gc.freeze()
    best = {name: float("inf") for name, _ in phases}
    for round_ in range(args.repeats):
        turn = round_ % len(phases)   # each phase takes each place in the round in turn
        for name, fn in phases[turn:] + phases[:turn]:
            start = time.thread_time()
            fn()
            best[name] = min(best[name], time.thread_time() - start)
    per_case = {name: seconds / args.cases * 1e6 for name, seconds in best.items()}

    print(f"bench/floor.py — {args.cases:,} generated cases (seed 2026), best of {args.repeats} "
          f"interleaved rounds; baseline: bench/floor.py at {args.baseline}")
    print()
    print("| judge | µs per case | × baseline |")
    print("| --- | ---: | ---: |")
    for name, _ in phases:
        print(f"| {name} | {per_case[name]:.2f} | {per_case[name] / per_case['baseline']:.2f} |")


if __name__ == "__main__":
    main()
