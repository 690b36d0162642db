"""GHL's rate limits: a sliding window per location plus a daily budget per location."""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any


@dataclass
class RateLimiter:
    """Counts requests per location; says whether one more is allowed, and the headers."""

    windows: dict[str, deque[float]] = field(default_factory=dict)
    daily: dict[str, list[Any]] = field(default_factory=dict)  # location -> [utc day, used]

    def hit(self, location: str, settings: dict[str, Any]) -> tuple[bool, dict[str, str]]:
        """Register one request; (allowed, the five X-RateLimit-* headers, maybe Retry-After)."""
        now = time.monotonic()
        window_s = settings["rate_limit_window_ms"] / 1000
        maximum = int(settings["rate_limit_max"])
        daily_limit = int(settings["daily_limit"])
        hits = self.windows.setdefault(location, deque())
        while hits and hits[0] <= now - window_s:
            hits.popleft()
        today = datetime.now(timezone.utc).date().isoformat()
        day = self.daily.setdefault(location, [today, 0])
        if day[0] != today:
            day[:] = [today, 0]
        allowed = len(hits) < maximum and day[1] < daily_limit
        # Undocumented: refused requests still count (harsher: hammering prolongs the block);
        # setting `rate_limit_counts_refused` turns that off.
        if allowed or settings["rate_limit_counts_refused"]:
            hits.append(now)
            day[1] += 1
        headers = {
            "X-RateLimit-Limit-Daily": str(daily_limit),
            "X-RateLimit-Daily-Remaining": str(max(0, daily_limit - day[1])),
            "X-RateLimit-Interval-Milliseconds": str(int(settings["rate_limit_window_ms"])),
            "X-RateLimit-Max": str(maximum),
            "X-RateLimit-Remaining": str(max(0, maximum - len(hits))),
        }
        if not allowed and settings["retry_after_on_429"]:
            if day[1] >= daily_limit:
                midnight = datetime.now(timezone.utc).replace(
                    hour=0, minute=0, second=0, microsecond=0
                ) + timedelta(days=1)
                wait = (midnight - datetime.now(timezone.utc)).total_seconds()
            else:
                wait = hits[0] + window_s - now if hits else window_s
            headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return allowed, headers
