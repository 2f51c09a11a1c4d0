"""testing: the rulebook's own YAML test cases, and which clauses they reach.

A test file (`rules/tests/*.yaml`) names a base snapshot and a list of cases;
each case changes the base by field path (`set`, `unset`), may judge it on
another day (`as_of`), and says what it wants: the verdict, statuses by rule
(`rule` for every subject of the rule, or `rule step:N`), payout amounts, or
an input error at a path. Like OPA's conformance cases, they are data a
non-programmer can read.

A file may also hold `batches`: each a list of `cases` built the same way and judged
together, and the findings the batch rules (`rule … over`) should give over them.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from ..book import Rulebook
from ..engine.evaluate import EvaluationError
from ..input.documents import load_path
from ..input.snapshot import set_path, unset_path
from ..language.message import Message, joined, text_in
from .wording import said


@dataclass
class CaseOutcome:
    file: str
    note: str
    line: int
    failures: list[str]


@dataclass
class Report:
    outcomes: list[CaseOutcome] = field(default_factory=list)
    reached: set = field(default_factory=set)  # (rule id, clause index)
    problems: list[str] = field(default_factory=list)  # files that could not be read

    @property
    def failed(self) -> list[CaseOutcome]:
        return [o for o in self.outcomes if o.failures]


class _Unreadable(ValueError):
    pass


# A path with brackets as a key of a flow mapping, unquoted: `set: {steps[0].hours: 10}`.
_BRACKETED_KEY = re.compile(r"\{[^}\"']*\b\w+\[\d+\]")
QUOTE_THE_PATH = ("help: 「{…}」の中の「[…]」を含むパスは引用符で囲んでください: {\"steps[0].hours\": 10}\n"
                  "      quote a path that holds `[…]` inside `{…}`: {\"steps[0].hours\": 10}")


def _read(path: Path):
    """The one document of a YAML file (read as snapshots are: YAML 1.2), and where its parts are."""
    docs = list(load_path(path))
    if len(docs) != 1 or not docs[0].ok:
        problems = [d for d in docs if not d.ok]
        message = joined((Message(f"{d.location}: {text_in(d.error, 'en')}", f"{d.location}: {text_in(d.error, 'ja')}")
                          for d in problems), "; ", "。") if problems else said("one_document")
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines() if problems else []
        for d in problems:
            line = d.location.line
            if "flow mapping" in str(d.error) and 0 < line <= len(lines) and _BRACKETED_KEY.search(lines[line - 1]):
                message = Message(message.en + "\n  " + QUOTE_THE_PATH, message.ja + "\n  " + QUOTE_THE_PATH)
                break
        raise _Unreadable(message)
    return docs[0].data, docs[0].locate


def _errors(errors: list[dict]) -> Message:
    """An error document's errors, `path: message` each, in the message's languages."""
    return joined((Message(f"{e['path']}: {e['messages']['en']}", f"{e['path']}: {e['messages']['ja']}")
                   for e in errors), "; ", "。")


def test_files(folder: Path) -> list[Path]:
    tests = folder / "tests"
    return sorted(tests.glob("*.yaml")) if tests.is_dir() else []


def run_tests(book: Rulebook, folder: Path) -> Report:
    report = Report()
    for path in test_files(folder):
        try:
            doc, locate = _read(path)
        except _Unreadable as error:
            report.problems.append(said("unreadable_test_file", path=path, reason=error.args[0]))
            continue
        if isinstance(doc, dict) and "format" in doc and "cases" not in doc:
            continue  # a snapshot that test files use as their base
        if not isinstance(doc, dict) or not (isinstance(doc.get("cases"), list) or isinstance(doc.get("batches"), list)):
            report.problems.append(said("not_a_test_file", path=path))
            continue
        bases: dict = {}
        for number, case in enumerate(doc.get("cases") or []):
            line = (locate(f"cases[{number}]") or (0, 0))[0]
            report.outcomes.append(_run_case(book, path, doc, case, line, bases, report.reached))
        for number, batch in enumerate(doc.get("batches") or []):
            line = (locate(f"batches[{number}]") or (0, 0))[0]
            report.outcomes.append(_run_batch(book, path, doc, batch, line, bases, report.reached))
    return report


def _load_base(path: Path, name: str, bases: dict):
    if name not in bases:
        base_path = (path.parent / name).resolve()
        bases[name] = _read(base_path)[0]
    return copy.deepcopy(bases[name])


def _snapshot(path: Path, doc: dict, case: dict, bases: dict) -> dict:
    """A test case's snapshot: its own `case`, or the base with `unset` and `set` applied."""
    if "case" in case:
        data = copy.deepcopy(case["case"])
    else:
        data = _load_base(path, case.get("base", doc.get("base", "base.yaml")), bases)
    for key in case.get("unset", []) or []:
        unset_path(data, key)
    for key, value in (case.get("set") or {}).items():
        set_path(data, key, value)
    return data


def _run_case(book: Rulebook, path: Path, doc: dict, case: dict, line: int, bases: dict,
              reached: set) -> CaseOutcome:
    if not isinstance(case, dict):
        return CaseOutcome(str(path), said("case_at_line", line=line), line, [said("case_not_a_mapping")])
    case = copy.deepcopy(case)  # aliases (`*step2`) share their value between cases: set_path must not
    note = case["note"] if "note" in case else said("case_at_line", line=line)
    failures: list[str] = []
    try:
        data = _snapshot(path, doc, case, bases)
    except (OSError, ValueError) as error:
        return CaseOutcome(str(path), note, line, [said("cannot_build", reason=error)])
    as_of = case.get("as_of")
    if isinstance(as_of, str):
        as_of = dt.date.fromisoformat(as_of)
    got = book.judge(data, as_of)
    want = case.get("want") or {}
    unknown = set(want) - {"verdict", "results", "payout", "message", "due", "error"}
    if unknown:
        failures.append(said("unknown_want_keys", keys=", ".join(sorted(map(str, unknown))),
                             known="verdict, results, payout, message, due, error"))
    if got["format"] != "rulebook.verdict/v1":
        wanted_error = want.get("error")
        if wanted_error is None:
            failures.append(said("rejected", errors=_errors(got["errors"])))
        elif not any(e["path"] == wanted_error for e in got["errors"]):
            failures.append(said("wanted_input_error", path=wanted_error,
                                 got=", ".join(f"`{e['path']}`" for e in got["errors"])))
        return CaseOutcome(str(path), note, line, failures)
    if "error" in want:
        failures.append(said("wanted_input_error_judged", path=want["error"]))
    for result in got["results"]:
        reached.add((result["rule"], result["clause"] - 1))
    if "verdict" in want and got["verdict"] != want["verdict"]:
        failures.append(said("wanted_verdict", want=want["verdict"], got=got["verdict"]))
    def found(key) -> list[dict]:
        """The results a want key names: `rule` (every subject) or `rule step:N`."""
        rule, _, subject = str(key).partition(" ")
        matches = [r for r in got["results"] if r["rule"] == rule and (not subject or r["subject"] == subject)]
        if not matches:
            failures.append(said("no_such_result", key=key))
        return matches

    for key, status in (want.get("results") or {}).items():
        for r in found(key):
            if r["status"] != status:
                failures.append(said("wanted_status", rule=r["rule"], subject=r["subject"], want=status,
                                     got=r["status"], clause=r["clause"], message=Message(r["message"]["en"],
                                                                                          r["message"]["ja"])))
    for key, amount in (want.get("payout") or {}).items():
        if got["payout"].get(key) != amount:
            failures.append(said("wanted_payout", key=key, want=amount, got=got["payout"].get(key)))
    for key, needle in (want.get("message") or {}).items():
        for r in found(key):
            if needle not in r["message"]["ja"] and needle not in r["message"]["en"]:
                failures.append(said("message_does_not_say", key=key, needle=needle, message=r["message"]["ja"]))
    for key, day in (want.get("due") or {}).items():
        for r in found(key):
            if r["due"] != str(day):
                failures.append(said("wanted_due", key=key, want=day, got=r["due"]))
    return CaseOutcome(str(path), note, line, failures)


def _run_batch(book: Rulebook, path: Path, doc: dict, batch: dict, line: int, bases: dict,
               reached: set) -> CaseOutcome:
    """A batch of cases judged together, and the findings of the batch rules it should give:
    `want: {findings: {RULE: [{key, cases, case_count, figures, message, clause}, …]}}` — the
    rule's findings in order, exactly as many; each named part as given (`figures` and
    `message` in part: the figures named, a text the message holds in ja or en)."""
    if not isinstance(batch, dict) or not isinstance(batch.get("cases"), list):
        return CaseOutcome(str(path), said("batch_at_line", line=line), line, [said("batch_not_a_mapping")])
    note = batch["note"] if "note" in batch else said("batch_at_line", line=line)
    judged, failures = [], []
    for number, case in enumerate(batch["cases"], 1):
        case = copy.deepcopy(case) if isinstance(case, dict) else {}
        try:
            data = _snapshot(path, doc, case, bases)
        except (OSError, ValueError) as error:
            return CaseOutcome(str(path), note, line, [said("batch_case_cannot_build", number=number, reason=error)])
        as_of = case.get("as_of", batch.get("as_of"))
        out, checked = book.judge_case(data, dt.date.fromisoformat(str(as_of)) if as_of else None)
        if out["format"] != "rulebook.verdict/v1":
            failures.append(said("batch_case_not_judged", number=number, errors=_errors(out["errors"])))
            continue
        judged.append((checked, out["payout"], dt.date.fromisoformat(out["as_of"])))
    if failures:
        return CaseOutcome(str(path), note, line, failures)
    want = batch.get("want") or {}
    unknown = set(want) - {"findings", "error"}
    if unknown:
        failures.append(said("unknown_want_keys", keys=", ".join(sorted(map(str, unknown))), known="findings, error"))
    try:
        found = {rule["rule"]: rule["entries"] for rule in book.find(judged)}
    except EvaluationError as error:  # a batch rule that cannot be evaluated over these cases
        if want.get("error") is None or str(want["error"]) not in str(error):
            failures.append(said("batch_not_evaluable", reason=error.message))
        return CaseOutcome(str(path), note, line, failures)
    if want.get("error") is not None:
        failures.append(said("batch_evaluated", error=want["error"]))
    for rule, entries in found.items():
        reached.update((rule, entry["clause"] - 1) for entry in entries)
    for rule, wanted in (want.get("findings") or {}).items():
        if rule not in found:
            failures.append(said("no_such_batch_rule", rule=rule))
            continue
        failures += _compare_findings(rule, found[rule], wanted or [])
    return CaseOutcome(str(path), note, line, failures)


def _compare_findings(rule: str, got: list[dict], wanted: list) -> list[str]:
    failures = []
    if len(got) != len(wanted):
        shown = "; ".join(str(entry["key"]) for entry in got) or Message("none", "なし")
        failures.append(said("wanted_findings", rule=rule, want=len(wanted), got=len(got), shown=shown))
    for number, (entry, want) in enumerate(zip(got, wanted), 1):
        if not isinstance(want, dict):
            failures.append(said("finding_not_a_mapping", rule=rule, number=number))
            continue
        unknown = set(want) - {"key", "cases", "case_count", "figures", "message", "clause"}
        if unknown:
            failures.append(said("finding_unknown_keys", rule=rule, number=number,
                                 keys=", ".join(sorted(map(str, unknown)))))
        for part in ("key", "cases", "case_count", "clause"):
            if part in want and _plain(want[part]) != entry[part]:
                failures.append(said("finding_part", rule=rule, number=number, part=part, want=want[part], got=entry[part]))
        for name, value in (want.get("figures") or {}).items():
            if entry["figures"].get(name) != _plain(value):
                failures.append(said("finding_figure", rule=rule, number=number, name=name, want=value,
                                     got=entry["figures"].get(name)))
        needle = want.get("message")
        if needle is not None and str(needle) not in entry["message"]["ja"] and str(needle) not in entry["message"]["en"]:
            failures.append(said("finding_message", rule=rule, number=number, needle=needle,
                                 message=Message(entry["message"]["en"], entry["message"]["ja"])))
    return failures


def _plain(value):
    """A wanted value as a finding holds it (a YAML day as ISO text)."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):  # as JSON holds a figure: a whole number, or a float
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def unreached(book: Rulebook, reached: set) -> list[tuple[str, int, str, str]]:
    """(rule, clause number, status, where) for every clause no test reached, the batch rules'
    among them."""
    out = []
    for rule in list(book.plan.rules) + list(book.plan.batch_rules):
        for clause in rule.clauses:
            if (rule.id, clause.index) not in reached:
                out.append((rule.id, clause.index + 1, clause.status, clause.where))
    return out


def clause_count(book: Rulebook) -> int:
    """How many clauses the rules have, the batch rules' among them."""
    return sum(len(r.clauses) for r in list(book.plan.rules) + list(book.plan.batch_rules))
