"""The input contract mapped to Popin's capture body, as pure functions."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from leadkit.writer.outcome import Reject
from target_popin.mapping import to_lead

INDIA = {"default_country_code": "91"}


@pytest.mark.parametrize(
    ("phone", "default", "expected"),
    [
        ("+91 95445 10895", None, ("91", "9544510895")),
        ("9544510895", "91", ("91", "9544510895")),
        ("+44 7911 123456", "91", ("44", "7911123456")),
        ("07911 123456", "44", ("44", "7911123456")),
        ("+1 (201) 555-0123", "91", ("1", "2015550123")),
        ("0049 151 23456789", None, ("49", "15123456789")),
        ("+81 90-1234-5678", "91", ("81", "9012345678")),
        ("+55 11 91234-5678", "91", ("55", "11912345678")),
    ],
)
def test_phones_split_into_calling_code_and_national_mobile(
    phone: str, default: str | None, expected: tuple[str, str]
) -> None:
    lead = to_lead({"name": "A", "phone": phone}, {"default_country_code": default})
    assert (lead.body["country"], lead.body["mobile"]) == expected
    assert lead.key == f"+{expected[0]}{expected[1]}"


def test_a_records_country_reads_its_local_mobile() -> None:
    lead = to_lead({"name": "A", "mobile": "07911 123456", "country": "44"}, INDIA)
    assert (lead.body["country"], lead.body["mobile"]) == ("44", "7911123456")


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"name": "A", "mobile": "not a phone"}, "unparseable mobile"),
        ({"name": "A", "mobile": "12345"}, "unparseable mobile"),
        ({"name": "A"}, "no mobile"),
        ({"mobile": "9544510895"}, "no name"),
        ({"name": "A", "mobile": "9544510895", "country": "India"}, "invalid country calling code"),
        ({"name": "A", "mobile": "9544510895", "email": "nope"}, "invalid email"),
        ({"name": "A", "mobile": "9544510895", "agent": "x"}, "invalid agent"),
        ({"name": "A", "mobile": "9544510895", "campaign": "google"}, "invalid campaign"),
        ({"name": "A", "mobile": "9544510895", "schedule_at": "soon"}, "invalid schedule_at"),
        ({"name": "A", "mobile": "9544510895", "schedule_at": 1758794400}, "invalid schedule_at"),
    ],
)
def test_records_that_cannot_be_sent_are_rejected_with_a_reason(
    record: dict[str, Any], reason: str
) -> None:
    with pytest.raises(Reject) as caught:
        to_lead(record, INDIA)
    assert caught.value.reason == reason


def test_a_local_mobile_without_any_calling_code_is_unparseable() -> None:
    with pytest.raises(Reject, match="unparseable mobile"):
        to_lead({"name": "A", "mobile": "(201) 555-0123"}, {})


def test_first_and_last_name_make_the_name() -> None:
    lead = to_lead({"firstName": " Zoë ", "lastName": "Núñez", "mobile": "9544510895"}, INDIA)
    assert lead.body["name"] == "Zoë Núñez"


@pytest.mark.parametrize("field", ["pincode", "pin_code"])
def test_either_pin_code_spelling_is_sent_as_pincode(field: str) -> None:
    lead = to_lead({"name": "A", "mobile": "9544510895", field: 221007}, INDIA)
    assert lead.body["pincode"] == "221007"
    assert "pin_code" not in lead.body


def test_settings_are_defaults_that_records_override() -> None:
    config = {
        **INDIA,
        "group": "5211",
        "agent": 210,
        "native": False,
        "campaign": {"utm_source": "popl", "utm_medium": "event"},
    }
    record = {
        "name": "A",
        "mobile": "9544510895",
        "group": "5212",
        "agent": "211",
        "campaign": {"utm_source": "wisepops"},
    }
    body = to_lead(record, config).body
    assert body == {
        "name": "A",
        "mobile": "9544510895",
        "country": "91",
        "group": "5212",
        "agent": 211,
        "native": False,
        "campaign": {"utm_source": "wisepops", "utm_medium": "event"},
    }


def test_optional_fields_are_left_out_when_absent() -> None:
    body = to_lead({"name": "A", "mobile": "9544510895", "email": None}, INDIA).body
    assert body == {"name": "A", "mobile": "9544510895", "country": "91"}


def test_schedule_at_is_an_iso_date_time() -> None:
    lead = to_lead({"name": "A", "mobile": "9544510895", "schedule_at": "2025-09-25T10:00Z"}, INDIA)
    assert lead.schedule_at == datetime(2025, 9, 25, 10, 0, tzinfo=timezone.utc)


def test_schedule_at_with_an_offset_is_that_instant() -> None:
    record = {"name": "A", "mobile": "9544510895", "schedule_at": "2025-09-25T15:30+05:30"}
    assert to_lead(record, INDIA).schedule_at == datetime(2025, 9, 25, 10, 0, tzinfo=timezone.utc)


def test_schedule_at_without_an_offset_stays_a_wall_clock_time() -> None:
    record = {"name": "A", "mobile": "9544510895", "schedule_at": "2025-09-25T15:30:00"}
    assert to_lead(record, INDIA).schedule_at == datetime(2025, 9, 25, 15, 30)
