"""Incremental reads: the bookmark, the lookback window and leads that sync late."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from singer_sdk.exceptions import RetriableAPIError

from sandbox.control import SandboxClient
from tap_popl.streams import LeadsStream

from .conftest import (
    ConfigFactory,
    bookmark_of,
    captured,
    run_tap,
    run_tap_until_error,
    search_calls,
)


def at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_first_run_emits_every_visible_lead(
    sandbox: SandboxClient, popl_config: ConfigFactory
) -> None:
    run = run_tap(popl_config())
    assert sorted(run.ids) == sorted(lead["leadId"] for lead in sandbox.records("popl", "leads"))


def test_leads_are_emitted_in_capture_order(popl_config: ConfigFactory) -> None:
    times = [r["captured_at"] for r in run_tap(popl_config()).records]
    assert times == sorted(times)


def test_bookmark_is_the_latest_emitted_capture_time(
    sandbox: SandboxClient, popl_config: ConfigFactory
) -> None:
    run = run_tap(popl_config())
    assert run.bookmark == max(captured(lead) for lead in sandbox.records("popl", "leads"))


def test_second_run_with_no_new_data_makes_one_call(
    sandbox: SandboxClient, popl_config: ConfigFactory
) -> None:
    first = run_tap(popl_config())
    sandbox.reset()
    run_tap(popl_config(), state=first.state)
    assert search_calls(sandbox) == 1


def test_second_run_re_reads_the_lookback_window_only(
    sandbox: SandboxClient, popl_config: ConfigFactory
) -> None:
    first = run_tap(popl_config(lookback_window_minutes=120))
    assert first.bookmark is not None
    second = run_tap(popl_config(lookback_window_minutes=120), state=first.state)
    earliest = at(first.bookmark) - timedelta(minutes=120)
    assert second.records
    assert all(at(r["captured_at"]) >= earliest for r in second.records)
    expected = [r["leadId"] for r in first.records if at(r["captured_at"]) >= earliest]
    assert sorted(second.ids) == sorted(expected)


def test_overlap_re_emits_the_same_primary_keys(popl_config: ConfigFactory) -> None:
    first = run_tap(popl_config())
    second = run_tap(popl_config(), state=first.state)
    assert second.ids
    assert set(second.ids) <= set(first.ids)


def test_late_lead_inside_the_lookback_is_emitted(
    sandbox: SandboxClient, popl_config: ConfigFactory
) -> None:
    first = run_tap(popl_config(lookback_window_minutes=1440))
    late = sandbox.action("popl", "late_lead", minutes_before_latest=23 * 60)
    assert late["systemFields"]["captureDatetime"] < str(first.bookmark)
    second = run_tap(popl_config(lookback_window_minutes=1440), state=first.state)
    assert late["leadId"] in second.ids


def test_late_lead_outside_the_lookback_is_missed(
    sandbox: SandboxClient, popl_config: ConfigFactory
) -> None:
    """The documented limit: a lead that syncs later than the window is not read."""
    first = run_tap(popl_config(lookback_window_minutes=60))
    late = sandbox.action("popl", "late_lead", minutes_before_latest=3 * 60)
    second = run_tap(popl_config(lookback_window_minutes=60), state=first.state)
    assert late["leadId"] not in second.ids


def test_offline_leads_are_read_once_they_sync(
    sandbox: SandboxClient, popl_config: ConfigFactory
) -> None:
    pending = [lead["leadId"] for lead in sandbox.records("popl", "pending")]
    first = run_tap(popl_config())
    assert not set(pending) & set(first.ids)
    sandbox.action("popl", "sync")
    second = run_tap(popl_config(), state=first.state)
    assert set(pending) <= set(second.ids)


def test_late_lead_does_not_move_the_bookmark_back(
    sandbox: SandboxClient, popl_config: ConfigFactory
) -> None:
    first = run_tap(popl_config())
    sandbox.action("popl", "late_lead", minutes_before_latest=30)
    second = run_tap(popl_config(), state=first.state)
    assert second.bookmark == first.bookmark


def test_lead_captured_exactly_at_the_bookmark_is_not_skipped(
    sandbox: SandboxClient, popl_config: ConfigFactory
) -> None:
    """With no lookback and a strict startTime, ties at the bookmark are still read."""
    first = run_tap(popl_config(lookback_window_minutes=0))
    tie = sandbox.seed("popl", leads=[{"captured_at": first.bookmark}])["leadIds"][0]
    second = run_tap(popl_config(lookback_window_minutes=0), state=first.state)
    assert tie in second.ids


def test_start_date_bounds_the_first_run(popl_config: ConfigFactory) -> None:
    run = run_tap(popl_config(start_date="2025-06-01T00:00:00Z"))
    assert run.records
    assert min(r["captured_at"] for r in run.records) >= "2025-06-01"


def test_lookback_never_reaches_before_start_date(popl_config: ConfigFactory) -> None:
    config = popl_config(start_date="2025-10-16T12:00:00Z", lookback_window_minutes=10**6)
    first = run_tap(config)
    second = run_tap(config, state=first.state)
    assert min(r["captured_at"] for r in second.records) >= "2025-10-16T12:00:00"


def test_bookmark_never_passes_an_unemitted_lead(
    sandbox: SandboxClient, popl_config: ConfigFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run that dies mid-way saves state that the next run resumes from, losing nothing."""
    monkeypatch.setattr(LeadsStream, "STATE_MSG_FREQUENCY", 7)
    sandbox.settings("popl", page_size=10)
    sandbox.seed("popl", replace=True, count=60, tie_every=4)
    config = popl_config(lookback_window_minutes=0, max_retries=1)
    written = {"records": 0}

    def break_the_api_after_25_records(message: dict[str, Any]) -> None:
        if message["type"] == "RECORD":
            written["records"] += 1
            if written["records"] == 25:
                sandbox.faults("popl", rate=1.0, kinds=["503"])

    partial, error = run_tap_until_error(config, on_message=break_the_api_after_25_records)
    assert isinstance(error, RetriableAPIError)
    emitted = set(partial.ids)
    leads = sandbox.records("popl", "leads")
    assert partial.states
    for state in partial.states:
        mark = bookmark_of(state)
        assert mark is not None
        assert all(lead["leadId"] in emitted for lead in leads if captured(lead) < mark)
    sandbox.faults("popl", rate=0.0)
    resumed = run_tap(config, state=partial.state)
    assert emitted | set(resumed.ids) == {lead["leadId"] for lead in leads}
