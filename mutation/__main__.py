"""`make mutate`: mutation testing of what decides a verdict or money, then the report.

    python -m mutation [--jobs 2] [--sample N] [--only PREFIX] [--python-only | --rules-only]

1. mutmut over the modules named in pyproject.toml's [tool.mutmut] (the engine's compile,
   expressions, evaluate, runtime and days; output/explain.py; input/snapshot.py), each mutant against the
   in-process tests that reach the mutated function (mutmut keeps its results in `mutants/`, and a
   second run only runs what changed);
2. mutation/rules.py over rules/*.rules, each mutant against the tests that read the rulebook;
3. mutation/report.py: docs/MUTATION.md, the score of each area and every survivor.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from importlib import metadata

from . import report, rules


def run_mutmut(jobs: int, sample: int = 1, only: tuple[str, ...] = ()) -> dict:
    """mutmut over every mutant, or over one in `sample` of them (every sample-th of the names in
    order: the same ones every time), or of those whose names start with one of `only`."""
    started = time.monotonic()
    names: list[str] = []
    if sample > 1 or only:
        # mutmut makes the mutants (and learns which tests reach which function) on its first
        # run; a run naming one mutant does that much, then the sample runs.
        if not (report.ROOT / "mutants").is_dir():
            first = None
        else:
            first = next(iter(report.mutmut_outcomes()), None)
        if first is None:
            subprocess.run([sys.executable, "-m", "mutmut", "run", "--max-children", str(jobs),
                            "rulebook.engine.days.x_add_days__mutmut_1"], cwd=report.ROOT, check=True)
        names = [name for name in sorted(report.mutmut_outcomes(), key=report._natural)[::sample]
                 if not only or name.startswith(only)]
    subprocess.run([sys.executable, "-m", "mutmut", "run", "--max-children", str(jobs), *names], cwd=report.ROOT,
                   check=True)
    return {"seconds": round(time.monotonic() - started), "jobs": jobs, "mutmut": metadata.version("mutmut"),
            "sample": sample, "only": list(only)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mutation", description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--sample", type=int, default=1, metavar="N",
                        help="run mutmut on one Python mutant in N (all of them by default)")
    parser.add_argument("--only", action="append", default=[], metavar="PREFIX",
                        help="run mutmut only on the Python mutants whose names start so "
                             "(rulebook.engine., rulebook.output.explain); may be given again")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--python-only", action="store_true")
    which.add_argument("--rules-only", action="store_true")
    args = parser.parse_args(argv)
    if not args.rules_only:
        meta = run_mutmut(args.jobs, args.sample, tuple(args.only))
        meta["mutants"] = report.collect_python()
        report.PYTHON_RESULTS.parent.mkdir(parents=True, exist_ok=True)
        report.PYTHON_RESULTS.write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    if not args.python_only:
        rules.main(["--jobs", str(args.jobs), "--out", str(report.RULES_RESULTS)])
    return report.main([])


if __name__ == "__main__":
    sys.exit(main())
