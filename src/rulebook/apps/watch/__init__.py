"""watch: `rulebook watch`, case events in, alerts out, on durable_rules.

watcher (the Watcher, and `run` over a stream of events) on top of sessions (durable_rules
behind a small interface), alerts (the old standing and the new results → alerts; pure) and
wakes (the day each case is next due); follow reads a growing file or a pipe.
"""

from .alerts import ALERT_FORMAT
from .follow import FollowedStream, follow
from .watcher import Watcher, run

__all__ = ["ALERT_FORMAT", "FollowedStream", "Watcher", "follow", "run"]
