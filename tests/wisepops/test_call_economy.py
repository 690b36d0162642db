"""Call economy: Wisepops allows 1,500 calls a month, so every call is counted and capped."""

from __future__ import annotations

import logging
import math
from typing import Any

import pytest

from sandbox.control import SandboxClient
from tests.wisepops.conftest import contact_calls, run_tap, store_keys

PAGE = 10


def seed_unique(sandbox: SandboxClient, count: int) -> list[str]:
    """Only `count` contacts, a second apart."""
    sandbox.seed("wisepops", contacts=count, step_ms=1000, replace=True, summary_only=True)
    return store_keys(sandbox)


def overlapping_calls(count: int, page: int) -> int:
    """Calls when each page after the first re-reads the previous page's last contact."""
    return 1 if count < page else 2 + (count - page) // (page - 1)


@pytest.mark.parametrize("count", [0, 1, 9, 10, 11, 18, 20, 25, 30, 36, 40])
def test_reading_n_contacts_takes_at_most_ceil_n_plus_1_over_page_size_calls(
    sandbox: SandboxClient, config: dict[str, Any], mode: str, count: int
) -> None:
    expected = seed_unique(sandbox, count)
    run = run_tap({**config, "page_size": PAGE})
    assert run.keys() == expected
    assert contact_calls(sandbox) <= math.ceil((count + 1) / PAGE)


@pytest.mark.parametrize("count", [19, 28, 29, 37, 39])
def test_the_overlap_costs_one_call_more_when_n_mod_page_size_is_near_the_top(
    sandbox: SandboxClient, config: dict[str, Any], mode: str, count: int
) -> None:
    # Known limit of tie-safe cursor paging (docs/tap-wisepops.md, "Call economy").
    expected = seed_unique(sandbox, count)
    run = run_tap({**config, "page_size": PAGE})
    assert run.keys() == expected
    assert contact_calls(sandbox) == math.ceil((count + 1) / PAGE) + 1
    assert contact_calls(sandbox) == overlapping_calls(count, PAGE)


def test_a_short_page_ends_the_run_without_an_extra_call(
    sandbox: SandboxClient, config: dict[str, Any]
) -> None:
    seed_unique(sandbox, 5)
    run_tap({**config, "page_size": PAGE})
    assert contact_calls(sandbox) == 1


def test_the_full_seed_at_page_size_1000_meets_the_bound(
    sandbox: SandboxClient, config: dict[str, Any], mode: str
) -> None:
    count = len(run_tap(config).keys())
    assert contact_calls(sandbox) <= math.ceil((count + 1) / 1000)


def test_max_api_calls_stops_cleanly_before_exceeding_the_cap(
    sandbox: SandboxClient, config: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    expected = seed_unique(sandbox, 50)
    with caplog.at_level(logging.INFO):
        run = run_tap({**config, "page_size": PAGE, "max_api_calls": 3})
    assert sandbox.counters("wisepops")["requests"] == 3
    assert run.keys() == expected[: len(run.keys())]
    assert len(run.keys()) == 10 + 9 + 9
    assert "`max_api_calls` (3) reached" in caplog.text
    assert "Every STATE written covers only records emitted before it" in caplog.text


def test_state_after_a_capped_run_covers_exactly_what_was_emitted(
    sandbox: SandboxClient, config: dict[str, Any]
) -> None:
    seed_unique(sandbox, 50)
    run = run_tap({**config, "page_size": PAGE, "max_api_calls": 2})
    bookmark = run.state["bookmarks"]["contacts"]
    assert bookmark["replication_key_value"] == run.records()[-1]["collected_at"]
    assert bookmark["keys_at_bookmark"] == [run.keys()[-1]]
    assert bookmark["bookmark_complete"] is False


def test_the_cap_covers_every_stream_of_the_run(
    sandbox: SandboxClient, config: dict[str, Any]
) -> None:
    run = run_tap({**config, "max_api_calls": 2}, streams=("contacts", "wisepops", "hooks"))
    assert sandbox.counters("wisepops")["requests"] == 2
    assert run.calls == 2


def test_retries_count_against_max_api_calls(
    sandbox: SandboxClient, config: dict[str, Any]
) -> None:
    sandbox.faults("wisepops", queue=["503", "503"])
    run = run_tap({**config, "max_api_calls": 2})
    assert sandbox.counters("wisepops")["requests"] == 2
    assert (run.keys(), run.calls) == ([], 2)


def test_each_run_logs_the_calls_it_spent(
    sandbox: SandboxClient, config: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    sandbox.faults("wisepops", queue=["500"])
    with caplog.at_level(logging.INFO):
        run_tap(config, streams=("contacts", "wisepops", "hooks"))
    assert "contacts: 5 API call(s) spent (retries included); 5 so far in this run" in (caplog.text)
    assert "7 so far in this run" in caplog.text


def test_an_inclusive_server_is_recognised_and_remembered_in_the_state(
    sandbox: SandboxClient, config: dict[str, Any]
) -> None:
    sandbox.settings("wisepops", collected_after_mode="inclusive")
    seed_unique(sandbox, 25)
    first = run_tap({**config, "page_size": PAGE})
    # Cursors just below a timestamp cannot tell; resuming at the bookmark itself can.
    second = run_tap({**config, "page_size": PAGE}, state=first.state)
    assert second.state["bookmarks"]["contacts"]["collected_after_mode"] == "inclusive"


def seed_tie_block(sandbox: SandboxClient, size: int, after: int = 5) -> None:
    """`size` contacts sharing one collected_at, then `after` a millisecond apart."""
    sandbox.seed(
        "wisepops",
        contacts=size,
        collected_at="2030-01-01T00:00:00.500Z",
        same_timestamp=True,
        form_session=True,
        replace=True,
        summary_only=True,
    )
    sandbox.seed("wisepops", contacts=after, summary_only=True)


@pytest.mark.parametrize("size", [1000, 1999, 2000, 5000])
def test_overlapping_pages_inside_a_tie_block_cost_no_call_at_the_default_page_size(
    sandbox: SandboxClient, config: dict[str, Any], mode: str, size: int
) -> None:
    seed_tie_block(sandbox, size)
    run = run_tap(config)
    assert run.keys() == store_keys(sandbox)
    assert contact_calls(sandbox) == math.ceil((size + 5 + 1) / 1000)


def test_deleting_read_contacts_inside_a_tie_block_costs_one_call_more(
    sandbox: SandboxClient, config: dict[str, Any]
) -> None:
    # The page that moved is dropped unread, one earlier page anchors the query again,
    # and the dropped page is asked for again: 4 calls where 3 read the block untouched.
    seed_tie_block(sandbox, 2000, after=0)
    sandbox.action(
        "wisepops", "delete_contacts", positions=list(range(0, 1000, 100)), after_requests=1
    )
    run_tap(config)
    assert contact_calls(sandbox) == 4
