"""A cap on the requests one tap run may send, across all its streams, retries included."""

from __future__ import annotations

import threading

from leadkit.errors import QuotaExhausted

RESUME = (
    "Every STATE written covers only records emitted before it; the next run continues "
    "from the bookmark."
)


class RequestCapReached(QuotaExhausted):
    """The next request would pass the run's cap: not retriable, the run stops cleanly."""


class RequestCap:
    """Counts every request about to be sent and refuses the one past `limit` (None: no cap).

    Shared by every stream of a run, and by threads, so it counts under a lock.
    """

    def __init__(self, setting: str, limit: int | None) -> None:
        self.setting = setting
        self.limit = limit
        #: Requests sent in this run.
        self.spent = 0
        self._lock = threading.Lock()

    def spend(self) -> None:
        """Count one request, or raise RequestCapReached naming the setting."""
        with self._lock:
            if self.limit is not None and self.spent >= self.limit:
                raise RequestCapReached(
                    f"`{self.setting}` ({self.limit}) reached: stopped before request "
                    f"{self.spent + 1}. {RESUME}"
                )
            self.spent += 1
