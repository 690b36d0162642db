"""Contacts deleted during a run (privacy requests) never make live ones go missing."""

from __future__ import annotations

from typing import Any

from sandbox.control import SandboxClient
from tests.wisepops.conftest import run_tap

STAMP = "2030-01-01T00:00:00.500Z"


def seed_tie_block(sandbox: SandboxClient, size: int, after: int = 0) -> list[str]:
    """`size` contacts sharing one collected_at, then `after` a second apart; their sessions."""
    sandbox.seed(
        "wisepops",
        contacts=size,
        collected_at=STAMP,
        same_timestamp=True,
        form_session=True,
        replace=True,
        summary_only=True,
    )
    if after:
        sandbox.seed("wisepops", contacts=after, step_ms=1000, form_session=True, summary_only=True)
    return alive(sandbox)


def alive(sandbox: SandboxClient) -> list[str]:
    """The form sessions of the contacts the API holds now."""
    return [c["form_session"] for c in sandbox.records("wisepops", "contacts")]


def sessions(records: list[dict[str, Any]]) -> list[str]:
    return [r["form_session"] for r in records]


def delete_later(sandbox: SandboxClient, positions: list[int], after_requests: int) -> None:
    """Erase the contacts at these positions right after the k-th coming GET /contacts."""
    sandbox.action(
        "wisepops", "delete_contacts", positions=positions, after_requests=after_requests
    )


def test_contacts_alive_all_run_are_emitted_when_read_ones_are_deleted_in_a_tie_block(
    sandbox: SandboxClient, config: dict[str, Any], mode: str
) -> None:
    at_start = seed_tie_block(sandbox, 2000)
    delete_later(sandbox, list(range(0, 1000, 100)), after_requests=1)
    run = run_tap(config)
    emitted = sessions(run.records())
    assert set(at_start) & set(alive(sandbox)) <= set(emitted)
    assert len(emitted) == len(set(emitted))


def test_a_rerun_after_deletions_in_a_tie_block_emits_nothing_and_loses_nothing(
    sandbox: SandboxClient, config: dict[str, Any], mode: str
) -> None:
    at_start = seed_tie_block(sandbox, 2000)
    delete_later(sandbox, list(range(0, 1000, 100)), after_requests=1)
    first = run_tap(config)
    second = run_tap(config, state=first.state)
    assert second.records() == []
    assert set(at_start) & set(alive(sandbox)) <= set(sessions(first.records()))


def test_deletions_deep_in_a_tie_block_followed_by_later_contacts_lose_nothing(
    sandbox: SandboxClient, config: dict[str, Any], mode: str
) -> None:
    at_start = seed_tie_block(sandbox, 3500, after=20)
    delete_later(sandbox, list(range(1500, 1990, 7)), after_requests=2)
    run = run_tap(config)
    emitted = sessions(run.records())
    assert set(at_start) & set(alive(sandbox)) <= set(emitted)
    assert len(emitted) == len(set(emitted))
    assert run.state["bookmarks"]["contacts"]["bookmark_complete"] is True


def test_deleting_a_whole_page_of_read_contacts_in_a_tie_block_loses_nothing(
    sandbox: SandboxClient, config: dict[str, Any]
) -> None:
    at_start = seed_tie_block(sandbox, 2500)
    delete_later(sandbox, list(range(1200)), after_requests=1)
    run = run_tap(config)
    assert set(at_start) & set(alive(sandbox)) <= set(sessions(run.records()))


def test_a_capped_run_resumed_in_a_tie_block_survives_deletions_between_runs(
    sandbox: SandboxClient, config: dict[str, Any], mode: str
) -> None:
    at_start = seed_tie_block(sandbox, 2500, after=3)
    # A cap of one call per run stops every run inside the tie block.
    settings = {**config, "max_api_calls": 1}
    first = run_tap(settings)
    sandbox.action("wisepops", "delete_contacts", positions=list(range(0, 1000, 50)))
    emitted, state = sessions(first.records()), first.state
    for _ in range(10):
        run = run_tap(settings, state=state)
        emitted += sessions(run.records())
        state = run.state
    assert set(at_start) & set(alive(sandbox)) <= set(emitted)
    assert len(emitted) == len(set(emitted))


def test_deletions_with_snapshot_pages_lose_nothing_either(
    sandbox: SandboxClient, config: dict[str, Any]
) -> None:
    sandbox.settings("wisepops", page_snapshots=True)
    at_start = seed_tie_block(sandbox, 2000)
    delete_later(sandbox, list(range(0, 1000, 100)), after_requests=1)
    run = run_tap(config)
    assert set(at_start) & set(alive(sandbox)) <= set(sessions(run.records()))


def test_a_tie_block_that_keeps_moving_stops_the_run_with_what_was_emitted_saved(
    sandbox: SandboxClient, config: dict[str, Any]
) -> None:
    seed_tie_block(sandbox, 2000)
    for k in range(1, 60):
        delete_later(sandbox, [k], after_requests=k)
    run = run_tap(config, expect_error=True)
    assert "deleted during paging" in str(run.error)
    assert sandbox.counters("wisepops")["requests"] < 50
    bookmark = run.state["bookmarks"]["contacts"]
    assert bookmark["bookmark_complete"] is False
    assert len(bookmark["keys_at_bookmark"]) == len(run.keys())
