"""Contacts are read incrementally on dateUpdated, and search's lag never costs a contact."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

import pytest
import requests

from leadkit.timestamps import parse_instant
from sandbox.control import DEMO_KEYS, SandboxClient
from tests.ghl_tap.conftest import ago, run_tap, seed


def test_a_first_run_reads_every_contact_oldest_change_first(
    sandbox: SandboxClient, config: dict[str, Any]
) -> None:
    seeded = seed(
        sandbox,
        {"email": "b@example.com", "dateUpdated": ago(hours=2)},
        {"email": "a@example.com", "dateUpdated": ago(hours=3)},
        {"email": "c@example.com", "dateUpdated": ago(hours=1)},
    )
    run = run_tap(config)
    assert run.ids() == [seeded[1]["id"], seeded[0]["id"], seeded[2]["id"]]
    assert run.bookmark == seeded[2]["dateUpdated"]


def test_at_default_settings_the_bookmark_stays_two_minutes_behind_the_run(
    sandbox: SandboxClient, config: dict[str, Any]
) -> None:
    old = seed(sandbox, {"email": "old@example.com", "dateUpdated": ago(minutes=30)})[0]
    recent = seed(sandbox, {"email": "recent@example.com", "dateUpdated": ago(seconds=30)})[0]
    started = parse_instant(ago(seconds=0))
    run = run_tap(config)
    assert run.ids() == [old["id"]]
    assert recent["id"] not in run.ids()
    bookmark = parse_instant(run.bookmark)
    assert bookmark is not None
    assert started is not None
    assert bookmark <= started - timedelta(seconds=120)


def test_a_contact_updated_just_before_a_run_and_shown_late_is_read_by_the_next_run(
    sandbox: SandboxClient, config: dict[str, Any]
) -> None:
    # A 4 s lag instead of the default 2 minutes, so that the next run may come 4 s later;
    # it still exceeds the sandbox's 3 s search lag (the default test is above).
    settings = {**config, "search_lag_seconds": 4}
    late = seed(sandbox, {"email": "late@example.com"})[0]
    ghl_update(sandbox, late["id"], {"city": "Oslo"})  # searchable only in 3 s
    shown = seed(sandbox, {"email": "shown@example.com"})[0]  # newer, and searchable at once
    first = run_tap(settings)
    assert late["id"] not in first.ids()
    assert shown["id"] not in first.ids(), "the bookmark would have passed the late contact"
    time.sleep(4.5)
    second = run_tap(settings, state=first.state)
    assert [r["city"] for r in second.records() if r["id"] == late["id"]] == ["Oslo"]
    assert shown["id"] in second.ids()


def test_a_next_run_searches_from_the_bookmark_minus_the_lookback(
    sandbox: SandboxClient, config: dict[str, Any]
) -> None:
    seed(sandbox, {"email": "a@example.com", "dateUpdated": ago(hours=1)})
    first = run_tap(config)
    run_tap(config, state=first.state)
    searches = [
        r for r in sandbox.records("ghl", "requests") if r["template"] == "/contacts/search"
    ]
    bounds = searches[-1]["body"]["filters"][0]["value"]
    bookmark = parse_instant(first.bookmark)
    assert bookmark is not None
    assert parse_instant(bounds["gte"]) == bookmark - timedelta(minutes=10)


def test_a_contact_at_the_bookmark_is_read_again_never_skipped(
    sandbox: SandboxClient, config: dict[str, Any]
) -> None:
    contact = seed(sandbox, {"email": "a@example.com", "dateUpdated": ago(hours=1)})[0]
    first = run_tap(config)
    second = run_tap({**config, "lookback_window_minutes": 0}, state=first.state)
    assert second.ids() == [contact["id"]]


def test_custom_field_values_come_with_their_keys_and_names(
    sandbox: SandboxClient, config: dict[str, Any]
) -> None:
    field = sandbox.seed("ghl", custom_fields=[{"name": "Favourite colour", "dataType": "TEXT"}])[
        "custom_fields"
    ][0]
    seed(
        sandbox,
        {
            "email": "a@example.com",
            "dateUpdated": ago(hours=1),
            "customFields": [{"key": field["fieldKey"], "field_value": "teal"}],
        },
    )
    (record,) = run_tap(config).records()
    assert record["customFields"] == [
        {"id": field["id"], "value": "teal", "key": field["fieldKey"], "name": "Favourite colour"}
    ]


def ghl_update(sandbox: SandboxClient, contact_id: str, body: dict[str, Any]) -> None:
    """PUT /contacts/{id} through the vendor API, as another integration would."""
    response = requests.put(
        f"{sandbox.api_url('ghl')}/contacts/{contact_id}",
        json=body,
        headers={
            "Authorization": f"Bearer {DEMO_KEYS['ghl']}",
            "Version": "2021-07-28",
            "Accept": "application/json",
        },
        timeout=10,
    )
    assert response.status_code == 200


def test_an_unparseable_date_updated_is_emitted_raw_and_never_becomes_the_bookmark(
    sandbox: SandboxClient, config: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    first, junk = seed(
        sandbox,
        {"email": "a@example.com", "dateUpdated": ago(hours=2)},
        {"email": "b@example.com", "dateUpdated": ago(hours=1)},
    )
    sandbox.settings("ghl", malformed_date_updated_ids=[junk["id"]])
    with caplog.at_level(logging.WARNING):
        run = run_tap(config)
    odd = next(r for r in run.records() if r["id"] == junk["id"])
    assert odd["dateUpdated"] is None
    assert odd["dateUpdated_raw"] == "30/11/2026 10:00"
    assert run.bookmark == first["dateUpdated"]
    assert f"id: {junk['id']}" in caplog.text
