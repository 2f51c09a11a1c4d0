"""Properties that hold for any input (hypothesis).

- any text fed to the parser and checker gives a rulebook or our diagnostics, never another exception;
- any valid snapshot gives a verdict, never an exception; its output is deterministic;
- reordering the rules in the files changes no status;
- any JSON-like data gives a verdict or our structured error.
"""

from __future__ import annotations

import random
import re
import shutil

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rulebook
from rulebook.book import build
from rulebook.language.diagnostic import CODES, RulebookError
from samples import make_case
from rulebook.language.source import Source

from ..conftest import ROOT

RULE_FILES = sorted((ROOT / "rules").glob("*.rules"))
SOURCES = [Source(f"rules/{p.name}", p.read_text(encoding="utf-8")) for p in RULE_FILES]
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _build_or_diagnose(sources):
    try:
        build(sources)
    except RulebookError as error:
        assert error.diagnostics
        for d in error.diagnostics:
            assert d.code in CODES
            d.render()  # rendering never fails either


@FAST
@given(st.text(max_size=300))
def test_any_text_gives_diagnostics_or_a_rulebook(text):
    _build_or_diagnose(SOURCES[:1] + [Source("fuzz.rules", text)])


TOKENS = ["rule", "a.b", "on", "case", "each", "step", "when", "then", "pass", "fail", "otherwise", "message",
          "ja", "en", '"x"', '"{step.hours}"', "let", "x", "=", "+", "*", "is", "set", "missing", "(", ")",
          "and", "or", "not", "stage", "matching", "title", "source", "10", "yen", "days", "2021-01-01",
          "if", "else", "any", "p", "in", "where", "step.photos", "rounded", "down", "payout", "amount",
          "total", "no", "failure", "except", "parameter", ":", "value", "from", "record", "list", "of", ",",
          "labels", "{", "}", "text", "optional"]


@FAST
@given(st.lists(st.sampled_from(TOKENS), max_size=40))
def test_token_soup_gives_diagnostics_or_a_rulebook(tokens):
    _build_or_diagnose(SOURCES + [Source("soup.rules", " ".join(tokens))])


@FAST
@given(st.data())
def test_mutated_rule_files_give_diagnostics_or_a_rulebook(data):
    index = data.draw(st.integers(0, len(SOURCES) - 1))
    text = SOURCES[index].text
    at = data.draw(st.integers(0, len(text)))
    cut = data.draw(st.integers(0, 20))
    insert = data.draw(st.text(max_size=8))
    mutated = text[:at] + insert + text[at + cut:]
    _build_or_diagnose(SOURCES[:index] + [Source(SOURCES[index].path, mutated)] + SOURCES[index + 1:])


@settings(max_examples=150, deadline=None)
@given(st.randoms(use_true_random=False), st.integers(0, 10**6))
def test_any_valid_snapshot_gives_a_verdict_deterministically(book, rng, i):
    case = make_case(rng, i, further=i % 2 == 0)  # with further-rules.md's facts, or without them
    first = book.judge(case)
    assert first["format"] == "rulebook.verdict/v1", first
    assert orjson.dumps(book.judge(case)) == orjson.dumps(first)
    statuses = {r["status"] for r in first["results"]}
    assert first["verdict"] == ("ineligible" if "fail" in statuses else
                                "incomplete" if "pending" in statuses else "eligible")
    steps = len(case.get("steps", []))
    assert len(first["results"]) == 18 + 7 * steps + 1  # case rules, step rules, the final capture
    assert first["payout"]["honorarium_jpy"] <= first["payout"]["honorarium_at_stake_jpy"]


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20)


@settings(max_examples=150, deadline=None)
@given(st.randoms(use_true_random=False), st.lists(st.tuples(st.sampled_from(
    ["case_id", "as_of", "sme", "sme.applied_on", "plan", "plan.steps", "steps", "steps[0]", "steps[0].hours",
     "steps[0].photos", "claim.honorarium_jpy", "lancers.method", "format"]), JSONISH), max_size=3))
def test_any_damage_to_a_snapshot_gives_a_verdict_or_our_error(book, rng, damage):
    from rulebook.input.snapshot import set_path

    case = make_case(rng, 0)
    for path, value in damage:
        try:
            set_path(case, path, value)
        except ValueError:
            pass
    out = book.judge(case)
    assert out["format"] in ("rulebook.verdict/v1", "rulebook.error/v1")
    if out["format"] == "rulebook.error/v1":
        assert out["errors"] and all(isinstance(e["path"], str) and e["message"] for e in out["errors"])
    from rulebook.output.explain import dumps

    dumps(out)  # always serialisable (integers wider than 64 bits too, exactly)


def _rule_blocks(text: str) -> tuple[str, list[str]]:
    parts = re.split(r"(?m)^(?=rule )", text)
    return parts[0], parts[1:]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_reordering_rules_changes_no_status(tmp_path, seed, book):
    rng = random.Random(seed)
    folder = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", folder, ignore=shutil.ignore_patterns("tests"))
    blocks = []
    for name in ("case.rules", "steps.rules"):
        _, found = _rule_blocks((folder / name).read_text(encoding="utf-8"))
        blocks.extend(b if b.endswith("\n\n") else b + "\n" for b in found)
        (folder / name).unlink()
    rng.shuffle(blocks)
    half = len(blocks) // 2
    (folder / "z-first.rules").write_text("".join(blocks[:half]), encoding="utf-8")
    (folder / "a-second.rules").write_text("".join(blocks[half:]), encoding="utf-8")
    shuffled = rulebook.load(folder)
    assert [r.id for r in shuffled.plan.rules] != [r.id for r in book.plan.rules]
    case_rng = random.Random(seed)
    for i in range(150):
        case = make_case(case_rng, i)
        a, b = book.judge(case), shuffled.judge(case)
        key = lambda out: sorted((r["rule"], r["subject"], r["status"]) for r in out["results"])  # noqa: E731
        assert key(a) == key(b)
        assert a["payout"] == b["payout"]


# ------------------------------------------------------------- rules over a batch

# The parts of a batch rule, by what they may read: (item for `over cases`, for `over each step`).
_WHERES = (["where sme.applied_on is set", 'where case_id != "zz"'], ["where step.started_on is set"])
_GROUPS = (["group by case_id", "group by sme.name as sme",
            "group by expert.lancers_user if missing expert.name as expert, sme.name as sme"],
           ["group by case_id", "group by step.number as n", "group by sme.name as sme"])
_DAYS = (["each day from sme.applied_on if missing as_of to as_of"],
         ["each day from step.started_on if missing as_of to step.completion_reported_on if missing step.planned_end_on"])
_FIGURES = {"n2": "count n2", "y": "sum y = payout.honorarium_jpy", "m": "max m = sme.applied_on if missing as_of",
            "m2": "min m2 = as_of", "h": "sum h = step.hours", "hs": "sum hs = step.hours spread over its days",
            "hh": "sum hh = step.hours * 1.5"}
_CONDITIONS = {"n2": "n2 > 1", "y": "y > 1000 yen", "m": "m > 2021-01-01", "m2": "m2 >= 2021-01-01",
               "h": "h > 1 hours", "hs": "hs > 0.5 hours", "hh": "hh > 2 hours"}


@st.composite
def _batch_rules(draw) -> str:
    """A batch rule's text from parts that mostly fit together (some do not: `max` day by day,
    `spread` without days, a step's field over cases — those are refused with diagnostics)."""
    steps = draw(st.integers(0, 1))
    lines = [["rule batch.x over cases", "rule batch.x over each step"][steps], '  title ja "t" en "t"', '  source "s"']
    if draw(st.booleans()):
        lines.append("  " + draw(st.sampled_from(_WHERES[steps])))
    lines.append("  " + draw(st.sampled_from(_GROUPS[steps])))
    if draw(st.booleans()):
        lines.append("  " + draw(st.sampled_from(_DAYS[steps])))
    names = draw(st.lists(st.sampled_from(sorted(_FIGURES)), min_size=1, max_size=3, unique=True))
    lines += ["  " + _FIGURES[name] for name in names]
    if draw(st.booleans()):
        lines.append(f"  let doubled = cases * 2")
    for name in draw(st.lists(st.sampled_from(names), min_size=1, max_size=2, unique=True)):
        lines.append(f"  when {_CONDITIONS[name]} then finding")
        lines.append(f'    message ja "{{cases}}件 {{{name}}}" en "{{{name}}}"')
    return "\n".join(lines) + "\n"


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_batch_rules())
def test_any_batch_rule_gives_diagnostics_or_findings(text):
    """A batch rule made of any of these parts is refused with diagnostics, or, built, gives
    findings over a few cases (some with one id) without another exception."""
    sources = [s for s in SOURCES if not s.path.endswith("batch.rules")] + [Source("x.rules", text)]
    try:
        plan, schema = build(sources)
    except RulebookError as error:
        assert error.diagnostics and all(d.code in CODES for d in error.diagnostics)
        return
    book = rulebook.Rulebook(plan, schema, "sha256:test", ROOT / "rules")
    rng = random.Random(len(text))
    judged = []
    for i in range(6):
        case = make_case(rng, i % 4, expert=i % 2, days=5)
        verdict, checked = book.judge_case(case)
        if verdict["format"] == "rulebook.verdict/v1":
            judged.append((checked, verdict["payout"], checked.as_of))
    for rule in book.find(judged):
        for entry in rule["entries"]:
            assert entry["message"]["ja"] is not None and entry["case_count"] >= 1
