"""Fuzz target: the snapshot loader (YAML, JSON, JSON Lines, gzip) and judging what it reads.

An input is a file's bytes after one byte that says how to read it: `Y` YAML, `J` JSON,
`L` JSON Lines, `Z` the rest gzipped and read as `<fuzz>.jsonl.gz`; anything else: the
whole input, its kind sniffed from the content. Every document read is then validated,
judged (`Rulebook.judge`, `Rulebook.check`) and written as JSON.
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from fuzz.harness import Failure, fuzz_main  # noqa: E402

NAME = "documents"
KINDS = {b"Y": ("yaml", "<fuzz>.yaml"), b"J": ("json", "<fuzz>.json"), b"L": ("jsonl", "<fuzz>.jsonl")}
MAX_DOCUMENTS = 20


def setup():
    import rulebook

    return rulebook.load()


def check(data: bytes, book) -> None:
    from rulebook.input.documents import DocumentError, Limits, load_bytes
    from rulebook.output.explain import dumps
    from rulebook.input.snapshot import Rejected
    from rulebook.output.verdict import Verdict

    head, rest = data[:1], data[1:]
    if head in KINDS:
        kind, origin = KINDS[head]
    elif head == b"Z":
        kind, origin, rest = None, "<fuzz>.jsonl.gz", gzip.compress(rest, mtime=0)
    else:
        kind, origin, rest = None, "<fuzz>", data
    limits = Limits(max_file_bytes=1 << 20)
    try:
        documents = []
        for document in load_bytes(rest, origin, kind, limits):
            documents.append(document)
            if len(documents) >= MAX_DOCUMENTS:
                break
    except DocumentError:
        return
    for document in documents:
        if not document.ok:
            if not isinstance(document.error, str) or not document.error:
                raise Failure(f"an error document without a message: {document!r}")
            if document.location.line < 1:
                raise Failure(f"an error document without its line: {document!r}")
            continue
        out = book.judge(document.data, origin=origin, line=document.location.line)
        if out.get("format") not in ("rulebook.verdict/v1", "rulebook.error/v1"):
            raise Failure(f"judge gave neither a verdict nor an error: {out!r:.300}")
        if out["format"] == "rulebook.error/v1" and not out["errors"]:
            raise Failure("an error without errors")
        dumps(out)
        try:
            verdict = book.check(document.data)
        except Rejected as rejected:
            if out["format"] != "rulebook.error/v1":
                raise Failure(f"check refused what judge judged: {rejected}") from None
            continue
        if not isinstance(verdict, Verdict) or out["format"] != "rulebook.verdict/v1":
            raise Failure("check and judge disagree")
        verdict.model_dump_json()


if __name__ == "__main__":
    fuzz_main(NAME)
