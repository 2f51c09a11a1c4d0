"""The Python API: rulebook.load(), Rulebook.check(), the model, thread safety."""

from __future__ import annotations

import copy
import datetime as dt
import re
import shutil
import threading
from pathlib import Path

import pytest

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
    assert verdict.counts == {"pass": 16, "fail": 0, "pending": 0, "not_applicable": 1}
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
    early = book.check(data, as_of=dt.date(2021, 3, 5))
    late = book.check(data, as_of="2021-03-09")
    deadline = lambda v: next(r for r in v.results if r.rule == "step.report-deadline")  # noqa: E731
    assert deadline(early).status == "pending" and str(deadline(early).due) == "2021-03-08"
    assert deadline(late).status == "fail"
    assert early.as_of == dt.date(2021, 3, 5)


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
    new = later.check(seed, as_of="2021-04-01")
    assert new.payout.model_dump()["honorarium_jpy"] == 120000
    assert new.payout.model_dump()["honorarium_at_stake_jpy"] == 120000


def test_a_parameter_with_no_value_in_force_is_a_clear_error(tmp_path, seed):
    folder = tmp_path / "rules"
    shutil.copytree(bundled_rules(), folder)
    params = folder / "parameters.rules"
    params.write_text(params.read_text(encoding="utf-8").replace(
        "value 10 days from 2020-04-01", "value 10 days from 2022-01-01"), encoding="utf-8")
    out = rulebook.load(folder).judge(seed)
    assert out["format"] == "rulebook.error/v1"
    assert "`report_deadline` has no value in force" in out["errors"][0]["message"]
    assert "RB401" in out["errors"][0]["message"]


def test_the_cache_is_used_and_never_stale(tmp_path, monkeypatch, seed):
    monkeypatch.setenv("RULEBOOK_CACHE", str(tmp_path / "cache"))
    first = rulebook.load()
    assert list((tmp_path / "cache").glob("*.json"))
    second = rulebook.load()
    assert second.judge(seed) == first.judge(seed)
    monkeypatch.setenv("RULEBOOK_CACHE", "off")
    assert rulebook.load().judge(seed) == first.judge(seed)


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
