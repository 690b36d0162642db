"""Rejects, throttling, server faults, the daily budget and refused credentials."""

from __future__ import annotations

import pytest
import requests
from singer_sdk.exceptions import ConfigValidationError

from leadkit.errors import AuthFailure, ConfigError, QuotaExhausted
from leadkit.writer import ApiUnavailable
from sandbox.control import SandboxClient
from target_ghl.target import TargetGHL
from tests.ghl.conftest import RunTarget, by_email, contacts, messages, rejects, write_requests


def _people(n: int, **extra: object) -> list[dict]:
    return [{"email": f"person{i}@example.com", **extra} for i in range(n)]


def test_a_record_without_email_or_phone_is_rejected_and_the_run_goes_on(
    sandbox: SandboxClient, run_target: RunTarget, ghl_config: dict
) -> None:
    run = run_target(
        messages([{"firstName": "Nobody", "email": "not-an-email"}, {"email": "ada@example.com"}])
    )
    assert set(by_email(sandbox)) == {"ada@example.com"}
    [reject] = rejects(ghl_config["reject_file"])
    assert reject["reason"] == "no valid email or phone"
    assert reject["key"] in run.summary
    assert run.states[-1] == {"done": 2}


def test_ghl_refusing_one_record_sends_it_to_the_reject_file_with_ghls_message(
    sandbox: SandboxClient, run_target: RunTarget, ghl_config: dict
) -> None:
    run = run_target(
        messages([{"email": "ada@example.com", "dateOfBirth": "2020-02-30"}, *_people(1)])
    )
    assert set(by_email(sandbox)) == {"person0@example.com"}
    [reject] = rejects(ghl_config["reject_file"])
    assert reject["reason"] == "ghl 400 on upsert"
    assert reject["detail"] == "dateOfBirth is not a valid date"
    assert "ghl 400 on upsert: 1" in run.summary


def test_a_task_without_a_due_date_rejects_the_record(
    sandbox: SandboxClient, run_target: RunTarget, ghl_config: dict
) -> None:
    run_target(messages([{"email": "ada@example.com", "tasks": [{"title": "Call"}]}]))
    assert contacts(sandbox) == []
    assert [r["reason"] for r in rejects(ghl_config["reject_file"])] == ["invalid task"]


def test_a_record_off_its_stream_schema_is_rejected_not_fatal(
    sandbox: SandboxClient, run_target: RunTarget, ghl_config: dict
) -> None:
    run_target(messages([{"email": "ada@example.com", "tags": "not-a-list"}, *_people(1)]))
    assert set(by_email(sandbox)) == {"person0@example.com"}
    assert [r["reason"] for r in rejects(ghl_config["reject_file"])] == [
        "does not match its stream schema"
    ]


def test_ghl_keeping_another_contacts_phone_is_reported_not_silent(
    sandbox: SandboxClient, run_target: RunTarget, ghl_config: dict
) -> None:
    sandbox.seed(
        "ghl",
        contacts=[
            {"email": "ada@example.com", "firstName": "Ada"},
            {"phone": "+14155552671", "firstName": "Other"},
        ],
    )
    run = run_target(
        messages([{"email": "ada@example.com", "phone": "+1 415 555 2671", "notes": "hi"}])
    )
    [reject] = rejects(ghl_config["reject_file"])
    assert reject["reason"] == "ghl kept a different email or phone"
    assert "email_phone_split=1" in run.summary
    assert all(not c["notes"] for c in contacts(sandbox))


def test_throttling_without_retry_after_waits_out_the_servers_window(
    sandbox: SandboxClient, run_target: RunTarget, ghl_config: dict, demo_keys: dict
) -> None:
    sandbox.settings("ghl", rate_limit_max=4, rate_limit_window_ms=600)
    # Someone else spends the location's budget just before the run starts.
    for _ in range(4):
        requests.get(
            f"{ghl_config['api_url']}/locations/{demo_keys['ghl_location']}/customFields",
            headers={"Authorization": f"Bearer {demo_keys['ghl']}", "Version": "2021-07-28"},
            timeout=5,
        )
    run = run_target(messages(_people(6)))
    assert len(contacts(sandbox)) == 6
    assert run.target is not None
    # Only the requests already in flight when the budget ran out meet a 429.
    assert 1 <= run.target.writer_run.client.throttled <= 4
    assert run.states[-1] == {"done": 6}


def test_throttling_with_retry_after_is_honoured_and_retried(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    sandbox.faults("ghl", queue=["429", "429-date", "429-bare"], retry_after=0.2)
    run = run_target(messages(_people(3)))
    assert len(contacts(sandbox)) == 3
    assert "throttled=3" in run.summary


def test_server_errors_timeouts_and_cut_connections_are_retried(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    sandbox.faults(
        "ghl",
        queue=["500", "502", "503", "drop", "truncate", "timeout"],
        slow_seconds=0.6,
    )
    run_target(messages(_people(4)), request_timeout=0.3, max_retries=8)
    assert len(contacts(sandbox)) == 4


def test_a_server_failing_past_the_retry_bound_stops_the_run_without_state(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    sandbox.faults("ghl", queue=["503"] * 3)
    run = run_target(messages(_people(2)), expect_error=True, max_retries=3)
    assert isinstance(run.error, ApiUnavailable)
    assert "failed 3 times" in str(run.error)
    assert run.states == []


def test_a_note_post_that_timed_out_is_neither_lost_nor_doubled(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    sandbox.faults("ghl", queue=["timeout"], paths=r"POST .*/notes$", slow_seconds=0.5)
    run = run_target(messages([{"email": "ada@example.com", "notes": "Met"}]), request_timeout=0.3)
    [contact] = contacts(sandbox)
    assert [n["body"] for n in contact["notes"]] == ["Met"]
    # The target read the notes back before posting again.
    routes = sandbox.counters("ghl")["by_route"]
    assert any(route.startswith("GET") and route.endswith("/notes") for route in routes)
    assert "notes_posted=1" in run.summary


def test_a_note_post_that_failed_before_landing_is_posted_once(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    sandbox.faults("ghl", queue=["503"], paths=r"POST .*/notes$")
    run_target(messages([{"email": "ada@example.com", "notes": "Met"}]))
    [contact] = contacts(sandbox)
    assert [n["body"] for n in contact["notes"]] == ["Met"]


def test_a_spent_daily_budget_stops_the_run_without_acknowledging_unwritten_records(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    sandbox.settings("ghl", daily_limit=5)
    run = run_target(messages(_people(8), state_every=2), expect_error=True, batch_size_rows=2)
    assert isinstance(run.error, QuotaExhausted)
    assert "daily request budget" in str(run.error)
    written = len(contacts(sandbox))
    assert written < 8
    acknowledged = max((s["done"] for s in run.states), default=0)
    assert acknowledged <= written


def test_a_revoked_token_stops_the_run_at_once_naming_access_token(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    sandbox.revoke("ghl")
    run = run_target(messages(_people(5)), expect_error=True)
    assert isinstance(run.error, AuthFailure)
    assert "`access_token`" in str(run.error)
    assert run.states == []
    assert sandbox.counters("ghl")["requests"] == 1


def test_a_location_the_token_cannot_use_stops_the_run_naming_location_id(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    sandbox.action("ghl", "add_location", token="pit-other-token", location_id="loc-other")
    run = run_target(messages(_people(2)), expect_error=True, location_id="loc-other")
    assert isinstance(run.error, AuthFailure)
    assert "`location_id`" in str(run.error)
    assert contacts(sandbox) == [] or all(c["locationId"] != "loc-other" for c in contacts(sandbox))


def test_plain_http_to_a_remote_host_is_refused_before_any_request(
    sandbox: SandboxClient, ghl_config: dict
) -> None:
    config = {**ghl_config, "api_url": "http://services.example.com"}
    with pytest.raises(ConfigError, match="`api_url`"):
        TargetGHL(config=config)
    assert sandbox.counters("ghl")["requests"] == 0


@pytest.mark.parametrize("bad", [{"tags_mode": "merge"}, {"default_phone_region": "XX"}])
def test_an_unknown_tags_mode_or_region_is_refused(ghl_config: dict, bad: dict) -> None:
    with pytest.raises(ConfigValidationError):
        TargetGHL(config={**ghl_config, **bad})


def test_no_write_request_carries_an_undeclared_property(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    run_target(messages(_people(2, favourite="x", city="Oslo")))
    assert all(r["status"] < 400 for r in write_requests(sandbox))
