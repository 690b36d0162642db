"""The pure parts: the DTO whitelist, normalising records, custom-field matching."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from leadkit.writer import Reject
from target_ghl.contract import CONTRACT_FIELDS, UPSERT_CONTACT_FIELDS
from target_ghl.custom_fields import CustomFieldCatalog, Unusable
from target_ghl.normalise import due_date, normalise

DEFINITIONS = [
    {"id": "f1", "name": "Lead Score", "fieldKey": "contact.lead_score", "dataType": "NUMERICAL"},
    {
        "id": "f2",
        "name": "Interests",
        "fieldKey": "contact.interests",
        "dataType": "MULTIPLE_OPTIONS",
        "picklistOptions": ["Pricing", "Product Demo"],
    },
    {"id": "f3", "name": "Met On", "fieldKey": "contact.met_on", "dataType": "DATE"},
    {"id": "f4", "name": "Event Name", "fieldKey": "contact.event_name", "dataType": "TEXT"},
]


def test_the_embedded_whitelist_is_exactly_the_specs_upsert_dto(shared_dir: Path) -> None:
    spec = json.loads((shared_dir / "ghl-openapi/apps/contacts.json").read_text())
    declared = set(spec["components"]["schemas"]["UpsertContactDto"]["properties"])
    assert declared == UPSERT_CONTACT_FIELDS


def test_every_contract_field_written_to_the_upsert_is_whitelisted() -> None:
    assert CONTRACT_FIELDS - {"notes", "tasks"} <= UPSERT_CONTACT_FIELDS


def test_emails_are_trimmed_and_lower_cased() -> None:
    contact = normalise({"email": "  Ada@Example.COM "}, stream="s", region=None)
    assert contact.email == "ada@example.com"


def test_local_phones_become_e164_in_the_default_region() -> None:
    contact = normalise({"phone": "020 7946 0958"}, stream="s", region="GB")
    assert contact.phone == "+442079460958"


def test_a_record_with_neither_valid_email_nor_phone_is_rejected() -> None:
    with pytest.raises(Reject, match="no valid email or phone"):
        normalise({"email": "nope", "phone": "12"}, stream="s", region="US")


def test_an_invalid_phone_beside_a_valid_email_is_left_out_and_named() -> None:
    contact = normalise({"email": "a@b.co", "phone": "12"}, stream="s", region="US")
    assert "phone" not in contact.fields
    assert contact.dropped == ["phone"]


def test_the_stream_name_is_the_source_unless_the_record_has_one() -> None:
    assert normalise({"email": "a@b.co"}, stream="popl", region=None).fields["source"] == "popl"
    record = {"email": "a@b.co", "source": "booth"}
    assert normalise(record, stream="popl", region=None).fields["source"] == "booth"


def test_tags_are_lower_cased_and_deduplicated() -> None:
    contact = normalise(
        {"email": "a@b.co", "tags": ["VIP", "vip ", " Event"]}, stream="s", region=None
    )
    assert contact.tags == ["vip", "event"]


def test_properties_outside_the_contract_are_listed_as_ignored() -> None:
    record = {"email": "a@b.co", "shoe": 42, "_sdc_extracted_at": "x"}
    assert normalise(record, stream="s", region=None).ignored == ["shoe"]


def test_birth_dates_are_sent_as_iso_dates() -> None:
    record = {"email": "a@b.co", "dateOfBirth": datetime(1990, 9, 25, tzinfo=timezone.utc)}
    assert normalise(record, stream="s", region=None).fields["dateOfBirth"] == "1990-09-25"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2025-03-04T09:00:00+01:00", "2025-03-04T08:00:00Z"),
        ("2025-03-04T08:00:00.000Z", "2025-03-04T08:00:00Z"),
        ("2025-03-04", "2025-03-04T00:00:00Z"),
        (date(2025, 3, 4), "2025-03-04T00:00:00Z"),
        ("next tuesday", None),
        ("", None),
    ],
)
def test_task_due_dates_become_utc_timestamps(raw: object, expected: str | None) -> None:
    assert due_date(raw) == expected


def test_custom_fields_are_found_by_field_key_bare_key_and_display_name() -> None:
    catalog = CustomFieldCatalog(DEFINITIONS)
    found = [catalog.find(name) for name in ("contact.lead_score", "lead_score", "lead  SCORE")]
    assert {field.id for field in found if field} == {"f1"}
    assert catalog.find("shoe size") is None


def test_values_are_coerced_by_data_type() -> None:
    catalog = CustomFieldCatalog(DEFINITIONS)

    def coerce(name: str, value: object) -> object:
        field = catalog.find(name)
        assert field is not None
        return field.coerce(value)

    assert coerce("lead_score", "1,200") == 1200
    assert coerce("lead_score", 2.5) == 2.5
    assert coerce("interests", "pricing, product demo") == ["Pricing", "Product Demo"]
    assert coerce("met_on", datetime(2025, 3, 1, 10, tzinfo=timezone.utc)) == "2025-03-01"
    assert coerce("event_name", ["a", "b"]) == "a, b"


@pytest.mark.parametrize(("name", "value"), [("lead_score", "many"), ("interests", ["Golf"])])
def test_a_value_the_field_cannot_hold_is_unusable(name: str, value: object) -> None:
    field = CustomFieldCatalog(DEFINITIONS).find(name)
    assert field is not None
    with pytest.raises(Unusable):
        field.coerce(value)
