"""Benchmark of `rulebook serve` (`make bench-serve`): a real load generator (hey) against a real
server on loopback.

For 1 and 2 uvicorn workers: p50 / p99 latency and errors at a steady 200 requests/s of
POST /v1/check with the worked example, then the saturation throughput (as many requests
as 16 connections can send). Every request goes to 127.0.0.1 only, for a bounded time.
"""

from __future__ import annotations

import argparse
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson
import yaml

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hey(url: str, body: Path, seconds: int, connections: int, rate: float | None) -> dict:
    command = ["hey", "-z", f"{seconds}s", "-c", str(connections), "-m", "POST", "-T", "application/json",
               "-D", str(body)]
    if rate is not None:
        command += ["-q", f"{rate / connections:.2f}"]
    out = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    latencies = {m.group(1): float(m.group(2)) * 1000 for m in re.finditer(r"(\d+)% in ([\d.]+) secs", out)}
    codes = {int(m.group(1)): int(m.group(2)) for m in re.finditer(r"\[(\d+)\]\s+(\d+) responses", out)}
    errors = sum(n for code, n in codes.items() if code != 200) + len(re.findall(r"Error distribution", out))
    return {"rps": rps, "p50": latencies.get("50"), "p99": latencies.get("99"), "errors": errors, "codes": codes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    if shutil.which("hey") is None:
        raise SystemExit("bench-serve needs `hey` (Debian: apt-get install hey)")
    work = Path(tempfile.mkdtemp(prefix="rulebook-bench-serve-"))
    body = work / "seed.json"
    body.write_bytes(orjson.dumps(yaml.safe_load((ROOT / "examples" / "seed-case.yaml").read_text(encoding="utf-8"))))
    print(f"rulebook serve — POST /v1/check of the worked example, {args.seconds} s a run, loopback, hey")
    print()
    print("| workers | load | requests/s | p50 ms | p99 ms | errors |")
    print("| ---: | --- | ---: | ---: | ---: | ---: |")
    try:
        for workers in (1, 2):
            port = free_port()
            server = subprocess.Popen([str(Path(sys.executable).with_name("rulebook")), "serve", "--port", str(port),
                                       "--workers", str(workers)], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)
            url = f"http://127.0.0.1:{port}/v1/check"
            try:
                for _ in range(200):
                    try:
                        if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                            break
                    except httpx.HTTPError:
                        time.sleep(0.1)
                hey(url, body, 2, 4, None)  # warm up every worker
                steady = hey(url, body, args.seconds, 4, 200)
                top = hey(url, body, args.seconds, 16, None)
                for name, r in (("200 req/s", steady), ("saturation", top)):
                    print(f"| {workers} | {name} | {r['rps']:,.0f} | {r['p50']:.1f} | {r['p99']:.1f} | {r['errors']} |")
            finally:
                server.terminate()
                server.wait(timeout=20)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
