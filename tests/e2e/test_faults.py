"""Faults: 10% of calls to every API fail (429, 5xx, timeouts, drops); all arrives once.
Secrets: the complete log of that run holds no credential and no seeded email."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sandbox.control import DEMO_KEYS, SandboxClient
from tests.e2e.harness import (
    ALL_PIPELINES,
    MeltanoProject,
    SourcePerson,
    duplicates,
    ghl_contacts,
    popin_customers,
    popin_key_of,
    popl_people,
    small_sources,
    wisepops_people,
)

FAULTS = {
    "rate": 0.1,
    "kinds": ["429", "429-date", "429-bare", "500", "502", "503", "timeout", "drop"],
    "retry_after": 0.05,
    "slow_seconds": 1.5,
    "seed": 7,
}


@dataclass
class FaultyRun:
    """Sources, destinations, injected faults and the whole log of a run under faults."""

    people: list[SourcePerson]
    contacts: list[dict[str, Any]]
    customers: list[dict[str, Any]]
    notes: int
    faults: dict[str, Any]
    log: str
    rejects: list[dict[str, Any]]


@pytest.fixture(scope="module")
def faulty(
    meltano_installed: Path, sandbox_server: SandboxClient, tmp_path_factory: pytest.TempPathFactory
) -> FaultyRun:
    sandbox = sandbox_server
    sandbox.reset()
    small_sources(sandbox, popl_leads=30, contacts=40)
    for api in ("popl", "wisepops", "ghl", "popin"):
        # A few queued faults make sure even an API called twice meets some.
        sandbox.faults(api, **FAULTS, queue=["503", "429"])
    project = MeltanoProject(sandbox, tmp_path_factory.mktemp("faults"))
    project.run(*ALL_PIPELINES).check()
    people = popl_people(sandbox) + wisepops_people(sandbox)
    contacts = ghl_contacts(sandbox)
    return FaultyRun(
        people=people,
        contacts=contacts,
        customers=popin_customers(sandbox),
        notes=sum(len(c["notes"]) for c in contacts),
        faults={api: sandbox.counters(api)["faults"] for api in ("popl", "wisepops", "ghl")},
        log=project.all_logs(),
        rejects=project.rejects("ghl") + project.rejects("popin"),
    )


def test_faults_were_injected_on_every_api(faulty: FaultyRun) -> None:
    assert all(sum(kinds.values()) > 0 for kinds in faulty.faults.values()), faulty.faults


def test_every_person_is_one_ghl_contact_despite_faults(faulty: FaultyRun) -> None:
    identities = {p.ghl_identity for p in faulty.people if p.ghl_identity}
    held = [c.get("email") or c.get("phone") for c in faulty.contacts]
    assert duplicates([c["email"] for c in faulty.contacts if c.get("email")]) == []
    assert duplicates([c["phone"] for c in faulty.contacts if c.get("phone")]) == []
    found = {
        i for i in identities if any(i in (c.get("email"), c.get("phone")) for c in faulty.contacts)
    }
    assert found == identities
    assert len(held) <= len(identities)


def test_no_note_is_posted_twice_despite_faults(faulty: FaultyRun) -> None:
    for contact in faulty.contacts:
        bodies = [n["body"] for n in contact["notes"]]
        assert duplicates(bodies) == [], contact["id"]
    notes = {p.note for p in faulty.people if p.source == "popl" and p.note and p.ghl_identity}
    assert faulty.notes >= len(notes)


def test_every_phone_is_one_popin_capture_or_an_outcome_unknown_reject(
    faulty: FaultyRun,
) -> None:
    # Popin has no way to look a capture up: when the answer to a capture is lost, the
    # target cannot know whether it happened and, rather than risk a second capture,
    # rejects the record with that reason. Nothing is silently lost or captured twice.
    wisepops = [p for p in faulty.people if p.source == "wisepops" and p.popin_key]
    held = [popin_key_of(c) for c in faulty.customers]
    unknown = {
        r["record"]["contact_key"]
        for r in faulty.rejects
        if r["stream"] == "wisepops_captures" and r["reason"] == "capture outcome unknown"
    }
    assert duplicates(held) == []
    for person in wisepops:
        assert person.popin_key in held or person.key in unknown


def test_log_of_a_run_with_faults_holds_no_credential(faulty: FaultyRun) -> None:
    secrets = [v for k, v in DEMO_KEYS.items() if k != "ghl_location"]
    assert [s for s in secrets if s in faulty.log] == []


def test_log_of_a_run_with_faults_holds_no_seeded_email(faulty: FaultyRun) -> None:
    emails = {str(p.email).strip() for p in faulty.people if p.email and "@" in str(p.email)}
    assert emails
    assert [e for e in emails if e in faulty.log or e.lower() in faulty.log] == []
