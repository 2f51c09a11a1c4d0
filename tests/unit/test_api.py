"""The Python API: rulebook.load(), Rulebook.check(), the model, thread safety."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

import rulebook
from rulebook.book import bundled_rules
from rulebook.input.documents import load_bytes

from ..conftest import EXAMPLES


def test_check_returns_the_verdict_model(book, seed):
    verdict = book.check(seed)
    assert isinstance(verdict, rulebook.Verdict)
    assert verdict.verdict == "eligible"
    assert verdict.case_id == "SEED-EXAMPLE"
    p = verdict.payout.model_dump()
    assert (p["client_paid_jpy"], p["platform_fee_jpy"], p["expert_receives_jpy"],
            p["honorarium_jpy"], p["expert_total_jpy"]) == (60000, 12000, 48000, 140000, 188000)
    assert verdict.counts == {"pass": 23, "fail": 0, "pending": 0, "not_applicable": 3}
    assert verdict.rulebook.name == "digital-support-corps/lancers"
    assert verdict.rulebook.digest.startswith("sha256:")


def test_check_takes_the_model_json_or_a_mapping(book, seed):
    as_model = book.model.model_validate(book.validate(seed).case.model_dump())
    assert book.check(as_model).verdict == "eligible"
    import orjson
    assert book.check(orjson.dumps(seed, default=str)).verdict == "eligible"


def test_results_are_ordered_by_rule_then_subject(book, seed):
    data = copy.deepcopy(seed)
    step2 = copy.deepcopy(data["steps"][0]) | {"number": 2}
    data["steps"].append(step2)
    data["plan"]["steps"] = 2
    verdict = book.check(data)
    order = [r.rule for r in verdict.results]
    catalogue = [e["rule"] for e in book.catalogue()]
    assert sorted(order, key=catalogue.index) == order
    subjects = [r.subject for r in verdict.results if r.rule == "step.photos"]
    assert subjects == ["step:1", "step:2"]
    finals = [r.subject for r in verdict.results if r.rule == "final.payment-capture"]
    assert finals == ["step:2"]


def test_as_of_overrides_the_snapshot_day(book, seed):
    data = copy.deepcopy(seed)
    data["steps"][0]["report_submitted_on"] = None
    early = book.check(data, as_of=dt.date(2021, 2, 26))
    late = book.check(data, as_of="2021-03-02")
    deadline = lambda v: next(r for r in v.results if r.rule == "step.report-deadline")  # noqa: E731
    assert deadline(early).status == "pending" and str(deadline(early).due) == "2021-03-01"
    assert deadline(late).status == "fail"
    assert early.as_of == dt.date(2021, 2, 26)


def test_invalid_snapshot_raises_with_paths(book, seed):
    data = copy.deepcopy(seed)
    data["steps"][0]["hours"] = -3
    del data["case_id"]
    with pytest.raises(rulebook.SnapshotError) as caught:
        book.check(data)
    paths = {e.path for e in caught.value.errors}
    assert paths == {"case_id", "steps[0].hours"}
    assert caught.value.to_dict()["format"] == "rulebook.error/v1"


def test_a_yaml_day_not_in_the_calendar_is_named_by_its_field(book):
    text = (EXAMPLES / "seed-case.yaml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^as_of: .*$", "as_of: 2021-13-01", text)
    text = re.sub(r"completion_reported_on: [0-9-]+", "completion_reported_on: 2021-02-30", text, count=1)
    (document,) = load_bytes(text.encode(), "case.yaml")
    with pytest.raises(rulebook.SnapshotError) as caught:
        book.check(document.data)
    found = {e.path: e.message for e in caught.value.errors}
    assert set(found) == {"as_of", "steps[0].completion_reported_on"}
    assert all(message.startswith("no such day in the calendar") for message in found.values())


def test_judge_never_raises_on_bad_input(book):
    for bad in [None, 3, "not json", b"\xff", [], {"format": "x"}, {"case_id": 1}]:
        out = book.judge(bad)
        assert out["format"] == "rulebook.error/v1"
        assert out["errors"]


def test_extra_fields_are_kept_and_warned(book, seed):
    data = copy.deepcopy(seed)
    data["newer_field"] = 1
    data["steps"][0]["photos"][0]["camera"] = "x"
    verdict = book.check(data)
    assert verdict.verdict == "eligible"
    assert verdict.warnings == ["unknown field `newer_field` was kept but not judged",
                                "unknown field `steps[0].photos[0].camera` was kept but not judged"]


def test_model_and_schema(book):
    schema = book.json_schema()
    assert schema["title"] == "rulebook.case/v1"
    assert "case_id" in schema["required"]
    assert book.model.model_fields["steps"].is_required() is False


def test_a_loaded_book_is_shared_between_threads(book, seed):
    expected = book.judge(seed)
    outputs, errors = [], []

    def work(i):
        try:
            data = copy.deepcopy(seed)
            data["case_id"] = f"T-{i}"
            out = book.judge(data)
            out["case_id"] = "SEED-EXAMPLE"
            outputs.append(out)
        except Exception as error:  # pragma: no cover - the assertion shows it
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert all(out == expected for out in outputs)


def test_load_another_folder_and_a_later_edition(tmp_path, seed):
    folder = tmp_path / "rules"
    shutil.copytree(bundled_rules(), folder)
    params = folder / "parameters.rules"
    text = params.read_text(encoding="utf-8")
    text = text.replace("  value 3500 yen per hour from 2020-04-01",
                        "  value 3500 yen per hour from 2020-04-01 until 2021-03-31\n"
                        "  value 3000 yen per hour from 2021-04-01")
    params.write_text(text, encoding="utf-8")
    later = rulebook.load(folder)
    assert later.digest != rulebook.load().digest
    old = later.check(seed)  # judged on 2021-03-31: the first edition
    assert old.payout.model_dump()["honorarium_jpy"] == 140000
    # the payout takes its parameters on the day the contract was received (2021-01-21)
    assert later.check(seed, as_of="2021-04-01").payout.model_dump()["honorarium_jpy"] == 140000
    data = copy.deepcopy(seed)
    data["contract"]["received_on"] = None  # not received yet: the day the case is judged
    new = later.check(data, as_of="2021-04-01")
    assert new.payout.model_dump()["honorarium_at_stake_jpy"] == 120000


def test_a_parameter_with_no_value_in_force_fails_the_rule_that_reads_it(tmp_path, seed):
    """A day no value of a parameter covers: the case is judged; the rule that read the
    parameter fails (no honorarium is paid for a day the program had no rule for), naming the
    parameter, the day and the rule, with what to do."""
    folder = tmp_path / "rules"
    shutil.copytree(bundled_rules(), folder)
    params = folder / "parameters.rules"
    params.write_text(params.read_text(encoding="utf-8").replace(
        "value 10 days from 2020-04-01", "value 10 days from 2022-01-01"), encoding="utf-8")
    out = rulebook.load(folder).judge(seed)
    assert out["format"] == "rulebook.verdict/v1" and out["verdict"] == "ineligible"
    # the step's rule fails, so its honorarium is not due, and the claim of it exceeds what is due
    assert [(r["rule"], r["subject"]) for r in out["results"] if r["status"] == "fail"] == [
        ("claim.honorarium", "case"), ("step.report-deadline", "step:1")]
    failed = [r for r in out["results"] if r["status"] == "fail" and r["rule"] == "step.report-deadline"]
    assert failed[0]["facts"] == {"parameter": "report_deadline", "day": "2021-03-31"}
    assert "`report_deadline`" in failed[0]["message"]["en"] and "2021-03-31" in failed[0]["message"]["en"]
    assert "step.report-deadline" in failed[0]["message"]["en"]
    assert "「支援報告書の提出期限(完了報告から)」" in failed[0]["message"]["ja"]
    assert "事務局" in failed[0]["fix"]["ja"] and "secretariat" in failed[0]["fix"]["en"]
    assert out["payout"]["honorarium_jpy"] == 0  # the step failed: its honorarium is not paid


_LOAD = """
import json, sys
import rulebook
book = rulebook.load(sys.argv[1])
print(json.dumps({"parser_loaded": "lark" in sys.modules, "digest": book.digest}))
"""


def test_the_cache_is_used_and_never_stale(tmp_path, monkeypatch, seed):
    """A second start takes the plan from the cache (the parser is not even imported); a change
    to a rule file is a new plan, never the cached one."""
    folder = tmp_path / "rules"
    shutil.copytree(bundled_rules(), folder)
    monkeypatch.setenv("RULEBOOK_CACHE", str(tmp_path / "cache"))

    def start() -> dict:
        run = subprocess.run([sys.executable, "-c", _LOAD, str(folder)], capture_output=True, text=True,
                             timeout=120)
        assert run.returncode == 0, run.stderr
        return json.loads(run.stdout)

    first, second = start(), start()
    assert first["parser_loaded"] and not second["parser_loaded"]
    assert second["digest"] == first["digest"] and any((tmp_path / "cache").iterdir())
    seed = copy.deepcopy(seed)
    seed["plan"]["hourly_rate_jpy"] = None  # no price agreed: no rate cap, the honorarium is the hours'
    before = rulebook.load(folder).judge(seed)
    assert before["payout"]["honorarium_jpy"] == 140000  # 40 hours at 3,500 yen

    parameters = folder / "parameters.rules"
    text = parameters.read_text(encoding="utf-8")
    rate = "value 3500 yen per hour from 2020-04-01"
    assert rate in text
    parameters.write_text(text.replace(rate, "value 3600 yen per hour from 2020-04-01"), encoding="utf-8")
    changed = start()
    assert changed["parser_loaded"] and changed["digest"] != first["digest"]
    after = rulebook.load(folder).judge(seed)
    assert after["payout"]["honorarium_jpy"] == 144000  # the new rate, not the cached plan's
    assert after["rulebook"]["digest"] == changed["digest"]
    monkeypatch.setenv("RULEBOOK_CACHE", "off")
    assert rulebook.load(folder).judge(seed) == after


def test_a_bad_rule_folder_raises_diagnostics(tmp_path):
    (tmp_path / "a.rules").write_text('rulebook "x"\nrule a.b on case\n  when x then pass\n', encoding="utf-8")
    with pytest.raises(rulebook.RulebookError) as caught:
        rulebook.load(tmp_path)
    assert caught.value.diagnostics
    with pytest.raises(rulebook.RulebookError):
        rulebook.load(tmp_path / "nowhere")


def test_rules_folder_in_the_package_is_the_repository_one():
    assert (bundled_rules() / "case.rules").is_file()
    assert Path(bundled_rules() / "tests").is_dir()


def test_the_digest_does_not_depend_on_where_things_are(tmp_path):
    """The digest is in every verdict: the same rules give it from any directory, bundled or copied."""
    import shutil
    import subprocess
    import sys

    from rulebook.book import bundled_rules

    copy = tmp_path / "elsewhere" / "rules"
    shutil.copytree(bundled_rules(), copy)
    code = "import rulebook, sys; print(rulebook.load(sys.argv[1] if len(sys.argv) > 1 else None, cache=False).digest)"
    digests = set()
    for cwd, args in ((tmp_path, []), (bundled_rules().parent, []), (tmp_path, [str(copy)]),
                      (copy.parent, ["rules"])):
        run = subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        digests.add(run.stdout.strip())
    assert len(digests) == 1, digests


def test_the_compact_line_is_the_compact_verdict_and_agrees_with_the_full_one(book):
    """`judge_compact` (the audit's fast path) writes the same bytes as the compact verdict, and
    its verdict, failed results, payout and status counts are the full verdict's."""
    from collections import Counter

    from rulebook.output.explain import dumps
    from samples import generate

    cases = generate(300, seed=5) + [yaml.safe_load(p.read_text(encoding="utf-8"))
                                     for p in sorted(EXAMPLES.glob("*-case.yaml"))]
    statuses: Counter = Counter()
    for case in cases:
        (line, verdict, failed, payout), error, _ = book.judge_compact(case, statuses=statuses)
        assert error is None
        compact = book.judge(case, compact=True)
        assert line == dumps(compact) and json.loads(line) == compact
        full = book.judge(case)
        assert json.loads(dumps(full)) == full
        assert verdict == full["verdict"]
        assert sorted(failed) == sorted(f"{r['rule']}@{r['subject']}" for r in full["results"] if r["status"] == "fail")
        assert {k: v for k, v in payout.items() if k != "steps"} == {
            k: v for k, v in full["payout"].items() if k != "steps"}
        assert [(r["rule"], r["subject"], r["status"], r["facts"]) for r in compact["results"]] == [
            (r["rule"], r["subject"], r["status"], r["facts"]) for r in full["results"]]
    assert statuses == Counter((r["rule"], r["status"]) for case in cases for r in book.judge(case)["results"])
    assert {"pass", "fail", "pending", "not_applicable"} <= {status for _, status in statuses}


def test_nothing_changes_before_the_day_next_change_names(book):
    """`next_change` (what `rulebook watch` sleeps until) is never late: judged on any day before
    it, a case gives the same statuses as on the day it was judged; and it names a real change
    for the pending cases of the examples (their report's last day)."""
    import datetime as dt

    from samples import generate

    evaluator = book._evaluator
    cases = [book.validate(c).case for c in generate(60, seed=17)]
    cases += [book.validate(yaml.safe_load(p.read_text(encoding="utf-8"))).case
              for p in sorted(EXAMPLES.glob("*-case.yaml"))]
    named = 0
    for case in cases:
        day = case.as_of - dt.timedelta(days=40)
        for _ in range(6):
            outcome = book.evaluate(case, day)
            statuses = [(r[0], r[1], r[3]) for r in outcome.results]
            change = evaluator.next_change(outcome)
            assert change is None or change > day
            last = min(change - dt.timedelta(days=1), day + dt.timedelta(days=90)) if change else \
                day + dt.timedelta(days=90)
            probe = day + dt.timedelta(days=1)
            while probe <= last:
                later = [(r[0], r[1], r[3]) for r in book.evaluate(case, probe).results]
                assert later == statuses, f"{case.case_id}: judged on {probe} it changed, before {change}"
                probe += dt.timedelta(days=7) if probe + dt.timedelta(days=7) < last else dt.timedelta(days=1)
            if change is None:
                break
            named += 1
            day = change
    assert named >= 10
    pending = book.validate(yaml.safe_load((EXAMPLES / "pending-case.yaml").read_text(encoding="utf-8"))).case
    assert evaluator.next_change(book.evaluate(pending)) == dt.date(2021, 2, 19)  # the day after the last day


def test_a_raw_verdict_is_written_as_the_json_ready_one(book):
    """`dumps` of a raw verdict (facts left as dates, decimals and records, as `rulebook check`
    and the audit write them) gives the same JSON as the JSON-ready verdict, records with unknown
    fields and decimal hours included."""
    from rulebook.output.explain import dumps
    from samples import generate

    cases = generate(200, seed=29)
    for n, case in enumerate(cases[:100]):  # records with unknown fields, kept and warned about
        for step in case.get("steps") or []:
            for photo in step.get("photos") or []:
                photo["camera"] = f"model-{n}"
            step["hours"] = 12.25 if n % 2 else 40
    kinds = set()
    for case in cases:
        raw, _ = book.judge_case(case, raw=True)
        ready = book.judge(case)
        assert json.loads(dumps(raw)) == ready
        kinds |= {type(v).__name__ for r in raw["results"] for v in r["facts"].values()}
    assert {"date", "Decimal"} <= kinds and kinds - {"date", "Decimal", "str", "int", "bool", "NoneType"}, kinds


def test_an_invalid_snapshot_is_reported_field_by_field_with_its_values(book, seed):
    """rulebook.error/v1's contract keys: each error's path and the value found (none for a missing
    field, the whole value for a wrong one, lists and mappings included), the case id however the
    snapshot came (a mapping, JSON bytes), and the file and line when given."""
    data = copy.deepcopy(seed)
    del data["sme"]["name"]
    data["steps"][0]["hours"] = "many"
    data["expert"] = ["x"]
    data["lancers"]["method"] = {"a": 1}
    data["plan"]["support_areas"] = {"x": 1}
    out = book.judge(data, origin="cases/f.yaml", line=3)
    assert out["format"] == "rulebook.error/v1" and out["case_id"] == "SEED-EXAMPLE"
    assert out["source"] == {"file": "cases/f.yaml", "line": 3}
    assert {e["path"]: e["value"] for e in out["errors"]} == {
        "lancers.method": {"a": 1}, "sme.name": None, "expert": ["x"], "plan.support_areas": {"x": 1},
        "steps[0].hours": "many"}
    assert all(e["message"] for e in out["errors"])
    assert "source" not in book.judge(data)
    raw = book.judge(b'{"case_id": "RAW-1", "as_of": 3}')
    assert raw["case_id"] == "RAW-1" and {"path": "as_of", "value": 3} in [
        {"path": e["path"], "value": e["value"]} for e in raw["errors"]]
    unnamed = book.judge(dict(seed, case_id=5, as_of="x"))
    assert unnamed["case_id"] is None
    assert [(e["path"], e["value"]) for e in unnamed["errors"]] == [("case_id", 5), ("as_of", "x")]


def test_the_due_date_of_a_result_alone_is_the_one_its_verdict_gives(book):
    """`Rulebook.due` (what `rulebook watch` reminds of, without the texts) gives each result the
    due date its explained verdict shows, on every example and on days before and after."""
    shown = 0
    for path in sorted(EXAMPLES.glob("*-case.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        case = book.validate(data).case
        for day in (case.as_of - dt.timedelta(days=20), case.as_of, case.as_of + dt.timedelta(days=20)):
            outcome = book.evaluate(case, day)
            verdict = book.judge(data, as_of=day)
            dues = [book.due(outcome, result) for result in outcome.results]
            assert [d.isoformat() if d else None for d in dues] == [r["due"] for r in verdict["results"]]
            shown += sum(d is not None for d in dues)
    assert shown >= 3


def test_a_parameters_table_or_row_is_written_once_and_a_new_one_never_as_an_old_one():
    """`explain.dumps` keeps the JSON of a parameter's table or row (the same object for every
    case judged on the days it holds); values made and dropped one after the other, whose ids
    Python gives again, are each written as themselves, as `jsonable` writes them (a text over
    200 characters shortened, decimals as numbers)."""
    from decimal import Decimal
    from types import MappingProxyType

    import orjson

    from rulebook.input.snapshot import jsonable
    from rulebook.language.value import row_class
    from rulebook.output.explain import dumps

    cls = row_class("some_row", ("a", "b"))
    for n in range(3000):
        row = cls(n, "x" * (n % 300))
        rated = cls(Decimal(n) / 4, dt.date(2021, 1, 1) + dt.timedelta(n))
        table = MappingProxyType({"k": cls(Decimal(n) / 8, dt.date(2021, 1, 1)), "n": n})
        fact = {"x": [row, table, rated, row, (table, rated)]}
        assert dumps(fact) == orjson.dumps(fact, default=jsonable)
