"""`rulebook diff OLD NEW CASES…`: judge every case under two rulebooks and say what changes.

OLD and NEW are each a rulebook folder, a git revision of one (`git:REV` for `rules/` at REV,
`git:REV:PATH` or `REV:PATH` for another folder, PATH from the repository's top; extracted with
`git archive` into a temporary folder), or nothing, the rulebook of `--rules` (the bundled one by
default); each may end with `@YYYY-MM-DD`, the day its cases are judged on (else `--as-of`, else
each case's own `as_of`): `rulebook diff @2021-02-01 @2021-03-01 cases/` is one rulebook on two
days. A name that could be read two ways (a folder and a revision) is refused, naming both.

The cases are read in one process and judged in chunks by worker processes, each holding both
rulebooks; what changed comes back in input order and is written as it comes (text or JSON on
standard output; with `--out`, `diff.json`, `changes.csv` and `report.html`), so memory stays
bounded by the chunks in flight and the few cases kept for the page. Exit status: 0 nothing
changed, 1 something did, 2 bad usage or a rulebook that does not load.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import io
import os
import re
import subprocess
import sys
import tarfile
import tempfile
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from ..book import bundled_rules, load, read_sources
from ..input.documents import Limits, iter_units, parse_unit, span_units
from ..input.snapshot import dumps_json
from ..language.diagnostic import RulebookError
from ..language.parse import parse
from ..output.changes import SHEET_HEADERS, render_page, sheet_rows, text_case, text_header, text_totals
from ..output.compare import (DIFF_FORMAT, INVALID, Totals, TopCases, compare_case, compare_rulebooks, explain_change,
                               verdict_of)
from ..output.terminal import visible

JSON_NAME, SHEET_NAME, PAGE_NAME = "diff.json", "changes.csv", "report.html"
EXIT_SAME, EXIT_CHANGED, EXIT_BAD = 0, 1, 2

MESSAGES = {
    "no_reading": {"ja": "`{spec}` はフォルダでも git のリビジョン(git:REV か REV:PATH)でも @日付 でもありません",
                   "en": "`{spec}` is not a folder, a git revision (git:REV or REV:PATH) or @DAY"},
    "ambiguous": {"ja": "`{spec}` は二通りに読めます({readings})。フォルダなら ./{spec}、リビジョンなら git:… と書いてください",
                  "en": "`{spec}` can be read two ways ({readings}); write ./{spec} for the folder or git:… for the "
                        "revision"},
    "bad_day": {"ja": "`{day}` は日付ではありません。YYYY-MM-DD で書いてください",
                "en": "`{day}` is not a date; write YYYY-MM-DD"},
    "git": {"ja": "git のリビジョン `{rev}` を取り出せません: {reason}", "en": "cannot extract git revision `{rev}`: {reason}"},
    "out": {"ja": "`{path}` に書き込めません: {reason}", "en": "cannot write to `{path}`: {reason}"},
    "done": {"ja": "{cases}件の事例を比較し、{changed}件が変わりました。", "en": "{cases} cases compared, {changed} changed."},
    "invalid": {"ja": "rulebook diff: {where}: どちらでも判定できない入力です: {message}",
                "en": "rulebook diff: {where}: not a valid case on either side: {message}"},
    "invalid_count": {"ja": "{count}件の入力はどちらのルールブックでも判定できませんでした(変化には数えません)。",
                      "en": "{count} inputs are not valid cases on either side (not counted as changes)."},
    "written": {"ja": "{path} に書き出しました", "en": "written to {path}"},
    "folder": {"ja": "フォルダ", "en": "the folder"},
    "revision": {"ja": "git のリビジョン", "en": "the git revision"},
}


class DiffError(Exception):
    """A problem that stops the diff before any case is judged: said plainly, exit status 2."""


def say(key: str, lang: str, **values) -> str:
    return MESSAGES[key][lang].format(**values)


# --------------------------------------------------------------------- sides


@dataclass(frozen=True)
class Side:
    spec: str  # as the user wrote it
    folder: Path
    as_of: dt.date | None
    shown_as: str | None = None  # how the folder is named in messages (None: its path)


_DAY = re.compile(r"^(?P<base>.*)@(?P<day>[0-9-]{10})$")


def _git_tree(rev: str, cwd: Path) -> bool:
    result = subprocess.run(["git", "cat-file", "-t", rev], cwd=cwd, capture_output=True, text=True)
    return result.returncode == 0 and result.stdout.strip() == "tree"


def _readings(base: str, default: Path, cwd: Path) -> list[tuple[str, str]]:
    """The ways a rulebook name can be read: ("folder", path) and ("git", "REV:PATH")."""
    if base == "":
        return [("folder", str(default))]
    found = []
    if (cwd / base).is_dir():
        found.append(("folder", base))
    if base.startswith("git:"):
        rev = base[4:]
        found.append(("git", rev if ":" in rev else f"{rev}:rules"))
    elif ":" in base and _git_tree(base, cwd):
        found.append(("git", base))
    return found


def resolve(spec: str, default: Path, as_of: dt.date | None, scratch: Path, lang: str, cwd: Path | None = None) -> Side:
    """The rulebook folder and the day a side names (a git revision extracted into `scratch`)."""
    cwd = cwd or Path.cwd()
    readings = [(kind, value, as_of) for kind, value in _readings(spec, default, cwd)]
    match = _DAY.match(spec)
    if match:
        try:
            day = dt.date.fromisoformat(match["day"])
        except ValueError:
            raise DiffError(say("bad_day", lang, day=match["day"])) from None
        readings += [(kind, value, day) for kind, value in _readings(match["base"], default, cwd)]
    if not readings:
        raise DiffError(say("no_reading", lang, spec=spec))
    if len(readings) > 1:
        words = {"folder": say("folder", lang), "git": say("revision", lang)}
        shown = ", ".join(f"{words[kind]} {value}" + (f" @{day}" if day else "") for kind, value, day in readings)
        raise DiffError(say("ambiguous", lang, spec=spec, readings=shown))
    kind, value, day = readings[0]
    if kind == "folder":
        folder = Path(value) if Path(value).is_absolute() else cwd / value
        return Side(spec, folder, day)
    target = Path(tempfile.mkdtemp(prefix="rules-", dir=scratch))
    result = subprocess.run(["git", "archive", "--format=tar", value], cwd=cwd, capture_output=True)
    if result.returncode != 0:
        reason = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise DiffError(say("git", lang, rev=value, reason=reason[-1] if reason else result.returncode))
    with tarfile.open(fileobj=io.BytesIO(result.stdout)) as archive:
        archive.extractall(target, filter="data")
    return Side(spec, target, day, value)


# ------------------------------------------------------------------- workers

_BOOKS: dict = {}


def _books(old: Side, new: Side):
    key = (old, new)
    if _BOOKS.get("key") != key:
        _BOOKS.update(key=key, old=load(old.folder), new=load(new.folder))
    return _BOOKS["old"], _BOOKS["new"]


def _documents(units):
    """(origin, line, data or None, its `rulebook.error/v1` or None) of every document of the units,
    in order."""
    for unit in units:
        if unit.kind == "span":
            yield from _documents(span_units(unit))
        elif unit.kind == "line" and unit.error is None:
            yield unit.origin, unit.line, unit.payload, None
        else:
            for doc in parse_unit(unit, Limits()):
                yield doc.location.origin, doc.location.line, doc.data, \
                    doc.refusal() if doc.error is not None else None


ERRORS_SHOWN = 20  # inputs invalid on both sides named on stderr; the totals count them all


def judge_chunk(units, old: Side, new: Side):
    """Judge a chunk's documents under both rulebooks. Returns (documents judged, [(index in the
    chunk, change explained)], Totals, the first inputs that are not valid on either side as
    (file, line, message)): only what changed travels back."""
    book_old, book_new = _books(old, new)
    totals = Totals()
    changes, errors = [], []
    count = 0
    for index, (origin, line, data, error) in enumerate(_documents(units)):
        count += 1
        if error is not None:
            before = after = error
        else:
            before = book_old.judge(data, old.as_of, origin=origin, line=line, compact=True)
            after = book_new.judge(data, new.as_of, origin=origin, line=line, compact=True)
        change = compare_case(before, after)
        totals.add(before, after, change)
        if change is None and verdict_of(before) == INVALID and len(errors) < ERRORS_SHOWN:
            errors.append((origin, line, after["errors"]))
        if change is not None:
            explained = explain_change(change, book_old.judge(data, old.as_of, origin=origin, line=line),
                                       book_new.judge(data, new.as_of, origin=origin, line=line))
            changes.append((index, {**explained, "source": {"file": origin, "line": line}}))
    return count, changes, totals, errors


def _said(error: dict, lang: str) -> str:
    """One error of a `rulebook.error/v1` in the user's language, with its path."""
    text = (error.get("messages") or {}).get(lang) or error["message"]
    return f"{error['path']}: {text}" if error.get("path") else text


def _chunks(units, size: int):
    chunk = []
    for unit in units:
        chunk.append(unit)
        if len(chunk) >= size or unit.kind == "span":
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _judged(inputs: list[str], old: Side, new: Side, jobs: int, chunk: int):
    """(documents, changes, totals) of each chunk, in input order, at most a few chunks in flight."""
    units = iter_units(inputs, span_lines=chunk)
    if jobs <= 1:
        for units_chunk in _chunks(units, chunk):
            yield judge_chunk(units_chunk, old, new)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("spawn" if sys.platform == "darwin" else "fork")
    with ProcessPoolExecutor(jobs, mp_context=context) as pool:
        window: deque = deque()
        for units_chunk in _chunks(units, chunk):
            window.append(pool.submit(judge_chunk, units_chunk, old, new))
            if len(window) >= jobs * 3:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()


# --------------------------------------------------------------------- output


class _JsonStream:
    """`rulebook.diff/v1` written as it comes: the head, each case, then the totals."""

    def __init__(self, stream, head: dict):
        self.stream = stream
        self.first = True
        opening = dumps_json({"format": DIFF_FORMAT, "rulebook": head["rulebook"]}).decode()
        stream.write(opening[:-1] + ',\n"cases": [')

    def case(self, change: dict) -> None:
        self.stream.write(("\n" if self.first else ",\n") + dumps_json(change).decode())
        self.first = False

    def close(self, totals: dict) -> None:
        self.stream.write(("\n" if not self.first else "") + '],\n"totals": ' + dumps_json(totals).decode() + "}\n")


@contextlib.contextmanager
def _replacing(path: Path, mode: str = "w", **kwargs):
    """A file that takes the place of `path` whole, once written, or not at all."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


@dataclass
class Options:
    old: str
    new: str
    inputs: list[str]
    out: Path | None = None
    fmt: str = "text"
    lang: str = "ja"
    as_of: dt.date | None = None
    rules: str | None = None
    jobs: int = 0
    chunk: int = 256
    top: int = 20


def run(options: Options, stdout=None, stderr=None) -> int:
    """Compare; write what changed. Raises DiffError or RulebookError before any case is judged."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    default = Path(options.rules) if options.rules else bundled_rules()
    with tempfile.TemporaryDirectory(prefix="rulebook-diff-") as scratch:
        old = resolve(options.old, default, options.as_of, Path(scratch), options.lang)
        new = resolve(options.new, default, options.as_of, Path(scratch), options.lang)
        book_old, book_new = _books(old, new)  # a bad rulebook stops here; the workers inherit both
        head = {"format": DIFF_FORMAT, "from": _side_info(old, book_old), "to": _side_info(new, book_new),
                "changes": compare_rulebooks(_syntax(old), _syntax(new), old.as_of, new.as_of)}
        head["rulebook"] = {"from": head["from"], "to": head["to"], **head["changes"]}
        rule_order = [r["rule"] for r in book_new.catalogue()] + [r["rule"] for r in book_old.catalogue()]
        amounts = {**book_old.amount_titles, **book_new.amount_titles}
        if options.out is not None:
            try:
                options.out.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise DiffError(say("out", options.lang, path=options.out, reason=error.strerror or error)) from None
        with contextlib.ExitStack() as files:
            sinks: list = [_JsonStream(stdout, head) if options.fmt == "json"
                           else _TextStream(stdout, head, options.lang, amounts)]
            if options.out is not None:
                sinks.append(_JsonStream(files.enter_context(_replacing(options.out / JSON_NAME, encoding="utf-8")),
                                         head))
                sinks.append(_SheetStream(files.enter_context(_replacing(options.out / SHEET_NAME, "wb")),
                                          options.lang, amounts))
            totals, top, seq = Totals(), TopCases(options.top), 0
            jobs = options.jobs or os.cpu_count() or 1
            shown = 0
            for count, changes, chunk_totals, errors in _judged(options.inputs, old, new, jobs, options.chunk):
                totals += chunk_totals
                for origin, line, found in errors[: ERRORS_SHOWN - shown]:
                    message = "; ".join(_said(e, options.lang) for e in found)
                    stderr.write(visible(say("invalid", options.lang, where=f"{origin}:{line}", message=message)) + "\n")
                    shown += 1
                for index, change in changes:
                    top.offer(seq + index, change)
                    for sink in sinks:
                        sink.case(change)
                seq += count
            summary = totals.to_dict(rule_order, [_brief(c) for c in top.cases()])
            for sink in sinks:
                sink.close(summary)
            if options.out is not None:
                with _replacing(options.out / PAGE_NAME, encoding="utf-8") as page:
                    page.write(render_page(head, {**summary, "top": top.cases()}, options.lang, amounts))
        stderr.write(say("done", options.lang, cases=f"{totals.cases:,}", changed=f"{totals.changed:,}") + "\n")
        invalid = totals.verdicts[(INVALID, INVALID)]
        if invalid:
            stderr.write(say("invalid_count", options.lang, count=f"{invalid:,}") + "\n")
        if options.out is not None:
            stderr.write(visible(say("written", options.lang, path=options.out)) + "\n")
    return EXIT_CHANGED if totals.changed else EXIT_SAME


def _brief(change: dict) -> dict:
    """A case of the totals' `top`: which case, where, its verdicts and its money (the whole change
    is among the cases)."""
    return {key: change[key] for key in ("case_id", "source", "verdict", "money")}


class _TextStream:
    """The text for a terminal: the rulebooks, each case as it comes, the totals."""

    def __init__(self, stream, head: dict, lang: str, amounts: dict):
        self.stream, self.lang, self.amounts = stream, lang, amounts
        stream.write(text_header(head, lang))

    def case(self, change: dict) -> None:
        self.stream.write(text_case(change, self.lang, self.amounts))

    def close(self, totals: dict) -> None:
        self.stream.write(text_totals(totals, self.lang, self.amounts))


class _SheetStream:
    """The spreadsheet, a row per result that changed, as Excel in Japan opens it (UTF-8 with a
    byte-order mark, CRLF), encoded a block at a time."""

    def __init__(self, fh, lang: str, amounts: dict):
        self.fh, self.lang, self.amounts = fh, lang, amounts
        self.block = io.StringIO()
        self.writer = csv.writer(self.block, lineterminator="\r\n")
        fh.write(codecs.BOM_UTF8)
        self.writer.writerow(SHEET_HEADERS[lang])

    def case(self, change: dict) -> None:
        self.writer.writerows(sheet_rows(change, self.lang, self.amounts))
        if self.block.tell() > 1 << 16:
            self.flush()

    def close(self, _totals: dict) -> None:
        self.flush()

    def flush(self) -> None:
        self.fh.write(self.block.getvalue().encode("utf-8"))
        self.block.seek(0)
        self.block.truncate()


def _side_info(side: Side, book) -> dict:
    return {"source": side.spec or str(side.folder), "name": book.name, "version": book.version,
            "digest": book.digest, "as_of": side.as_of.isoformat() if side.as_of else None}


def _syntax(side: Side):
    sources, _problems = read_sources(side.folder, side.shown_as)
    files = []
    for source in sources:
        file, _diagnostics = parse(source)  # it loaded: every file parses
        if file is not None:
            files.append(file)
    return files


__all__ = ["Options", "DiffError", "RulebookError", "run", "resolve", "judge_chunk"]
