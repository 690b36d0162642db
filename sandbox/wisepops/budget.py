"""Wisepops' call budget: "1,500 API calls within 30 days", counted over a sliding window."""

from __future__ import annotations

import bisect
import time
from typing import Any

from sandbox.wisepops.errors import WisepopsError


class CallBudget:
    """Counts served calls and refuses those past the budget (a mixin of `WisepopsApi`)."""

    store: dict[str, Any]
    settings: dict[str, Any]

    def _calls_in_window(self, now: float) -> list[float]:
        horizon = now - self.settings["budget_window_days"] * 86400
        usage: list[float] = self.store["usage"]
        first = bisect.bisect_right(usage, horizon)
        if first:
            del usage[:first]
        return usage

    def _refuse_past_budget(self) -> None:
        """429 once the window holds the whole budget."""
        now = time.time()
        used = self._calls_in_window(now)
        if len(used) >= self.settings["monthly_call_budget"]:
            self.store["refused"] += 1
            window = self.settings["budget_window_days"] * 86400
            # Retry-After says when the oldest counted call leaves the window: often days.
            wait = max(1, int(used[0] + window - now) + 1) if used else window
            raise WisepopsError(
                429,
                "API usage limit reached for the current 30-day period",
                {"Retry-After": str(wait)},
            )

    def _count_call(self) -> None:
        self.store["usage"].append(time.time())

    def _usage(self) -> dict[str, Any]:
        """The budget as `inspect("usage")` shows it."""
        used = self._calls_in_window(time.time())
        limit = self.settings["monthly_call_budget"]
        return {
            "used": len(used),
            "limit": limit,
            "remaining": max(0, limit - len(used)),
            "window_days": self.settings["budget_window_days"],
            "refused": self.store["refused"],
        }
