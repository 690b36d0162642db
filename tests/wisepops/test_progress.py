"""Progress is saved as the run goes: a STATE after every page that emitted contacts."""

from __future__ import annotations

from typing import Any

from sandbox.control import SandboxClient
from tests.wisepops.conftest import TapRun, run_tap


def records_between_states(run: TapRun) -> list[int]:
    """How many contacts were written between one STATE and the next."""
    counts, current = [], 0
    for message in run.messages:
        if message["type"] == "RECORD":
            current += 1
        elif message["type"] == "STATE" and current:
            counts.append(current)
            current = 0
    return counts + ([current] if current else [])


def bookmarks(run: TapRun) -> list[str]:
    """The contacts bookmark of every STATE written, in order."""
    states = [m["value"] for m in run.messages if m["type"] == "STATE"]
    return [
        s["bookmarks"]["contacts"]["replication_key_value"]
        for s in states
        if "replication_key_value" in s.get("bookmarks", {}).get("contacts", {})
    ]


def test_state_advances_after_every_page(sandbox: SandboxClient, config: dict[str, Any]) -> None:
    sandbox.seed("wisepops", contacts=50, step_ms=1000, replace=True, summary_only=True)
    run = run_tap({**config, "page_size": 10})
    assert records_between_states(run) == [10, 9, 9, 9, 9, 4]
    assert len(set(bookmarks(run))) == 6


def test_each_state_covers_exactly_the_contacts_written_before_it(
    sandbox: SandboxClient, config: dict[str, Any]
) -> None:
    sandbox.seed("wisepops", contacts=50, step_ms=1000, replace=True, summary_only=True)
    run = run_tap({**config, "page_size": 10})
    last_written = None
    for message in run.messages:
        if message["type"] == "RECORD":
            last_written = message["record"]["collected_at"]
        elif message["type"] == "STATE" and last_written:
            saved = message["value"]["bookmarks"]["contacts"]["replication_key_value"]
            assert saved == last_written


def test_state_advances_after_every_page_of_the_default_size(
    sandbox: SandboxClient, config: dict[str, Any]
) -> None:
    sandbox.seed("wisepops", contacts=2500, step_ms=1000, replace=True, summary_only=True)
    run = run_tap(config)
    assert records_between_states(run) == [1000, 999, 501]
