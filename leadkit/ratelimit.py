"""Client-side pacing under a vendor's sliding-window rate limit, shared by threads."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping

MAX_HEADER = "X-RateLimit-Max"
REMAINING_HEADER = "X-RateLimit-Remaining"
INTERVAL_HEADER = "X-RateLimit-Interval-Milliseconds"


def header_number(headers: Mapping[str, str], name: str) -> float | None:
    """A header's finite, non-negative number, or None when absent or not one."""
    value = headers.get(name)
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number >= 0 else None


class RateLimiter:
    """Client-side sliding-window pacing that adopts the server's X-RateLimit-* headers.

    No window ever holds more than `max_requests` starts; the window is stretched by
    `safety` (a fraction) because the server counts arrivals, which jitter. Within that,
    starts are spread evenly (a token bucket holding a tenth of the limit): a pure sliding
    window would let a burst through and then replay its shape every window, losing the
    slots of any moment when no worker was free.
    """

    def __init__(
        self,
        max_requests: int,
        window_seconds: float,
        *,
        safety: float = 0.03,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_requests < 1 or window_seconds <= 0:
            raise ValueError("a rate limit needs at least one request per positive window")
        self.max_requests = int(max_requests)
        self.window_seconds = float(window_seconds)
        self.safety = safety
        self._clock = clock
        self._sleep = sleep
        self._starts: deque[float] = deque()
        self._paused_until = 0.0
        self._tokens = float(self.burst)
        self._refilled = clock()
        self._lock = threading.Lock()

    @property
    def rate(self) -> float:
        """Requests per second the current limit allows."""
        return self.max_requests / self.window_seconds

    @property
    def burst(self) -> int:
        """Starts that may go back to back."""
        return max(1, self.max_requests // 10)

    @property
    def paced_window(self) -> float:
        """The window the limiter enforces: the server's plus the safety margin."""
        return self.window_seconds * (1 + self.safety)

    def _wait_needed(self, now: float) -> float:
        window = self.paced_window
        while self._starts and self._starts[0] <= now - window:
            self._starts.popleft()
        if self._paused_until > now:
            return self._paused_until - now
        spacing = window / self.max_requests
        self._tokens = min(float(self.burst), self._tokens + (now - self._refilled) / spacing)
        self._refilled = now
        if self._tokens < 1 - 1e-9:
            return max((1 - self._tokens) * spacing, 1e-4)
        if len(self._starts) < self.max_requests:
            return 0.0
        # The oldest start of the full window leaves it at this instant.
        excess = len(self._starts) - self.max_requests
        return self._starts[excess] + window - now

    def acquire(self) -> None:
        """Block until one more request may start, then count it as started."""
        while True:
            with self._lock:
                now = self._clock()
                wait = self._wait_needed(now)
                if wait <= 0:
                    self._starts.append(now)
                    self._tokens -= 1
                    return
            self._sleep(min(wait, 1.0))

    def observe(self, headers: Mapping[str, str]) -> None:
        """Adopt the server's limit and window; count budget others spent as used."""
        limit = header_number(headers, MAX_HEADER)
        interval_ms = header_number(headers, INTERVAL_HEADER)
        remaining = header_number(headers, REMAINING_HEADER)
        with self._lock:
            if limit is not None and limit >= 1:
                self.max_requests = int(limit)
            if interval_ms is not None and interval_ms > 0:
                self.window_seconds = interval_ms / 1000
            if remaining is None or remaining >= 1:
                return
            now = self._clock()
            self._wait_needed(now)
            # Our in-flight requests make the server's count lag ours, so an empty budget
            # with room left on our side means someone else shares it: book it as full.
            for _ in range(self.max_requests - len(self._starts)):
                self._starts.append(now)

    def pause(self, seconds: float) -> None:
        """Make every caller wait `seconds` from now (after a 429)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + max(0.0, seconds))
