"""The requests one run may spend: the shared per-run cap, and a reserve of the location's daily
budget left for its other integrations (every token of a location shares that budget)."""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping

from leadkit.budget import RESUME, RequestCap
from leadkit.errors import QuotaExhausted
from leadkit.ghl import DAILY_LIMIT_HEADER, DAILY_REMAINING_HEADER
from leadkit.ratelimit import header_number

#: Without `daily_budget_reserve`, this share of the location's own daily limit is kept:
#: a fixed number would stop every run at once on a location with a smaller limit.
DEFAULT_RESERVE_SHARE = 0.1


class BudgetReached(QuotaExhausted):
    """The location's daily reserve was reached before the next request."""


class RequestBudget:
    """Counts every request sent to the location (retries and child streams included) and
    refuses the one that would pass `max_requests_per_run` or eat into the reserve."""

    def __init__(self, max_requests: int | None, reserve: int | None) -> None:
        self.cap = RequestCap("max_requests_per_run", max_requests)
        #: The configured reserve; None keeps a share of the location's daily limit.
        self.configured_reserve = reserve
        #: The location's daily requests left, and its daily limit, as the last answer said.
        self.daily_remaining: int | None = None
        self.daily_limit: int | None = None
        self._lock = threading.Lock()

    def spend(self) -> None:
        """Count one request about to be sent, or raise naming the limit it would pass."""
        with self._lock:
            reserve = self.reserve
            if self.daily_remaining is not None and self.daily_remaining - 1 < reserve:
                raise BudgetReached(
                    f"`daily_budget_reserve` reached: the location has {self.daily_remaining} "
                    f"requests left today and {reserve} are kept for its other "
                    f"integrations{self._reserve_origin()}; stopped after {self.spent} "
                    f"requests. {RESUME} Run it again after GHL's daily budget resets, or "
                    "lower the reserve."
                )
            self.cap.spend()

    @property
    def spent(self) -> int:
        """Requests sent in this run."""
        return self.cap.spent

    @property
    def reserve(self) -> int:
        """The configured reserve, else a tenth of the location's daily limit (0 until an
        answer said the limit)."""
        if self.configured_reserve is not None:
            return self.configured_reserve
        if self.daily_limit is None:
            return 0
        return math.ceil(self.daily_limit * DEFAULT_RESERVE_SHARE)

    def _reserve_origin(self) -> str:
        if self.configured_reserve is not None:
            return ""
        return f" (by default a tenth of its daily limit of {self.daily_limit})"

    def observe(self, headers: Mapping[str, str]) -> None:
        """Learn the location's daily requests left, and its daily limit, from an answer."""
        remaining = _count(headers, DAILY_REMAINING_HEADER)
        limit = _count(headers, DAILY_LIMIT_HEADER)
        with self._lock:
            if remaining is not None:
                self.daily_remaining = remaining
            if limit is not None and limit > 0:
                self.daily_limit = limit


def _count(headers: Mapping[str, str], name: str) -> int | None:
    """A header's whole number of requests, or None when absent or not a number."""
    number = header_number(headers, name)
    return None if number is None else int(number)
