"""Crashes: SIGKILL a tap or a target mid-run; after a re-run every destination holds
exactly the source's records, with no duplicate contact, note, capture or booking."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from sandbox.control import SandboxClient
from tests.e2e.harness import (
    ALL_PIPELINES,
    POPL_TO_GHL,
    WISEPOPS_TO_GHL,
    WISEPOPS_TO_POPIN,
    MeltanoProject,
    duplicates,
    ghl_contacts,
    kill_plugin_when,
    popin_customers,
    popin_key_of,
    popl_people,
    small_sources,
    wisepops_people,
)

# The first test builds the module's world: seven `meltano run`s, six of them killed mid-way,
# each guarded by its own timeout. The suite's per-test 300 s would cut that world short on
# a loaded machine, so the module's guard covers all seven.
pytestmark = pytest.mark.timeout(900)


@dataclass
class Crashes:
    """Which kills landed, then what the destinations hold after the re-run."""

    killed: list[str] = field(default_factory=list)
    contacts: list[dict[str, Any]] = field(default_factory=list)
    customers: list[dict[str, Any]] = field(default_factory=list)
    bookings: list[dict[str, Any]] = field(default_factory=list)
    expected_identities: set[str] = field(default_factory=set)
    expected_popin: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    # Popin keys of records rejected because a killed run left their outcome unknown.
    unknown_capture: set[str] = field(default_factory=set)
    unknown_schedule: set[str] = field(default_factory=set)


def requests_to(sandbox: SandboxClient, api: str, route_part: str) -> Callable[[], int]:
    def count() -> int:
        routes = sandbox.counters(api)["by_route"]
        return sum(n for route, n in routes.items() if route_part in route)

    return count


@pytest.fixture(scope="module")
def crashes(
    meltano_installed: Path, sandbox_server: SandboxClient, tmp_path_factory: pytest.TempPathFactory
) -> Crashes:
    sandbox = sandbox_server
    sandbox.reset()
    small_sources(sandbox, popl_leads=60, contacts=60)
    # Slow answers and small pages so that a kill lands mid-run, between writes.
    for api in ("popl", "wisepops", "ghl", "popin"):
        sandbox.latency(api, 25)
    sandbox.settings("popl", page_size=10)
    project = MeltanoProject(
        sandbox,
        tmp_path_factory.mktemp("crashes"),
        extra_env={
            "TAP_WISEPOPS_PAGE_SIZE": "10",
            "TARGET_GHL_MAX_CONCURRENCY": "2",
            "TARGET_POPIN_MAX_CONCURRENCY": "2",
        },
    )
    result = Crashes()
    ghl_notes = requests_to(sandbox, "ghl", "/notes")
    ghl_upserts = requests_to(sandbox, "ghl", "/contacts/upsert")
    popl_pages = requests_to(sandbox, "popl", "/leads/search")
    wisepops_pages = requests_to(sandbox, "wisepops", "/contacts")
    captures = requests_to(sandbox, "popin", "/capture")
    schedules = requests_to(sandbox, "popin", "/schedule")
    plan = [
        # (pipeline, plugin to kill, when)
        (POPL_TO_GHL, "tap-popl", lambda: popl_pages() >= 3),
        (POPL_TO_GHL, "target-ghl", lambda: ghl_notes() >= 3),
        (WISEPOPS_TO_GHL, "target-ghl", lambda: ghl_upserts() >= 70),
        (WISEPOPS_TO_POPIN, "tap-wisepops", lambda: wisepops_pages() >= 8),
        (WISEPOPS_TO_POPIN, "target-popin", lambda: captures() >= 5),
        (WISEPOPS_TO_POPIN, "target-popin", lambda: schedules() >= 15),
    ]
    for blocks, plugin, ready in plan:
        process, _ = project.start(*blocks)
        if kill_plugin_when(process, plugin, ready):
            result.killed.append(plugin)
        process.wait(timeout=240)
    for api in ("popl", "wisepops", "ghl", "popin"):
        sandbox.latency(api, 0)
    project.run(*ALL_PIPELINES).check()
    people = popl_people(sandbox) + wisepops_people(sandbox)
    result.expected_identities = {p.ghl_identity for p in people if p.ghl_identity}
    result.expected_popin = {p.popin_key for p in people if p.source == "wisepops" and p.popin_key}
    result.notes = [p.note for p in people if p.note and p.ghl_identity]
    popin_key = {p.key: p.popin_key for p in people if p.source == "wisepops"}
    for reject in project.rejects("popin"):
        key = popin_key.get(reject["record"].get("contact_key"))
        if reject["reason"].startswith("capture outcome unknown") and key:
            result.unknown_capture.add(key)
        if reject["reason"].startswith("schedule outcome unknown") and key:
            result.unknown_schedule.add(key)
    result.contacts = ghl_contacts(sandbox)
    result.customers = popin_customers(sandbox)
    result.bookings = list(sandbox.records("popin", "bookings"))
    return result


def test_kills_landed_in_taps_and_targets(crashes: Crashes) -> None:
    assert {"tap-popl", "target-ghl", "target-popin"} <= set(crashes.killed)
    assert len(crashes.killed) >= 4


def test_ghl_holds_every_person_once_after_crashes(crashes: Crashes) -> None:
    emails = [c["email"] for c in crashes.contacts if c.get("email")]
    phones = [c["phone"] for c in crashes.contacts if c.get("phone")]
    assert duplicates(emails) == []
    assert duplicates(phones) == []
    held = {i for c in crashes.contacts for i in (c.get("email"), c.get("phone")) if i}
    assert crashes.expected_identities <= held


def test_no_note_or_task_is_duplicated_after_crashes(crashes: Crashes) -> None:
    for contact in crashes.contacts:
        assert duplicates([n["body"] for n in contact["notes"]]) == []
        assert duplicates([t["title"] for t in contact["tasks"]]) == []
    bodies = {n["body"] for c in crashes.contacts for n in c["notes"]}
    assert set(crashes.notes) <= bodies


# Popin cannot be asked whether a capture or a booking happened: a run killed between
# sending one and recording its answer leaves the outcome unknown, and target-popin then
# rejects the record with that reason rather than risk doing it twice.


def test_popin_captures_each_phone_at_most_once_after_crashes(crashes: Crashes) -> None:
    held = [popin_key_of(c) for c in crashes.customers]
    assert duplicates(held) == []
    assert set(held) <= crashes.expected_popin


def test_popin_phones_not_captured_are_rejected_as_outcome_unknown(crashes: Crashes) -> None:
    held = {popin_key_of(c) for c in crashes.customers}
    assert crashes.expected_popin - held <= crashes.unknown_capture


def test_popin_books_each_customer_at_most_once_after_crashes(crashes: Crashes) -> None:
    booked = [b["customer_id"] for b in crashes.bookings]
    assert duplicates(booked) == []
    unbooked = {popin_key_of(c) for c in crashes.customers if c["customer_id"] not in booked}
    assert unbooked <= crashes.unknown_schedule | crashes.unknown_capture
