"""The HTTP service over a real socket: uvicorn on a free port, spoken to with httpx."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson
import pytest
import yaml

from samples import generate

from ..conftest import EXAMPLES
from ..eventually import wait_for


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(tmp_path, *extra) -> tuple[subprocess.Popen, str, Path]:
    port = free_port()
    log = tmp_path / f"server-{port}.log"
    process = subprocess.Popen([sys.executable, "-m", "rulebook.apps.cli", "serve", "--port", str(port), *extra],
                               stdout=subprocess.DEVNULL, stderr=open(log, "wb"))
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return process, base, log
        except httpx.HTTPError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(log.read_text())


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("service")
    process, base, log = start(tmp, "--max-body", "200000")
    yield base, log
    process.terminate()
    process.wait(timeout=10)


def seed_text() -> str:
    return (EXAMPLES / "seed-case.yaml").read_text(encoding="utf-8")


def seed_json() -> bytes:
    return orjson.dumps(yaml.safe_load(seed_text()))


def test_check_json_and_yaml(server):
    base, _ = server
    as_json = httpx.post(f"{base}/v1/check", content=seed_json(), headers={"content-type": "application/json"})
    assert as_json.status_code == 200
    verdict = as_json.json()
    assert verdict["format"] == "rulebook.verdict/v1" and verdict["verdict"] == "eligible"
    assert verdict["payout"]["expert_total_jpy"] == 188000
    as_yaml = httpx.post(f"{base}/v1/check", content=seed_text().encode(), headers={"content-type": "application/yaml"})
    assert as_yaml.json() == verdict


def test_as_of_and_lang(server):
    base, _ = server
    pending = (EXAMPLES / "pending-case.yaml").read_text(encoding="utf-8").encode()
    later = httpx.post(f"{base}/v1/check", params={"as_of": "2021-02-19", "lang": "en"}, content=pending,
                       headers={"content-type": "application/yaml"}).json()
    assert later["as_of"] == "2021-02-19" and later["verdict"] == "ineligible"
    assert "Needs attention" in later["text"]
    bad = httpx.post(f"{base}/v1/check", params={"as_of": "yesterday"}, content=seed_json())
    assert bad.status_code == 422 and bad.json()["format"] == "rulebook.error/v1"


def test_invalid_input_is_422_with_the_path(server):
    base, _ = server
    data = yaml.safe_load(seed_text())
    data["steps"][0]["hours"] = -1
    response = httpx.post(f"{base}/v1/check", content=orjson.dumps(data, default=str))
    assert response.status_code == 422
    body = response.json()
    assert body["format"] == "rulebook.error/v1" and body["case_id"] == "SEED-EXAMPLE"
    assert body["errors"][0]["path"] == "steps[0].hours"
    for junk in (b"", b"{", b"\xff\xfe", b"[]", b"null"):
        reply = httpx.post(f"{base}/v1/check", content=junk)
        assert reply.status_code == 422 and reply.json()["format"] == "rulebook.error/v1"
    two = httpx.post(f"{base}/v1/check", content=b"a: 1\n---\nb: 2\n", headers={"content-type": "application/yaml"})
    assert two.status_code == 422


def test_a_body_over_the_limit_is_413(server):
    base, _ = server
    big = b'{"case_id": "' + b"x" * 300_000 + b'"}'
    response = httpx.post(f"{base}/v1/check", content=big)
    assert response.status_code == 413 and response.json()["format"] == "rulebook.error/v1"


def test_batch_streams_json_lines_in_order(server):
    base, _ = server
    cases = generate(50, seed=3)
    lines = [orjson.dumps(c) for c in cases]
    lines.insert(10, b"{broken")
    body = b"\n".join(lines) + b"\n\n"
    with httpx.stream("POST", f"{base}/v1/check/batch", content=body) as response:
        assert response.status_code == 200
        out = [json.loads(line) for line in response.iter_lines() if line]
    assert len(out) == 51
    assert out[10]["format"] == "rulebook.error/v1" and out[10]["source"]["line"] == 11
    assert [o["case_id"] for o in out[:3]] == [c["case_id"] for c in cases[:3]]


def test_catalogue_schema_health_openapi_and_unknown_routes(server):
    base, _ = server
    rules = httpx.get(f"{base}/v1/rules").json()
    assert len(rules["rules"]) == 26 and rules["rules"][0]["source"]["text"]
    assert [(r["rule"], r["subject"]) for r in rules["batch_rules"]] == [
        ("batch.duplicate-case-id", "batch"), ("batch.implausible-hours", "batch"), ("batch.sme-honorarium-cap", "batch")]
    assert all(r["title"]["ja"] and r["source"]["text"] for r in rules["batch_rules"])
    assert httpx.get(f"{base}/v1/schema").json()["title"] == "rulebook.case/v1"
    assert httpx.get(f"{base}/healthz").json()["status"] == "ok"
    spec = httpx.get(f"{base}/openapi.json").json()
    assert "/v1/check" in spec["paths"] and "/v1/check/batch" in spec["paths"]
    assert httpx.get(f"{base}/docs").status_code == 200
    missing = httpx.get(f"{base}/nope")
    assert missing.status_code == 404 and missing.json()["format"] == "rulebook.error/v1"
    wrong = httpx.get(f"{base}/v1/check")
    assert wrong.status_code == 405 and wrong.json()["format"] == "rulebook.error/v1"
    assert httpx.get(f"{base}/").headers["content-type"].startswith("text/html")


def test_access_log_is_json_without_snapshot_contents(server):
    base, log = server
    marker = "never-seen-before-case"
    data = yaml.safe_load(seed_text())
    data["case_id"] = marker
    assert httpx.post(f"{base}/v1/check", content=orjson.dumps(data, default=str)).status_code == 200

    def logged():
        entries = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.startswith("{")]
        return [e for e in entries if e["case_id"] == marker]

    checks = wait_for(logged, "the request's line in the access log")
    assert checks[-1]["route"] == "/v1/check" and checks[-1]["status"] == 200 and checks[-1]["duration_ms"] >= 0
    assert "株式会社サンプル商店" not in log.read_text(encoding="utf-8")


def test_api_keys(tmp_path):
    keys = tmp_path / "keys"
    keys.write_text("# keys\nsecret-one\nsecret-two\n", encoding="utf-8")
    process, base, log = start(tmp_path, "--api-key-file", str(keys))
    try:
        assert httpx.post(f"{base}/v1/check", content=seed_json()).status_code == 401
        wrong = httpx.post(f"{base}/v1/check", content=seed_json(), headers={"x-api-key": "secret-three"})
        assert wrong.status_code == 401 and wrong.json()["format"] == "rulebook.error/v1"
        assert httpx.post(f"{base}/v1/check", content=seed_json(),
                          headers={"x-api-key": "secret-two"}).status_code == 200
        assert httpx.post(f"{base}/v1/check", content=seed_json(),
                          headers={"authorization": "Bearer secret-one"}).status_code == 200
        assert httpx.get(f"{base}/healthz").status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert "secret-" not in log.read_text(encoding="utf-8")


def test_batch_answers_while_the_request_is_still_coming(server):
    """Both directions stream: the first answer arrives before the rest of the batch is sent
    (a raw socket, since an HTTP client library reads the answer only after the whole request)."""
    base, _ = server
    host, port = base.removeprefix("http://").split(":")
    first = orjson.dumps(generate(1, seed=4)[0]) + b"\n"

    def chunk(data: bytes) -> bytes:
        return f"{len(data):x}\r\n".encode() + data + b"\r\n"

    with socket.create_connection((host, int(port)), timeout=20) as sock:
        sock.sendall(b"POST /v1/check/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n" + chunk(first))
        early = b""
        while b"rulebook.verdict/v1" not in early:  # the first verdict, with the batch still open
            early += sock.recv(65536)
        assert early.startswith(b"HTTP/1.1 200")
        sock.sendall(chunk(b"{broken\n" + b"x" * 2_000_000 + b"\n" + first) + b"0\r\n\r\n")
        rest = b""
        while not rest.endswith(b"0\r\n\r\n"):
            data = sock.recv(65536)
            if not data:
                break
            rest += data
    body = early.split(b"\r\n\r\n", 1)[1] + rest
    lines = [json.loads(line) for line in body.split(b"\n") if line.startswith(b"{")]
    assert [r["format"] for r in lines] == ["rulebook.verdict/v1", "rulebook.error/v1", "rulebook.error/v1",
                                            "rulebook.verdict/v1"]
    assert "longer than" in lines[2]["errors"][0]["message"] and lines[2]["source"]["line"] == 3


def _padded_seed(size: int) -> bytes:
    """The worked example as JSON, padded with trailing spaces to exactly `size` bytes."""
    body = seed_json()
    assert len(body) < size
    return body + b" " * (size - len(body))


LIMIT = 200_000  # the module's server runs with --max-body 200000


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_of_exactly_the_limit_is_judged_and_one_byte_more_is_413(server, chunked):
    """The limit is inclusive, whether the body declares its length or comes in chunks."""
    base, _ = server

    def send(body: bytes) -> httpx.Response:
        # A generator body goes out with Transfer-Encoding: chunked and no Content-Length.
        content = iter([body[:LIMIT // 2], body[LIMIT // 2:]]) if chunked else body
        return httpx.post(f"{base}/v1/check", content=content, headers={"content-type": "application/json"})

    exact = send(_padded_seed(LIMIT))
    assert exact.status_code == 200, exact.text
    assert exact.json()["verdict"] == "eligible"
    over = send(_padded_seed(LIMIT + 1))
    assert over.status_code == 413 and over.json()["format"] == "rulebook.error/v1"
    assert "200,000 bytes" in over.json()["errors"][0]["message"]


def test_a_chunked_body_over_the_limit_is_413_before_it_ends(server):
    """A chunked body declares no length: the service counts what comes and answers 413 as soon
    as it passes the limit, without waiting for (or holding) the rest. The body here never ends,
    so an answer at all proves the service stopped reading."""
    base, _ = server
    host, port = base.removeprefix("http://").split(":")
    piece = b" " * 10_000
    with socket.create_connection((host, int(port)), timeout=20) as sock:
        sock.sendall(b"POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")
        for _ in range(LIMIT // len(piece) + 2):  # past the limit; no last chunk follows
            sock.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    head, body = answer.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 413"), answer[:300]
    assert json.loads(body)["format"] == "rulebook.error/v1"


def test_the_vocabulary_is_served_and_put_into_the_page(server, book):
    base, _ = server
    words = httpx.get(f"{base}/v1/vocabulary").json()
    assert words == json.loads(json.dumps(book.vocabulary()))
    assert words["ja"]["status"]["not_applicable"] == "該当なし" and words["ja"]["verdict"]["ineligible"] == "謝金対象外"
    assert words["ja"]["value"]["lancers.program_consent_via"]["message"] == "メッセージ"
    assert words["stages"][0] == "matching"
    page = httpx.get(f"{base}/").text
    assert '"not_applicable": "該当なし"' in page
