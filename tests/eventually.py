"""Waiting for an event rather than for a time: poll a condition until it holds.

The bound is for hangs only (a test fails instead of waiting forever; pytest-timeout is the
backstop); no test depends on how fast something happens."""

from __future__ import annotations

import time

HANG = 120  # seconds: a bound for hangs only, never a timing assertion


def wait_for(condition, what: str, timeout: float = HANG, every: float = 0.01):
    """The first true value of `condition()`, polled every `every` seconds; AssertionError naming
    `what` after `timeout` seconds without one."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:g} s for {what}")
        time.sleep(every)
