"""State: a second run moves nothing; a record added between runs arrives in the next one."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.harness import History


@pytest.fixture(scope="module")
def runs(history: History) -> History:
    """Three runs: the first, one with nothing new, one after a contact was added."""
    return history


def write_routes(counters: dict[str, Any]) -> dict[str, int]:
    """Non-GET requests a destination received."""
    return {r: n for r, n in counters["by_route"].items() if not r.startswith("GET ")}


def test_second_run_creates_no_contact_note_or_task(runs: History) -> None:
    first, second = runs.contacts[0], runs.contacts[1]
    assert len(second) == len(first)
    assert sum(len(c["notes"]) for c in second) == sum(len(c["notes"]) for c in first)
    assert sum(len(c["tasks"]) for c in second) == sum(len(c["tasks"]) for c in first)


def test_second_run_captures_and_books_nobody(runs: History) -> None:
    assert runs.customers[1] == runs.customers[0]
    assert runs.bookings[1] == runs.bookings[0]
    assert write_routes(runs.counters[1]["popin"]) == {}


def test_second_run_reads_each_source_with_one_call_per_pipeline(runs: History) -> None:
    assert runs.counters[1]["wisepops"]["by_route"] == {"GET /api2/contacts": 2}
    assert runs.counters[1]["popl"]["requests"] == 1


def test_second_run_writes_nothing_new_to_ghl(runs: History) -> None:
    writes = write_routes(runs.counters[1]["ghl"])
    assert not any(route.endswith(("/notes", "/tasks")) for route in writes)


def test_a_contact_added_between_runs_arrives_in_both_destinations(runs: History) -> None:
    emails = [c.get("email") for c in runs.contacts[2]]
    assert emails.count(runs.added_email) == 1
    assert len(runs.contacts[2]) == len(runs.contacts[1]) + 1
    assert len(runs.customers[2]) == len(runs.customers[1]) + 1
    assert runs.customers[2][-1]["email"] == runs.added_email
