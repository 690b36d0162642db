"""Retry-After parsing and the wait policy."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import requests

from leadkit.retry import RetryPolicy, describe_failure, is_retriable_status, parse_retry_after
from leadkit.writer import ApiClient, ApiUnavailable
from sandbox.control import DEMO_KEYS, SandboxClient

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


def test_429s_get_a_fifteen_minute_wait_budget_by_default() -> None:
    assert RetryPolicy().throttle_budget_seconds == 15 * 60


def test_a_429_hint_is_waited_exactly_and_capped() -> None:
    policy = RetryPolicy(cap_seconds=30)
    assert policy.throttle_wait(1, 4.0, window=10.0) == 4.0
    assert policy.throttle_wait(1, 3600.0, window=10.0) == 30.0


def test_a_bare_429_backs_off_exponentially_up_to_the_rate_window() -> None:
    policy = RetryPolicy(base_seconds=1.0, cap_seconds=60)
    for throttles in (1, 2, 3):
        wait = policy.throttle_wait(throttles, None, window=10.0)
        assert 2 ** (throttles - 1) / 2 <= wait <= 2 ** (throttles - 1)
    assert all(5.0 <= policy.throttle_wait(9, None, window=10.0) <= 10.0 for _ in range(20))
    assert 30.0 <= policy.throttle_wait(9, None, window=None) <= 60.0


def _ghl_client(sandbox: SandboxClient, policy: RetryPolicy) -> ApiClient:
    return ApiClient(
        vendor="GHL",
        base_url=sandbox.api_url("ghl"),
        headers={"Authorization": f"Bearer {DEMO_KEYS['ghl']}", "Version": "2021-07-28"},
        auth_setting="access_token",
        policy=policy,
        timeout=60,
    )


def test_429s_cost_waits_not_tries(sandbox: SandboxClient) -> None:
    sandbox.faults("ghl", queue=["429"] * 7, retry_after=0.05)
    client = _ghl_client(sandbox, RetryPolicy())
    response = client.request("GET", f"/locations/{DEMO_KEYS['ghl_location']}/customFields")
    assert response.status_code == 200
    assert client.throttled == 7


def test_429s_past_the_wait_budget_stop_the_request(sandbox: SandboxClient) -> None:
    sandbox.faults("ghl", queue=["429"] * 10, retry_after=0.25)
    # Fifteen minutes cannot be waited out in a test: one second shows where the bound is.
    client = _ghl_client(sandbox, RetryPolicy(throttle_budget_seconds=1.0))
    with pytest.raises(ApiUnavailable, match="HTTP 429 5 times"):
        client.request("GET", f"/locations/{DEMO_KEYS['ghl_location']}/customFields")
    assert sandbox.counters("ghl")["requests"] == 5


@pytest.mark.parametrize(
    ("failure", "words"),
    [
        (requests.exceptions.ChunkedEncodingError(), "connection dropped mid-answer"),
        (requests.ReadTimeout(), "no answer within request_timeout"),
        (requests.ConnectTimeout(), "connection timed out"),
        (requests.ConnectionError(), "connection failed or dropped"),
    ],
)
def test_transient_failures_are_described_in_an_operators_words(
    failure: Exception, words: str
) -> None:
    assert describe_failure(failure) == words
