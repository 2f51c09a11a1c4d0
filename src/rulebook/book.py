"""book: a rulebook folder → a loaded, immutable Rulebook.

The pipeline: read the `.rules` files, parse, check, compile; the compiled plan
is cached (plain JSON, `engine.planjson`) by the digest of the sources, the grammar
and this version's code, so a second start skips the parser. A cache file is used
only where it and its folder belong to the user and no one else can write them. A loaded Rulebook is immutable and can be
shared between threads.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
import sys
from collections import Counter
from pathlib import Path
from stat import S_ISDIR, S_ISREG, S_IWGRP, S_IWOTH
from typing import Any

from . import __version__
from .language.diagnostic import Code, Diagnostic, RulebookError, diagnose
from .engine import planjson
from .engine.codegen import CodegenError
from .engine.batch import BatchRules
from .engine.evaluate import EvaluationError, Evaluator, link
from .language.grammar import grammar_text
from .output import vocabulary
from .output.compact import CompactWriter
from .output.explain import Explainer, rulebook_info
from .output.findings import FindingTexts, section
from .engine.plan import Plan
from .language.schema import Schema, reserved
from .input.errors import InputError, Locate, Rejected
from .input.messages import said
from .input.snapshot import Validator
from .language.source import Source

RULE_SUFFIX = ".rules"


def bundled_rules() -> Path:
    """The program's rulebook: inside the installed package, or the source tree's `rules/`."""
    here = Path(__file__).resolve().parent
    if (here / "rules").is_dir():  # installed: the wheel puts the rules inside the package
        return here / "rules"
    from importlib import resources  # (only a package not on the file system needs it)

    packaged = resources.files("rulebook").joinpath("rules")
    if packaged.is_dir():
        return Path(str(packaged))
    return here.parents[1] / "rules"


def read_sources(folder: Path, shown_as: str | None = None) -> tuple[list[Source], list[Diagnostic]]:
    """The rule files of a folder, in sorted order; `shown_as` names the folder in messages."""
    sources, diags = [], []
    if not folder.is_dir():
        raise RulebookError([diagnose(Code.NO_RULE_FILES, "no_folder", None, folder=folder)])
    files = sorted(p for p in folder.rglob(f"*{RULE_SUFFIX}") if p.is_file())
    if not files:
        raise RulebookError([diagnose(Code.NO_RULE_FILES, "no_files", None, suffix=RULE_SUFFIX, folder=folder)])
    for path in files:
        relative = path.relative_to(folder).as_posix()
        shown = f"{shown_as}/{relative}" if shown_as else str(path)
        raw = path.read_bytes()
        if raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            line = raw[: error.start].count(b"\n") + 1
            diags.append(diagnose(Code.NOT_UTF8, "not_utf8", None, file=shown, line=line))
            continue
        if "\x00" in text:
            diags.append(diagnose(Code.NOT_UTF8, "nul", None, file=shown))
            continue
        sources.append(Source(shown, text))
    return sources, diags


def digest_of(sources: list[Source], folder: Path, shown_as: str | None = None) -> str:
    """The rulebook's digest: its rule files (named within the folder, so that the digest is the
    same wherever the folder lies and whatever the current directory) and the grammar."""
    h = hashlib.sha256()
    h.update(grammar_text().encode())
    for source in sources:
        name = source.path[len(shown_as) + 1:] if shown_as else os.path.relpath(source.path, folder)
        h.update(b"\0")
        h.update(name.encode())
        h.update(b"\0")
        h.update(source.text.encode())
    return "sha256:" + h.hexdigest()


def build(sources: list[Source]) -> tuple[Plan, Schema]:
    """Parse, check and compile; raises RulebookError with every diagnostic."""
    from .language.check import check
    from .engine.compile import compile_program
    from .language.parse import parse

    files, diags = [], []
    for source in sources:
        file, found = parse(source)
        diags.extend(found)
        if file is not None:
            files.append(file)
    if diags:
        raise RulebookError(diags)
    program, diags = check(files)
    if diags or program is None:
        raise RulebookError(diags)
    return compile_program(program), program.schema


def _cache_dir() -> Path | None:
    configured = os.environ.get("RULEBOOK_CACHE")
    if configured == "off":
        return None
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "rulebook"


def cache_folder() -> Path | None:
    """The folder of the plan cache (None when `RULEBOOK_CACHE=off`); an audit keeps its page's
    compiled template there too (`output.report.ready`)."""
    return _cache_dir()


@functools.cache
def _engine_fingerprint() -> str:
    """Changes whenever this package's code does, so a cached plan never outlives its compiler."""
    h = hashlib.sha256(__version__.encode())
    root = Path(__file__).parent
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _cache_key(digest: str, sources: list[Source]) -> str:
    """The digest, and where the files are shown as being: a plan holds each clause's
    file:line:column, so the same rule files in another folder have a plan of their own."""
    h = hashlib.sha256(digest.encode())
    for source in sources:
        h.update(b"\0" + source.path.encode())
    return "sha256:" + h.hexdigest()


def _cache_file(folder: Path, digest: str) -> Path:
    return folder / f"{digest.split(':', 1)[1][:32]}-{_engine_fingerprint()}.json"


# The plan cache is trusted as OpenSSH trusts a key file: the folder and the file belong to
# this user (the effective uid), and no one else can write to them. Anything else is ignored,
# with one warning, and the plan is built from the rule files.
_UNTRUSTED = {
    "owner": ("ほかの利用者のものです", "it belongs to another user"),
    "writable": ("ほかの利用者も書き込めます", "others can write to it"),
    "kind": ("通常のファイルではありません", "it is not a plain file"),
}
_warned: list[bool] = []


def _distrust(stat: os.stat_result) -> str | None:
    """Why a cache folder or file with this status is not trusted, or None."""
    if stat.st_uid != os.geteuid():
        return "owner"
    if stat.st_mode & (S_IWGRP | S_IWOTH):
        return "writable"
    return None


def _warn_untrusted(path: Path, reason: str) -> None:
    if _warned:
        return
    _warned.append(True)
    ja, en = _UNTRUSTED[reason]
    sys.stderr.write(f"rulebook: 警告: プランのキャッシュ {path} を使いません({ja})。ルールファイルから作り直します。\n"
                     f"rulebook: warning: the plan cache {path} is not used ({en}); the rulebook is built "
                     "from its files again.\n")


def _trusted_folder(folder: Path) -> bool:
    """True when the folder exists and can be trusted (warns when it exists and cannot)."""
    try:
        stat = os.stat(folder)
    except OSError:
        return False
    reason = "kind" if not S_ISDIR(stat.st_mode) else _distrust(stat)
    if reason:
        _warn_untrusted(folder, reason)
    return reason is None


def _cached(folder: Path, digest: str):
    """The cached (plan, schema), ready to run; None when there is none to trust."""
    if not _trusted_folder(folder):
        return None
    path = _cache_file(folder, digest)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return None
    except OSError:  # a link (O_NOFOLLOW refuses it), or a file this user cannot read
        try:
            stat = os.lstat(path)
            reason = "kind" if not S_ISREG(stat.st_mode) else _distrust(stat) or "kind"
        except OSError:
            reason = "kind"
        _warn_untrusted(path, reason)
        return None
    with os.fdopen(fd, "rb") as fh:
        stat = os.fstat(fh.fileno())
        reason = "kind" if not S_ISREG(stat.st_mode) else _distrust(stat)
        if reason:
            _warn_untrusted(path, reason)
            return None
        data = fh.read()
    try:
        plan, schema = planjson.loads(data, _engine_fingerprint())
        if any(reserved(name) for name in schema.field_names):
            return None
        link(plan)  # verifies the generated module (codegen) before anything runs it
    except (planjson.PlanFileError, CodegenError):
        return None  # damaged, or not ours: built again, and written over
    return plan, schema


def _store(folder: Path, digest: str, plan: Plan, schema: Schema) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not _trusted_folder(folder):
            return
        import tempfile

        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(planjson.dumps(plan, schema, _engine_fingerprint()))
        os.replace(tmp, _cache_file(folder, digest))
    except OSError:
        pass


class Rulebook:
    """A loaded rulebook: `check` judges snapshots; `model` is the snapshot's model class."""

    def __init__(self, plan: Plan, schema: Schema, digest: str, path: Path):
        self.plan = plan
        self.schema = schema
        self.digest = digest
        self.path = path
        self._validator = Validator(functools.partial(_models, schema), schema)
        self._evaluator = Evaluator(plan)
        # `evaluate` is the evaluator's own (the method below says what it does): a call of
        # `book.evaluate` is then one Python call, not two
        self.evaluate = self._evaluator.evaluate
        self._explainer = Explainer(plan, digest, self._evaluator.args, schema.labels_by_field())
        self._compact: CompactWriter | None = None  # made when a batch first asks for it
        self.batch = BatchRules(plan)  # the rules over a batch's cases (the audit's, `rulebook test`'s)

    @property
    def model(self) -> type:
        """The pydantic model of the snapshot (built the first time it is needed: the schema's
        decoder reads valid snapshots without it)."""
        return self._validator.model

    @property
    def name(self) -> str:
        return self.plan.name

    @property
    def version(self) -> str:
        return self.plan.version

    def info(self) -> dict:
        return rulebook_info(self.plan, self.digest)

    def vocabulary(self) -> dict:
        """The words every face shows, in ja and en: statuses, verdicts, amounts (output/vocabulary),
        and this rulebook's stages and labels of values (see `vocabulary.table`)."""
        return vocabulary.table(self.plan.stages, self.schema.value_labels(), self.amount_titles)

    @property
    def amount_titles(self) -> dict:
        """{amount: {lang: title}}: the titles of the payout's amounts, the case's over the steps'."""
        return {**self.plan.step_amount_titles, **self.plan.amount_titles}

    def validate(self, snapshot: Any, origin: str | None = None, line: int | None = None,
                 locate: Locate | None = None):
        """The validated snapshot and its warnings; raises Rejected if it is not valid input."""
        return self._validator.validate(snapshot, origin, line, locate)

    def judge(self, snapshot: Any, as_of: dt.date | str | None = None, *,
              origin: str | None = None, line: int | None = None, compact: bool = False,
              locate: Locate | None = None) -> dict:
        """The verdict as a JSON-ready mapping, or the `rulebook.error/v1` mapping. `locate`
        gives the line and column of a field in the document read (`Document.locate`)."""
        return self.judge_case(snapshot, as_of, origin=origin, line=line, compact=compact, locate=locate,
                               batch=True)[0]

    def judge_case(self, snapshot: Any, as_of: dt.date | str | None = None, *,
                   origin: str | None = None, line: int | None = None, compact: bool = False,
                   raw: bool = False, locate: Locate | None = None, batch: bool = False):
        """(verdict or error mapping, the validated snapshot or None); `raw` leaves the facts'
        values unconverted, for `explain.dumps`; `batch`: the snapshot is read as
        `Validator.validate_fast` reads it (the case given back may be the decoder's records)."""
        try:
            if batch:
                checked = self._validator.validate_fast(snapshot, origin, line, locate)
            else:
                checked = self._validator.validate(snapshot, origin, line, locate)
        except Rejected as rejected:
            return rejected.to_dict(), None
        try:
            outcome = self._evaluator.evaluate(checked.case, _day(as_of))
            # Explaining computes the messages' values, which may read a parameter not in force.
            return self._explainer.explain(outcome, checked.warnings, compact, raw), checked.case
        except EvaluationError as error:
            return _not_judged(error, checked.case, origin, line), checked.case

    @property
    def compact_writer(self) -> CompactWriter:
        """The writer of compact verdicts (`output.compact`), generated for this plan."""
        if self._compact is None:
            self._compact = CompactWriter(self.plan, self.digest, self._explainer)
        return self._compact

    def judge_compact(self, snapshot: Any, as_of: dt.date | None = None, *, origin: str | None = None,
                      line: int | None = None, statuses: Counter | None = None, tally: list | None = None):
        """The compact verdict straight as its JSON line (see `output.compact`), for batches:
        the snapshot is read as `Validator.validate_fast` reads it.

        Returns (compact, error, validated snapshot or None): compact is (JSON line without its
        line break, verdict, failed "rule@subject", payout) and error None, or compact is None and
        error the `rulebook.error/v1` mapping, as `judge_case` gives it. Each result is counted
        into `statuses` (by rule and status) or, cheaper, into `tally` (`compact_writer.tally()`,
        which `compact_writer.counts` turns into the same counts)."""
        try:
            checked = self._validator.validate_fast(snapshot, origin, line)
        except Rejected as rejected:
            return None, rejected.to_dict(), None
        try:
            outcome = self._evaluator.evaluate(checked.case, _day(as_of))
        except EvaluationError as error:
            return None, _not_judged(error, checked.case, origin, line), checked.case
        writer = self._compact or self.compact_writer
        if statuses is None:
            return writer.line(outcome, checked.warnings, tally), None, checked.case
        counted = writer.tally()
        done = writer.line(outcome, checked.warnings, counted)
        statuses.update(writer.counts(counted))
        if tally is not None:
            tally[:] = [a + b for a, b in zip(tally, counted)]
        return done, None, checked.case

    def batch_rows(self, case, payout: dict, as_of: dt.date | None = None, *, origin: str | None = None,
                   line: int | None = None):
        """What a judged case adds to the batch rules: ((rule index, rows) …, None), or (None,
        the `rulebook.error/v1` mapping) when a batch rule cannot read it."""
        try:
            return self.batch.rows(case, payout, as_of or case.as_of), None
        except EvaluationError as error:
            return None, _not_judged(error, case, origin, line)

    def add_batch_rows(self, case, payout: dict, as_of: dt.date | None, origin: str | None, line: int | None,
                       prefix: tuple, into: list[list[tuple]]):
        """`batch_rows`, the rows added to `into[rule index]` (a list per batch rule) rather than
        given back: None, or the `rulebook.error/v1` mapping (and no row added) when a batch rule
        cannot read the case."""
        try:
            self.batch.add_rows(case, payout, as_of or case.as_of, prefix, into)
        except EvaluationError as error:
            return _not_judged(error, case, origin, line)
        return None

    def batch_rows_adder(self):
        """`add_batch_rows` made for a loop over many cases (a chunk's): the same arguments and
        result, with the batch rules' adder bound once (`BatchRules.add_rows`)."""
        add = self.batch.add_rows

        def add_rows(case, payout: dict, as_of: dt.date | None, origin: str | None, line: int | None, prefix: tuple,
                     into: list[list[tuple]]):
            try:
                add(case, payout, as_of or case.as_of, prefix, into)
            except EvaluationError as error:
                return _not_judged(error, case, origin, line)
            return None

        return add_rows

    def find(self, judged, overrides: dict | None = None) -> list[dict]:
        """The findings of the batch rules over a few judged cases — (validated snapshot, its
        verdict's payout, the day it was judged on) each, in input order — as summary.json's
        `findings` lists them (every finding: for the few cases a test holds)."""
        params, found = self.batch.evaluate(judged, overrides)
        texts = FindingTexts(self.plan, self.schema.labels_by_field())
        entries: list[list[dict]] = [[] for _ in self.plan.batch_rules]
        for finding in found:
            entries[finding.rule].append(texts.entry(finding, self.batch.args(finding, params),
                                                     self.batch.figures(finding, params)))
        return [section(rule, listed, len(listed)) for rule, listed in zip(self.plan.batch_rules, entries)]

    def check(self, snapshot: Any, as_of: dt.date | str | None = None):
        """Judge one snapshot (a mapping, JSON text, or `self.model`) → `rulebook.Verdict`.

        Raises `rulebook.SnapshotError` if the snapshot is not valid input."""
        from .output.verdict import Verdict

        result = self.judge(snapshot, as_of)
        if result["format"] != "rulebook.verdict/v1":
            errors = [InputError.from_dict(e) for e in result["errors"]]
            raise Rejected(result.get("case_id"), errors)
        return Verdict.model_validate(result)

    def evaluate(self, case, as_of: dt.date | None = None):
        """The raw outcome (results and payout) of a validated snapshot."""
        return self._evaluator.evaluate(case, as_of)

    def next_change(self, outcome) -> dt.date | None:
        """The first day after the outcome's as-of date on which the same case could be judged
        otherwise by time alone (see `Evaluator.next_change`); None: never."""
        return self._evaluator.next_change(outcome)

    def describe(self, outcome, result) -> tuple:
        """One result of an outcome explained: (status, message and fix as {lang: text}, due date
        or None). Raises EvaluationError when a value its texts need cannot be computed."""
        return self._explainer.describe(outcome, result)

    def due(self, outcome, result) -> dt.date | None:
        """One result's due date (or None), without its texts."""
        return self._explainer.due(outcome, result)

    def catalogue(self) -> list[dict]:
        """Every rule: id, subject, stage, titles and the source sentence."""
        return [{"rule": r.id, "subject": {"case": "case", "each_step": "step:N"}.get(r.subject, "step:N (final)"),
                 "stage": r.stage, "title": dict(r.titles),
                 "source": {"text": r.source[0], "ref": r.source[1]},
                 "statuses": sorted({c.status for c in r.clauses})} for r in self.plan.rules]

    def batch_catalogue(self) -> list[dict]:
        """Every rule over a batch's cases: id, what it groups, stage, titles and source sentence."""
        return [{"rule": r.id, "subject": "batch", "over": {"cases": "cases", "each_step": "each step"}[r.items],
                 "keys": [name for name, _kind in r.keys], "stage": r.stage, "title": dict(r.titles),
                 "source": {"text": r.source[0], "ref": r.source[1]}} for r in self.plan.batch_rules]

    def json_schema(self) -> dict:
        schema = self.model.model_json_schema()
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["title"] = "rulebook.case/v1"
        return schema


def _models(schema: Schema) -> type:
    """The pydantic model of the snapshot (its module, and pydantic's model builder, loaded
    only when a snapshot needs the model)."""
    from .input.model import build_models

    return build_models(schema)


def _not_judged(error: EvaluationError, case, origin: str | None, line: int | None) -> dict:
    """The `rulebook.error/v1` mapping of a valid case the rulebook could not judge."""
    return Rejected(case.case_id, [InputError("", said("not_judged", reason=error.message, code=error.code))],
                    origin, line).to_dict()


def _day(value) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def load(path: str | os.PathLike | None = None, *, cache: bool = True) -> Rulebook:
    """Load a rulebook folder (the program's own when no path is given)."""
    folder = Path(path) if path is not None else bundled_rules()
    shown_as = None if path is not None else "rules"
    sources, diags = read_sources(folder, shown_as)
    if diags:
        raise RulebookError(diags)
    digest = digest_of(sources, folder, shown_as)
    cache_folder = _cache_dir() if cache else None
    key = _cache_key(digest, sources)
    built = _cached(cache_folder, key) if cache_folder is not None else None
    if built is None:
        built = build(sources)
        if cache_folder is not None:
            _store(cache_folder, key, *built)
    plan, schema = built
    return Rulebook(plan, schema, digest, folder)


__all__ = ["Rulebook", "load", "bundled_rules", "cache_folder"]
