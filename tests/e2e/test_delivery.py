"""Delivery: every source record arrives once in each destination, with the mapped fields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.e2e.harness import (
    History,
    MeltanoProject,
    SourcePerson,
    duplicates,
    mapping_config,
    popin_key_of,
)


@dataclass
class Delivered:
    """Sources before, destinations after one run of the three pipelines."""

    popl: list[SourcePerson]
    wisepops: list[SourcePerson]
    contacts: list[dict[str, Any]]
    customers: list[dict[str, Any]]
    project: MeltanoProject


@pytest.fixture(scope="module")
def delivered(history: History) -> Delivered:
    """The first run of the three pipelines over small sources."""
    return Delivered(
        popl=history.popl,
        wisepops=history.wisepops,
        contacts=history.contacts[0],
        customers=history.customers[0],
        project=history.project,
    )


def seen_once(delivered: Delivered, people: list[SourcePerson]) -> list[SourcePerson]:
    """People whose identity no other source record shares (their fields are not overwritten)."""
    everyone = [p.ghl_identity for p in delivered.popl + delivered.wisepops]
    return [p for p in people if p.ghl_identity and everyone.count(p.ghl_identity) == 1]


def contact_holding(delivered: Delivered, person: SourcePerson) -> dict[str, Any]:
    identity = person.ghl_identity
    matches = [c for c in delivered.contacts if identity in (c.get("email"), c.get("phone"))]
    assert len(matches) == 1, f"{person.source} {person.key}: {len(matches)} contacts"
    return matches[0]


def test_every_source_person_is_exactly_one_ghl_contact(delivered: Delivered) -> None:
    people = [p for p in delivered.popl + delivered.wisepops if p.ghl_identity]
    for person in people:
        contact_holding(delivered, person)
    emails = [c["email"] for c in delivered.contacts if c.get("email")]
    phones = [c["phone"] for c in delivered.contacts if c.get("phone")]
    assert duplicates(emails) == []
    assert duplicates(phones) == []
    assert len(delivered.contacts) <= len({p.ghl_identity for p in people})


def test_source_records_without_email_or_phone_are_rejected_not_sent(
    delivered: Delivered,
) -> None:
    unreachable = [p for p in delivered.popl + delivered.wisepops if not p.ghl_identity]
    rejects = delivered.project.rejects("ghl")
    assert len(rejects) >= len(unreachable)
    assert {r["reason"] for r in rejects} <= {"no valid email or phone"}


def test_popl_leads_arrive_field_by_field(delivered: Delivered) -> None:
    events = mapping_config("popl-to-ghl")["campaign_events"]
    sample = seen_once(delivered, delivered.popl)[:15]
    for person in sample:
        assert person.lead is not None
        contact = contact_holding(delivered, person)
        campaign = str(person.lead["systemFields"]["campaignId"])
        assert {
            "popl",
            f"popl-{person.lead['leadSource'].lower()}",
            f"campaign-{campaign}",
            events[campaign].lower(),
        } <= set(contact["tags"])
        custom = contact["customFieldsByKey"]
        assert custom["contact.event_name"] == events[campaign]
        assert custom["contact.lead_source_detail"] == person.lead["leadSource"]
        assert custom["contact.met_on"] == person.lead["systemFields"]["captureDatetime"][:10]
        if person.note:
            assert person.note in [n["body"] for n in contact["notes"]]


def test_a_person_seen_once_has_the_source_name(delivered: Delivered) -> None:
    for person in seen_once(delivered, delivered.popl + delivered.wisepops)[:20]:
        contact = contact_holding(delivered, person)
        if person.first_name:
            assert contact.get("firstName") == person.first_name.strip()
        if person.last_name:
            assert contact.get("lastName") == person.last_name.strip()


def test_wisepops_contacts_are_tagged_with_their_popup(delivered: Delivered) -> None:
    tags = mapping_config("wisepops-to-ghl")["popup_tags"]
    for person in [p for p in delivered.wisepops if p.ghl_identity][:20]:
        contact = contact_holding(delivered, person)
        expected = tags.get(str(person.wisepop_id), f"wisepops-popup-{person.wisepop_id}")
        assert {"wisepops", expected} <= set(contact["tags"])


def test_every_wisepops_phone_is_exactly_one_popin_capture(delivered: Delivered) -> None:
    expected = {p.popin_key for p in delivered.wisepops if p.popin_key}
    held = [popin_key_of(c) for c in delivered.customers]
    assert duplicates(held) == []
    assert set(held) == expected


def test_popin_captures_carry_the_name_email_and_campaign(delivered: Delivered) -> None:
    by_key = {popin_key_of(c): c for c in delivered.customers}
    for person in [p for p in delivered.wisepops if p.popin_key][:15]:
        customer = by_key[person.popin_key]
        assert customer["campaign"]["utm_campaign"] == str(person.wisepop_id)
        if person.email and "@" in str(person.email):
            assert customer["email"] == str(person.email).strip()
        names = [str(n).strip() for n in (person.first_name, person.last_name) if n]
        if any(names):
            assert customer["name"] == " ".join(n for n in names if n)
