"""The audit's byte spans of plain JSON Lines files, and its compact verdicts built directly.

A span says where lines are in a file; a worker reads it itself. Whatever the spans, their lines
must be the units (content, line numbers, errors) that reading the whole file gives.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import random
from collections import Counter

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rulebook.input import documents
from rulebook.apps.audit.chunks import cut as _chunks, skip as _skip, weight as _weight
from rulebook.input.documents import Limits, iter_units, skip_lines, span_units
from rulebook.output.explain import dumps
from samples import generate

from .test_audit import audit

SMALL = Limits(max_line_bytes=200)


def _awkward() -> bytes:
    """A BOM, CRLF then LF line breaks, blank lines, a broken line, a line that is not UTF-8, a
    line over the limit, and a last line without a line break."""
    lines = [b"\xef\xbb\xbf" + b'{"n": 1}', b'{"n": 2}', b"", b"   ", b"{not json", b'{"n": "caf\xe9"}',
             b"x" * 500, b'{"n": 7}', b"\t", b'{"n": 9}']
    return b"\r\n".join(lines[:4]) + b"\r\n" + b"\n".join(lines[4:])


def _whole(path, limits=SMALL) -> list:
    return list(iter_units([path], limits))


def _by_spans(path, size: int, limits=SMALL) -> list:
    spans = list(iter_units([path], limits, span_lines=size))
    assert all(span.kind == "span" for span in spans)
    return spans, [unit for span in spans for unit in span_units(span, limits)]


@pytest.mark.parametrize("size", [1, 2, 3, 4, 7, 100])
def test_spans_give_the_units_of_the_whole_file(tmp_path, size):
    path = tmp_path / "awkward.jsonl"
    path.write_bytes(_awkward())
    whole = _whole(path)
    assert [(u.line, u.payload is not None, u.error is not None) for u in whole] == [
        (1, True, False), (2, True, False), (5, True, False), (6, True, False), (7, False, True),
        (8, True, False), (10, True, False)]
    assert whole[0].payload == b'{"n": 1}'  # no BOM, no CR
    assert whole[-1].payload == b'{"n": 9}'
    spans, units = _by_spans(path, size)
    assert units == whole
    # the spans cover the file, one after the other, and count its lines
    assert spans[0].start == 0 and spans[-1].end == path.stat().st_size
    assert all(a.end == b.start and a.line + a.lines == b.line for a, b in zip(spans, spans[1:]))
    assert sum(span.lines for span in spans) == 10
    assert all(span.lines <= size for span in spans)


def test_a_file_ending_with_a_line_break_has_no_empty_last_span(tmp_path):
    path = tmp_path / "lf.jsonl"
    path.write_bytes(b'{"n": 1}\n{"n": 2}\n')
    spans, units = _by_spans(path, 1)
    assert [(s.line, s.lines) for s in spans] == [(1, 1), (2, 1)]
    assert units == _whole(path)
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    assert list(iter_units([empty], span_lines=5)) == []


def test_spans_end_after_a_number_of_bytes_too(tmp_path, monkeypatch):
    monkeypatch.setattr(documents.batches, "_SPAN_BYTES", 20)
    path = tmp_path / "awkward.jsonl"
    path.write_bytes(_awkward())
    spans, units = _by_spans(path, 1000)
    assert len(spans) > 2
    assert units == _whole(path)


@pytest.mark.parametrize("count", range(0, 10))
def test_skipping_lines_of_a_span(tmp_path, count):
    path = tmp_path / "awkward.jsonl"
    path.write_bytes(_awkward())
    (span,) = iter_units([path], SMALL, span_lines=100)
    rest = skip_lines(span, count) if count else span
    assert rest.line == 1 + count and rest.lines == 10 - count
    assert list(span_units(rest, SMALL)) == [u for u in _whole(path) if u.line > count]


def test_resuming_counts_a_span_as_its_lines_and_cuts_one_where_the_count_ends(tmp_path):
    path = tmp_path / "awkward.jsonl"
    path.write_bytes(_awkward())
    for size in (1, 3, 4):
        chunks = list(_chunks(iter_units([path], SMALL, span_lines=size), size))
        assert sum(_weight(u) for chunk in chunks for u in chunk) == 10
        for done in range(11):
            rest = [u for span in _skip(iter_units([path], SMALL, span_lines=size), done)
                    for u in span_units(span, SMALL)]
            assert [u.line for u in rest] == [u.line for u in _whole(path) if u.line > done]


def test_a_gzipped_file_or_a_yaml_folder_is_not_cut_into_spans(tmp_path):
    import gzip

    (tmp_path / "a.jsonl.gz").write_bytes(gzip.compress(b'{"n": 1}\n{"n": 2}\n'))
    (tmp_path / "b.yaml").write_text("n: 1\n", encoding="utf-8")
    kinds = [u.kind for u in iter_units([tmp_path / "a.jsonl.gz", tmp_path], span_lines=10)]
    assert kinds == ["line", "line", "line", "line", "file"]


def test_an_audit_names_the_lines_of_bad_input_inside_spans(tmp_path):
    cases = generate(40, seed=3)
    lines = [orjson.dumps(c) for c in cases]
    lines[10] = b"{broken"
    lines[21] = b'{"case_id": "caf\xe9"}'
    path = tmp_path / "cases.jsonl"
    path.write_bytes(b"\r\n".join(lines))  # CRLF, no line break at the end
    for chunk in ("1", "4", "1024"):
        out = tmp_path / f"out-{chunk}"
        result = audit(path, "--out", out, "--jobs", "1", "--chunk-size", chunk)
        assert result.exit_code == 2
        errors = [json.loads(x) for x in (out / "errors.jsonl").read_text(encoding="utf-8").splitlines()]
        assert [(e["source"]["file"], e["source"]["line"]) for e in errors] == [(str(path), 11), (str(path), 22)]
        results = (out / "results.jsonl").read_bytes().splitlines()
        assert len(results) == 38 and json.loads(results[-1])["case_id"] == cases[-1]["case_id"]
        if chunk != "1":
            assert (out / "results.jsonl").read_bytes() == (tmp_path / "out-1" / "results.jsonl").read_bytes()


def test_the_compact_line_is_the_compact_verdict_written(book):
    rng = random.Random(7)
    for case in generate(300, seed=17):
        as_of = None if rng.random() < 0.7 else dt.date(2021, 3, 31)
        out, _ = book.judge_case(case, as_of, compact=True, raw=True)
        statuses: Counter = Counter()
        done, error, _ = book.judge_compact(case, as_of, statuses=statuses)
        if out["format"] != "rulebook.verdict/v1":
            assert done is None and error == out
            continue
        line, verdict, failed, payout = done
        assert line == dumps(out)
        assert verdict == out["verdict"] and payout == out["payout"]
        assert failed == [f"{r['rule']}@{r['subject']}" for r in out["results"] if r["status"] == "fail"]
        assert statuses == Counter((r["rule"], r["status"]) for r in out["results"])


# ------------------------------------------------------------------ cases.csv's rows, as they come


def _cases_batch(tmp_path):
    cases = generate(60, seed=29)
    cases[5]["case_id"] = "=HYPERLINK(\"x\")"  # a cell to neutralise, in a worker's rows too
    cases[6]["sme"]["name"] = "株式会社\u202eサンプル"
    path = tmp_path / "cases.jsonl"
    lines = [orjson.dumps(c) for c in cases]
    lines[9] = b'{"case_id": "broken"'
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_cases_csv_made_from_the_workers_rows_equals_the_one_made_from_the_ledger(tmp_path, jobs):
    from rulebook.apps.audit.files import CASES_LANG, CASES_PART
    from rulebook.apps.audit.ledger import Ledger

    path = _cases_batch(tmp_path)
    for lang in ("ja", "en"):
        out = tmp_path / f"out-{lang}-{jobs}"
        assert audit(path, "--out", out, "--jobs", jobs, "--chunk-size", "7", "--lang", lang).exit_code == 2
        ledger = Ledger(out)
        try:
            assert ledger.get(CASES_LANG) == lang  # the rows the workers made were used
        finally:
            ledger.close()
        # The same audit, its part lost: cases.csv made from the ledger, the same bytes.
        made = (out / "cases.csv").read_bytes()
        assert "=HYPERLINK".encode() not in made.replace(b"'=HYPERLINK", b"")
        (out / CASES_PART).unlink()
        assert audit(path, "--out", out, "--resume", "--lang", lang).exit_code == 2
        assert (out / "cases.csv").read_bytes() == made


def test_an_audit_resumed_in_another_language_makes_cases_csv_from_the_ledger(tmp_path):
    path = _cases_batch(tmp_path)
    fresh = tmp_path / "fresh"
    assert audit(path, "--out", fresh, "--jobs", "1", "--chunk-size", "7", "--lang", "en").exit_code == 2
    out = tmp_path / "out"
    assert audit(path, "--out", out, "--jobs", "1", "--chunk-size", "7", "--lang", "ja").exit_code == 2
    # the rows so far are Japanese; resumed in English, the sheet is all English
    assert audit(path, "--out", out, "--resume", "--lang", "en").exit_code == 2
    assert (out / "cases.csv").read_bytes() == (fresh / "cases.csv").read_bytes()
    assert "謝金対象".encode() not in (out / "cases.csv").read_bytes()


def test_an_empty_batch_gives_a_cases_csv_without_rows_as_before(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b'{"case_id": "broken"\n')
    out = tmp_path / "out"
    assert audit(path, "--out", out).exit_code == 2
    assert (out / "cases.csv").read_bytes() == b"\xef\xbb\xbf"


@settings(max_examples=600, deadline=None)
@given(st.lists(st.one_of(st.binary(max_size=14), st.sampled_from([b"", b" ", b"\r", b"\t\r", b"x" * 8, b"x" * 9,
                                                                  b"x" * 10, b"x" * 7 + b"\r", b"x" * 8 + b"\r",
                                                                  b"x" * 9 + b"\r", b"\xef\xbb\xbf{}",
                                                                  b"\xff\xfe{\x00", b"\xfe\xff\x00{", b"{}\r"])),
                max_size=12),
       st.booleans(), st.integers(1, 3))
def test_a_span_split_at_once_gives_the_units_of_reading_it_line_by_line(lines, ended, first):
    """`span_units` splits a span it holds whole; the units must be those of `json_lines`, read a
    line at a time: line numbers, contents, refusals (too long at the limit's edges, with or
    without a carriage return or a last line break; a byte-order mark on the file's first line)."""
    from rulebook.input.documents.batches import _line_units, _split_units

    data = b"\n".join(lines) + (b"\n" if ended and lines else b"")
    limits = Limits(max_line_bytes=8)
    assert list(_split_units("f", data, limits, first)) == list(_line_units("f", io.BytesIO(data), limits, first))


def test_the_workers_chunks_written_to_files_are_appended_and_removed(tmp_path):
    """With 2 jobs the workers write their chunks' results to files of their own (`.chunks/`),
    which the writer appends to results.jsonl and removes; what an interrupted run left there is
    removed when the audit is resumed."""
    from rulebook.apps.audit.run import SPILL

    path = _cases_batch(tmp_path)
    one, two = tmp_path / "one", tmp_path / "two"
    assert audit(path, "--out", one, "--jobs", "1", "--chunk-size", "7", "--compact").exit_code == 2
    assert audit(path, "--out", two, "--jobs", "2", "--chunk-size", "7", "--compact").exit_code == 2
    assert not (two / SPILL).exists()
    assert (two / "results.jsonl").read_bytes() == (one / "results.jsonl").read_bytes()
    (two / SPILL).mkdir()
    (two / SPILL / "4242-1.jsonl").write_bytes(b"left by a killed worker\n")
    assert audit(path, "--out", two, "--jobs", "2", "--resume", "--compact").exit_code == 2
    assert not (two / SPILL).exists()
    assert (two / "results.jsonl").read_bytes() == (one / "results.jsonl").read_bytes()


def test_a_result_the_compact_writer_does_not_know_is_written_by_the_explainer(book):
    """A clause number below those it knows (not in force, no value: a newer engine's) is
    not guessed at: the case's line is the explainer's compact verdict, and the tally counts the
    explainer's results, not the writer's half-done ones."""
    import datetime as dt

    from rulebook.engine.evaluate import CLAUSE, NO_VALUE, Evaluation
    from rulebook.output.compact import CompactWriter

    outcome = book.evaluate(book.validate(generate(1, seed=5)[0]).case)
    odd = list(outcome.results)
    odd[3] = (*odd[3][:CLAUSE], NO_VALUE - 1, "review_time", dt.date(2021, 1, 4))
    strange = Evaluation(outcome.case, outcome.as_of, odd, outcome.step_amounts, outcome.payout, outcome.params,
                         outcome.steps)
    said = {"format": "rulebook.verdict/v1", "verdict": "ineligible", "payout": {"honorarium_jpy": 0},
            "results": [{"rule": book.plan.rules[0].id, "subject": "case", "status": "fail", "facts": {}},
                        {"rule": book.plan.rules[1].id, "subject": "case", "status": "pass", "facts": {}}]}

    class Explainer:
        def explain(self, outcome, warnings=(), compact=False, raw=False):
            assert outcome is strange and compact and raw
            return said

    writer = CompactWriter(book.plan, book.digest, Explainer())
    tally = writer.tally()
    line, verdict, failed, payout = writer.line(strange, (), tally)
    assert line == dumps(said) and verdict == "ineligible" and payout == said["payout"]
    assert failed == [f"{book.plan.rules[0].id}@case"]
    assert writer.counts(tally) == Counter({(book.plan.rules[0].id, "fail"): 1, (book.plan.rules[1].id, "pass"): 1})
    # and the usual case still takes the writer's own way, the same bytes as the explainer's
    tally = writer.tally()
    assert writer.line(outcome, (), tally)[0] == dumps(book._explainer.explain(outcome, (), compact=True, raw=True))


@pytest.mark.parametrize("index", [0, 3, -1])
def test_a_rule_with_no_parameter_value_is_written_by_the_compact_writer_as_the_explainer_writes_it(book, index):
    """A result of a rule that read a parameter with no value on its day (clause NO_VALUE) is a
    failure whose facts are the parameter and the day: the writer writes it itself (no explainer
    to fall back on), the same bytes as the explainer's compact verdict, counted as a failure."""
    import datetime as dt

    from rulebook.engine.evaluate import CLAUSE, NO_VALUE, RULE, Evaluation
    from rulebook.output.compact import CompactWriter

    outcome = book.evaluate(book.validate(generate(1, seed=5)[0]).case)
    results = list(outcome.results)
    results[index] = (*results[index][:CLAUSE], NO_VALUE, "review_time", dt.date(2019, 12, 31))
    unpriced = Evaluation(outcome.case, outcome.as_of, results, outcome.step_amounts, outcome.payout,
                          outcome.params, outcome.steps)
    writer = CompactWriter(book.plan, book.digest, None)
    tally = writer.tally()
    line, verdict, failed, _payout = writer.line(unpriced, (), tally)
    assert line == dumps(book._explainer.explain(unpriced, (), compact=True, raw=True))
    assert b'"facts":{"parameter":"review_time","day":"2019-12-31"}' in line and verdict == "ineligible"
    rule = book.plan.rules[results[index][RULE]].id
    assert f"{rule}@{results[index][1]}" in failed
    assert writer.counts(tally)[rule, "fail"] >= 1
