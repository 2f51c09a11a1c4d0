"""read: a file, a folder or a stream → Documents (YAML, JSON or JSON Lines, maybe gzip-compressed).

Nothing here raises on bad input: broken files, missing paths, wrong encodings, oversized
files and lines all become fault documents naming the place. A source that holds no
document at all (an empty file, only comments, a folder without case files) is a fault too.
"""

from __future__ import annotations

import gzip
import io
import os
import stat
import zlib
from typing import BinaryIO, Iterable, Iterator

from ..messages import os_reason, quote, said, size
from . import json as json_text
from . import yaml as yaml_text
from .document import Document, Limits, Location, Refused, fault
from .lines import GZIP_MAGIC, KINDS, guess, json_lines, push_back, sniff
from .text import decode


def read_failure(origin: str, exc: BaseException, line: int = 1) -> Document:
    if isinstance(exc, (EOFError, zlib.error, gzip.BadGzipFile)):
        message = said("damaged_after", line=line - 1) if line > 1 else said("damaged")
        return fault(origin, message, line)
    reason = os_reason(getattr(exc, "strerror", None) or "the operating system refused")
    return fault(origin, said("cannot_read", path=quote(origin, 200), reason=reason), line)


def too_large(origin: str, kind: str, limits: Limits, unpacked: bool = False) -> Document:
    key = "file_too_large_unpacked" if unpacked else "file_too_large"
    return fault(origin, said(key, limit=size(limits.max_file_bytes), kind=kind.upper()))


def check_kind(kind: str | None) -> None:
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)} or None")


def load_json(data: bytes, text: str, origin: str, limits: Limits) -> Document:
    try:
        value = json_text.parse(data, text, limits)
    except Refused as refused:
        line = refused.line or 1
        return Document(Location(origin, line, refused.column), error=json_text.syntax_message(refused),
                        path=refused.path)
    return Document(Location(origin, 1), value, locate=json_text.Positions(text))


def json_line(content: bytes, origin: str, lineno: int, limits: Limits) -> Document:
    """One line of JSON Lines (its bytes, without the line break) → a Document."""
    try:
        text = decode(content, lineno, strip_bom=False)
        value = json_text.parse(content, text, limits, lineno)
    except Refused as refused:
        return Document(Location(origin, lineno, refused.column),
                        error=json_text.syntax_message(refused, lineno), path=refused.path)
    return Document(Location(origin, lineno), value, locate=json_text.Positions(text, lineno))


def _load_jsonl(stream: BinaryIO, origin: str, limits: Limits) -> Iterator[Document]:
    lines = json_lines(stream, limits)
    last = 0
    while True:
        try:
            item = next(lines, None)
        except (OSError, EOFError, zlib.error) as exc:
            yield read_failure(origin, exc, last + 1)
            return
        if item is None:
            return
        lineno, content = item
        last = lineno
        if isinstance(content, Refused):
            yield content.document(origin, lineno)
            continue
        yield json_line(content, origin, lineno, limits)


def read_stream(stream: BinaryIO, origin: str, kind: str | None, limits: Limits) -> Iterator[Document]:
    try:
        suffix_kind, gz = guess(origin)
        kind = kind or suffix_kind
        head = stream.read(2)
        stream = push_back(head, stream)
        compressed = gz or head == GZIP_MAGIC
        if compressed:
            stream = gzip.GzipFile(fileobj=stream, mode="rb")
        if kind is None:
            kind, stream = sniff(stream, limits)
        if kind == "jsonl":
            yield from _load_jsonl(stream, origin, limits)
            return
        data = stream.read(limits.max_file_bytes + 1)
    except (OSError, EOFError, zlib.error) as exc:
        yield read_failure(origin, exc)
        return
    if len(data) > limits.max_file_bytes:
        yield too_large(origin, kind, limits, compressed)
        return
    try:
        text = decode(data)
    except Refused as refused:
        yield refused.document(origin)
        return
    if kind == "json":
        if text.strip():
            yield load_json(data.removeprefix(b"\xef\xbb\xbf"), text, origin, limits)
    else:
        yield from yaml_text.load(text, origin, limits)


def required(documents: Iterator[Document], origin: str, require: bool) -> Iterator[Document]:
    """The documents, or a fault saying the source holds none."""
    found = False
    for document in documents:
        found = True
        yield document
    if require and not found:
        yield fault(origin, said("empty", origin=quote(origin, 200)))


def load_stream(stream: BinaryIO, origin: str = "<stdin>", kind: str | None = None, limits: Limits = Limits(),
                require_document: bool = True) -> Iterator[Document]:
    """Read documents from an open binary stream (JSON Lines is read line by line).

    ``kind`` is "yaml", "json", "jsonl" or None (guess from the origin's suffix, else sniff
    the content). Gzip data is recognised by a ``.gz`` origin or by its magic bytes. Errors
    become fault documents; so does a stream with no document, unless `require_document` is
    false (a log of events may be empty). The stream is not closed."""
    check_kind(kind)
    return required(read_stream(stream, origin, kind, limits), origin, require_document)


def load_bytes(data: bytes, origin: str, kind: str | None = None, limits: Limits = Limits(),
               require_document: bool = True) -> Iterator[Document]:
    """Read documents from bytes already in memory; see :func:`load_stream`."""
    check_kind(kind)
    return required(read_stream(io.BytesIO(data), origin, kind, limits), origin, require_document)


def _load_file(path: str, limits: Limits, size_: int | None) -> Iterator[Document]:
    kind, gz = guess(path)
    if size_ is not None and not gz and kind in ("yaml", "json") and size_ > limits.max_file_bytes:
        yield too_large(path, kind, limits)
        return
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below, also on early exit
    except OSError as exc:
        yield read_failure(path, exc)
        return
    with handle:
        yield from required(read_stream(handle, path, kind, limits), path, True)


def walk(root: str) -> Iterator[tuple[str, OSError | None]]:
    """Wanted files under root, depth first, sorted by name at every level."""

    def listing(folder: str) -> list[os.DirEntry] | OSError:
        try:
            with os.scandir(folder) as entries:
                return sorted(entries, key=lambda entry: entry.name)
        except OSError as exc:
            return exc

    first = listing(root)
    if isinstance(first, OSError):
        yield root, first
        return
    stack = [iter(first)]
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
            continue
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
            is_file = not is_dir and entry.is_file()
        except OSError:
            continue
        if is_dir:
            sub = listing(entry.path)
            if isinstance(sub, OSError):
                yield entry.path, sub
            else:
                stack.append(iter(sub))
        elif is_file and guess(entry.name)[0] is not None:
            yield entry.path, None


def missing(origin: str, exc: BaseException) -> Document:
    """The fault of a path that cannot be opened (`os.stat` or `open` raised `exc`)."""
    shown = quote(origin, 200)
    if isinstance(exc, FileNotFoundError):
        key = "broken_link" if os.path.islink(origin) else "does_not_exist"
        return fault(origin, said(key, path=shown))
    if isinstance(exc, ValueError):  # e.g. a NUL character in the path
        return fault(origin, said("invalid_path", path=shown))
    return read_failure(origin, exc)


def _load_path(path: str | os.PathLike, limits: Limits) -> Iterator[Document]:
    origin = os.fsdecode(path)
    try:
        info = os.stat(origin)
    except (OSError, ValueError) as exc:
        yield missing(origin, exc)
        return
    if stat.S_ISDIR(info.st_mode):
        found = False
        for file_path, problem in walk(origin):
            found = True
            if problem is not None:
                yield read_failure(file_path, problem)
                continue
            try:
                file_size: int | None = os.stat(file_path).st_size
            except OSError:
                file_size = None
            yield from _load_file(file_path, limits, file_size)
        if not found:
            yield fault(origin, said("empty_folder", origin=quote(origin, 200)))
        return
    yield from _load_file(origin, limits, info.st_size if stat.S_ISREG(info.st_mode) else None)


def load_path(path: str | os.PathLike, limits: Limits = Limits()) -> Iterator[Document]:
    """Read one file, or every YAML/JSON/JSON Lines file under a folder.

    Folders are walked recursively in sorted order; files with other suffixes are skipped.
    A path that is missing or unreadable, a file without a document and a folder without
    a case file each give one fault document."""
    return _load_path(path, limits)


def load_paths(paths: Iterable[str | os.PathLike] | str | os.PathLike, limits: Limits = Limits()) -> Iterator[Document]:
    """Read several paths, in the order given (see :func:`load_path`)."""
    if isinstance(paths, (str, bytes, os.PathLike)):
        paths = [paths]
    for path in paths:
        yield from _load_path(path, limits)
