"""Paging /contacts by `collected_after`: timestamp ties never lose or repeat a contact."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from sandbox.control import SandboxClient
from tap_wisepops.streams import contact_key
from tests.wisepops.conftest import contact_calls, run_tap, store_keys


def test_every_seeded_contact_is_emitted_exactly_once(
    sandbox: SandboxClient, config: dict[str, Any], mode: str
) -> None:
    run = run_tap(config)
    assert Counter(run.keys()) == Counter(store_keys(sandbox))


@pytest.mark.parametrize("page_size", [1, 2, 3, 7, 10])
def test_ties_across_small_pages_lose_and_repeat_nothing(
    config: dict[str, Any],
    mode: str,
    seed_groups: Callable[[list[int]], list[str]],
    page_size: int,
) -> None:
    expected = seed_groups([3, 9, 1, 7, 14, 2, 6, 1, 1, 10, 4])
    run = run_tap({**config, "page_size": page_size})
    assert run.keys() == expected


def test_a_tie_group_larger_than_the_page_is_paged_through(
    sandbox: SandboxClient,
    config: dict[str, Any],
    mode: str,
    seed_groups: Callable[[list[int]], list[str]],
) -> None:
    expected = seed_groups([4, 57, 3])
    run = run_tap({**config, "page_size": 10})
    assert run.keys() == expected
    # Pages inside one timestamp overlap the last contact read, so that a deletion cannot
    # shift unread contacts past them (tap_wisepops/pagination.py): at page size 10 this
    # costs 2 calls more than plain pages (8); at 1000 the overlap is 1 contact of 1000.
    assert contact_calls(sandbox) == 10


def test_the_seeded_import_of_1200_contacts_at_one_instant_is_read_whole(
    sandbox: SandboxClient, config: dict[str, Any], mode: str
) -> None:
    records = sandbox.records("wisepops", "contacts")
    biggest, size = Counter(r["collected_at"] for r in records).most_common(1)[0]
    assert size > 1000
    run = run_tap(config)
    assert sum(r["collected_at"] == biggest for r in run.records()) == size


def test_records_are_emitted_in_collected_at_order(
    config: dict[str, Any], seed_groups: Callable[[list[int]], list[str]]
) -> None:
    seed_groups([5, 1, 12, 2])
    stamps = [r["collected_at"] for r in run_tap({**config, "page_size": 4}).records()]
    assert stamps == sorted(stamps)


def test_wisepop_ids_read_only_those_popups(sandbox: SandboxClient, config: dict[str, Any]) -> None:
    run = run_tap({**config, "wisepop_ids": [45678, 12345]})
    wanted = [
        contact_key(c)
        for c in sandbox.records("wisepops", "contacts")
        if c["wisepop_id"] in {45678, 12345}
    ]
    assert sorted(run.keys()) == sorted(wanted)
    assert {r["wisepop_id"] for r in run.records()} == {45678, 12345}


def test_start_date_includes_contacts_collected_at_that_instant(
    sandbox: SandboxClient, config: dict[str, Any], mode: str
) -> None:
    sandbox.seed("wisepops", contacts=2, collected_at="2030-06-01T12:00:00.000Z")
    run = run_tap({**config, "start_date": "2030-06-01T12:00:00Z"})
    assert [r["collected_at"] for r in run.records()] == [
        "2030-06-01T12:00:00.000Z",
        "2030-06-01T12:00:00.001Z",
    ]
