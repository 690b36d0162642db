"""One vendor's HTTP session for a target: pacing, retries, fatal errors and call counts."""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase
from singer_sdk.exceptions import FatalAPIError
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

from leadkit.errors import QuotaExhausted, auth_failure
from leadkit.ratelimit import INTERVAL_HEADER, RateLimiter
from leadkit.retry import (
    TRANSIENT_ERRORS,
    Attempts,
    RetryPolicy,
    describe_failure,
    is_retriable_status,
    parse_retry_after,
)

logger = logging.getLogger(__name__)


#: Seconds a write in doubt is given to land before reading it back: the failure itself
#: (a read timeout, a 5xx, a cut connection) already came after the server had the request.
SETTLE_SECONDS = 2.0


class ApiUnavailable(FatalAPIError):
    """The vendor kept failing after every retry: stop, so that nothing is acknowledged."""


class AmbiguousWrite(Exception):
    """A non-idempotent write failed in a way that may have applied it (timeout, cut
    connection, truncated answer, and 5xx where the vendor may act before failing)."""


def never_sent(exc: Exception) -> bool:
    """True when a connection failed before the request left, so repeating it is harmless."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    cause = exc.args[0] if isinstance(exc, requests.ConnectionError) and exc.args else None
    return isinstance(cause, MaxRetryError) and isinstance(
        cause.reason, (NewConnectionError, ConnectTimeoutError)
    )


class ApiClient:
    """One vendor's HTTP session for a target: retries, pacing, auth errors, call counts."""

    #: Latency smoothing: weight of the newest observation.
    LATENCY_WEIGHT = 0.2

    def __init__(
        self,
        *,
        vendor: str,
        base_url: str,
        headers: dict[str, str],
        auth_setting: str,
        policy: RetryPolicy,
        timeout: float,
        limiter: RateLimiter | None = None,
        daily_remaining_header: str | None = None,
        forbidden_setting: str | None = None,
        pool_size: int = 64,
        server_errors_ambiguous: bool = True,
        settle_seconds: float = SETTLE_SECONDS,
        auth: AuthBase | None = None,
    ) -> None:
        self.vendor = vendor
        self.base_url = base_url.rstrip("/")
        self.auth_setting = auth_setting
        #: The setting to name on 403 when it differs (e.g. an account id the token can't use).
        self.forbidden_setting = forbidden_setting or auth_setting
        self.policy = policy
        self.timeout = timeout
        self.limiter = limiter
        #: A header whose value 0 means the day's budget is spent (retrying cannot help).
        self.daily_remaining_header = daily_remaining_header
        #: Whether a 5xx answer to a write may mean the write was applied anyway.
        self.server_errors_ambiguous = server_errors_ambiguous
        #: How long a write in doubt is left to land before it is read back.
        self.settle_seconds = settle_seconds
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.headers.update(headers)
        #: Sets `Authorization` on every try when the token can change during a run (OAuth).
        self.session.auth = auth
        #: Requests sent, retries included.
        self.calls = 0
        #: 429s received.
        self.throttled = 0
        self._by_label: Counter[tuple[str, str]] = Counter()
        self._local = threading.local()
        self._lock = threading.Lock()
        self._latency: float | None = None
        self._halted: BaseException | None = None
        self._quota_spent = False
        self._in_flight: threading.BoundedSemaphore | None = None

    def cap_in_flight(self, limit: int) -> None:
        """Never have more than `limit` requests on the wire at once (set once per run)."""
        with self._lock:
            if self._in_flight is None:
                self._in_flight = threading.BoundedSemaphore(max(1, limit))

    # Accounting

    @contextlib.contextmanager
    def attribute_to(self, label: str) -> Iterator[None]:
        """Count this thread's calls under `label` (a stream name) as well as in total."""
        previous = getattr(self._local, "label", None)
        self._local.label = label
        try:
            yield
        finally:
            self._local.label = previous

    def calls_for(self, label: str) -> int:
        """Requests sent while attributed to `label`."""
        with self._lock:
            return self._by_label[(label, "calls")]

    def throttled_for(self, label: str) -> int:
        """429s received while attributed to `label`."""
        with self._lock:
            return self._by_label[(label, "throttled")]

    def _tally(self, kind: str) -> None:
        label = getattr(self._local, "label", None)
        with self._lock:
            if kind == "calls":
                self.calls += 1
            else:
                self.throttled += 1
            if label is not None:
                self._by_label[(label, kind)] += 1

    def _observe_latency(self, seconds: float) -> None:
        with self._lock:
            if self._latency is None:
                self._latency = seconds
            else:
                weight = self.LATENCY_WEIGHT
                self._latency = (1 - weight) * self._latency + weight * seconds

    def suggested_concurrency(self, cap: int, start: int = 1) -> int:
        """Requests to keep in flight: allowed rate x latency, with headroom, under `cap`.

        Until one answer came back only `start` go out: a refused credential or a spent
        budget is then met once, not by a whole pool.
        """
        cap = max(1, cap)
        if self.limiter is None:
            return cap
        if self._latency is None:
            return min(cap, start)
        # Little's law gives rate x latency; the headroom absorbs latency spread and
        # the time a worker spends between two requests.
        needed = math.ceil(self.limiter.rate * self._latency * 1.25) + 1
        return max(1, min(cap, needed))

    # Fatal stops

    def halt(self, error: BaseException) -> None:
        """Make every later request raise `error` (another thread hit a fatal error)."""
        with self._lock:
            if self._halted is None:
                self._halted = error

    def _check_halted(self) -> None:
        if self._halted is not None:
            raise self._halted
        if self._quota_spent:
            raise self._quota_error()

    def _quota_error(self) -> QuotaExhausted:
        return QuotaExhausted(
            f"{self.vendor} daily request budget is spent "
            f"({self.daily_remaining_header} is 0). The run stopped cleanly; re-run it after "
            "the budget resets and it will resume from the last acknowledged state."
        )

    def _daily_spent(self, response: requests.Response) -> bool:
        if self.daily_remaining_header is None:
            return False
        value = response.headers.get(self.daily_remaining_header)
        try:
            return value is not None and float(value) <= 0
        except ValueError:
            return False

    # Requests

    def url(self, path: str) -> str:
        """The absolute URL of an API path."""
        return f"{self.base_url}/{path.lstrip('/')}"

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        retry_ambiguous: bool = True,
        on_send: Callable[[], None] | None = None,
    ) -> requests.Response:
        """Send with pacing and retries; return 2xx or a non-retriable 4xx for the caller.

        Raises AuthFailure on 401/403, QuotaExhausted when the daily budget is spent and
        ApiUnavailable when every try failed or 429s outlasted the request's wait budget
        (429s cost waits, not tries). With `retry_ambiguous=False` (writes that are not
        idempotent) a failure that may have been applied raises AmbiguousWrite instead
        of being retried blindly; a 429 is still retried (it was refused, not applied).
        `on_send` runs on every try just before the request leaves, after pacing and the
        in-flight slot: the moment from which a write may have been applied.
        """
        attempts = Attempts(self.policy)
        where = f"{self.vendor} {method} {_route(path)}"
        failure = "no attempt"
        renewed = False
        while True:
            self._check_halted()
            try:
                # The slot first, then the pacing: a start the limiter granted must not
                # then wait for a slot, or starts would bunch up at the server.
                with self._in_flight or contextlib.nullcontext():
                    if self.limiter is not None:
                        self.limiter.acquire()
                        self._check_halted()
                    if on_send is not None:
                        on_send()
                    started = time.monotonic()
                    response = self.session.request(
                        method, self.url(path), json=json, params=params, timeout=self.timeout
                    )
            except TRANSIENT_ERRORS as exc:
                self._tally("calls")
                failure = describe_failure(exc)
                if not retry_ambiguous and not never_sent(exc):
                    self._ambiguous(method, path, failure)
                self._retry_or_stop(attempts, attempts.failed(), where, failure)
                continue
            self._tally("calls")
            if not _complete_json(response):
                failure = f"HTTP {response.status_code} with a truncated body"
                if not retry_ambiguous:
                    self._ambiguous(method, path, failure)
                self._retry_or_stop(attempts, attempts.failed(), where, failure)
                continue
            self._observe_latency(time.monotonic() - started)
            if self.limiter is not None:
                self.limiter.observe(response.headers)
            status = response.status_code
            if status == HTTPStatus.UNAUTHORIZED and not renewed and self._renewed(response):
                # An OAuth token expired early or was replaced: one more try with the new one.
                renewed = True
                continue
            if status in {HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN}:
                setting = (
                    self.forbidden_setting
                    if status == HTTPStatus.FORBIDDEN
                    else getattr(self.session.auth, "setting", self.auth_setting)
                )
                error = auth_failure(self.vendor, response, setting)
                self.halt(error)
                raise error
            if self._daily_spent(response):
                self._quota_spent = True
                if status == HTTPStatus.TOO_MANY_REQUESTS:
                    raise self._quota_error()
            if status == HTTPStatus.TOO_MANY_REQUESTS:
                # Refused, not failed: it costs a wait from its own budget, never a try.
                self._tally("throttled")
                self._throttled(attempts, response, where)
                continue
            if is_retriable_status(status):
                failure = f"HTTP {status}"
                if not retry_ambiguous and self.server_errors_ambiguous:
                    self._ambiguous(method, path, failure)
                self._retry_or_stop(attempts, attempts.failed(response), where, failure)
                continue
            return response

    def _renewed(self, response: requests.Response) -> bool:
        """Whether the auth could replace a refused token (only OAuth can)."""
        renew = getattr(self.session.auth, "renew", None)
        return bool(renew(response)) if callable(renew) else False

    def _retry_or_stop(
        self, attempts: Attempts, wait: float | None, where: str, failure: str
    ) -> None:
        """Sleep before the next try, or stop when the tries are spent."""
        if wait is None:
            raise ApiUnavailable(
                f"{where} failed {attempts.failures} times (last: {failure}); stopping so "
                "that no state is acknowledged past it."
            )
        attempts.log_retry(logger, where, wait, failure)
        time.sleep(wait)

    def _ambiguous(self, method: str, path: str, reason: str) -> None:
        """Hand a write in doubt back to the caller, who knows whether it can read back."""
        logger.warning(
            "%s %s %s: %s; it may have been applied", self.vendor, method, _route(path), reason
        )
        raise AmbiguousWrite(f"{self.vendor} {method} {_route(path)}: {reason}")

    def _throttled(self, attempts: Attempts, response: requests.Response, where: str) -> None:
        """Wait what Retry-After says, else the server's window, else back off up to the
        window; stop once the request's 429 wait budget is spent."""
        hinted = parse_retry_after(response.headers.get("Retry-After"))
        if hinted is None:
            interval = response.headers.get(INTERVAL_HEADER)
            try:
                hinted = float(interval) / 1000 if interval is not None else None
            except ValueError:
                hinted = None
        window = self.limiter.paced_window if self.limiter is not None else None
        wait = attempts.throttled(hinted, window)
        if wait is None:
            raise ApiUnavailable(
                f"{where} was refused with HTTP 429 {attempts.throttles} times over "
                f"{attempts.throttled_for:.0f} s; stopping so that no state is acknowledged "
                "past it."
            )
        attempts.log_retry(logger, where, wait, "HTTP 429")
        if self.limiter is not None and hinted is not None:
            # Everyone waits (this request too, in the limiter): the server said the shared
            # budget is spent until then, so other threads would 429 as well.
            self.limiter.pause(wait)
        else:
            # A bare 429 says nothing about the others: each refused request backs off.
            time.sleep(wait)

    def close(self) -> None:
        """Release pooled connections."""
        self.session.close()


def _complete_json(response: requests.Response) -> bool:
    """False when a JSON body does not parse (the connection was cut mid-body)."""
    if not response.content or "json" not in response.headers.get("Content-Type", "").lower():
        return True
    try:
        response.json()
    except ValueError:
        return False
    return True


def _route(path: str) -> str:
    """The path without its query string (ids in paths are opaque, not personal data)."""
    return urlsplit(path).path or "/"
