"""`rulebook audit`'s output folder: one audit at a time (real processes), free again after
`kill -9`, and no resume with a rulebook edited since the audit began."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from rulebook.apps.audit.folder import FolderLock
from rulebook.apps.audit.ledger import Ledger
from rulebook.apps.cli import main

from ..conftest import EXAMPLES, ROOT

SEED = (EXAMPLES / "seed-case.yaml").read_bytes()
FILES = ("results.jsonl", "errors.jsonl", "summary.json", "report.html", "cases.csv", "experts.csv", "smes.csv")


def audit(*args):
    return CliRunner().invoke(main, ["audit", *map(str, args)], catch_exceptions=False)


def audit_process(*args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "rulebook.apps.cli", "audit", *map(str, args), "--no-progress"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def fifo(path: Path) -> Path:
    if not hasattr(os, "mkfifo"):
        pytest.skip("needs named pipes")
    os.mkfifo(path)
    return path


def opened_by(pipe: Path, process: subprocess.Popen, timeout: float = 120):
    """The named pipe opened for writing: that returns once `process` has opened it to read
    (an audit opens its input after it has locked its folder). Fails if the process ends first."""
    opened: list = []
    writer = threading.Thread(target=lambda: opened.append(open(pipe, "wb")), daemon=True)
    writer.start()
    deadline = time.monotonic() + timeout
    while writer.is_alive() and process.poll() is None and time.monotonic() < deadline:
        writer.join(0.05)  # the open, watched: a process that never opens the pipe fails the test
    if not opened:
        os.close(os.open(pipe, os.O_RDONLY | os.O_NONBLOCK))  # lets the blocked open return
        writer.join()
        opened[0].close()
        raise AssertionError(f"the audit never read its input: {process.poll()=}, "
                             f"{process.stderr.read().decode() if process.poll() is not None else ''}")
    return opened[0]


def test_a_second_audit_into_a_folder_in_use_is_refused_and_the_first_goes_on(tmp_path):
    pipe, out = fifo(tmp_path / "cases.yaml"), tmp_path / "out"
    (tmp_path / "other.yaml").write_bytes(SEED)
    first = audit_process(pipe, "--out", out, "--jobs", "1")
    try:
        feed = opened_by(pipe, first)  # the first audit holds the folder and waits for its input
        for extra in ([], ["--resume"]):
            second = audit_process(tmp_path / "other.yaml", "--out", out, "--jobs", "1", *extra)
            message = second.stderr.read().decode()
            assert second.wait(timeout=120) == 2
            assert f"another audit (process {first.pid}) is writing into `{out}`" in message
            assert f"`{out}` には別の監査(プロセス {first.pid})が書き込み中です" in message
            assert message.index("別の監査") < message.index("another audit")  # Japanese first
            assert "Traceback" not in message
        feed.write(SEED)
        feed.close()
        assert first.wait(timeout=120) == 0, first.stderr.read().decode()
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    results = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["case_id"] for line in results] == ["SEED-EXAMPLE"]
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["inputs"] == [str(pipe)]


def test_after_kill_9_the_folder_is_free_and_resume_finishes_the_audit(tmp_path):
    pipe, out = fifo(tmp_path / "cases.yaml"), tmp_path / "out"
    # two jobs: its worker processes outlive it by up to a second, and must not hold the folder
    killed = audit_process(pipe, "--out", out, "--jobs", "2")
    feed = opened_by(pipe, killed)  # it holds the lock now
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait()
    feed.close()

    def write_the_input():
        with open(pipe, "wb") as fh:  # once the resumed audit opens it
            fh.write(SEED)

    writer = threading.Thread(target=write_the_input, daemon=True)
    writer.start()
    resumed = audit(pipe, "--out", out, "--jobs", "1", "--resume")  # at once, in this process
    if writer.is_alive():  # the audit never opened its input
        os.close(os.open(pipe, os.O_RDONLY | os.O_NONBLOCK))
    writer.join()
    assert resumed.exit_code == 0, resumed.output
    reference = tmp_path / "reference"
    assert audit(EXAMPLES / "seed-case.yaml", "--out", reference, "--jobs", "1").exit_code == 0
    assert (out / "results.jsonl").read_bytes() == (reference / "results.jsonl").read_bytes()


def test_a_folder_this_process_holds_is_refused_too(tmp_path):
    (tmp_path / "out").mkdir()
    lock = FolderLock(tmp_path / "out")
    try:
        result = audit(EXAMPLES / "seed-case.yaml", "--out", tmp_path / "out", "--lang", "en")
        assert result.exit_code == 2
        assert result.output.splitlines()[0] == (f"rulebook audit: another audit (process {os.getpid()}) is writing "
                                                 f"into `{tmp_path / 'out'}`; wait for it to end, or choose another --out")
        assert not (tmp_path / "out" / ".ledger.sqlite").exists()
    finally:
        lock.release()
    assert audit(EXAMPLES / "seed-case.yaml", "--out", tmp_path / "out").exit_code == 0


def test_the_next_audit_waits_for_the_processes_an_audit_forked_before_it_writes(tmp_path, monkeypatch):
    """The fence: a process forked by an audit (a pool's worker, which writes into results.jsonl)
    holds it after the audit has let go of the folder, so the next audit into the folder takes
    it only once that process has ended — or, past FENCE_WAIT, stops and says why, in Japanese
    and English."""
    import multiprocessing

    from rulebook.apps.audit import folder as folder_module
    from rulebook.apps.audit.options import AuditError

    out = tmp_path / "out"
    out.mkdir()
    context = multiprocessing.get_context("fork")
    lock = FolderLock(out)
    worker = context.Process(target=time.sleep, args=(0.5,), daemon=True)  # inherits the fence
    worker.start()
    lock.release()  # the audit is gone; its worker lives on a moment
    FolderLock(out).release()  # waited for it
    assert worker.exitcode == 0

    lock = FolderLock(out)
    worker = context.Process(target=time.sleep, args=(60,), daemon=True)
    worker.start()
    lock.release()
    monkeypatch.setattr(folder_module, "FENCE_WAIT", 0.2)
    try:
        with pytest.raises(AuditError) as raised:
            FolderLock(out)
        assert raised.value.en == (f"processes of an earlier audit into `{out}` are still running; try again once "
                                   "they have ended")
        assert raised.value.ja.startswith(f"`{out}` に書き込んでいた以前の監査のプロセスがまだ終わっていません")
    finally:
        worker.kill()
        worker.join()
    FolderLock(out).release()  # free again, and the folder lock was let go on the failure


@pytest.fixture
def own_rules(tmp_path) -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules, ignore=shutil.ignore_patterns("tests"))
    return rules


def test_a_resume_with_edited_rule_files_is_refused_naming_them(tmp_path, own_rules):
    out, inputs = tmp_path / "out", tmp_path / "cases"
    inputs.mkdir()
    for name in ("seed-case", "failing-case", "pending-case"):
        shutil.copy(EXAMPLES / f"{name}.yaml", inputs)
    assert audit(inputs, "--out", out, "--rules", own_rules, "--jobs", "1").exit_code in (1, 3)
    before = {name: (out / name).read_bytes() for name in FILES}
    steps = own_rules / "steps.rules"
    original = steps.read_text(encoding="utf-8")
    steps.write_text(original.replace("10日以内", "十日以内"), encoding="utf-8")
    (own_rules / "extra.rules").write_text("# nothing yet\n", encoding="utf-8")
    refused = audit(inputs, "--out", out, "--rules", own_rules, "--resume")
    assert refused.exit_code == 2
    ja, en = refused.output.splitlines()
    assert ja == ("rulebook audit: この監査を始めてからルールブックが変わりました(`steps.rules` が変更されました、"
                  "`extra.rules` が追加されました)。続けると2つのルールブックの判定が混ざります。ルールファイルを元に戻すか、"
                  "新しいフォルダで監査をやり直してください")
    assert en == ("rulebook audit: the rulebook changed since this audit began (`steps.rules` changed; `extra.rules` "
                  "added); resuming would mix the verdicts of two rulebooks: restore the rule files, or start the "
                  "audit again in a new folder")
    assert {name: (out / name).read_bytes() for name in FILES} == before  # nothing touched
    # restored, it resumes (and changes nothing: the audit was whole)
    steps.write_text(original, encoding="utf-8")
    (own_rules / "extra.rules").unlink()
    assert audit(inputs, "--out", out, "--rules", own_rules, "--resume").exit_code in (1, 3)
    assert {name: (out / name).read_bytes() for name in FILES} == before
    # a file taken away is named as such
    (own_rules / "payout.rules").rename(tmp_path / "payout.rules")
    (own_rules / "payout2.rules").write_bytes((tmp_path / "payout.rules").read_bytes())
    moved = audit(inputs, "--out", out, "--rules", own_rules, "--resume", "--lang", "en")
    assert moved.exit_code == 2
    assert "(`payout2.rules` added; `payout.rules` removed)" in moved.output.splitlines()[0]


def test_the_rulebook_is_kept_with_the_checkpoint(tmp_path):
    out = tmp_path / "out"
    assert audit(EXAMPLES / "seed-case.yaml", "--out", out, "--jobs", "1").exit_code == 0
    ledger = Ledger(out)
    try:
        kept = ledger.get("rulebook")
    finally:
        ledger.close()
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert kept["digest"] == summary["rulebook"]["digest"]
    assert set(kept["files"]) == {p.relative_to(ROOT / "rules").as_posix() for p in (ROOT / "rules").rglob("*.rules")}
    assert all(digest.startswith("sha256:") for digest in kept["files"].values())


def test_an_audit_begun_without_a_record_of_its_rulebook_is_not_resumed(tmp_path):
    out = tmp_path / "out"
    assert audit(EXAMPLES / "seed-case.yaml", "--out", out, "--jobs", "1").exit_code == 0
    ledger = Ledger(out)
    try:
        ledger.query("DELETE FROM meta WHERE key = 'rulebook'")  # as an earlier rulebook left its ledger
    finally:
        ledger.close()
    refused = audit(EXAMPLES / "seed-case.yaml", "--out", out, "--resume", "--lang", "en")
    assert refused.exit_code == 2
    assert "was begun by an earlier rulebook that kept no record of its rules" in refused.output.splitlines()[0]
    assert "使ったルールブックを記録しない以前の版" in refused.output.splitlines()[1]
