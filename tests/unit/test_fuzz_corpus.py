"""The fuzz targets' corpora (fuzz/corpus/, grown by atheris: `make fuzz`), replayed through the
same property as the fuzzing: any input gives a verdict or our structured error, within the time
and memory bound. Also: the harness does catch failures, and atheris itself runs the targets."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from fuzz import fuzz_service
from fuzz.harness import CORPUS, FOUND, ROOT, TARGETS, Failure, _peak, _rss, judge, replay


# Replayed here, an input must answer (a verdict or our error) within the memory bound; the
# fuzzer's 5 s of wall time is not asserted on a shared machine: the alarm is only a hang guard
# that names the input (pytest-timeout is the backstop).
HANG = 60


@pytest.mark.parametrize("target", TARGETS)
def test_corpus_replays_within_the_property(target):
    replayed = replay(target, CORPUS / target, seconds=HANG)
    assert replayed.inputs >= 10, f"fuzz/corpus/{target} holds {replayed.inputs} inputs"
    assert not replayed.failures, "\n\n".join(f"fuzz/corpus/{target}/{name}: {what}"
                                              for name, what in replayed.failures)


@pytest.mark.parametrize("target", sorted(p.name for p in FOUND.iterdir()))
def test_inputs_that_once_failed_replay_within_the_property(target):
    replayed = replay(target, FOUND / target, seconds=HANG)
    assert replayed.inputs >= 1
    assert not replayed.failures, "\n\n".join(f"fuzz/found/{target}/{name}: {what}"
                                              for name, what in replayed.failures)


def planted(data: bytes, state) -> None:
    """A target that breaks the property in each way the harness must catch."""
    if data == b"raise":
        raise KeyError("planted")
    if data == b"recurse":
        def down(n):
            return down(n + 1)
        down(0)
    if data == b"hang":
        while True:
            time.sleep(0.01)
    if data == b"memory":
        held = b"x" * (max(0, _peak() - _rss()) + 64 * 2**20)  # above the process's earlier peak
        del held
    if data == b"wrong":
        raise Failure("planted: the answer is not a verdict")


PLANTED = SimpleNamespace(setup=lambda: None, check=planted)


def test_the_harness_catches_planted_failures(tmp_path):
    for name in ("fine", "raise", "recurse", "memory", "wrong"):
        (tmp_path / name).write_bytes(name.encode())
    # No time bound but the hang guard: making the planted memory can take a while on a busy machine.
    replayed = replay(PLANTED, tmp_path, seconds=HANG, memory=16 * 2**20)
    failed = dict(replayed.failures)
    assert replayed.inputs == 5
    assert sorted(failed) == ["memory", "raise", "recurse", "wrong"]
    assert "KeyError" in failed["raise"] and "RecursionError" in failed["recurse"]
    assert "memory grew" in failed["memory"]


def test_the_harness_catches_a_planted_hang(tmp_path):
    """The input never ends: the alarm ringing is the event, whatever the machine's speed."""
    (tmp_path / "hang").write_bytes(b"hang")
    replayed = replay(PLANTED, tmp_path, seconds=0.2)
    assert [(name, what) for name, what in replayed.failures] == [("hang", "no answer within 0.2 s")]


def test_the_service_target_catches_a_500():
    from rulebook.apps.service import create_app

    app = create_app()

    @app.get("/boom")
    async def boom():
        raise RuntimeError("planted")

    state = {"apps": {False: app, True: app}, "loop": asyncio.new_event_loop()}
    judge(fuzz_service, b"GET /v1/rules\n\n", state)
    with pytest.raises(Failure, match="500"):
        judge(fuzz_service, b"GET /boom\n\n", state)
    state["loop"].close()


@pytest.mark.parametrize("target", ["documents"])
def test_atheris_runs_the_target(tmp_path, target):
    out = subprocess.run([sys.executable, str(ROOT / "fuzz" / f"fuzz_{target}.py"), "-runs=200",
                          f"-artifact_prefix={tmp_path}/", str(tmp_path), str(CORPUS / target)],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert re.search(r"^Done \d+ runs", out.stderr, re.M), out.stderr[-3000:]  # the corpus, then 200 inputs


_SLOW_TARGET = """
import sys, time, types
sys.path.insert(0, {root!r})
from fuzz import harness

target = types.ModuleType("fuzz.fuzz_slow")
target.NAME = "slow"
target.setup = lambda: None


def check(data, state):  # an input that takes 2.5 s of wall time, as one may on a loaded machine
    end = time.monotonic() + 2.5
    while time.monotonic() < end:
        pass


def judged_then_more(target, data, state, judge=harness.judge):
    judge(target, data, state)
    end = time.monotonic() + 0.05  # then Python a little longer in the same input, as a process
    while time.monotonic() < end:  # descheduled on a loaded machine is
        pass


target.check = check
sys.modules["fuzz.fuzz_slow"] = target
harness.judge = judged_then_more
harness.fuzz_main("slow")
"""


def test_atheris_lets_an_input_take_more_than_a_second_within_the_harness_bound(tmp_path):
    """The bound on an input's time is the harness's (`SECONDS`): libFuzzer's own, which atheris
    applies after one second when it is told none (`-timeout=0`), must not end a slow input first
    (under load, a corpus input of a few hundred milliseconds takes more than a second)."""
    script = tmp_path / "fuzz_slow.py"
    script.write_text(_SLOW_TARGET.format(root=str(ROOT)))
    (tmp_path / "corpus").mkdir()
    out = subprocess.run([sys.executable, str(script), "-runs=2", f"-artifact_prefix={tmp_path}/",
                          str(tmp_path / "corpus")], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "fuzz target exited" not in out.stderr, out.stderr[-3000:]
    assert re.search(r"^Done 2 runs", out.stderr, re.M), out.stderr[-3000:]
