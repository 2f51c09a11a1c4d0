"""Benchmark of `rulebook serve` (`make bench-serve`): a real load generator (hey) against a real
server on loopback.

For 1 and 2 uvicorn workers: p50 / p99 latency and errors at a steady 200 requests/s of
POST /v1/check with the worked example, then the saturation throughput (as many requests
as 16 connections can send). Every request goes to 127.0.0.1 only, for a bounded time.

Then, with one worker, small requests while batches run: two clients send 1 MiB batches to
POST /v1/check/batch one after the other, while hey sends GET /healthz and POST /v1/check at a
steady rate; their p50 / p99 show whether a batch holds the small requests up. With --baseline
SRC (another source tree of rulebook, e.g. a `git worktree` of the code before), the same runs
with that tree's server too, in interleaved rounds: before and after, in one run.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import orjson
import yaml

from samples import make_case

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hey(url: str, body: Path | None, seconds: int, connections: int, rate: float | None) -> dict:
    """Requests/s, p50 and p99 in ms and errors of `seconds` of requests from hey (POST of `body`,
    or GET without one), the percentiles from every request's time (hey's CSV output)."""
    command = ["hey", "-z", f"{seconds}s", "-c", str(connections), "-o", "csv"]
    if body is not None:
        command += ["-m", "POST", "-T", "application/json", "-D", str(body)]
    if rate is not None:
        command += ["-q", f"{rate / connections:.2f}"]
    out = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    rows = [line.split(",") for line in out.splitlines()[1:] if line]
    times = sorted(float(row[0]) * 1000 for row in rows)
    errors = sum(row[6] != "200" for row in rows)

    def percentile(p: float) -> float:
        return times[min(len(times) - 1, int(p / 100 * len(times)))] if times else float("nan")

    return {"rps": len(rows) / seconds, "p50": percentile(50), "p99": percentile(99), "errors": errors,
            "count": len(rows)}


def start_server(workers: int, source: Path | None = None) -> tuple[subprocess.Popen, str]:
    """`rulebook serve` on a free port, answering; with `source`, that tree's rulebook."""
    port = free_port()
    env = dict(os.environ)
    if source is not None:
        env["PYTHONPATH"] = str(source / "src") + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    server = subprocess.Popen([str(Path(sys.executable).with_name("rulebook")), "serve", "--port", str(port),
                               "--workers", str(workers)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    return server, base


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(timeout=20)


def throughput(body: Path, seconds: int) -> None:
    print(f"rulebook serve — POST /v1/check of the worked example, {seconds} s a run, loopback, hey")
    print()
    print("| workers | load | requests/s | p50 ms | p99 ms | errors |")
    print("| ---: | --- | ---: | ---: | ---: | ---: |")
    for workers in (1, 2):
        server, base = start_server(workers)
        url = f"{base}/v1/check"
        try:
            hey(url, body, 2, 4, None)  # warm up every worker
            steady = hey(url, body, seconds, 4, 200)
            top = hey(url, body, seconds, 16, None)
            for name, r in (("200 req/s", steady), ("saturation", top)):
                print(f"| {workers} | {name} | {r['rps']:,.0f} | {r['p50']:.1f} | {r['p99']:.1f} | {r['errors']} |")
        finally:
            stop(server)


def batch_body(size: int) -> bytes:
    """About `size` bytes of JSON Lines: generated cases, one a line."""
    rng, lines, total = random.Random(2026), [], 0
    while total < size:
        lines.append(orjson.dumps(make_case(rng, len(lines))))
        total += len(lines[-1]) + 1
    return b"\n".join(lines) + b"\n"


def under_batches(base: str, body: Path, batch: bytes, seconds: int, rate: float) -> dict:
    """p50 / p99 of GET /healthz and POST /v1/check at `rate` requests/s each while two clients
    send `batch` to POST /v1/check/batch over and over; and the batches' cases per second."""
    stop_at = time.monotonic() + seconds + 1
    judged = [0, 0]

    def send_batches(slot: int) -> None:
        with httpx.Client(timeout=120) as client:
            while time.monotonic() < stop_at:
                with client.stream("POST", f"{base}/v1/check/batch", content=batch) as answer:
                    for line in answer.iter_lines():
                        judged[slot] += bool(line)

    senders = [threading.Thread(target=send_batches, args=(slot,)) for slot in range(2)]
    for sender in senders:
        sender.start()
    time.sleep(1)  # the batches are under way before the small requests start
    figures: dict = {}
    probes = {"GET /healthz": (f"{base}/healthz", None), "POST /v1/check": (f"{base}/v1/check", body)}
    runners = [threading.Thread(target=lambda name=name, url=url, data=data: figures.__setitem__(
        name, hey(url, data, seconds, 2, rate))) for name, (url, data) in probes.items()]
    for runner in runners:
        runner.start()
    for runner in runners + senders:
        runner.join()
    figures["batch cases/s"] = sum(judged) / (seconds + 1)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2, help="rounds of the runs under batches (best p99 kept)")
    parser.add_argument("--baseline", type=Path, default=None, metavar="SRC",
                        help="also run another rulebook source tree's server under batches, in interleaved rounds")
    parser.add_argument("--only-batches", action="store_true", help="skip the throughput table")
    args = parser.parse_args()
    if shutil.which("hey") is None:
        raise SystemExit("bench-serve needs `hey` (Debian: apt-get install hey)")
    if args.baseline is not None and not (args.baseline / "src" / "rulebook").is_dir():
        parser.error(f"{args.baseline} is not a rulebook source tree (no src/rulebook)")
    work = Path(tempfile.mkdtemp(prefix="rulebook-bench-serve-"))
    body = work / "seed.json"
    body.write_bytes(orjson.dumps(yaml.safe_load((ROOT / "examples" / "seed-case.yaml").read_text(encoding="utf-8"))))
    batch = batch_body(2**20)
    trees = {"this tree": None}
    if args.baseline is not None:
        trees["baseline"] = args.baseline.resolve()
    try:
        if not args.only_batches:
            throughput(body, args.seconds)
            print()
        runs: dict = {name: [] for name in trees}
        for _ in range(args.rounds):
            for name, source in trees.items():
                server, base = start_server(1, source)
                try:
                    hey(f"{base}/v1/check", body, 2, 4, None)  # warm up
                    runs[name].append(under_batches(base, body, batch, args.seconds, 20))
                finally:
                    stop(server)
        lines = batch.count(b"\n")
        print(f"rulebook serve --workers 1 — GET /healthz and POST /v1/check at 20 requests/s each (hey, 2 "
              f"connections each) while two clients send 1 MiB batches ({lines} cases) one after the other; "
              f"{args.seconds} s a run, best p99 of {args.rounds} interleaved rounds")
        print()
        print("| code | request | p50 ms | p99 ms | errors | batches: cases/s |")
        print("| --- | --- | ---: | ---: | ---: | ---: |")
        best: dict = {}
        for name, results in runs.items():
            for probe in ("GET /healthz", "POST /v1/check"):
                pick = min(results, key=lambda r: r[probe]["p99"])
                best[(name, probe)] = pick[probe]["p99"]
                print(f"| {name} | {probe} | {pick[probe]['p50']:.1f} | {pick[probe]['p99']:.1f} | "
                      f"{sum(r[probe]['errors'] for r in results)} | {pick['batch cases/s']:,.0f} |")
        if args.baseline is not None:
            print()
            for probe in ("GET /healthz", "POST /v1/check"):
                print(f"p99 of {probe} while batches run: {best[('baseline', probe)] / best[('this tree', probe)]:.1f}× "
                      "lower than the baseline's")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
