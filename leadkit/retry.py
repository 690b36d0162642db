"""When to retry an HTTP call and how long to wait: Retry-After first, else exponential."""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from http import HTTPStatus

import requests

#: Failures of the connection itself: retried like a 5xx.
TRANSIENT_ERRORS = (
    ConnectionResetError,
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


def describe_failure(exc: BaseException) -> str:
    """A transient failure in an operator's words: `connection dropped`, `timed out`."""
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "connection dropped mid-answer"
    if isinstance(exc, requests.ConnectTimeout):
        return "connection timed out"
    if isinstance(exc, requests.Timeout):
        return "no answer within request_timeout"
    if isinstance(exc, requests.exceptions.ContentDecodingError):
        return "answer could not be decoded"
    if isinstance(exc, (requests.ConnectionError, ConnectionResetError)):
        return "connection failed or dropped"
    return "transient failure"


RETRIABLE_STATUSES = frozenset({HTTPStatus.TOO_MANY_REQUESTS, 500, 502, 503, 504})


def is_retriable_status(status: int) -> bool:
    """429 and 5xx are transient; every other error status is not."""
    return status in RETRIABLE_STATUSES or status >= HTTPStatus.INTERNAL_SERVER_ERROR


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header, in delta-seconds or HTTP-date form."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


#: Seconds one request may spend waiting out 429s before the run gives up on it.
THROTTLE_BUDGET_SECONDS = 15 * 60.0


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries: Retry-After honoured exactly (capped), else jittered exponential.

    `max_tries` bounds failures (5xx, drops, timeouts); 429s are bounded apart, by the total
    time one request spends waiting them out (`throttle_budget_seconds`).
    """

    # The defaults of `max_retries`, `backoff_base_seconds` and `max_retry_wait_seconds`
    # (leadkit.settings reads them here). Whole numbers, as Meltano cannot pass fractions
    # set from the environment (see scripts/meltano_settings.py).
    max_tries: int = 5
    base_seconds: float = 1
    cap_seconds: float = 60
    throttle_budget_seconds: float = THROTTLE_BUDGET_SECONDS

    def wait(self, attempt: int, response: requests.Response | None) -> float:
        """Seconds to sleep before try number `attempt + 1` (attempt counts from 1)."""
        if response is not None:
            hinted = parse_retry_after(response.headers.get("Retry-After"))
            if hinted is not None:
                # The server said when; adding jitter would only make us later or early.
                return min(hinted, self.cap_seconds)
        exponential = self.base_seconds * (2 ** (attempt - 1))
        # Full jitter spreads retries from parallel workers; the floor keeps progress.
        return min(self.cap_seconds, exponential * (0.5 + random.random() / 2))

    def throttle_wait(self, throttles: int, hinted: float | None, window: float | None) -> float:
        """Seconds to wait after a request's `throttles`-th 429 (counting from 1): the server's
        hint, capped; without one, jittered exponential up to the rate `window` (or the cap)."""
        if hinted is not None:
            return min(hinted, self.cap_seconds)
        ceiling = min(self.cap_seconds, window) if window else self.cap_seconds
        exponential = self.base_seconds * (2 ** min(throttles - 1, 32))
        return min(ceiling, exponential) * (0.5 + random.random() / 2)


class Attempts:
    """One request's tries under a policy: failures (5xx, drops, timeouts, truncated
    bodies) spend `max_tries`; 429s spend only time, from the request's first 429."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self.failures = 0
        self.throttles = 0
        self._first_throttle: float | None = None

    def failed(self, response: requests.Response | None = None) -> float | None:
        """Seconds to wait before trying again, or None when the tries are spent."""
        self.failures += 1
        if self.failures >= self.policy.max_tries:
            return None
        return self.policy.wait(self.failures, response)

    def throttled(self, hinted: float | None, window: float | None = None) -> float | None:
        """Seconds to wait after a 429, or None once this request's wait budget is spent."""
        self.throttles += 1
        now = time.monotonic()
        if self._first_throttle is None:
            self._first_throttle = now
        waited = now - self._first_throttle
        budget = self.policy.throttle_budget_seconds
        if waited >= budget:
            return None
        return min(self.policy.throttle_wait(self.throttles, hinted, window), budget - waited)

    @property
    def throttled_for(self) -> float:
        """Seconds since this request's first 429."""
        if self._first_throttle is None:
            return 0.0
        return time.monotonic() - self._first_throttle

    def log_retry(self, logger: logging.Logger, where: str, wait: float, reason: str) -> None:
        """One line per retry, the same for taps and targets; never a URL's query or a body."""
        if reason.startswith("HTTP 429"):
            logger.warning(
                "%s: retry in %.2f s after %s (%d for this request)",
                where,
                wait,
                reason,
                self.throttles,
            )
        else:
            logger.warning(
                "%s: retry %d of %d in %.2f s after %s",
                where,
                self.failures,
                self.policy.max_tries - 1,
                wait,
                reason,
            )
