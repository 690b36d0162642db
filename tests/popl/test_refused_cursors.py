"""A page cursor Popl refuses (expired, or pointing at a deleted lead) costs a new search
from the last emitted capture time, not the run."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from leadkit.timestamps import require_instant
from sandbox.control import SandboxClient

from .conftest import ConfigFactory, captured, run_tap, run_tap_until_error, search_calls

LEADS = 800  # eight pages of the sandbox's default 100


@pytest.fixture
def leads(sandbox: SandboxClient) -> list[dict[str, Any]]:
    """Eight pages of leads, one an hour, so the one-day lookback covers 24 of them."""
    sandbox.seed(
        "popl",
        replace=True,
        count=LEADS,
        start="2025-11-01T08:00:00+00:00",
        interval_seconds=3600,
    )
    return list(sandbox.records("popl", "leads"))


def expire_every_cursor(sandbox: SandboxClient, **extra: Any) -> None:
    sandbox.settings("popl", cursor_expire_at_page=2, **extra)


def test_cursor_refused_at_the_seventh_page_still_completes_the_run(
    sandbox: SandboxClient, popl_config: ConfigFactory, leads: list[dict[str, Any]]
) -> None:
    sandbox.settings("popl", cursor_expire_at_page=7, cursor_refusals=1)
    run = run_tap(popl_config())
    assert sorted(run.ids) == sorted(lead["leadId"] for lead in leads)


def test_restarted_search_emits_each_lead_once(
    sandbox: SandboxClient, popl_config: ConfigFactory, leads: list[dict[str, Any]]
) -> None:
    sandbox.settings("popl", cursor_expire_at_page=7, cursor_refusals=1)
    run = run_tap(popl_config())
    assert len(run.ids) == len(set(run.ids)) == len(leads)


def test_restarted_search_starts_at_the_last_emitted_capture_time(
    sandbox: SandboxClient, popl_config: ConfigFactory, leads: list[dict[str, Any]]
) -> None:
    sandbox.settings("popl", cursor_expire_at_page=7, cursor_refusals=1)
    run_tap(popl_config())
    # Six pages, the refused seventh, then the last 200 leads (plus the one at the restart
    # time, read again) in three pages; starting over would cost eight more.
    assert search_calls(sandbox) == 10


def test_final_state_after_a_restart_is_the_newest_capture_time(
    sandbox: SandboxClient, popl_config: ConfigFactory, leads: list[dict[str, Any]]
) -> None:
    sandbox.settings("popl", cursor_expire_at_page=7, cursor_refusals=1)
    run = run_tap(popl_config())
    assert run.bookmark == max(captured(lead) for lead in leads)


def test_cursor_refused_every_time_fails_with_the_status_and_the_servers_reason(
    sandbox: SandboxClient, popl_config: ConfigFactory, leads: list[dict[str, Any]]
) -> None:
    expire_every_cursor(sandbox, cursor_refusal_status=410)
    _, error = run_tap_until_error(popl_config())
    assert "410" in str(error)
    assert "Cursor expired. Start a new search." in str(error)


def test_servers_reason_is_stripped_of_emails_and_phones(
    sandbox: SandboxClient, popl_config: ConfigFactory, leads: list[dict[str, Any]]
) -> None:
    expire_every_cursor(
        sandbox,
        cursor_refusal_message="Cursor expired for jane.roe@example.com; call +14155550123 "
        "or 030 1234567",
    )
    _, error = run_tap_until_error(popl_config())
    message = str(error)
    assert "Cursor expired for" in message
    for personal in ("jane.roe", "example.com", "4155550123", "1234567"):
        assert personal not in message


def test_servers_reason_is_capped(
    sandbox: SandboxClient, popl_config: ConfigFactory, leads: list[dict[str, Any]]
) -> None:
    expire_every_cursor(sandbox, cursor_refusal_message="Cursor expired " + "x" * 5000)
    _, error = run_tap_until_error(popl_config())
    assert "Cursor expired" in str(error)
    assert len(str(error)) < 600


def test_run_gives_up_after_three_restarts_by_default(
    sandbox: SandboxClient, popl_config: ConfigFactory, leads: list[dict[str, Any]]
) -> None:
    expire_every_cursor(sandbox)
    run_tap_until_error(popl_config())
    # Each search reads its first page, then its cursor is refused: four searches.
    assert search_calls(sandbox) == 8


def test_no_restart_at_all_when_cursor_restarts_is_zero(
    sandbox: SandboxClient, popl_config: ConfigFactory, leads: list[dict[str, Any]]
) -> None:
    sandbox.settings("popl", cursor_expire_at_page=7, cursor_refusals=1)
    _, error = run_tap_until_error(popl_config(cursor_restarts=0))
    assert "400" in str(error)
    assert search_calls(sandbox) == 7


def test_state_covers_what_was_emitted_when_restarts_run_out(
    sandbox: SandboxClient, popl_config: ConfigFactory, leads: list[dict[str, Any]]
) -> None:
    expire_every_cursor(sandbox)
    partial, _ = run_tap_until_error(popl_config())
    bookmark = partial.bookmark
    assert bookmark is not None
    assert bookmark == max(r["captured_at"] for r in partial.records)
    emitted = set(partial.ids)
    assert all(lead["leadId"] in emitted for lead in leads if captured(lead) <= bookmark)


def test_rerun_after_giving_up_resumes_from_the_saved_state(
    sandbox: SandboxClient, popl_config: ConfigFactory, leads: list[dict[str, Any]]
) -> None:
    expire_every_cursor(sandbox)
    partial, _ = run_tap_until_error(popl_config())
    assert partial.bookmark is not None
    sandbox.settings("popl", cursor_expire_at_page=None)
    resumed = run_tap(popl_config(), state=partial.state)
    lookback_start = require_instant(partial.bookmark, "bookmark") - timedelta(days=1)
    assert min(require_instant(r["captured_at"], "captured_at") for r in resumed.records) >= (
        lookback_start
    )
    assert set(partial.ids) | set(resumed.ids) == {lead["leadId"] for lead in leads}


def test_lead_deleted_between_pages_does_not_break_paging(
    sandbox: SandboxClient, popl_config: ConfigFactory, leads: list[dict[str, Any]]
) -> None:
    """The sandbox refuses a cursor whose last lead was deleted, by default."""
    ahead = leads[650]["leadId"]
    emitted: list[str] = []

    def delete_the_page_end_and_a_lead_ahead(message: dict[str, Any]) -> None:
        if message["type"] == "RECORD":
            emitted.append(message["record"]["leadId"])
            if len(emitted) == 300:
                sandbox.action("popl", "delete_lead", leadId=emitted[-1])
                sandbox.action("popl", "delete_lead", leadId=ahead)

    run = run_tap(popl_config(), on_message=delete_the_page_end_and_a_lead_ahead)
    assert len(run.ids) == len(set(run.ids))
    assert set(run.ids) == {lead["leadId"] for lead in leads} - {ahead}


def test_refused_search_without_a_cursor_fails_at_once(
    sandbox: SandboxClient, popl_config: ConfigFactory
) -> None:
    """Only a cursor can expire: a first page refused for its body is not searched again."""
    _, error = run_tap_until_error(popl_config(lead_sources=["CARRIER_PIGEON"]))
    assert "400" in str(error)
    assert search_calls(sandbox) == 1
