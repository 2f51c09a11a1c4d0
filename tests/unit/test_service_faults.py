"""Service workers killed with SIGKILL under load (`rulebook serve --workers 2`, a real process).

uvicorn's supervisor (uvicorn >= 0.30) checks its workers every half second and starts a new one
for each that died. What a client may see meanwhile is an error it can retry — a refused or
reset connection, a response cut short (httpx raises; a streamed batch ends without HTTP's
terminating chunk), or a 5xx — and never a complete answer that differs from the one the
rulebook gives in-process. `make fuzz-serve` repeats the test with many kills
(RULEBOOK_KILLS, RULEBOOK_KILL_SEED). Linux only: workers are found through /proc.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import h11
import httpx
import orjson
import pytest
import yaml

import rulebook
from rulebook.output.explain import dumps
from samples import generate

from ..conftest import EXAMPLES
from .test_service import start

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds workers through /proc")

WORKERS = 2
HANG = 60  # seconds: a bound for hangs only, never a timing assertion
DAY = dt.date(2021, 3, 10)


def workers(parent: int) -> set[int]:
    """The live uvicorn workers of the server process (its multiprocessing children; not zombies,
    not multiprocessing's resource tracker)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            state, ppid = stat[stat.rindex(")") + 2:].split()[:2]
            if int(ppid) == parent and state != "Z" and b"spawn_main" in (entry / "cmdline").read_bytes():
                found.add(int(entry.name))
        except (OSError, ValueError):
            continue  # it ended while we looked
    return found


def await_workers(parent: int, gone: set[int] = frozenset()) -> set[int]:
    """Wait until the server runs WORKERS workers again, none of them one of `gone`."""
    deadline = time.monotonic() + HANG
    while time.monotonic() < deadline:
        live = workers(parent)
        if len(live) == WORKERS and not live & gone:
            return live
        time.sleep(0.05)
    killed = f", none of the killed {sorted(gone)}" if gone else ""
    raise AssertionError(f"after {HANG} s the server runs the workers {sorted(workers(parent))}, "
                         f"not {WORKERS}{killed}")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    process, base, log = start(tmp_path_factory.mktemp("faults"), "--workers", str(WORKERS))
    await_workers(process.pid)
    yield process, base, log
    process.terminate()
    process.wait(timeout=HANG)


@dataclass(frozen=True)
class Ask:
    """A request and the one answer it may get."""

    name: str
    path: str
    body: bytes
    status: int
    answer: bytes
    params: tuple = ()
    headers: tuple = ()


def asks() -> list[Ask]:
    """Single snapshots (eligible, ineligible, incomplete, invalid, YAML) and batches, each with
    its answer computed in this process."""
    book = rulebook.load()

    def example(name: str) -> dict:
        return yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8"))

    def one(name: str, snapshot: dict, day: dt.date | None = None) -> Ask:
        body = orjson.dumps(snapshot, default=str)
        verdict = book.judge(body, day)
        status = 200 if verdict["format"] == "rulebook.verdict/v1" else 422
        return Ask(name, "/v1/check", body, status, dumps(verdict), (("as_of", day.isoformat()),) if day else ())

    def batch(name: str, lines: list[bytes], day: dt.date) -> Ask:
        answer = b"".join(dumps(book.judge(line, day, origin="<request>", line=number)) + b"\n"
                          for number, line in enumerate(lines, 1) if line.strip())
        return Ask(name, "/v1/check/batch", b"\n".join(lines) + b"\n", 200, answer, (("as_of", day.isoformat()),))

    invalid = example("seed-case.yaml")
    invalid["steps"][0]["hours"] = -1
    out = [one("eligible", example("seed-case.yaml")), one("ineligible", example("failing-case.yaml")),
           one("incomplete", example("pending-case.yaml")),
           one("pending, judged late", example("pending-case.yaml"), dt.date(2021, 2, 19)),
           one("invalid", invalid)]
    outcomes = [orjson.loads(a.answer).get("verdict", a.status) for a in out]
    assert outcomes == ["eligible", "ineligible", "incomplete", "ineligible", 422], outcomes
    seed_yaml = (EXAMPLES / "seed-case.yaml").read_bytes()
    out.append(Ask("yaml", "/v1/check", seed_yaml, 200, out[0].answer, headers=(("content-type", "application/yaml"),)))
    small = [orjson.dumps(c) for c in generate(20, seed=31)]
    small.insert(7, b"{broken")
    out.append(batch("batch of 21", small, DAY))
    out.append(batch("batch of 300", [orjson.dumps(c) for c in generate(300, seed=32)], DAY))
    return out


class Clients:
    """Client threads asking and retrying until each answer is complete; what they saw."""

    def __init__(self, base: str, asks: list[Ask], seed: int, threads: int = 4):
        self.base, self.asks = base, asks
        self.stop = threading.Event()
        self.answered: Counter = Counter()   # request name → complete answers, all checked
        self.retried: Counter = Counter()    # kind of retryable failure → how many
        self.wrong: list[str] = []           # complete answers that differ: must stay empty
        self.unretryable: list[str] = []     # anything but a retryable failure: must stay empty
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(random.Random(seed * 100 + n), n % 2 == 0),
                                         daemon=True) for n in range(threads)]

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=HANG)
        assert not any(thread.is_alive() for thread in self.threads), "a client hangs"

    def await_answers(self, count: int) -> None:
        """Wait until `count` more requests have been answered."""
        goal, deadline = sum(self.answered.values()) + count, time.monotonic() + HANG
        while sum(self.answered.values()) < goal and not self.unretryable:
            assert time.monotonic() < deadline, f"no {count} answers in {HANG} s; retried: {dict(self.retried)}"
            time.sleep(0.05)

    def count(self, counter: Counter, key: str) -> None:
        with self.lock:
            counter[key] += 1

    def run(self, rng: random.Random, keep_alive: bool) -> None:
        """Half the threads keep their connections alive (a pool, as most clients do), the
        other half open one a request."""
        with httpx.Client(base_url=self.base, timeout=HANG) as pooled:
            while not self.stop.is_set():
                ask = rng.choice(self.asks)
                if keep_alive:
                    self.ask(pooled, ask)
                else:
                    with httpx.Client(base_url=self.base, timeout=HANG) as fresh:
                        self.ask(fresh, ask)

    def ask(self, client: httpx.Client, ask: Ask) -> None:
        for _ in range(200):
            try:
                response = client.post(ask.path, content=ask.body, params=dict(ask.params), headers=dict(ask.headers))
            except httpx.TimeoutException as error:  # a hang, not a retryable failure
                self.unretryable.append(f"{ask.name}: {error!r}")
                return
            except httpx.TransportError as error:  # refused, reset, or cut short: send it again
                self.count(self.retried, type(error).__name__)
                time.sleep(0.01)
                continue
            except Exception as error:  # noqa: BLE001 - recorded, the test fails on it
                self.unretryable.append(f"{ask.name}: {error!r}")
                return
            if response.status_code >= 500:  # retryable too
                self.count(self.retried, f"HTTP {response.status_code}")
                time.sleep(0.01)
                continue
            if (response.status_code, response.content) != (ask.status, ask.answer):
                self.wrong.append(f"{ask.name}: HTTP {response.status_code} and {len(response.content)} bytes "
                                  f"(expected {ask.status} and {len(ask.answer)}): {response.content[:200]!r}…")
            self.count(self.answered, ask.name)
            return
        self.unretryable.append(f"{ask.name}: no answer after 200 tries")


def test_killed_workers_are_replaced_and_no_client_gets_a_wrong_answer(served):
    process, base, log = served
    kills, seed = int(os.environ.get("RULEBOOK_KILLS", "3")), int(os.environ.get("RULEBOOK_KILL_SEED", "11"))
    rng = random.Random(seed)
    requests = asks()
    live = await_workers(process.pid)
    with Clients(base, requests, rng.randrange(1 << 30)) as clients:
        clients.await_answers(10)  # under load before the first kill
        for _ in range(kills):
            clients.await_answers(rng.randint(1, 40))  # a random moment of the load, not of the clock
            victim = rng.choice(sorted(live))
            os.kill(victim, signal.SIGKILL)
            live = await_workers(process.pid, {victim})
        clients.await_answers(10)  # and after the last one
    summary = (f"seed {seed}, {kills} kills: {sum(clients.answered.values())} answers, all checked "
               f"({dict(clients.answered)}); retried: {dict(clients.retried)}")
    print(summary)
    assert clients.wrong == [], summary
    assert clients.unretryable == [], summary
    assert set(clients.answered) == {ask.name for ask in requests}, summary

    # Every worker at once: those that replace them serve, every answer right.
    everyone = workers(process.pid)
    for pid in everyone:
        os.kill(pid, signal.SIGKILL)
    await_workers(process.pid, everyone)
    with httpx.Client(base_url=base, timeout=HANG) as client:
        assert client.get("/healthz").json()["status"] == "ok"
        for ask in requests:
            response = client.post(ask.path, content=ask.body, params=dict(ask.params), headers=dict(ask.headers))
            assert (response.status_code, response.content) == (ask.status, ask.answer), ask.name
    assert process.poll() is None
    assert "Traceback" not in log.read_text(encoding="utf-8", errors="replace")


def test_a_batch_cut_short_by_a_kill_is_an_error_to_the_client_never_a_short_answer(served):
    """A worker dies while it streams a batch's answers: HTTP/1.1's chunked encoding ends without
    its terminating chunk, which a client sees as an incomplete message (h11 here, the parser
    under httpx). The request is still being sent when the worker dies, so the answer cannot
    have been finished."""
    process, base, _ = served
    host, port = base.removeprefix("http://").split(":")
    lines = [orjson.dumps(c) + b"\n" for c in generate(8, seed=33)]
    book = rulebook.load()
    answers = [dumps(book.judge(line.strip(), DAY, origin="<request>", line=n)) + b"\n"
               for n, line in enumerate(lines, 1)]
    live = await_workers(process.pid)
    client = h11.Connection(h11.CLIENT)
    received, events = b"", []
    with socket.create_connection((host, int(port)), timeout=HANG) as sock:

        def next_event():
            while (event := client.next_event()) is h11.NEED_DATA:
                try:
                    client.receive_data(sock.recv(65536))
                except ConnectionResetError:
                    client.receive_data(b"")  # a reset ends the stream as a close does
            events.append(type(event).__name__)
            return event

        sock.sendall(client.send(h11.Request(method="POST", target=f"/v1/check/batch?as_of={DAY}", headers=[
            ("host", host), ("content-type", "application/x-ndjson"), ("transfer-encoding", "chunked")])))
        sock.sendall(client.send(h11.Data(data=b"".join(lines[:5]))))
        assert next_event().status_code == 200
        while len(received) < len(b"".join(answers[:5])):
            received += next_event().data  # the answers to the five lines sent so far
        assert received == b"".join(answers[:5])
        for pid in live:  # the worker that serves this request is one of them
            os.kill(pid, signal.SIGKILL)
        try:
            sock.sendall(client.send(h11.Data(data=b"".join(lines[5:]))) + client.send(h11.EndOfMessage()))
        except OSError:
            pass  # the connection may be reset already: what the client reads below is the same
        with pytest.raises(h11.RemoteProtocolError, match="incomplete chunked read"):
            while True:
                event = next_event()
                assert not isinstance(event, h11.EndOfMessage), "a stream cut short looked complete"
                received += event.data
    assert received == b"".join(answers[:5]) and "EndOfMessage" not in events
    await_workers(process.pid, live)
    assert httpx.get(f"{base}/healthz", timeout=HANG).status_code == 200
