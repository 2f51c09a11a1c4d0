"""`rulebook audit`: outputs, order, parallel runs, cross-case checks, resuming after kill -9."""

from __future__ import annotations

import copy
import csv
import gzip
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
import yaml
from click.testing import CliRunner

from rulebook.apps.cli import main
from samples import generate

from ..conftest import EXAMPLES
from ..eventually import wait_for

FILES = ("results.jsonl", "errors.jsonl", "summary.json", "report.html", "cases.csv", "experts.csv", "smes.csv")


def write_batch(path: Path, cases: list[dict], broken: dict[int, bytes] | None = None) -> Path:
    lines = [orjson.dumps(c) for c in cases]
    for index, raw in (broken or {}).items():
        lines.insert(index, raw)
    data = b"\n".join(lines) + b"\n"
    if path.suffix == ".gz":
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def audit(*args, env=None):
    return CliRunner().invoke(main, ["audit", *map(str, args)], env=env or {}, catch_exceptions=False)


def contents(folder: Path) -> dict:
    return {name: (folder / name).read_bytes() for name in FILES}


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    folder = tmp_path_factory.mktemp("batch")
    cases = generate(600, seed=11)
    write_batch(folder / "a.jsonl", cases[:300], broken={5: b"{not json", 40: b'{"format": "rulebook.case/v1"}'})
    write_batch(folder / "b.jsonl.gz", cases[300:])
    yamls = folder / "yaml"
    yamls.mkdir()
    for name in ("seed-case", "failing-case", "pending-case"):
        shutil.copy(EXAMPLES / f"{name}.yaml", yamls / f"{name}.yaml")
    (yamls / "latin1.yaml").write_bytes("case_id: caf\xe9\n".encode("latin-1"))
    return folder


def test_an_audit_writes_every_file_in_input_order(batch, tmp_path, book):
    out = tmp_path / "out"
    result = audit(batch / "a.jsonl", batch / "b.jsonl.gz", batch / "yaml", "--out", out, "--jobs", "1")
    assert result.exit_code == 2  # some inputs are invalid
    results = [json.loads(x) for x in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    errors = [json.loads(x) for x in (out / "errors.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(results) == 600 + 3  # the two broken lines and the latin-1 file are errors
    assert [r["case_id"] for r in results[:5]] == [f"G-{i:07d}" for i in range(5)]
    assert results[-3:][0]["case_id"] == "C-2021-0042"  # the YAML folder, in sorted order
    assert [(e["source"]["file"].rsplit("/", 1)[-1], e["source"]["line"]) for e in errors] == [
        ("a.jsonl", 6), ("a.jsonl", 41), ("latin1.yaml", 1)]
    # the same verdicts as `rulebook check` would give, case by case
    sample = generate(600, seed=11)[123]
    assert results[123]["case_id"] == sample["case_id"]
    assert results[123] == book.judge(sample)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["cases"] == len(results) and summary["errors"] == 3
    assert sum(summary["verdicts"].values()) == len(results)
    assert summary["money"]["honorarium_due_jpy"] == sum(r["payout"]["honorarium_jpy"] for r in results)
    rule_fails = {r["rule"]: r["fail"] for r in summary["rules"]}
    assert rule_fails["step.photos"] == sum(1 for v in results for r in v["results"]
                                            if r["rule"] == "step.photos" and r["status"] == "fail")
    raw = (out / "cases.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0][:3] == ["事例ID", "判定", "不適合の要件"]
    assert len(rows) == 1 + len(results)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<svg" in html and "http://" not in html and "https://" not in html


def test_the_people_spreadsheets_total_every_expert_and_sme_in_the_summarys_order(batch, tmp_path):
    out = tmp_path / "out"
    audit(batch / "a.jsonl", batch / "b.jsonl.gz", batch / "yaml", "--out", out, "--jobs", "2", "--chunk-size", "50")
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    cases = list(csv.DictReader((out / "cases.csv").read_text(encoding="utf-8-sig").splitlines()))
    for column, sheet, key in (("IT専門家", "experts.csv", "experts"), ("中小企業", "smes.csv", "smes")):
        totals: dict = {}
        for case in cases:
            if case[column]:
                t = totals.setdefault(case[column], [0, 0, 0, 0, 0])
                t[0] += 1
                t[1] += case["判定"] == "謝金対象外"
                t[2] += int(case["支払われる謝金(円)"])
                t[3] += int(case["謝金の対象額(円)"])
                t[4] += int(case["請求額(円)"] or 0)
        expected = sorted(([name, *t] for name, t in totals.items()), key=lambda r: (-(r[4] - r[3]), -r[4], r[0]))
        raw = (out / sheet).read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf") and raw.endswith(b"\r\n")
        rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
        assert [[r[0], *map(int, r[1:])] for r in rows[1:]] == expected
        assert len(expected) > 100 and summary[f"{key}_total"] == len(expected)
        assert [list(p.values()) for p in summary[key]] == expected[:1000]


def test_the_files_are_the_same_whatever_the_number_of_jobs(batch, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    audit(batch / "a.jsonl", batch / "yaml", "--out", one, "--jobs", "1", "--chunk-size", "7")
    audit(batch / "a.jsonl", batch / "yaml", "--out", two, "--jobs", "2", "--chunk-size", "13")
    assert contents(one) == contents(two)


def test_compact_results_keep_statuses_and_facts(batch, tmp_path):
    out = tmp_path / "compact"
    audit(batch / "a.jsonl", "--out", out, "--compact", "--jobs", "1")
    first = json.loads((out / "results.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert set(first["results"][0]) == {"rule", "subject", "status", "facts"}
    assert first["payout"]["honorarium_at_stake_jpy"] >= first["payout"]["honorarium_jpy"]


def test_cross_case_checks_duplicates_and_impossible_hours(tmp_path):
    seed = yaml.safe_load((EXAMPLES / "seed-case.yaml").read_text(encoding="utf-8"))
    seed = orjson.loads(orjson.dumps(seed))
    other = copy.deepcopy(seed) | {"case_id": "OTHER"}
    # the same expert, another case: 50 hours in the two days of 2021-02-17 and 18, beside the seed case
    other["steps"][0] |= {"started_on": "2021-02-17", "completion_reported_on": "2021-02-18",
                          "client_paid_on": "2021-02-18", "report_submitted_on": "2021-02-19", "hours": 50}
    batch = write_batch(tmp_path / "x.jsonl", [seed, other, seed])
    out = tmp_path / "out"
    assert audit(batch, "--out", out, "--jobs", "1").exit_code == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["duplicates"] == [{"case_id": "SEED-EXAMPLE", "count": 2,
                                      "where": [f"{batch}:1", f"{batch}:3"]}]
    flagged = summary["implausible_hours"]
    assert flagged and flagged[0]["expert"] == "hanako_y" and flagged[0]["day"] == "2021-02-17"
    assert flagged[0]["cases"] == ["OTHER", "SEED-EXAMPLE"] and flagged[0]["hours"] > 24
    assert summary["experts"][0]["name"] == "hanako_y" and summary["experts"][0]["cases"] == 3


def test_since_an_earlier_audit(tmp_path):
    seed = orjson.loads(orjson.dumps(yaml.safe_load((EXAMPLES / "seed-case.yaml").read_text(encoding="utf-8"))))
    first = write_batch(tmp_path / "march.jsonl", [seed])
    audit(first, "--out", tmp_path / "march", "--jobs", "1")
    worse = copy.deepcopy(seed)
    worse["steps"][0]["payment_capture_attached"] = False
    second = write_batch(tmp_path / "april.jsonl", [worse])
    assert audit(second, "--out", tmp_path / "april", "--since", tmp_path / "march", "--jobs", "1").exit_code == 1
    since = json.loads((tmp_path / "april" / "summary.json").read_text(encoding="utf-8"))["since"]
    assert since["changed"] == [{"case_id": "SEED-EXAMPLE", "from": "eligible", "to": "ineligible"}]
    assert {"case_id": "SEED-EXAMPLE", "rule": "final.payment-capture", "subject": "step:1"} in since["new_failures"]
    assert since["money_moved"]["honorarium_due_jpy"] == -140000


def test_refuses_to_mix_audits_and_says_why(batch, tmp_path):
    out = tmp_path / "out"
    audit(batch / "yaml", "--out", out, "--jobs", "1")
    again = audit(batch / "yaml", "--out", out)
    assert again.exit_code == 2 and "already holds an audit" in again.output
    other = audit(batch / "a.jsonl", "--out", out, "--resume")
    assert other.exit_code == 2 and "other inputs" in other.output


def test_an_output_folder_that_cannot_be_written(batch, tmp_path):
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("x")
    result = audit(batch / "yaml", "--out", blocked / "out")
    assert result.exit_code == 2 and "cannot write to the output folder" in result.output
    assert "Traceback" not in result.output


def _audit_process(inputs, out, *extra):
    return subprocess.Popen([sys.executable, "-m", "rulebook.apps.cli", "audit", *map(str, inputs), "--out", str(out),
                             "--chunk-size", "20", *extra], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return -1


def test_kill_9_at_random_moments_then_resume_gives_the_same_files(tmp_path):
    """Each run is killed once its results reach a random point of the whole (a progress mark,
    not a time: the kills land inside the audit however fast the machine), the first possibly
    before anything is written; then --resume, with 1 or 2 jobs, until it finishes."""
    cases = generate(10000, seed=23)
    inputs = [write_batch(tmp_path / "big.jsonl", cases, broken={700: b"[1, 2"})]
    reference = tmp_path / "reference"
    assert _audit_process(inputs, reference, "--jobs", "2").wait(timeout=300) == 2
    whole = (reference / "results.jsonl").stat().st_size
    rng = random.Random(int(os.environ.get("RULEBOOK_KILL_SEED", "5")))
    wanted = int(os.environ.get("RULEBOOK_KILLS", "6"))
    marks = sorted(int(rng.uniform(0.0, 0.9) * whole) for _ in range(wanted))
    out = tmp_path / "killed"
    results = out / "results.jsonl"
    kills = 0
    extra = ["--jobs", "2"]
    for mark in marks:
        process = _audit_process(inputs, out, *extra)
        wait_for(lambda: process.poll() is not None or _size(results) >= mark,
                 f"the results to reach {mark:,} bytes", every=0.002)
        if process.poll() is not None:
            break  # it finished before the mark (it can only be near the end)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        kills += 1
        extra = ["--jobs", str(rng.choice([1, 2])), "--resume"]
    # and once more when every result is written: at the end (the batch rules, the summary, the
    # files), with its processes searching for the findings, or after it
    process = _audit_process(inputs, out, "--jobs", "2", *(["--resume"] if kills else []))
    wait_for(lambda: process.poll() is not None or _size(results) >= whole, "the results to be whole", every=0.002)
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    finish = _audit_process(inputs, out, "--jobs", "2", "--resume")
    assert finish.wait(timeout=300) == 2, finish.stderr.read().decode()
    assert kills >= min(wanted, 2), f"{kills} kills"
    assert contents(out) == contents(reference)


def _running(pid: int) -> bool:
    """Alive, and not a zombie waiting for whoever adopted it to reap it."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


def _children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as fh:
                    fields = fh.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry))
    return found


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="finds the workers through /proc")
def test_workers_end_when_the_audit_is_killed(tmp_path):
    inputs = [write_batch(tmp_path / "big.jsonl", generate(20000, seed=29))]
    process = _audit_process(inputs, tmp_path / "out", "--jobs", "2")
    workers: set[int] = set()
    deadline = time.monotonic() + 120
    while len(workers) < 2 and time.monotonic() < deadline and process.poll() is None:
        workers = _children(process.pid)
        time.sleep(0.05)
    assert len(workers) >= 2, "the audit never started its workers"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(os.path.exists(f"/proc/{pid}") for pid in workers):
        time.sleep(0.1)
    left = [pid for pid in workers if os.path.exists(f"/proc/{pid}")]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, "workers outlived the audit that started them"


@pytest.mark.parametrize("compact", [True, False])
def test_an_integer_wider_than_64_bits_is_written_exactly(tmp_path, compact):
    cases = generate(5, seed=41)
    cases[2]["steps"][0]["client_payment_jpy"] = 10**30
    inputs = tmp_path / "cases.jsonl"
    inputs.write_text("".join(json.dumps(case, default=str) + "\n" for case in cases), encoding="utf-8")
    result = audit(inputs, "--out", tmp_path / "out", "--jobs", "1", *(["--compact"] if compact else []))
    assert result.exit_code in (0, 1, 3), result.output
    lines = (tmp_path / "out" / "results.jsonl").read_bytes().splitlines()
    assert len(lines) == 5 and b'"steps[0].client_payment_jpy":1000000000000000000000000000000' in lines[2]


def test_an_audit_outlives_the_shell_that_started_it(tmp_path):
    """Only pool workers end with their parent: `rulebook audit … &` from a shell that then
    exits (nohup, a cron job) runs to the end. The shell waits until the audit has written its
    first results, stops it (so that it cannot finish first, however fast), and exits; the audit
    is let go on once its shell is gone."""
    cases = [dict(case, case_id=f"{case['case_id']}-{copy}") for copy in range(5) for case in generate(1000, seed=37)]
    inputs = write_batch(tmp_path / "cases.jsonl", cases)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "rulebook.apps.cli", "audit", str(inputs), "--out", str(out), "--jobs", "1",
               "--compact", "--chunk-size", "100"]
    script = ('"$@" >/dev/null 2>&1 & pid=$!; '
              f'while [ ! -s {out}/results.jsonl ]; do sleep 0.01; done; kill -STOP $pid; echo $pid')
    shell = subprocess.run(["sh", "-c", script, "sh", *command], capture_output=True, text=True, check=True,
                           timeout=300)
    audit_pid = int(shell.stdout)
    try:
        assert _running(audit_pid), "the audit ended with its shell"
        assert not (out / "summary.json").exists()
    finally:
        os.kill(audit_pid, signal.SIGCONT)
    wait_for(lambda: not _running(audit_pid), "the audit to end", timeout=300, every=0.05)
    assert (out / "summary.json").exists(), "the audit ended before its summary"
    assert json.loads((out / "summary.json").read_text())["cases"] == len(cases)


def test_on_a_dask_local_cluster_the_files_equal_a_local_run(batch, tmp_path):
    local, on_dask = tmp_path / "local", tmp_path / "dask"
    audit(batch / "a.jsonl", batch / "yaml", "--out", local, "--jobs", "1", "--chunk-size", "50")
    result = audit(batch / "a.jsonl", batch / "yaml", "--out", on_dask, "--dask", "local", "--jobs", "2",
                   "--chunk-size", "50")
    assert result.exit_code == 2, result.output
    assert contents(local) == contents(on_dask)


def test_an_unreachable_dask_scheduler_is_a_clear_error(batch, tmp_path):
    result = audit(batch / "yaml", "--out", tmp_path / "out", "--dask", "tcp://127.0.0.1:9")
    assert result.exit_code == 2 and "cannot reach the Dask scheduler" in result.output


def test_a_full_disk_is_a_clear_error_and_the_audit_resumes_elsewhere(tmp_path):
    small = tmp_path / "small-disk"
    small.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(small)],
                                           capture_output=True).returncode != 0:
        pytest.skip("needs root to mount a small tmpfs")
    try:
        inputs = write_batch(tmp_path / "cases.jsonl", generate(2000, seed=31))
        full = audit(inputs, "--out", small / "out", "--jobs", "1", "--compact")
        assert full.exit_code == 2
        assert "No space left on device" in full.output and "--resume" in full.output
        assert "Traceback" not in full.output
        moved = tmp_path / "moved"
        shutil.copytree(small / "out", moved)
    finally:
        subprocess.run(["umount", str(small)], check=False)
    assert audit(inputs, "--out", moved, "--jobs", "2", "--compact", "--resume").exit_code in (1, 3)
    reference = tmp_path / "reference"
    audit(inputs, "--out", reference, "--jobs", "1", "--compact")
    assert contents(moved) == contents(reference)


def test_resume_refuses_files_shorter_than_the_ledger_says(batch, tmp_path):
    out = tmp_path / "out"
    audit(batch / "a.jsonl", "--out", out, "--jobs", "1")
    results = out / "results.jsonl"
    results.write_bytes(results.read_bytes()[:1000])
    again = audit(batch / "a.jsonl", "--out", out, "--resume")
    assert again.exit_code == 2 and "shorter than its ledger says" in again.output


@pytest.mark.parametrize("change", ["as_of", "compact", "rules"])
def test_resume_refuses_other_options_than_the_audit_it_finishes(batch, tmp_path, change):
    """Resuming with another judging day, another kind of results or another rulebook would mix
    two audits' verdicts in one folder: refused, and the files are left as they were."""
    out = tmp_path / "out"
    first = audit(batch / "yaml", "--out", out, "--jobs", "1")
    assert first.exit_code == 2, first.output  # latin1.yaml is an error
    before = contents(out)
    if change == "rules":
        shutil.copytree(Path(__file__).resolve().parents[2] / "rules", tmp_path / "rules")
        extra = ["--rules", tmp_path / "rules"]
    else:
        extra = {"as_of": ["--as-of", "2021-03-10"], "compact": ["--compact"]}[change]
    again = audit(batch / "yaml", "--out", out, "--jobs", "1", "--resume", *extra)
    assert again.exit_code == 2 and "other inputs or options" in again.output, again.output
    assert contents(out) == before
    same = audit(batch / "yaml", "--out", out, "--jobs", "1", "--resume")
    assert same.exit_code == 2 and "other inputs" not in same.output, same.output


def test_the_fast_path_gives_the_model_paths_verdicts_findings_and_sheets(tmp_path, book):
    """`--compact` reads lines through the schema's decoder and writes them through the compact
    writer, and the workers make cases.csv's rows and the batch rules' rows from the decoder's
    records: with further-rules.md's facts (the SME size, dated parameters, the honorarium cap,
    a case the batch rules find twice, one expert's steps overlapping), every sheet and
    summary.json are the bytes of the audit that builds the pydantic model and the full verdict,
    whatever the number of jobs, and each compact line is the model's path's."""
    import random

    from samples import make_case

    rng = random.Random(29)
    cases = [make_case(rng, i, further=True) for i in range(240)]
    overlapping = [make_case(rng, 1000 + i, expert=0, days=3) for i in range(12)]
    for case in overlapping:  # one expert's steps at once, too many hours in a day
        for step in case.get("steps", ()):
            step["hours"] = 120
    cases += overlapping
    cases += [cases[7], cases[245]]
    batch = write_batch(tmp_path / "further.jsonl", cases)
    sheets = ("summary.json", "cases.csv", "experts.csv", "smes.csv", "findings.csv", "hours.csv", "duplicates.csv")
    audit(batch, "--out", tmp_path / "model", "--jobs", "1", "--chunk-size", "17")
    for jobs in ("1", "2"):
        audit(batch, "--out", tmp_path / jobs, "--jobs", jobs, "--compact", "--chunk-size", "31")
        assert {name: (tmp_path / jobs / name).read_bytes() for name in sheets} == \
            {name: (tmp_path / "model" / name).read_bytes() for name in sheets}
    summary = json.loads((tmp_path / "1" / "summary.json").read_text(encoding="utf-8"))
    found = {rule["rule"]: len(rule["entries"]) for rule in summary["findings"]}
    assert all(found.values()), found  # every batch rule found something
    lines = (tmp_path / "1" / "results.jsonl").read_bytes().splitlines()
    assert lines == [book.judge_compact(case)[0][0] for case in cases]  # a mapping: through the model
    assert (tmp_path / "2" / "results.jsonl").read_bytes() == (tmp_path / "1" / "results.jsonl").read_bytes()
