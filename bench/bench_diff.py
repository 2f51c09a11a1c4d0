"""bench_diff: `rulebook diff` against the way one would do it without it, two `rulebook check` runs.

Generates sample cases (bench/samples.py) as JSON Lines and a copy of the bundled rulebook with
the report deadline at 5 days instead of 10, then runs, as new processes, in interleaved rounds:
two `rulebook check --format jsonl` (one per rulebook, texts and all, to files), and
`rulebook diff --format json` with 1 and 2 jobs (to a file). It prints seconds, CPU seconds (the
command and its workers), peak memory (the largest process), and each as a ratio to the two
checks measured in the same round. With --big N it also runs the diff on N cases, to show that
its memory does not grow with the input.

    .venv/bin/python bench/bench_diff.py --cases 20000 --big 100000 --rounds 2
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from samples import generate  # noqa: E402

RULEBOOK = [sys.executable, "-m", "rulebook.apps.cli"]


def measure(commands: list[list[str]]) -> tuple[float, float, int]:
    """Seconds, CPU seconds and peak RSS (KiB, of the largest process) of commands run one after
    the other, each in a process of its own under a small wrapper that reports its children."""
    wrapper = ("import resource, subprocess, sys, json\n"
               "p = subprocess.run(json.loads(sys.argv[1]), stdout=open(sys.argv[2], 'wb'))\n"
               "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
               "print(json.dumps([u.ru_utime + u.ru_stime, u.ru_maxrss, p.returncode]))\n")
    seconds = cpu = 0.0
    peak = 0
    for i, command in enumerate(commands):
        out = Path(tempfile.gettempdir()) / f"bench-diff-{os.getpid()}-{i}.out"
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", wrapper, json.dumps(command), str(out)], capture_output=True,
                              text=True, check=True)
        seconds += time.perf_counter() - start
        used, rss, code = json.loads(done.stdout)
        assert code in (0, 1, 3), (command, code)
        cpu += used
        peak = max(peak, rss)
        out.unlink()
    return seconds, cpu, peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=20000)
    parser.add_argument("--big", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-diff-"))
    try:
        new = work / "five"
        shutil.copytree(ROOT / "rules", new, ignore=shutil.ignore_patterns("tests"))
        params = new / "parameters.rules"
        params.write_text(params.read_text(encoding="utf-8").replace("value 10 days from", "value 5 days from"),
                          encoding="utf-8")
        sizes = [args.cases] + ([args.big] if args.big else [])
        inputs = {}
        for size in sizes:
            path = work / f"cases-{size}.jsonl"
            with open(path, "w", encoding="utf-8") as fh:
                for case in generate(size, seed=15):
                    fh.write(json.dumps(case, ensure_ascii=False) + "\n")
            inputs[size] = str(path)
        rules = str(ROOT / "rules")
        runs = {
            "two checks": [RULEBOOK + ["check", inputs[args.cases], "--format", "jsonl", "--rules", rules],
                           RULEBOOK + ["check", inputs[args.cases], "--format", "jsonl", "--rules", str(new)]],
            "diff, 1 job": [RULEBOOK + ["diff", rules, str(new), inputs[args.cases], "--format", "json", "--jobs", "1"]],
            "diff, 2 jobs": [RULEBOOK + ["diff", rules, str(new), inputs[args.cases], "--format", "json", "--jobs", "2"]],
        }
        best: dict = {}
        for _ in range(args.rounds):
            for name, commands in runs.items():
                got = measure(commands)
                if name not in best or got[0] < best[name][0]:
                    best[name] = got
        base = best["two checks"]
        print(f"{args.cases:,} cases, best of {args.rounds} interleaved rounds")
        print("| run | seconds | × two checks | CPU seconds | × two checks | peak RSS |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for name, (seconds, cpu, peak) in best.items():
            print(f"| {name} | {seconds:.1f} | {seconds / base[0]:.2f} | {cpu:.1f} | {cpu / base[1]:.2f} | "
                  f"{peak / 1024:.0f} MiB |")
        if args.big:
            seconds, cpu, peak = measure([RULEBOOK + ["diff", rules, str(new), inputs[args.big], "--format", "json",
                                                      "--jobs", "2"]])
            print(f"diff, 2 jobs, {args.big:,} cases: {seconds:.1f} s, {cpu:.1f} CPU s, peak RSS {peak / 1024:.0f} MiB "
                  f"(against {best['diff, 2 jobs'][2] / 1024:.0f} MiB at {args.cases:,})")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
