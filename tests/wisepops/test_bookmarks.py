"""Bookmarks: a run resumes exactly where the previous one stopped."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandbox.control import SandboxClient
from tests.wisepops.conftest import contact_calls, run_tap, store_keys


def test_second_run_with_no_new_data_makes_one_call_and_emits_nothing(
    sandbox: SandboxClient, config: dict[str, Any], mode: str
) -> None:
    first = run_tap(config)
    calls_before = contact_calls(sandbox)
    second = run_tap(config, state=first.state)
    assert (contact_calls(sandbox) - calls_before, second.keys()) == (1, [])


def test_second_run_after_a_tie_group_larger_than_a_page_makes_one_call(
    sandbox: SandboxClient,
    config: dict[str, Any],
    seed_groups: Callable[[list[int]], list[str]],
) -> None:
    seed_groups([3, 25])
    first = run_tap({**config, "page_size": 10})
    calls_before = contact_calls(sandbox)
    second = run_tap({**config, "page_size": 10}, state=first.state)
    assert (contact_calls(sandbox) - calls_before, second.keys()) == (1, [])


def test_inclusive_server_costs_one_extra_call_once_then_one_call_per_idle_run(
    sandbox: SandboxClient,
    config: dict[str, Any],
    seed_groups: Callable[[list[int]], list[str]],
) -> None:
    sandbox.settings("wisepops", collected_after_mode="inclusive")
    seed_groups([3, 25])
    settings = {**config, "page_size": 10}
    state = run_tap(settings).state
    spent = []
    for _ in range(3):
        before = contact_calls(sandbox)
        run = run_tap(settings, state=state)
        assert run.keys() == []
        spent.append(contact_calls(sandbox) - before)
        state = run.state
    assert spent == [2, 1, 1]


def test_contact_added_between_runs_arrives_in_the_next_run(
    sandbox: SandboxClient, config: dict[str, Any], mode: str
) -> None:
    first = run_tap(config)
    added = sandbox.seed("wisepops", contacts=1)["contacts"][0]
    second = run_tap(config, state=first.state)
    assert [r["collected_at"] for r in second.records()] == [added["collected_at"]]


def test_contact_sharing_the_bookmark_timestamp_arrives_after_an_interrupted_run(
    sandbox: SandboxClient,
    config: dict[str, Any],
    mode: str,
    seed_groups: Callable[[list[int]], list[str]],
) -> None:
    expected = seed_groups([2, 30, 5])
    settings = {**config, "page_size": 10}
    first = run_tap({**settings, "max_api_calls": 2})
    second = run_tap(settings, state=first.state)
    assert first.keys() + second.keys() == expected


def test_runs_capped_at_one_call_each_eventually_read_everything_once(
    sandbox: SandboxClient,
    config: dict[str, Any],
    mode: str,
    seed_groups: Callable[[list[int]], list[str]],
) -> None:
    expected = seed_groups([4, 1, 13, 2, 9, 1, 1, 6])
    settings = {**config, "page_size": 5, "max_api_calls": 1}
    state: dict[str, Any] = {}
    emitted: list[str] = []
    for _ in range(30):
        run = run_tap(settings, state=state)
        emitted += run.keys()
        state = run.state
        if not run.keys() and emitted:
            break
    assert emitted == expected


def test_bookmark_is_the_last_emitted_collected_at(
    sandbox: SandboxClient, config: dict[str, Any]
) -> None:
    run = run_tap(config)
    bookmark = run.state["bookmarks"]["contacts"]
    assert bookmark["replication_key_value"] == run.records()[-1]["collected_at"]
    assert bookmark["bookmark_complete"] is True


def test_each_popup_keeps_its_own_bookmark(sandbox: SandboxClient, config: dict[str, Any]) -> None:
    settings = {**config, "wisepop_ids": [45678, 12345]}
    first = run_tap(settings)
    partitions = first.state["bookmarks"]["contacts"]["partitions"]
    assert [p["context"] for p in partitions] == [{"wisepop_id": 45678}, {"wisepop_id": 12345}]
    sandbox.seed("wisepops", contacts=2, wisepop_id=12345)
    before = contact_calls(sandbox)
    second = run_tap(settings, state=first.state)
    assert len(second.keys()) == 2
    assert contact_calls(sandbox) - before == 2  # one call per popup


def test_keys_already_read_are_not_emitted_again_across_runs(
    sandbox: SandboxClient, config: dict[str, Any], mode: str
) -> None:
    first = run_tap({**config, "max_api_calls": 2})
    second = run_tap(config, state=first.state)
    assert sorted(first.keys() + second.keys()) == sorted(store_keys(sandbox))
