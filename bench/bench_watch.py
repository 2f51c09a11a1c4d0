"""Benchmark of `rulebook watch` (`make bench-watch`): events/s and memory as the number of live cases grows.

The log is what the secretariat would watch: the events of 400 varied cases (about 11 events
a case, see `samples.generate_events`), copied under distinct case ids and merged in time
order, so that every size has the same mix of cases and only their number changes. For each
size (2,000 and 20,000 live cases by default), `rulebook watch LOG --out FILE` runs as a new
process, as a user runs it, and the bench reports:

- events per CPU second of the process (user and system: what the events cost a core,
  whatever else the machine runs), without the start-up (the CPU time of the same command on
  a log of one event, taken off), and per second of wall time;
- the peak resident memory of the process, and the memory per live case: the difference
  of the peaks of the two sizes divided by the difference of their numbers of cases;
- the ratio of the rates at the largest and the smallest size (1.0: cost flat in the
  number of cases);
- the digest of the alerts written.

With --baseline SRC (another source tree of rulebook, e.g. a `git worktree` of main), the same
runs use that tree's code too, in interleaved rounds (best of each), and the bench says
whether both wrote the same alerts, byte for byte.

With --recheck, it also times, in this process on the smallest log, what the watcher
replaces: re-reading each event into the case's snapshot and computing the whole `check`
verdict again, and what that must add to see deadlines pass (every case re-checked once a
day the log spans).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import sys
import tempfile
import time
from pathlib import Path

import orjson

from measure import run_measured
from samples import generate_events

RULEBOOK = str(Path(sys.executable).with_name("rulebook"))


def write_log(path: Path, cases: int, base: int = 400, per_case: int = 11, seed: int = 2026) -> int:
    """The events of `base` varied cases copied under distinct ids up to `cases` cases, merged in
    time order (the copies of an event follow each other); the number of events written."""
    events = generate_events(base, base * per_case, seed)
    copies = max(1, cases // base)
    written = 0
    with open(path, "wb") as fh:
        for event in events:
            for copy in range(copies):
                case_id = f"{event['case_id']}-{copy:03d}"
                renamed = dict(event, case_id=case_id)
                if "snapshot" in event:
                    renamed["snapshot"] = dict(event["snapshot"], case_id=case_id)
                fh.write(orjson.dumps(renamed) + b"\n")
                written += 1
    return written


def run_watch(log: Path, out: Path, source: Path | None = None) -> tuple[float, float, int, str]:
    """(wall seconds, CPU seconds, peak RSS in KiB, sha256 of the alerts) of `rulebook watch` on
    `log` in a fresh process; with `source`, the rulebook of that source tree."""
    wall, cpu, rss, code, stderr = run_measured([RULEBOOK, "watch", str(log), "--out", str(out)], source)
    if code != 0:
        raise SystemExit(f"rulebook watch failed ({code}): {stderr[-2000:]}")
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    out.unlink()
    return wall, cpu, rss, digest


# ---------------------------------------------------------------- against re-checking

def run_watcher(book, lines: list[bytes]) -> tuple[float, int]:
    from rulebook.apps.watch import ALERT_FORMAT, Watcher

    watcher = Watcher(book)
    alerts = 0
    start = time.process_time()
    for number, line in enumerate(lines, 1):
        for item in watcher.feed(orjson.loads(line), "bench", number):
            alerts += item["format"] == ALERT_FORMAT
    return time.process_time() - start, alerts


def run_recheck(book, lines: list[bytes]) -> tuple[float, int]:
    """Every line applied to the case's snapshot, then the whole `check` verdict computed again
    and its statuses compared with the case's previous ones: the same status changes, without
    the reminders and the changes by time alone, which it cannot see."""
    from rulebook.input.snapshot import set_path, unset_path

    snapshots: dict[str, dict] = {}
    standing: dict[str, dict] = {}
    changes = 0
    start = time.process_time()
    for line in lines:
        event = orjson.loads(line)
        case_id = event["case_id"]
        snapshot = event.get("snapshot") or orjson.loads(orjson.dumps(snapshots[case_id]))
        for path, value in (event.get("set") or {}).items():
            if value is None:
                unset_path(snapshot, path)
            else:
                set_path(snapshot, path, value)
        snapshot["as_of"] = event["at"][:10]
        verdict = book.judge(snapshot)
        if verdict["format"] != "rulebook.verdict/v1":
            continue
        snapshots[case_id] = snapshot
        now = {(r["rule"], r["subject"]): r["status"] for r in verdict["results"]}
        before = standing.get(case_id, {})
        changes += sum(1 for key, status in now.items() if before.get(key) != status)
        standing[case_id] = now
    return time.process_time() - start, changes


def sweep_seconds(book, lines: list[bytes]) -> tuple[float, int]:
    """(CPU seconds for one sweep that re-checks every case of the log, days the log spans)."""
    snapshots: dict[str, dict] = {}
    for line in lines:
        event = orjson.loads(line)
        if "snapshot" in event:
            snapshots[event["case_id"]] = event["snapshot"]
    first = orjson.loads(lines[0])["at"][:10]
    last = orjson.loads(lines[-1])["at"][:10]
    start = time.process_time()
    for snapshot in snapshots.values():
        book.judge(snapshot, as_of=last)
    days = (dt.date.fromisoformat(last) - dt.date.fromisoformat(first)).days + 1
    return time.process_time() - start, days


def against_recheck(log: Path, rounds: int) -> None:
    from rulebook import load

    book = load()
    lines = log.read_bytes().splitlines()
    watched = checked = float("inf")
    for _round in range(rounds):  # interleaved, best of each
        seconds, alerts = run_watcher(book, lines)
        watched = min(watched, seconds)
        seconds, changes = run_recheck(book, lines)
        checked = min(checked, seconds)
    print(f"\nin this process, {len(lines):,} events (CPU time, best of {rounds}):")
    print(f"  Watcher.feed:                              {len(lines) / watched:9,.0f} events/s ({alerts:,} alerts)")
    print(f"  re-check the whole case after every event: {len(lines) / checked:9,.0f} events/s "
          f"({changes:,} status changes); watch is {checked / watched:.2f}x that")
    sweep, days = sweep_seconds(book, lines)
    daily = checked + sweep * days
    print(f"  re-check after every event and every case once a day (to see deadlines pass): "
          f"{len(lines) / daily:,.0f} events/s ({days} days x {sweep:.2f} s a sweep); watch is {daily / watched:.1f}x that")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2_000, 20_000], metavar="CASES",
                        help="numbers of live cases (multiples of 400)")
    parser.add_argument("--rounds", type=int, default=2, help="best of this many interleaved rounds")
    parser.add_argument("--baseline", type=Path, default=None, metavar="SRC",
                        help="another rulebook source tree to run in the same rounds")
    parser.add_argument("--recheck", action="store_true", help="also time re-checking, on the smallest log")
    args = parser.parse_args()
    if args.baseline is not None and not (args.baseline / "src" / "rulebook").is_dir():
        parser.error(f"{args.baseline} is not a rulebook source tree (no src/rulebook)")
    sizes = sorted(set(args.sizes))
    trees: dict[str, Path | None] = {"this tree": None}
    if args.baseline is not None:
        trees["baseline"] = args.baseline.resolve()

    with tempfile.TemporaryDirectory(prefix="bench-watch-") as work:
        work = Path(work)
        logs, events = {}, {}
        for size in sizes:
            logs[size] = work / f"log-{size}.jsonl"
            events[size] = write_log(logs[size], size)
            print(f"{size:,} live cases: {events[size]:,} events ({logs[size].stat().st_size / 2**20:.0f} MiB of JSON Lines)")
        one = work / "one-event.jsonl"
        one.write_bytes(logs[sizes[0]].open("rb").readline())
        start: dict[str, float] = {}
        best: dict[tuple[str, int], list] = {}
        for _round in range(args.rounds):
            for name, source in trees.items():
                start[name] = min(start.get(name, float("inf")), run_watch(one, work / "alerts.jsonl", source)[1])
            for size in sizes:
                for name, source in trees.items():
                    wall, cpu, rss, digest = run_watch(logs[size], work / "alerts.jsonl", source)
                    got = best.setdefault((name, size), [wall, cpu, rss, digest])
                    got[0], got[1], got[2] = min(got[0], wall), min(got[1], cpu), max(got[2], rss)
                    if got[3] != digest:
                        raise SystemExit(f"{name} wrote other alerts from one run to the next at {size} cases")

        print(f"\n`rulebook watch LOG --out FILE`, a new process each run, best of {args.rounds} interleaved rounds "
              f"(start-up: {', '.join(f'{name} {seconds:.2f} CPU s' for name, seconds in start.items())}):")
        print(f"{'code':>10} {'live cases':>11} {'events':>9} {'CPU s':>7} {'events/CPU s':>13} {'events/s':>9} "
              f"{'peak RSS':>9}")
        for (name, size), (wall, cpu, rss, _digest) in sorted(best.items(), key=lambda item: (item[0][0] != "this tree",
                                                                                                  item[0][1])):
            print(f"{name:>10} {size:>11,} {events[size]:>9,} {cpu:>7.1f} {events[size] / (cpu - start[name]):>13,.0f} "
                  f"{events[size] / wall:>9,.0f} {rss / 1024:>5,.0f} MiB")
        small, large = sizes[0], sizes[-1]
        for name in trees if large != small else ():
            rate = {size: events[size] / (best[(name, size)][1] - start[name]) for size in sizes}
            per_case = (best[(name, large)][2] - best[(name, small)][2]) / (large - small)
            print(f"{name}: rate at {large:,} cases / rate at {small:,}: {rate[large] / rate[small]:.2f} "
                  f"(in CPU time); memory per live case: {per_case:,.1f} KiB")
        if args.baseline is not None:
            for size in sizes:
                same = best[("this tree", size)][3] == best[("baseline", size)][3]
                cpu = {name: best[(name, size)][1] - start[name] for name in trees}
                print(f"at {size:,} cases: this tree is {cpu['baseline'] / cpu['this tree']:.2f}x "
                      f"the baseline's rate (CPU), {best[('baseline', size)][2] / best[('this tree', size)][2]:.1f}x "
                      f"less peak memory; alerts {'identical, byte for byte' if same else 'DIFFERENT'}")
        if args.recheck:
            against_recheck(logs[small], args.rounds)


if __name__ == "__main__":
    main()
