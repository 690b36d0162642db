"""The requests one run may spend: a cap per run, and a reserve of the location's daily budget
left for its other integrations (every token of a location shares that budget)."""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping

from leadkit.errors import QuotaExhausted
from leadkit.ghl import DAILY_REMAINING_HEADER

#: A tenth of the 200,000 requests GHL allows a location per day.
DEFAULT_DAILY_BUDGET_RESERVE = 20_000
RESUME = (
    "Every STATE written covers only records emitted before it; the next run continues "
    "from the bookmark."
)


class BudgetReached(QuotaExhausted):
    """A limit of the run's request budget was reached before the next request."""


class RequestBudget:
    """Counts every request sent to the location (retries and child streams included) and
    refuses the one that would pass `max_requests_per_run` or eat into the reserve."""

    def __init__(self, max_requests: int | None, reserve: int) -> None:
        self.max_requests = max_requests
        self.reserve = reserve
        #: Requests sent in this run.
        self.spent = 0
        #: The location's daily requests left, as the last answer said.
        self.daily_remaining: int | None = None
        self._lock = threading.Lock()

    def spend(self) -> None:
        """Count one request about to be sent, or raise BudgetReached naming the limit."""
        with self._lock:
            if self.max_requests is not None and self.spent >= self.max_requests:
                raise BudgetReached(
                    f"`max_requests_per_run` ({self.max_requests}) reached: stopped before "
                    f"request {self.spent + 1}. {RESUME}"
                )
            if self.daily_remaining is not None and self.daily_remaining - 1 < self.reserve:
                raise BudgetReached(
                    f"`daily_budget_reserve` reached: the location has {self.daily_remaining} "
                    f"requests left today and {self.reserve} are kept for its other "
                    f"integrations; stopped after {self.spent} requests. {RESUME} Run it "
                    "again after GHL's daily budget resets, or lower the reserve."
                )
            self.spent += 1

    def observe(self, headers: Mapping[str, str]) -> None:
        """Learn the location's daily requests left from an answer's headers."""
        value = headers.get(DAILY_REMAINING_HEADER)
        try:
            number = float(value) if value is not None else math.nan
        except ValueError:
            return
        if math.isfinite(number) and number >= 0:
            with self._lock:
                self.daily_remaining = int(number)
