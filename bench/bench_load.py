"""Benchmark of loading input (`python bench/bench_load.py --baseline SRC`): µs per case of

  - read:     JSON Lines bytes → documents (`load_bytes`: what `rulebook check` and watch do);
  - validate: one line's bytes → a validated snapshot (`Rulebook.validate`: the audit's batch
              path and the service's);
  - yaml:     a YAML file → its document (`load_bytes`).

Each document is dropped once read, as `check` and the audit do (a document keeps its parsed
nodes for `locate`, so holding thousands of them costs the collector more).

Each figure is the best of several runs of a new process per tree, in interleaved rounds (this
tree, then the baseline, round after round): on a shared, noisy machine a change is the ratio of
two figures measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

_ONE_RUN = r"""
import sys, time, orjson, yaml
sys.path.insert(0, sys.argv[1])
from samples import generate
import rulebook
from rulebook.input.documents import load_bytes
cases = generate(int(sys.argv[2]), seed=2026)
raw = [orjson.dumps(c) for c in cases]
batch = b"\n".join(raw) + b"\n"
texts = [yaml.safe_dump(c, allow_unicode=True).encode() for c in orjson.loads(orjson.dumps(cases[:500]))]
book = rulebook.load()
def best(fn, n, repeats=3):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times) / n * 1e6
read = best(lambda: sum(1 for _ in load_bytes(batch, "cases.jsonl")), len(raw))
validate = best(lambda: [book.validate(r) for r in raw], len(raw))
yaml_ = best(lambda: sum(1 for t in texts for _ in load_bytes(t, "case.yaml")), len(texts))
print(f"{read:.2f} {validate:.2f} {yaml_:.2f}")
"""


def run(tree: Path, cases: int) -> list[float]:
    env = dict(os.environ, PYTHONPATH=str(tree / "src"), RULEBOOK_CACHE="off")
    out = subprocess.run([sys.executable, "-c", _ONE_RUN, str(HERE), str(cases)], env=env, check=True,
                         capture_output=True, text=True).stdout
    return [float(x) for x in out.split()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline", type=Path, default=None, metavar="SRC",
                        help="another source tree of rulebook (a `git worktree` of main, say)")
    args = parser.parse_args()
    trees = {"this tree": HERE.parent}
    if args.baseline is not None:
        trees["baseline"] = args.baseline.resolve()
    best: dict[str, list[float]] = {}
    for _ in range(args.rounds):
        for name, tree in trees.items():
            got = run(tree, args.cases)
            best[name] = [min(a, b) for a, b in zip(best.get(name, got), got)]
    print(f"{'tree':<10} {'read µs':>9} {'validate µs':>12} {'yaml µs':>9}")
    for name, (read, validate, yaml_) in best.items():
        print(f"{name:<10} {read:9.2f} {validate:12.2f} {yaml_:9.1f}")
    if "baseline" in best:
        ratios = [b / t for t, b in zip(best["this tree"], best["baseline"])]
        print("baseline / this tree (above 1: this tree is faster): "
              + ", ".join(f"{k} {r:.2f}×" for k, r in zip(("read", "validate", "yaml"), ratios)))


if __name__ == "__main__":
    main()
