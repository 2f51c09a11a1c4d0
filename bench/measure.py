"""measure: a command run as a new process, with its wall time, CPU time and peak memory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

_SCRIPT = ("import resource, subprocess, sys, time\n"
           "t = time.perf_counter(); code = subprocess.run(sys.argv[1:]).returncode\n"
           "t = time.perf_counter() - t\n"
           "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
           "print(t, u.ru_utime + u.ru_stime, u.ru_maxrss, code)")


def run_measured(command: list[str], source: Path | None = None) -> tuple[float, float, int, int, str]:
    """(wall seconds, CPU seconds, peak RSS in KiB, exit code, stderr) of `command` run by a fresh
    Python process that waits for it; with `source`, the rulebook of that source tree (its `src`
    first on the path). The CPU time (user and system, of the command and of its children) is
    what the work costs the cores, whatever else the machine runs at the time; the peak RSS is
    the largest of its processes'."""
    env = dict(os.environ)
    if source is not None:
        env["PYTHONPATH"] = str(source / "src") + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    result = subprocess.run([sys.executable, "-c", _SCRIPT, *command], capture_output=True, text=True, check=True,
                            env=env)
    wall, cpu, rss, code = result.stdout.split()
    return float(wall), float(cpu), int(rss), int(code), result.stderr


def best_of_rounds(stages: dict, rounds: int) -> dict:
    """Each stage (a function of no argument) run once per round, the stages interleaved, after the
    collector has moved what is loaded out of its way; the least CPU seconds of this thread each
    took, by name."""
    import gc
    import time

    gc.collect()
    gc.freeze()
    best = dict.fromkeys(stages, float("inf"))
    for _ in range(rounds):
        for name, stage in stages.items():
            start = time.thread_time()
            stage()
            best[name] = min(best[name], time.thread_time() - start)
    return best
