"""State is saved as the run goes, so a run that fails mid-way resumes near where it stopped."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from leadkit.timestamps import require_instant
from sandbox.control import SandboxClient

from .conftest import ConfigFactory, bookmark_of, run_tap, run_tap_until_error, search_calls

PAGE = 100  # the sandbox's default page size


@pytest.fixture
def leads(sandbox: SandboxClient) -> list[dict[str, Any]]:
    """Five and a half pages of leads, one an hour."""
    sandbox.seed(
        "popl", replace=True, count=550, start="2025-11-01T08:00:00+00:00", interval_seconds=3600
    )
    return list(sandbox.records("popl", "leads"))


def test_state_advances_at_least_once_per_page(
    sandbox: SandboxClient, popl_config: ConfigFactory, leads: list[dict[str, Any]]
) -> None:
    run = run_tap(popl_config())
    bookmarks = [bookmark_of(state) for state in run.states]
    previous = [None, *bookmarks[:-1]]
    advances = sum(now != before for before, now in zip(previous, bookmarks, strict=True))
    assert advances >= search_calls(sandbox) == 6


def test_state_after_each_page_is_saved_before_the_next_page_is_read(
    popl_config: ConfigFactory, leads: list[dict[str, Any]]
) -> None:
    run = run_tap(popl_config())
    records_so_far = 0
    saved_at_page_end = []
    for message in run.messages:
        if message["type"] == "RECORD":
            records_so_far += 1
        elif message["type"] == "STATE" and records_so_far and records_so_far % PAGE == 0:
            saved_at_page_end.append(bookmark_of(message["value"]))
    assert saved_at_page_end == [run.records[n * PAGE - 1]["captured_at"] for n in range(1, 6)]


def break_the_api_after(sandbox: SandboxClient, records: int) -> Any:
    written = {"records": 0}

    def hook(message: dict[str, Any]) -> None:
        if message["type"] == "RECORD":
            written["records"] += 1
            if written["records"] == records:
                sandbox.faults("popl", rate=1.0, kinds=["503"])

    return hook


def test_failure_mid_stream_leaves_state_for_every_emitted_lead(
    sandbox: SandboxClient, popl_config: ConfigFactory, leads: list[dict[str, Any]]
) -> None:
    partial, _ = run_tap_until_error(popl_config(), on_message=break_the_api_after(sandbox, 250))
    assert len(partial.records) == 300
    assert partial.bookmark == partial.records[-1]["captured_at"]


def test_rerun_after_a_failure_mid_stream_resumes_near_where_it_stopped(
    sandbox: SandboxClient, popl_config: ConfigFactory, leads: list[dict[str, Any]]
) -> None:
    partial, _ = run_tap_until_error(popl_config(), on_message=break_the_api_after(sandbox, 250))
    assert partial.bookmark is not None
    sandbox.faults("popl", rate=0.0)
    resumed = run_tap(popl_config(), state=partial.state)
    lookback_start = require_instant(partial.bookmark, "bookmark") - timedelta(days=1)
    first = require_instant(resumed.records[0]["captured_at"], "captured_at")
    assert lookback_start <= first <= lookback_start + timedelta(hours=1)
    assert set(partial.ids) | set(resumed.ids) == {lead["leadId"] for lead in leads}
