"""service: rulebook as an HTTP validator (FastAPI, served by uvicorn) and the self-service page.

    POST /v1/check        one snapshot (JSON, or YAML with Content-Type application/yaml)
                          → rulebook.verdict/v1; ?as_of=YYYY-MM-DD&lang=ja|en
    POST /v1/check/batch  JSON Lines in → JSON Lines out, streamed, one verdict or error a line
    GET  /v1/rules        the catalogue, with sources (and the rules over a batch, which audits run)
    GET  /v1/schema       the snapshot's JSON Schema
    GET  /v1/vocabulary   the words shown for statuses, verdicts, amounts, stages and values (ja, en)
    GET  /healthz         liveness
    GET  /                the page where an IT expert checks a case before submitting a report

Every answer is JSON with a stable shape — errors are `rulebook.error/v1` — and no
traceback ever reaches a client. Judging (and reading YAML, and writing the text) runs in
worker threads, a bounded number of them, never on the event loop: a batch being judged does
not hold up `/healthz` or a single check, and a batch's answers still stream in input order.
Optional API keys are compared in constant time and never logged; the access log is one JSON
line a request, with no snapshot in it.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import logging
import os
import sys
import time
from importlib import resources
from pathlib import Path

import anyio
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..book import Rulebook, load
from ..input.documents import Limits, load_bytes
from ..input.errors import refusal
from ..input.messages import Message, plain, quote, said
from ..output.explain import dumps
from ..output.render import render_verdict
from ..output.terminal import visible
from ..output.verdict import ErrorReport, Verdict

_SNAPSHOT_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": {"type": "object", "description": "a rulebook.case/v1 snapshot (see /v1/schema)"}},
        "application/yaml": {"schema": {"type": "string", "description": "the same snapshot, as YAML"}},
    },
}
_ERRORS = {422: {"model": ErrorReport, "description": "rulebook.error/v1: not valid input"},
           413: {"model": ErrorReport, "description": "the body is over the limit"},
           401: {"model": ErrorReport, "description": "an API key is needed"}}

MIB = 1024 * 1024
# Threads that judge: single snapshots, up to 8 at once; batches, one piece at a time whatever
# their number (the interpreter runs one thread at a time: more threads would not judge more,
# but each would take turns with the event loop, and small requests would wait longer).
SINGLE_THREADS, BATCH_THREADS = 8, 1
log = logging.getLogger("rulebook.access")


def _error(status: int, message: Message, case_id=None, path: str = "", headers=None) -> JSONResponse:
    return JSONResponse(refusal(message, path, case_id=case_id), status_code=status, headers=headers)


class _TooLarge(Exception):
    pass


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    # isdigit() alone takes "¹" or "٣" (a header is read as Latin-1), which int() refuses.
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


_DATE = r"^\d{4}-\d{2}-\d{2}$"


def _day(text: str | None):
    """The day a query names, None when it names none, False when it is not a real day."""
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return False


def _is_yaml(request: Request) -> bool:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return kind in ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")


_VOCABULARY_SLOT = '<script id="vocabulary" type="application/json">{}</script>'


def _page(vocabulary: dict) -> str:
    """The page, with the rulebook's vocabulary put in its JSON slot (so the page holds no word list
    of its own). `<`, `>` and `&` are escaped in the JSON, so no text can close the script element."""
    page = resources.files("rulebook.apps").joinpath("web").joinpath("index.html").read_text(encoding="utf-8")
    data = (json.dumps(vocabulary, ensure_ascii=False).replace("&", "\\u0026")
            .replace("<", "\\u003c").replace(">", "\\u003e"))
    return page.replace(_VOCABULARY_SLOT, _VOCABULARY_SLOT.replace("{}", data), 1)


class _BatchResponse(Response):
    """JSON Lines in and out, both streamed: each chunk of the request's body is read as it
    comes and the answers to its complete lines are sent at once, so neither the batch nor
    its answers are held whole. A line longer than the limit is answered with an error and
    skipped as it streams by: memory stays near one line."""

    media_type = "application/x-ndjson"

    def __init__(self, judge_lines, too_long, max_line: int, limiter: anyio.CapacityLimiter):
        super().__init__(media_type=self.media_type)
        # No content-length: the answer is as long as the batch turns out to be.
        self.raw_headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]
        self.judge_lines, self.too_long, self.max_line = judge_lines, too_long, max_line
        self.limiter = limiter

    async def __call__(self, scope, receive, send) -> None:
        buffer, more = b"", True
        while more and not buffer.strip():  # wait for the first line before answering 200
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            buffer += message.get("body", b"")
            more = message.get("more_body", False)
        if not buffer.strip():
            await _error(422, said("no_line"))(scope, receive, send)
            return
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        number, skipping = 0, False
        while True:
            answers = []
            if skipping and (cut := buffer.find(b"\n")) >= 0:  # the end of a line too long
                number += 1
                answers.append(self.too_long(number))
                buffer, skipping = buffer[cut + 1:], False
            if skipping:
                buffer = b""
            else:
                # Each piece of the body is judged in a worker thread, one after the other: the
                # answers keep their order, and the event loop serves other requests meanwhile.
                done, buffer, number = await anyio.to_thread.run_sync(
                    self.judge_lines, buffer, number, not more, limiter=self.limiter)
                answers.extend(done)
                if len(buffer) > self.max_line:
                    skipping, buffer = True, b""
            if answers:
                await send({"type": "http.response.body", "body": b"".join(answers), "more_body": True})
            if not more:
                break
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            buffer += message.get("body", b"")
            more = message.get("more_body", False)
        if skipping:
            await send({"type": "http.response.body", "body": self.too_long(number + 1), "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def create_app(book: Rulebook | None = None, api_keys: set[str] | None = None, max_body: int = MIB,
               max_line: int = MIB) -> FastAPI:
    """The service's app; `api_keys` None means no key is asked for."""
    book = book or load()
    keys = [k.encode() for k in sorted(api_keys or ())]
    singles, batches = anyio.CapacityLimiter(SINGLE_THREADS), anyio.CapacityLimiter(BATCH_THREADS)
    # No redirect from `/v1/check/` to `/v1/check`: a path with a trailing slash is not a route
    # (a 404 JSON body), rather than a 307 whose Location is built from the request's Host header.
    app = FastAPI(
        title="rulebook", version=book.version, redirect_slashes=False,
        description=f"Explained verdicts of `{book.name}`: which requirement of the program passed, failed, "
                    "is pending or does not apply, why, and what to do.",
    )

    def authorised(request: Request) -> bool:
        if not keys:
            return True
        given = request.headers.get("x-api-key") or ""
        auth = request.headers.get("authorization", "")
        if not given and auth.lower().startswith("bearer "):
            given = auth[7:].strip()
        offered = given.encode()
        # Compare with every key, whatever matches: constant time in the key given.
        matched = False
        for key in keys:
            matched |= hmac.compare_digest(offered, key)
        return matched

    @app.middleware("http")
    async def guard_and_log(request: Request, call_next):
        start = time.perf_counter()
        request.state.case_id = None
        open_paths = ("/healthz", "/", "/docs", "/openapi.json", "/docs/oauth2-redirect")
        if request.url.path not in open_paths and not authorised(request):
            response = _error(401, said("api_key"), headers={"WWW-Authenticate": "Bearer"})
        else:
            try:
                response = await call_next(request)
            except Exception:  # noqa: BLE001 - nothing but JSON reaches a client
                logging.getLogger("rulebook.service").exception("internal error")
                response = _error(500, said("internal"))
        # JSON escapes C0 controls only: `visible` escapes C1 controls and bidi marks too.
        log.info(visible(json.dumps({
            "method": request.method, "route": request.url.path, "status": response.status_code,
            "duration_ms": round((time.perf_counter() - start) * 1000, 2), "case_id": request.state.case_id,
        }, ensure_ascii=False)))
        return response

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        method, route = request.method, quote(request.url.path, 200)
        if exc.status_code == 404:
            return _error(404, said("no_route", method=method, path=route))
        if exc.status_code == 405:
            return _error(405, said("method_not_allowed", method=method, path=route),
                          headers=getattr(exc, "headers", None))
        return _error(exc.status_code, said("http", reason=plain(str(exc.detail))), headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "body"))
        reason = plain(str(first.get("msg", "invalid")))
        return _error(422, said("bad_parameter", name=quote(where), reason=reason), path=where)

    def verdict_response(request: Request, out: dict, lang: str | None) -> Response:
        request.state.case_id = out.get("case_id")
        if out["format"] != "rulebook.verdict/v1":
            return Response(dumps(out), status_code=422, media_type="application/json")
        if lang:
            out["text"] = render_verdict(out, book.plan.stages, lang, color=False, amounts=book.amount_titles)
        return Response(dumps(out), media_type="application/json")

    @app.post("/v1/check", summary="Judge one snapshot", openapi_extra={"requestBody": _SNAPSHOT_BODY},
              responses={200: {"model": Verdict, "description": "rulebook.verdict/v1"}, **_ERRORS})
    async def check(request: Request, as_of: str | None = Query(None, pattern=_DATE, description="Judge on this day"),
                    lang: str | None = Query(None, pattern="^(ja|en)$",
                                             description="Also give the explanation as text in this language")):
        day = _day(as_of)
        if day is False:
            return _error(422, said("not_a_day", value=quote(as_of)), path="as_of")
        try:
            body = await _read_body(request, max_body)
        except _TooLarge:
            return _error(413, said("body_too_large", limit=f"{max_body:,}"))
        return await anyio.to_thread.run_sync(judge_one, request, body, _is_yaml(request), day, lang,
                                              limiter=singles)

    def judge_one(request: Request, body: bytes, is_yaml: bool, day, lang: str | None) -> Response:
        """The answer to one snapshot (in a worker thread: reading YAML and judging take time)."""
        locate = None
        if is_yaml:
            docs = [d for d in load_bytes(body, "<request>", "yaml", Limits(max_file_bytes=max_body))]
            if len(docs) != 1:
                return _error(422, said("one_yaml_document"))
            if docs[0].error is not None:
                return JSONResponse(docs[0].refusal(), status_code=422)
            snapshot, locate = docs[0].data, docs[0].locate
        else:
            snapshot = body
        out = book.judge(snapshot, day, compact=False, locate=locate)
        return verdict_response(request, out, lang)

    @app.post("/v1/check/batch", summary="Judge snapshots, JSON Lines in and out",
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/x-ndjson": {"schema": {
                      "description": "JSON Lines: one snapshot a line; a bad line gets an error line"}}}}},
              responses={200: {"description": "one rulebook.verdict/v1 or rulebook.error/v1 a line, in input order",
                               "content": {"application/x-ndjson": {"schema": {"type": "string"}}}},
                         **_ERRORS})
    async def check_batch(request: Request, as_of: str | None = Query(None, pattern=_DATE,
                                                                    description="Judge on this day")):
        def too_long(number: int) -> bytes:
            message = said("request_line_too_long", line=number, limit=f"{max_line:,}")
            return dumps(refusal(message, origin="<request>", line=number)) + b"\n"

        day = _day(as_of)
        if day is False:
            return _error(422, said("not_a_day", value=quote(as_of)), path="as_of")

        def judge_line(line: bytes, number: int) -> bytes | None:
            if not line.strip():
                return None
            return dumps(book.judge(line, day, origin="<request>", line=number)) + b"\n"

        def judge_lines(buffer: bytes, number: int, final: bool):
            """The answers to the complete lines in the buffer, and what is left of it."""
            out = []
            while (cut := buffer.find(b"\n")) >= 0:
                line, buffer = buffer[:cut], buffer[cut + 1:]
                number += 1
                answer = too_long(number) if len(line) > max_line else judge_line(line, number)
                if answer is not None:
                    out.append(answer)
            if final and buffer:
                number += 1
                answer = too_long(number) if len(buffer) > max_line else judge_line(buffer, number)
                if answer is not None:
                    out.append(answer)
                buffer = b""
            return out, buffer, number

        return _BatchResponse(judge_lines, too_long, max_line, batches)

    @app.get("/v1/rules", summary="The catalogue of rules, with their sources")
    async def rules():
        return JSONResponse({"rulebook": book.info(),
                             "stages": [{"stage": name, "title": titles} for name, titles in book.plan.stages],
                             "rules": book.catalogue(),
                             "batch_rules": book.batch_catalogue()})  # judged by `rulebook audit`

    @app.get("/v1/schema", summary="The JSON Schema of the case snapshot")
    async def schema():
        return JSONResponse(book.json_schema())

    @app.get("/v1/vocabulary", summary="The words shown for statuses, verdicts, amounts, stages and values")
    async def vocabulary():
        return JSONResponse(book.vocabulary())

    @app.get("/healthz", summary="Liveness")
    async def healthz():
        return JSONResponse({"status": "ok", "rulebook": book.info()})

    page_html = _page(book.vocabulary())

    @app.get("/", include_in_schema=False)
    async def page():
        return HTMLResponse(page_html)

    return app


def app_from_environment() -> FastAPI:
    """The app as `rulebook serve` configures it (also for uvicorn's worker processes)."""
    keys = None
    key_file = os.environ.get("RULEBOOK_API_KEY_FILE")
    if key_file:
        keys = {line.strip() for line in Path(key_file).read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.startswith("#")}
    rules = os.environ.get("RULEBOOK_RULES") or None
    max_body = int(os.environ.get("RULEBOOK_MAX_BODY", MIB))
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    # The event loop waits for the judging threads to hand over the interpreter: every 1 ms
    # rather than 5, so that a request between batches waits less.
    sys.setswitchinterval(0.001)
    return create_app(load(rules), keys, max_body)
