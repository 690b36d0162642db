"""Retry-After parsing and the wait policy."""

from __future__ import annotations

from datetime import datetime, timezone

import requests

from leadkit.retry import RetryPolicy, is_retriable_status, parse_retry_after

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)


def _response(headers: dict[str, str]) -> requests.Response:
    response = requests.Response()
    response.status_code = 429
    response.headers.update(headers)
    return response


def test_retry_after_in_seconds() -> None:
    assert parse_retry_after("12", NOW) == 12.0


def test_retry_after_as_http_date() -> None:
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:30 GMT", NOW) == 30.0


def test_retry_after_in_the_past_means_now() -> None:
    assert parse_retry_after("Thu, 01 Jan 2026 11:00:00 GMT", NOW) == 0.0


def test_unparseable_retry_after_is_ignored() -> None:
    assert parse_retry_after("soon", NOW) is None


def test_policy_waits_exactly_what_retry_after_says() -> None:
    assert RetryPolicy().wait(1, _response({"Retry-After": "3"})) == 3.0


def test_policy_caps_retry_after() -> None:
    assert RetryPolicy(cap_seconds=5).wait(1, _response({"Retry-After": "3600"})) == 5.0


def test_policy_backs_off_exponentially_without_retry_after() -> None:
    policy = RetryPolicy(base_seconds=1.0, cap_seconds=100)
    waits = [policy.wait(attempt, None) for attempt in (1, 2, 3, 4)]
    for attempt, wait in enumerate(waits, start=1):
        assert 2 ** (attempt - 1) / 2 <= wait <= 2 ** (attempt - 1)


def test_only_429_and_5xx_are_retriable() -> None:
    assert [s for s in (400, 401, 403, 404, 422, 429, 500, 502, 503) if is_retriable_status(s)] == [
        429,
        500,
        502,
        503,
    ]
