"""Failures: auth stops at once, transient errors are retried, nothing leaks."""

from __future__ import annotations

import logging
import re
import time
from typing import Any

import pytest

from leadkit.errors import AuthFailure, QuotaExhausted
from sandbox.control import SandboxClient
from tests.wisepops.conftest import CONTACTS_ROUTE, run_tap, store_keys

WAIT = re.compile(r"retry in ([\d.]+) s after HTTP 429")


def waits(caplog: pytest.LogCaptureFixture) -> list[float]:
    """The waits the tap logged before retrying a 429, in order."""
    return [float(w) for w in WAIT.findall(caplog.text)]


def test_revoked_key_fails_at_once_naming_api_key(
    sandbox: SandboxClient, config: dict[str, Any]
) -> None:
    sandbox.revoke("wisepops")
    run = run_tap(config, expect_error=True)
    assert isinstance(run.error, AuthFailure)
    assert "`api_key`" in str(run.error)
    assert sandbox.counters("wisepops")["requests"] == 1


def test_forbidden_account_fails_at_once_naming_api_key(
    sandbox: SandboxClient, config: dict[str, Any]
) -> None:
    sandbox.settings("wisepops", api_access=False)
    run = run_tap(config, expect_error=True)
    assert isinstance(run.error, AuthFailure)
    assert "HTTP 403" in str(run.error)
    assert "`api_key`" in str(run.error)
    assert sandbox.counters("wisepops")["requests"] == 1


def test_429_retry_after_in_seconds_is_honoured(
    sandbox: SandboxClient, config: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    sandbox.faults("wisepops", queue=["429"], retry_after=0.3)
    with caplog.at_level(logging.WARNING):
        run = run_tap(config)
    assert waits(caplog) == [0.3]
    assert run.keys() == store_keys(sandbox)


def test_429_retry_after_as_http_date_is_honoured(
    sandbox: SandboxClient, config: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    # The date is 2 to 3 s ahead: far more than exponential backoff's 0.01 s, capped at 0.5.
    sandbox.faults("wisepops", queue=["429-date"], retry_after=3)
    with caplog.at_level(logging.WARNING):
        run_tap({**config, "max_retry_wait_seconds": 0.5})
    assert waits(caplog) == [0.5]


def test_429_retry_after_is_capped_by_max_retry_wait_seconds(
    sandbox: SandboxClient, config: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    sandbox.faults("wisepops", queue=["429"], retry_after=3600)
    with caplog.at_level(logging.WARNING):
        run = run_tap({**config, "max_retry_wait_seconds": 0.2})
    assert waits(caplog) == [0.2]
    assert run.keys() == store_keys(sandbox)


def test_429_without_retry_after_backs_off_exponentially(
    sandbox: SandboxClient, config: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    sandbox.faults("wisepops", queue=["429-bare"] * 3)
    with caplog.at_level(logging.WARNING):
        run_tap({**config, "backoff_base_seconds": 0.05})
    first, second, third = waits(caplog)
    assert 0.02 <= first <= 0.05 <= second <= 0.1 <= third <= 0.2


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("500", "HTTP 500"),
        ("502", "HTTP 502"),
        ("503", "HTTP 503"),
        ("timeout", "no answer within request_timeout"),
        ("drop", "connection dropped mid-answer"),
        ("truncate", "HTTP 200"),
    ],
)
def test_transient_failures_are_retried_and_lose_nothing(
    sandbox: SandboxClient,
    config: dict[str, Any],
    kind: str,
    reason: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sandbox.faults("wisepops", queue=[kind], slow_seconds=0.8)
    with caplog.at_level(logging.WARNING):
        run = run_tap({**config, "request_timeout": 0.5})
    assert run.keys() == store_keys(sandbox)
    assert re.search(rf"retry 1 of 3 in [\d.]+ s after {reason}", caplog.text)
    # The slow answer is counted when the server finishes it; wait so no later test sees it.
    deadline = time.monotonic() + 5
    while not sandbox.counters("wisepops")["faults"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sandbox.counters("wisepops")["faults"] == {kind: 1}


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("503", "HTTP 503 from Wisepops GET /wisepops/api2/contacts"),
        ("truncate", "body is not valid JSON (truncated?)"),
        ("drop", "Connection broken"),
    ],
)
def test_persistent_failure_ends_with_a_clear_error_after_max_retries(
    sandbox: SandboxClient, config: dict[str, Any], kind: str, message: str
) -> None:
    sandbox.faults("wisepops", rate=1.0, kinds=[kind])
    run = run_tap({**config, "max_retries": 3}, expect_error=True)
    assert message in str(run.error)
    assert sandbox.counters("wisepops")["requests"] == 3


def test_spent_monthly_budget_fails_clearly_and_keeps_what_was_emitted(
    sandbox: SandboxClient, config: dict[str, Any]
) -> None:
    sandbox.settings("wisepops", monthly_call_budget=1)
    run = run_tap(
        {**config, "page_size": 100, "max_retries": 2, "max_retry_wait_seconds": 0.05},
        expect_error=True,
    )
    assert "call budget (1,500 calls per 30 days) is spent" in str(run.error)
    assert len(run.keys()) == 100
    bookmark = run.state["bookmarks"]["contacts"]
    assert bookmark["replication_key_value"] == run.records()[-1]["collected_at"]


def test_a_spent_monthly_budget_stops_at_once_with_one_line(
    sandbox: SandboxClient, config: dict[str, Any]
) -> None:
    sandbox.settings("wisepops", monthly_call_budget=0)
    with pytest.raises(QuotaExhausted, match="call budget"):
        run_tap(config)
    assert sandbox.counters("wisepops")["by_route"].get(CONTACTS_ROUTE, 0) <= 1
