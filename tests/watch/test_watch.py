"""`rulebook watch`: alerts from case events, on durable_rules sessions.

Golden files hold the alerts of the bundled example log and the errors of a log of
bad events; `pytest --update-golden` rewrites them (review with `git diff`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from samples import generate_events, make_case
from rulebook.apps.watch import ALERT_FORMAT, Watcher

from ..conftest import EXAMPLES

HERE = Path(__file__).parent
RULEBOOK = str(Path(sys.executable).with_name("rulebook"))


def watch_cli(*args, stdin: bytes | None = None, timeout: float = 120, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([RULEBOOK, "watch", *args], input=stdin, capture_output=True, timeout=timeout,
                          env={**os.environ, "NO_COLOR": "1"}, cwd=cwd)


def feed_all(watcher: Watcher, events) -> list[dict]:
    out = []
    for number, event in enumerate(events, 1):
        out += watcher.feed(event, "log", number)
    return out


def statuses(verdict: dict) -> dict:
    return {(r["rule"], r["subject"]): r["status"] for r in verdict["results"]}


# ------------------------------------------------------------------ golden files

def test_example_log_alerts(golden):
    run = watch_cli(str(EXAMPLES / "events.jsonl"))
    assert run.returncode == 0, run.stderr.decode()
    assert run.stderr == b""
    golden(HERE / "events.alerts.jsonl", run.stdout.decode())


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_example_log_as_text(golden, lang):
    run = watch_cli(str(EXAMPLES / "events.jsonl"), "--format", "text", "--lang", lang)
    assert run.returncode == 0
    golden(HERE / f"events.alerts.{lang}.txt", run.stdout.decode())


def test_bad_events_are_error_lines_and_skipped(golden):
    run = watch_cli("bad-events.jsonl", "--errors", "/dev/stdout", cwd=HERE)  # errors name the file as given
    assert run.returncode == 2
    golden(HERE / "bad-events.out.jsonl", run.stdout.decode())
    lines = [orjson.loads(line) for line in run.stdout.splitlines()]
    errors = [item for item in lines if item["format"] == "rulebook.error/v1"]
    # Every line but the snapshot (4) and the good event (15) is refused, each naming its line.
    assert [e["source"]["line"] for e in errors] == [1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16]
    # The refused events changed nothing: the last one is judged on the snapshot of line 4 alone.
    alerts = [item for item in lines if item["format"] == ALERT_FORMAT]
    assert alerts and all(a["at"] in ("2021-02-10", "2021-02-14") for a in alerts)


def test_bad_events_messages_name_the_problem():
    text = watch_cli(str(HERE / "bad-events.jsonl")).stderr.decode()
    for expected in ("unknown case", "not valid JSON", "an event is a JSON object", "did you mean `referrer`",
                     "out of order", "expected a date", "did you mean `set`", "no item 3",
                     "cannot change", "another case", "case_id"):
        assert expected in text, expected


def _generated_log(tmp_path) -> Path:
    """A generated log of 60 cases (947 events), in time order."""
    log = tmp_path / "generated.jsonl"
    log.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in generate_events(60, 900, seed=11)))
    return log


def test_generated_log_alerts(golden, tmp_path):
    """The alerts of a larger generated log, byte for byte: the digest of the whole output, and a
    line per alert (day, case, kind, rule, subject, from → to, due) to review a change with git diff."""
    run = watch_cli(str(_generated_log(tmp_path)), "--remind-days", "2")
    assert run.returncode == 0, run.stderr.decode()
    alerts = [orjson.loads(line) for line in run.stdout.splitlines()]
    assert len(alerts) > 1000 and {a["kind"] for a in alerts} == {"change", "reminder"}
    golden(HERE / "generated.alerts.sha256", hashlib.sha256(run.stdout).hexdigest() + "\n")
    golden(HERE / "generated.alerts.txt", "".join(
        f"{a['at']} {a['case_id']} {a['kind']} {a['rule']} {a['subject']} {a['from']} -> {a['to']} {a['due']}\n"
        for a in alerts))


def test_copied_cases_alerts(golden, tmp_path):
    """40 generated cases, each copied three times under other ids, merged in time order (as
    `make bench-watch` builds its logs): many cases come due on the same day, and they must
    come out in the same order as ever. Golden: the digest of the whole output (recorded with
    the watcher before its rework; the log is made by this test, to look at a change)."""
    log = tmp_path / "copies.jsonl"
    with open(log, "wb") as fh:
        for event in generate_events(40, 440, seed=5):
            for copy in range(3):
                case_id = f"{event['case_id']}-{copy}"
                renamed = dict(event, case_id=case_id)
                if "snapshot" in event:
                    renamed["snapshot"] = dict(event["snapshot"], case_id=case_id)
                fh.write(orjson.dumps(renamed) + b"\n")
    run = watch_cli(str(log), "--remind-days", "2")
    assert run.returncode == 0, run.stderr.decode()
    assert run.stdout.count(b"\n") == 3894  # 2,337 before the rules of further-rules.md
    golden(HERE / "copies.alerts.sha256", hashlib.sha256(run.stdout).hexdigest() + "\n")


# ------------------------------------------------------------------ behaviour

def test_replay_is_byte_identical(tmp_path):
    log = tmp_path / "log.jsonl"
    log.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in generate_events(60, 900, seed=11)))
    first, second = watch_cli(str(log)), watch_cli(str(log))
    assert first.returncode == 0, first.stderr.decode()
    assert first.stdout == second.stdout and first.stdout.count(b"\n") > 100


def _awaiting_its_report(book, seed) -> tuple[Watcher, dict, dt.date]:
    """A watcher (reminders 2 days ahead) holding the worked example, its first step reported
    complete and its report not yet in, as of the completion day."""
    seed = orjson.loads(orjson.dumps(seed, default=str))
    step = seed["steps"][0]
    step.pop("report_submitted_on")
    completed = dt.date.fromisoformat(step["completion_reported_on"])
    watcher = Watcher(book, remind_days=2)
    watcher.feed({"case_id": seed["case_id"], "at": completed.isoformat(), "snapshot": seed})
    return watcher, seed, completed


def test_deadline_passing_fails_the_report_on_the_day_after(book, seed):
    watcher, seed, completed = _awaiting_its_report(book, seed)
    later = (completed + dt.timedelta(days=30)).isoformat()
    got = watcher.feed({"case_id": seed["case_id"], "at": later, "set": {"sme.name": "改名"}})
    report = [a for a in got if a["rule"] == "step.report-deadline"]
    last_day = completed + dt.timedelta(days=10)
    assert [(a["kind"], a["at"], a["from"], a["to"]) for a in report] == [
        ("reminder", (last_day - dt.timedelta(days=2)).isoformat(), "pending", "pending"),
        ("change", (last_day + dt.timedelta(days=1)).isoformat(), "pending", "fail"),
    ]
    assert report[0]["due"] == last_day.isoformat() and report[0]["message"]["en"].endswith("(2 days left).")
    assert report[1]["fix"]["ja"]


def test_a_moved_last_day_is_an_alert_and_the_reminder_follows_it(book, seed):
    watcher, seed, completed = _awaiting_its_report(book, seed)
    # Nothing about the deadline changes: no alert for it.
    same = watcher.feed({"case_id": seed["case_id"], "at": completed.isoformat(), "set": {"sme.name": "改名"}})
    assert not [a for a in same if a["rule"] == "step.report-deadline"]
    # The completion report's day is corrected: the report is still pending, by another day.
    corrected = completed + dt.timedelta(days=4)
    moved = watcher.feed({"case_id": seed["case_id"], "at": completed.isoformat(),
                          "set": {"steps[0].completion_reported_on": corrected.isoformat()}})
    new_last_day = corrected + dt.timedelta(days=10)
    (alert,) = [a for a in moved if a["rule"] == "step.report-deadline"]
    assert (alert["kind"], alert["from"], alert["to"], alert["due"]) == (
        "due", "pending", "pending", new_last_day.isoformat())
    assert new_last_day.isoformat() in alert["message"]["en"] and alert["fix"]["ja"]
    later = watcher.advance(new_last_day + dt.timedelta(days=1))
    report = [(a["kind"], a["at"], a["due"]) for a in later if a["rule"] == "step.report-deadline"]
    assert report == [("reminder", (new_last_day - dt.timedelta(days=2)).isoformat(), new_last_day.isoformat()),
                      ("change", (new_last_day + dt.timedelta(days=1)).isoformat(), None)]


def test_a_reminder_on_the_day_another_deadline_passes_is_said(book, seed):
    """Step 1's report is due 02-20 (so the case is judged again on 02-21, when it fails); step 2's
    is due 02-23, so with reminders 2 days ahead its reminder falls on 02-21 too. Judging the case
    again on its wake day used to drop that reminder unsaid."""
    seed = orjson.loads(orjson.dumps(seed, default=str))
    first = seed["steps"][0]
    first.pop("report_submitted_on")
    first["completion_reported_on"] = first["client_paid_on"] = first["photos"][1]["taken_on"] = "2021-02-10"
    second = orjson.loads(orjson.dumps(first)) | {"number": 2, "started_on": "2021-02-11"}
    second["completion_reported_on"] = second["client_paid_on"] = second["photos"][1]["taken_on"] = "2021-02-13"
    second["photos"][0]["taken_on"] = "2021-02-11"
    seed["steps"].append(second)
    seed["plan"]["steps"] = 2
    watcher = Watcher(book, remind_days=2)
    watcher.feed({"case_id": seed["case_id"], "at": "2021-02-13", "snapshot": seed})
    got = [(a["kind"], a["subject"], a["at"], a["due"]) for a in watcher.advance(dt.date(2021, 3, 1))
           if a["rule"] == "step.report-deadline"]
    assert got == [("reminder", "step:1", "2021-02-18", "2021-02-20"),
                   ("reminder", "step:2", "2021-02-21", "2021-02-23"),
                   ("change", "step:1", "2021-02-21", None),
                   ("change", "step:2", "2021-02-24", None)]


def test_live_clock_advances_without_events(book, seed):
    seed = orjson.loads(orjson.dumps(seed, default=str))
    seed["steps"][0].pop("report_submitted_on")
    watcher = Watcher(book, live=True, now=lambda: NOW)
    got = watcher.feed({"case_id": seed["case_id"], "snapshot": seed})  # `at` may be left out
    assert got and {a["at"] for a in got} == {NOW.isoformat()}
    completed = dt.date.fromisoformat(seed["steps"][0]["completion_reported_on"])
    # Time passes without events (the live command calls `advance` with today's date).
    watcher2 = Watcher(book)
    watcher2.feed({"case_id": seed["case_id"], "at": completed.isoformat(), "snapshot": seed})
    assert watcher2.advance(completed + dt.timedelta(days=5)) == []
    got = watcher2.advance(completed + dt.timedelta(days=11))
    # The report turns late, and the claim, which needs every requirement met, with it.
    # (the period's last day, 2021-02-28, came three days before: its report is late too)
    assert [(a["kind"], a["rule"], a["to"]) for a in got] == [
        ("reminder", "step.program-period", "pending"), ("reminder", "step.report-deadline", "pending"),
        ("change", "claim.honorarium", "fail"), ("change", "step.program-period", "fail"),
        ("change", "step.report-deadline", "fail")]
    assert watcher2.advance(completed + dt.timedelta(days=40)) == []


def test_more_live_cases_than_a_ruleset_holds(book, seed):
    """More cases awaiting their report than one durable_rules ruleset can hold sessions (1,024):
    a session is open only while its case is handled, and every case comes due on its day."""
    seed = orjson.loads(orjson.dumps(seed, default=str))
    seed["steps"][0].pop("report_submitted_on")
    day = seed["steps"][0]["completion_reported_on"]
    count = 1024 + 30
    watcher = Watcher(book)
    for i in range(count):
        out = watcher.feed({"case_id": f"C-{i:05d}", "at": day, "snapshot": {**seed, "case_id": f"C-{i:05d}"}})
        assert [a["to"] for a in out if a["rule"] == "step.report-deadline"] == ["pending"]
    assert watcher.open_sessions == 0
    later = (dt.date.fromisoformat(day) + dt.timedelta(days=11)).isoformat()
    got = watcher.advance(dt.date.fromisoformat(later))
    assert sum(1 for a in got if a["rule"] == "step.report-deadline" and a["to"] == "fail") == count
    # Day after day; on each day, the cases in the order they were scheduled.
    assert [(a["at"], a["case_id"]) for a in got] == sorted((a["at"], a["case_id"]) for a in got)
    assert watcher.open_sessions == 0
    for case_id in ("C-00000", f"C-{count - 1:05d}"):
        assert watcher.standing(case_id) == statuses(book.judge(watcher.snapshot(case_id), as_of=later))


def test_a_case_at_rest_gives_back_its_session_and_resumes(book, seed):
    """A case with nothing to come due holds no durable_rules session; its next event brings
    back its standing, so the change is told from what it was."""
    seed = orjson.loads(orjson.dumps(seed, default=str))
    watcher = Watcher(book)
    assert watcher.feed({"case_id": seed["case_id"], "at": "2021-04-01", "snapshot": seed}) == []
    assert watcher.open_sessions == 0 and seed["case_id"] in watcher.cases
    got = watcher.feed({"case_id": seed["case_id"], "at": "2021-04-02",
                        "set": {"steps[0].payment_capture_attached": False}})
    assert [(a["rule"], a["from"], a["to"]) for a in got] == [
        ("claim.honorarium", "pass", "fail"), ("final.payment-capture", "pass", "fail")]
    assert watcher.standing(seed["case_id"]) == statuses(book.judge(watcher.snapshot(seed["case_id"]),
                                                                    as_of="2021-04-02"))


def test_a_refused_event_loses_no_state(book, seed):
    seed = orjson.loads(orjson.dumps(seed, default=str))
    watcher = Watcher(book)
    watcher.feed({"case_id": seed["case_id"], "at": "2021-03-31", "snapshot": seed})
    before = (watcher.snapshot(seed["case_id"]), watcher.standing(seed["case_id"]))
    for bad in ({"steps[0].hours": "many"}, {"steps[9].hours": 1}, {"steps[0].nope": 1},
                {"sme.approved_on": "2000-01-01"}):
        got = watcher.feed({"case_id": seed["case_id"], "at": "2021-04-01", "set": bad})
        assert [item["format"] for item in got] == ["rulebook.error/v1"], bad
    assert (watcher.snapshot(seed["case_id"]), watcher.standing(seed["case_id"])) == before


def test_an_event_does_not_change_the_data_it_was_given(book, seed):
    """Setting a path on an event's own snapshot copies what lies on the path: the caller's data
    stays as it was, and so does a snapshot the watcher handed out."""
    seed = orjson.loads(orjson.dumps(seed, default=str))
    watcher = Watcher(book)
    hours = seed["steps"][0]["hours"]
    watcher.feed({"case_id": seed["case_id"], "at": "2021-03-31", "snapshot": seed,
                  "set": {"steps[0].hours": hours + 1}})
    assert seed["steps"][0]["hours"] == hours
    handed_out = watcher.snapshot(seed["case_id"])
    assert handed_out["steps"][0]["hours"] == hours + 1
    watcher.feed({"case_id": seed["case_id"], "at": "2021-04-01", "set": {"steps[0].hours": hours + 2}})
    assert handed_out["steps"][0]["hours"] == hours + 1
    assert watcher.snapshot(seed["case_id"])["steps"][0]["hours"] == hours + 2


def test_stdin_and_follow(tmp_path):
    events = (EXAMPLES / "events.jsonl").read_bytes().splitlines(keepends=True)
    piped = watch_cli("-", stdin=b"".join(events))
    assert piped.returncode == 0 and piped.stdout == watch_cli(str(EXAMPLES / "events.jsonl")).stdout

    log = tmp_path / "growing.jsonl"
    log.write_bytes(events[0])
    process = subprocess.Popen([RULEBOOK, "watch", str(log), "--follow"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    try:
        first = process.stdout.readline()
        assert orjson.loads(first)["at"].startswith("2021-02-10")
        with open(log, "ab") as fh:  # the log grows while the watcher waits
            fh.write(events[1])
        deadline = time.monotonic() + 60
        seen = []
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            seen.append(orjson.loads(line))
            if seen[-1]["kind"] == "change" and seen[-1]["to"] == "pass":
                break
        whole = [orjson.loads(line) for line in piped.stdout.splitlines()]
        assert seen == whole[1:len(seen) + 1]  # what the whole log gives, as the log grows
        assert [a["kind"] for a in seen][-2:] == ["reminder", "change"]
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_unreadable_input_is_a_message(tmp_path):
    run = watch_cli(str(tmp_path / "missing.jsonl"), "--lang", "en")
    assert run.returncode == 2 and b"cannot read" in run.stderr and b"Traceback" not in run.stderr
    run = watch_cli(str(tmp_path / "missing.jsonl"))  # Japanese by default, the system's reason too
    assert run.returncode == 2 and "を読めません: ファイルもフォルダもありません" in run.stderr.decode()


NOW = dt.datetime(2024, 5, 20, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=9)))


def live_cli(monkeypatch, now: dt.datetime, *args, stdin: bytes | None = None):
    """`rulebook watch --live …` in this process, its clock reading `now`."""
    from click.testing import CliRunner

    from rulebook.apps.cli import main
    from rulebook.apps.watch import watcher

    monkeypatch.setattr(watcher, "system_clock", lambda: now)
    return CliRunner().invoke(main, ["watch", "--live", *args], input=stdin, catch_exceptions=False)


def test_live_events_may_leave_out_at(monkeypatch, seed):
    seed = orjson.loads(orjson.dumps(seed, default=str))
    seed["steps"][0].pop("report_submitted_on")
    event = orjson.dumps({"case_id": seed["case_id"], "snapshot": seed}) + b"\n"
    live = live_cli(monkeypatch, NOW, "-", stdin=event)
    assert live.exit_code == 0, live.stderr
    alerts = [orjson.loads(line) for line in live.stdout.splitlines()]
    # Judged at the clock's moment, long after the report's last day: the report is late.
    assert alerts and {a["at"] for a in alerts} == {"2024-05-20T10:30:00+09:00"}
    assert ("step.report-deadline", "fail") in {(a["rule"], a["to"]) for a in alerts}
    replay = watch_cli("-", stdin=event)  # without --live, `at` is required
    assert replay.returncode == 2 and b'"path":"at"' in replay.stderr


def test_live_judges_late_events_now_and_labels_them_with_their_at(monkeypatch):
    run = live_cli(monkeypatch, NOW, str(EXAMPLES / "events.jsonl"))
    assert run.exit_code == 0, run.stderr
    alerts = [orjson.loads(line) for line in run.stdout.splitlines()]
    # Everything happened years before the clock: judged then, no report can be pending any more.
    assert alerts and alerts[0]["at"] == "2021-02-10T09:00:00+09:00"
    assert not [a for a in alerts if a["kind"] == "reminder"]
    first = [a for a in alerts if a["rule"] == "step.report-deadline" and a["subject"] == "step:1"]
    assert [(a["from"], a["to"]) for a in first] == [(None, "fail"), ("fail", "pass")]


def test_live_clock_inside_the_log(monkeypatch):
    """The same log with the clock on the day of its first event: the first step's report is
    still to come then, so it is pending, not late, and it passes when it arrives."""
    run = live_cli(monkeypatch, dt.datetime(2021, 2, 10, 12, 0, tzinfo=NOW.tzinfo), str(EXAMPLES / "events.jsonl"))
    assert run.exit_code == 0, run.stderr
    alerts = [orjson.loads(line) for line in run.stdout.splitlines()]
    first = [a for a in alerts if a["rule"] == "step.report-deadline" and a["subject"] == "step:1"]
    assert [(a["from"], a["to"]) for a in first] == [(None, "pending"), ("pending", "pass")]


def test_remind_days_moves_the_reminder():
    days = {}
    for n in ("1", "5"):
        run = watch_cli(str(EXAMPLES / "events.jsonl"), "--remind-days", n)
        days[n] = [orjson.loads(line)["at"] for line in run.stdout.splitlines()
                   if orjson.loads(line)["kind"] == "reminder"]
    assert days["1"][0] == "2021-02-17" and days["5"][0] == "2021-02-13"


def test_live_judges_late_events_now_and_labels_them_with_their_at():
    run = watch_cli(str(EXAMPLES / "events.jsonl"), "--live")
    assert run.returncode == 0, run.stderr.decode()
    alerts = [orjson.loads(line) for line in run.stdout.splitlines()]
    # Everything happened years ago: judged today, no report can be pending any more.
    assert alerts and alerts[0]["at"] == "2021-02-10T09:00:00+09:00"
    assert not [a for a in alerts if a["kind"] == "reminder"]
    first = [a for a in alerts if a["rule"] == "step.report-deadline" and a["subject"] == "step:1"]
    assert [(a["from"], a["to"]) for a in first] == [(None, "fail"), ("fail", "pass")]


def test_a_moved_last_day_as_text():
    from rulebook.apps.cli import _alert_text

    alert = {"format": ALERT_FORMAT, "case_id": "C-1", "at": "2021-03-01", "kind": "due", "rule": "step.report-deadline",
             "subject": "step:1", "from": "pending", "to": "pending", "due": "2021-03-12",
             "message": {"ja": "期限は2021-03-12です。", "en": "Due by 2021-03-12."}, "fix": None}
    assert _alert_text(alert, "en") == ("2021-03-01  C-1  step.report-deadline step:1  last day moved → 2021-03-12: "
                                        "Due by 2021-03-12.")
    assert "期限変更 → 2021-03-12" in _alert_text(alert, "ja")


def test_an_action_that_outlives_durable_rules_lease_is_finished(book, seed, monkeypatch):
    """durable_rules gives an action 10 s of wall-clock time, then drops what it left to do and
    starts nothing more in that session (the process was stopped, say). The watch gives the same
    alerts as without the stop, and the case goes on taking events."""
    from durable import engine

    seed = orjson.loads(orjson.dumps(seed, default=str))
    seed["steps"][0].pop("report_submitted_on")
    completed = dt.date.fromisoformat(seed["steps"][0]["completion_reported_on"])
    events = [{"case_id": seed["case_id"], "at": completed.isoformat(), "snapshot": seed},
              {"case_id": seed["case_id"], "at": (completed + dt.timedelta(days=1)).isoformat(),
               "set": {"sme.name": "改名"}},
              {"case_id": seed["case_id"], "at": (completed + dt.timedelta(days=20)).isoformat(),
               "set": {"steps[0].report_submitted_on": (completed + dt.timedelta(days=20)).isoformat()}}]
    expected = feed_all(Watcher(book), events)
    # the report's 10 days, and the first period's last day (step.program-period)
    assert [a["kind"] for a in expected].count("reminder") == 2

    stopped = Watcher(book)
    clock = {"now": 0.0, "stops": 0}

    def wall_clock() -> float:  # each time an action starts or ends while a stop is due, 11 s pass
        if clock["stops"]:
            clock["stops"] -= 1
            clock["now"] += 11
        return clock["now"]

    monkeypatch.setattr(engine, "_unix_now", wall_clock)
    got = []
    for number, event in enumerate(events, 1):
        clock["stops"] = 2  # the first action of every handling outlives its lease
        got += stopped.feed(event, "log", number)
    assert got == expected
    assert stopped.standing(seed["case_id"]) == statuses(book.judge(stopped.snapshot(seed["case_id"]),
                                                                   as_of=events[-1]["at"]))


def test_a_case_at_rest_costs_a_few_kilobytes(book):
    """Between its moments a case is plain data: no durable_rules session (about 130 KB each, in
    the engine's own memory), no validated model, and its snapshot's text at its own size; what
    Python holds for it stays near 2 KiB (the watcher before this design held about 10 KiB)."""
    import gc
    import tracemalloc

    events = generate_events(200, 2200, seed=3)
    feed_all(Watcher(book), events)  # the rulebook's caches (holidays, texts) made once
    watcher = Watcher(book)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        feed_all(watcher, events)
        gc.collect()
        per_case = (tracemalloc.get_traced_memory()[0] - before) / len(watcher.cases)
    finally:
        tracemalloc.stop()
    assert watcher.open_sessions == 0
    assert per_case < 4 * 1024, per_case
