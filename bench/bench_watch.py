"""Benchmark of `rulebook watch` (`make bench-watch`): events/s, against re-checking after every event.

Generates an event log (by default 100,000 events over 5,000 cases, see
`samples.generate_events`) as JSON Lines, then times in this process:

- the watcher: every line parsed and fed to `Watcher.feed` (durable_rules sessions,
  the compiled rules, alerts for what changed);
- the baseline: every line parsed and applied to the case's snapshot, then the whole
  `rulebook check` verdict computed again (`Rulebook.judge`, with every text) and its
  statuses compared with the case's previous ones, giving the same status changes
  (without the reminders and the changes by time alone, which it cannot see);
- what the baseline must add to see those: a sweep re-checking every case, once for
  each day the log spans (one sweep is timed, and multiplied).

Both runs read the same lines, in interleaved rounds (best of each); the figure that
matters is their ratio, measured in the same run (the machine is shared).
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import time

import orjson

from rulebook import load
from samples import generate_events
from rulebook.input.snapshot import set_path, unset_path
from rulebook.apps.watch import ALERT_FORMAT, Watcher


def run_watcher(book, lines: list[bytes]) -> tuple[float, int]:
    watcher = Watcher(book)
    alerts = 0
    start = time.perf_counter()
    for number, line in enumerate(lines, 1):
        for item in watcher.feed(orjson.loads(line), "bench", number):
            alerts += item["format"] == ALERT_FORMAT
    return time.perf_counter() - start, alerts


def sweep_seconds(book, lines: list[bytes]) -> tuple[float, int]:
    """(seconds for one sweep that re-checks every case of the log, days the log spans): what
    re-checking must add, every day, to see what time alone changes."""
    snapshots: dict[str, dict] = {}
    for line in lines:
        event = orjson.loads(line)
        if "snapshot" in event:
            snapshots[event["case_id"]] = event["snapshot"]
    first = orjson.loads(lines[0])["at"][:10]
    last = orjson.loads(lines[-1])["at"][:10]
    start = time.perf_counter()
    for snapshot in snapshots.values():
        book.judge(snapshot, as_of=last)
    days = (dt.date.fromisoformat(last) - dt.date.fromisoformat(first)).days + 1
    return time.perf_counter() - start, days


def run_baseline(book, lines: list[bytes]) -> tuple[float, int]:
    snapshots: dict[str, dict] = {}
    standing: dict[str, dict] = {}
    changes = 0
    start = time.perf_counter()
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
    return time.perf_counter() - start, changes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--cases", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--rounds", type=int, default=2, help="best of this many interleaved rounds")
    args = parser.parse_args()

    book = load()
    lines = [orjson.dumps(event) for event in generate_events(args.cases, args.events, args.seed)]
    print(f"{len(lines):,} events over {args.cases:,} cases "
          f"({sum(map(len, lines)) / 2**20:.1f} MiB of JSON Lines)")
    watched = checked = float("inf")
    peak_mib = 0.0
    for _round in range(args.rounds):  # interleaved, best of each: the machine is shared
        seconds, alerts = run_watcher(book, lines)
        watched = min(watched, seconds)
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        seconds, changes = run_baseline(book, lines)
        checked = min(checked, seconds)
    print(f"watch (durable_rules sessions + compiled rules): {len(lines) / watched:9,.0f} events/s "
          f"({watched:.1f} s, {alerts:,} alerts; peak RSS of this process {peak_mib:.0f} MiB)")
    print(f"re-check the whole case after every event:       {len(lines) / checked:9,.0f} events/s "
          f"({checked:.1f} s, {changes:,} status changes)")
    print(f"watch is {checked / watched:.2f}x the speed of re-checking")
    sweep, days = sweep_seconds(book, lines)
    daily = checked + sweep * days
    print(f"re-check after every event, and every case once a day (to see deadlines pass): "
          f"{len(lines) / daily:,.0f} events/s ({days} days x {sweep:.1f} s a sweep + {checked:.1f} s); "
          f"watch is {daily / watched:.1f}x that")


if __name__ == "__main__":
    main()
