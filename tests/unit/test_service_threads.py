"""The service judges in worker threads, not on its event loop: while a batch is being judged,
`/healthz` and a single check are answered, and the batch's answers still come in order."""

from __future__ import annotations

import socket
import threading

import httpx
import orjson
import pytest
import uvicorn
import yaml

from rulebook.apps.service import create_app

from ..conftest import EXAMPLES

HELD = "HELD-BACK"


class HeldBook:
    """The bundled rulebook, but judging the case `HELD-BACK` waits until the test lets it go."""

    def __init__(self, book):
        self._book = book
        self.judging = threading.Event()
        self.go_on = threading.Event()

    def __getattr__(self, name):
        return getattr(self._book, name)

    def judge(self, snapshot, *args, **kwargs):
        if isinstance(snapshot, bytes) and HELD.encode() in snapshot:
            self.judging.set()
            assert self.go_on.wait(120), "the test never let the held case go"
        return self._book.judge(snapshot, *args, **kwargs)


@pytest.fixture
def served(book):
    held = HeldBook(book)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(held), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    with httpx.Client(timeout=10) as client:
        for _ in range(400):  # until it answers (its start has no event to wait on)
            try:
                client.get(f"{base}/healthz")
                break
            except httpx.TransportError:
                thread.join(0.05)
    yield base, held
    held.go_on.set()
    server.should_exit = True
    thread.join(30)


def test_healthz_and_a_single_check_are_answered_while_a_batch_is_judged(served):
    base, held = served
    seed = yaml.safe_load((EXAMPLES / "seed-case.yaml").read_text(encoding="utf-8"))
    lines = [dict(seed, case_id=case_id) for case_id in ("FIRST", HELD, "LAST")]
    answers: list = []

    def send_the_batch():
        with httpx.Client(timeout=120) as client:
            answer = client.post(f"{base}/v1/check/batch", content=b"\n".join(map(orjson.dumps, lines)) + b"\n")
            answers.append(answer)

    batch = threading.Thread(target=send_the_batch)
    batch.start()
    try:
        assert held.judging.wait(60), "the batch never reached the held case"
        # The batch is being judged, held in the middle; the loop still answers.
        with httpx.Client(timeout=10) as client:
            health = client.get(f"{base}/healthz")
            single = client.post(f"{base}/v1/check", content=orjson.dumps(seed))
        assert health.status_code == 200 and health.json()["status"] == "ok"
        assert single.status_code == 200 and single.json()["case_id"] == seed["case_id"]
        assert batch.is_alive()  # still held
    finally:
        held.go_on.set()
        batch.join(120)
    (answer,) = answers
    assert answer.status_code == 200
    assert [orjson.loads(line)["case_id"] for line in answer.content.splitlines()] == ["FIRST", HELD, "LAST"]
