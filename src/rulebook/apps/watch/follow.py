"""follow: a file or pipe read as it grows, like `tail -f`, for `rulebook watch --follow`."""

from __future__ import annotations

import io
import os
import select
import stat
import time
from typing import Callable

class FollowedStream(io.RawIOBase):
    """A file or pipe read as it grows, like `tail -f`: at its end, wait for more.

    While it waits it calls `idle` every `interval` seconds (the live clock ticks
    there). A pipe ends when its writer closes it; a file never ends."""

    def __init__(self, fd: int, idle: Callable[[], None] = lambda: None, interval: float = 0.5):
        super().__init__()
        self.fd = fd
        self.idle = idle
        self.interval = interval
        self.pipe = not stat.S_ISREG(os.fstat(fd).st_mode)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while True:
            ready, _, _ = select.select([self.fd], [], [], self.interval)
            if ready:
                data = os.read(self.fd, len(buffer))
                if data:
                    buffer[: len(data)] = data
                    return len(data)
                if self.pipe:
                    return 0
                time.sleep(self.interval)
            self.idle()


def follow(fd: int, idle: Callable[[], None] = lambda: None, interval: float = 0.5) -> FollowedStream:
    """The stream to give `documents.load_stream`; unbuffered, as a buffer would wait to be
    filled: every read returns what has come."""
    return FollowedStream(fd, idle, interval)
