"""Fuzz target: the HTTP service (the FastAPI app), through its ASGI interface.

An input reads like an HTTP request:

    POST /v1/check?as_of=2021-03-01 [keyed]
    content-type: application/yaml

    <body>

The first line is the method, the path (with its query) and, optionally, `keyed`: the app then
asks for an API key (`k`). The header lines follow until an empty line; the rest is the body.
Bytes that HTTP servers refuse before the app sees them are left out (control characters in the
path and in header lines). The answer must be a 2xx or a 4xx, never a 5xx; every answer but the
page is JSON, a 4xx a `rulebook.error/v1` body; a batch answer is JSON Lines.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from urllib.parse import unquote

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from fuzz.harness import Failure, fuzz_main  # noqa: E402

NAME = "service"
KEY = "k"


def setup():
    import logging

    import rulebook
    from rulebook.apps.service import create_app

    logging.getLogger("rulebook.apps.service").disabled = True  # one log line per request otherwise
    book = rulebook.load()
    small = 64 * 1024  # limits small enough for the fuzzer to reach them
    return {"apps": {False: create_app(book, max_body=small, max_line=4096),
                     True: create_app(book, api_keys={KEY}, max_body=small, max_line=4096)},
            "loop": asyncio.new_event_loop()}


def parse_request(data: bytes) -> tuple[str, bytes, bytes, list[tuple[bytes, bytes]], bytes, bool]:
    """(method, raw path, query, headers, body, keyed) from an input."""
    head, _, body = data.partition(b"\n\n")
    lines = head.split(b"\n")
    first = lines[0].split(b" ")
    method = bytes(b for b in first[0] if 0x21 <= b < 0x7f).decode("ascii").upper() or "GET"
    target = first[1] if len(first) > 1 else b"/"
    keyed = len(first) > 2 and first[2] == b"keyed"
    target = bytes(b for b in target if 0x21 <= b < 0x7f)
    raw_path, _, query = target.partition(b"?")
    headers = []
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        name = bytes(b for b in name.strip().lower() if 0x21 <= b < 0x7f and b != ord(":"))
        if not sep or not name:
            continue
        headers.append((name, bytes(b for b in value.strip() if b >= 0x20 and b != 0x7f)))
    return method, raw_path or b"/", query, headers, body, keyed


async def call(app, method: str, raw_path: bytes, query: bytes, headers, body: bytes) -> tuple[int, dict, bytes]:
    """One request through the app's ASGI interface, as uvicorn would pass it."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": unquote(raw_path.decode("ascii"), "latin-1"), "raw_path": raw_path,
        "root_path": "", "query_string": query, "headers": headers,
        "client": ("127.0.0.1", 1234), "server": ("testserver", 80),
    }
    chunks = [body[i:i + 8192] for i in range(0, len(body), 8192)] or [b""]
    received = iter(chunks)
    sent: dict = {"status": None, "headers": {}, "body": []}
    more = [True]

    async def receive():
        chunk = next(received, None)
        if chunk is None:
            more[0] = False
            await asyncio.sleep(0)
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": chunk, "more_body": chunk is not chunks[-1]}

    async def send(message):
        if message["type"] == "http.response.start":
            sent["status"] = message["status"]
            sent["headers"] = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in message.get("headers", [])}
        elif message["type"] == "http.response.body":
            sent["body"].append(message.get("body", b""))

    await app(scope, receive, send)
    return sent["status"], sent["headers"], b"".join(sent["body"])


def check(data: bytes, state) -> None:
    method, raw_path, query, headers, body, keyed = parse_request(data)
    app = state["apps"][keyed]
    status, headers_out, answer = state["loop"].run_until_complete(call(app, method, raw_path, query, headers, body))
    check_answer(method, raw_path, status, headers_out, answer)


def check_answer(method: str, raw_path: bytes, status, headers: dict, answer: bytes) -> None:
    where = f"{method} {raw_path.decode('ascii')!s:.80}"
    if status is None:
        raise Failure(f"{where}: no answer")
    if status >= 500:
        raise Failure(f"{where}: {status} {answer[:300]!r}")
    if not 200 <= status < 500 or 300 <= status < 400:
        raise Failure(f"{where}: status {status} {headers}")
    kind = headers.get("content-type", "")
    if kind.startswith("text/html"):
        if status != 200:
            raise Failure(f"{where}: an HTML {status}")
        return
    if kind.startswith("application/x-ndjson"):
        for line in answer.splitlines():
            item = json.loads(line)
            if item.get("format") not in ("rulebook.verdict/v1", "rulebook.error/v1"):
                raise Failure(f"{where}: a batch line that is neither a verdict nor an error: {line[:200]!r}")
        return
    if not kind.startswith("application/json"):
        raise Failure(f"{where}: {status} answered with content-type {kind!r}: {answer[:200]!r}")
    try:
        out = json.loads(answer)
    except ValueError:
        raise Failure(f"{where}: {status} with a body that is not JSON: {answer[:200]!r}") from None
    if status >= 400 and (not isinstance(out, dict) or out.get("format") != "rulebook.error/v1" or not out.get("errors")):
        raise Failure(f"{where}: {status} without a rulebook.error/v1 body: {answer[:200]!r}")


if __name__ == "__main__":
    fuzz_main(NAME)
