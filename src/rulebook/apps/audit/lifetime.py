"""lifetime: a process the audit started (a pool's worker, the end's batch rules) ends when the
audit is gone — killed with -9, say —, rather than wait forever to hand back its work."""

from __future__ import annotations

import os
import threading
import time


def end_with(parent: int, interval: float = 1.0) -> None:
    """End this process when the audit that started it (`parent`, its pid as the audit knew it,
    so a death before this runs is seen too) is gone: a thread looks every `interval` seconds."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
