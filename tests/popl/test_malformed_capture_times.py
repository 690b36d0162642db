"""Leads whose capture time is not a date are emitted, but never become the bookmark."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from leadkit.timestamps import parse_instant
from sandbox.control import SandboxClient

from .conftest import ConfigFactory, bookmark_of, run_tap

MALFORMED = ["not-a-date", "2025-13-45T99:00:00Z", 1744686000, "15/04/2025 03:00"]
NEWEST_PARSEABLE = "2026-01-10T11:00:00.000Z"


def seed_newest_malformed(sandbox: SandboxClient, value: object) -> list[str]:
    """Four leads an hour apart; the second and the newest are sent with `value`."""
    leads: list[dict[str, Any]] = [
        {"captured_at": "2026-01-10T09:00:00Z"},
        {"captured_at": "2026-01-10T10:00:00Z", "capture_sent_as": value},
        {"captured_at": NEWEST_PARSEABLE},
        {"captured_at": "2026-01-10T12:00:00Z", "capture_sent_as": value},
    ]
    return list(sandbox.seed("popl", leads=leads)["leadIds"])


@pytest.mark.parametrize("value", MALFORMED)
def test_lead_with_a_malformed_capture_time_keeps_it_raw_and_has_no_captured_at(
    sandbox: SandboxClient, popl_config: ConfigFactory, value: object
) -> None:
    junk = seed_newest_malformed(sandbox, value)[3]
    (record,) = [r for r in run_tap(popl_config()).records if r["leadId"] == junk]
    assert record["captured_at"] is None
    assert record["captured_at_raw"] == str(value)
    assert record["systemFields"]["captureDatetime"] == value


def test_lead_with_a_good_capture_time_has_no_raw_value(popl_config: ConfigFactory) -> None:
    records = run_tap(popl_config()).records
    assert records
    assert all(r["captured_at_raw"] is None for r in records)


@pytest.mark.parametrize("value", MALFORMED)
def test_malformed_capture_time_never_becomes_the_bookmark(
    sandbox: SandboxClient, popl_config: ConfigFactory, value: object
) -> None:
    seed_newest_malformed(sandbox, value)
    run = run_tap(popl_config())
    assert run.bookmark == NEWEST_PARSEABLE
    assert all(parse_instant(bookmark_of(state)) for state in run.states if bookmark_of(state))


@pytest.mark.parametrize("value", MALFORMED)
def test_leads_after_a_malformed_newest_lead_are_read_by_the_next_run(
    sandbox: SandboxClient, popl_config: ConfigFactory, value: object
) -> None:
    seed_newest_malformed(sandbox, value)
    first = run_tap(popl_config())
    (later,) = sandbox.seed("popl", leads=[{"captured_at": "2026-01-11T08:00:00Z"}])["leadIds"]
    second = run_tap(popl_config(), state=first.state)
    assert later in second.ids
    assert second.bookmark == "2026-01-11T08:00:00.000Z"


@pytest.mark.parametrize("value", MALFORMED)
def test_malformed_capture_time_does_not_stop_the_stream(
    sandbox: SandboxClient, popl_config: ConfigFactory, value: object
) -> None:
    ids = seed_newest_malformed(sandbox, value)
    run = run_tap(popl_config())
    assert set(ids) <= set(run.ids)
    assert len(run.ids) == len(sandbox.records("popl", "leads"))


def test_leads_with_malformed_capture_times_are_named_in_one_warning(
    sandbox: SandboxClient, popl_config: ConfigFactory, caplog: pytest.LogCaptureFixture
) -> None:
    sandbox.settings("popl", malformed_capture_every=10)
    with caplog.at_level(logging.WARNING):
        run = run_tap(popl_config())
    junk = [r["leadId"] for r in run.records if r["captured_at"] is None]
    assert len(junk) > 10
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    (warning,) = warnings
    assert f"{len(junk)} lead" in warning
    assert all(lead_id in warning for lead_id in junk)


@pytest.mark.parametrize("value", MALFORMED)
def test_malformed_bookmark_in_the_incoming_state_falls_back_to_start_date(
    popl_config: ConfigFactory, caplog: pytest.LogCaptureFixture, value: object
) -> None:
    """A bookmark written by an older version that kept junk does not stop the run."""
    state = {
        "bookmarks": {"leads": {"replication_key": "captured_at", "replication_key_value": value}}
    }
    with caplog.at_level(logging.WARNING):
        run = run_tap(popl_config(start_date="2025-10-01T00:00:00Z"), state=state)
    assert run.records
    assert min(r["captured_at"] for r in run.records) >= "2025-10-01"
    assert all(parse_instant(bookmark_of(s)) for s in run.states if bookmark_of(s) is not None)
    assert any(
        "bookmark" in r.getMessage() and "start_date" in r.getMessage() for r in caplog.records
    )
