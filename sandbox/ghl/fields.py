"""Contact values as GHL stores them: phones, tags, birth dates and custom-field values."""

from __future__ import annotations

import math
import re
from datetime import datetime
from functools import lru_cache
from typing import Any

import phonenumbers

from sandbox.ghl.errors import bad_request

# Contact properties a write copies as they come (after the DTO check).
PLAIN_FIELDS = (
    "address1",
    "city",
    "state",
    "postalCode",
    "website",
    "timezone",
    "dnd",
    "dndSettings",
    "inboundDndSettings",
    "source",
    "country",
    "companyName",
    "assignedTo",
    "gender",
)

DATA_TYPES = (
    "TEXT",
    "LARGE_TEXT",
    "NUMERICAL",
    "MONETORY",
    "SINGLE_OPTIONS",
    "MULTIPLE_OPTIONS",
    "CHECKBOX",
    "RADIO",
    "DATE",
)
# Custom fields every location starts with: (name, fieldKey, dataType, picklist options).
SEEDED_CUSTOM_FIELDS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("Event Name", "contact.event_name", "TEXT", ()),
    ("Lead Source Detail", "contact.lead_source_detail", "LARGE_TEXT", ()),
    ("Lead Score", "contact.lead_score", "NUMERICAL", ()),
    (
        "Interests",
        "contact.interests",
        "MULTIPLE_OPTIONS",
        ("Product Demo", "Pricing", "Partnership", "Integrations", "Newsletter"),
    ),
    ("Met On", "contact.met_on", "DATE", ()),
    (
        "Company Size",
        "contact.company_size",
        "SINGLE_OPTIONS",
        ("1-10", "11-50", "51-200", "201-1000", "1000+"),
    ),
    ("Job Title Detail", "contact.job_title_detail", "TEXT", ()),
    ("Campaign", "contact.campaign", "TEXT", ()),
    ("Deal Value", "contact.deal_value", "MONETORY", ()),
    ("Consent", "contact.consent", "CHECKBOX", ("Email", "SMS", "Phone")),
    ("Preferred Channel", "contact.preferred_channel", "RADIO", ("Email", "Phone", "SMS")),
)

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})$")
_BIRTH = re.compile(r"^(\d{4})[/.\-_](\d{2})[/.\-_](\d{2})$|^(\d{2})[/.\-_](\d{2})[/.\-_](\d{4})$")


@lru_cache(maxsize=8192)
def e164(text: str, region: str | None) -> str | None:
    """`text` as E.164, None when no valid number; `region` reads a number without "+"."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def clean_tags(tags: list[str]) -> list[str]:
    """GHL lower-cases tags on save; blanks and repeats vanish."""
    result: list[str] = []
    for tag in tags:
        folded = tag.strip().lower()
        if folded and folded not in result:
            result.append(folded)
    return result


def birth_date(value: str | None) -> str | None:
    """Any of the DTO's eight formats (already checked) as YYYY-MM-DD."""
    if not value:
        return None
    match = _BIRTH.match(value)
    if match is None:
        raise bad_request("dateOfBirth is not a valid date")
    year, month, day = (
        (match[1], match[2], match[3]) if match[1] else (match[6], match[4], match[5])
    )
    try:
        return datetime(int(year), int(month), int(day)).date().isoformat()
    except ValueError as exc:
        raise bad_request("dateOfBirth is not a valid date") from exc


def custom_field_value(definition: dict[str, Any], value: Any) -> Any:
    """The value stored for a custom field, coerced by dataType; None clears the field."""
    if value is None or value == "" or value == []:
        return None
    data_type = definition["dataType"]
    options = definition.get("picklistOptions", [])
    problem = f"Invalid value for custom field {definition['name']!r} ({data_type})"
    if data_type in {"TEXT", "LARGE_TEXT"}:
        if isinstance(value, str):
            return value
    elif data_type in {"NUMERICAL", "MONETORY"}:
        number = value
        if isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                number = None
        if (
            isinstance(number, (int, float))
            and not isinstance(number, bool)
            and math.isfinite(number)
        ):
            return int(number) if float(number).is_integer() else number
    elif data_type in {"SINGLE_OPTIONS", "RADIO"}:
        if isinstance(value, str) and value in options:
            return value
    elif data_type in {"MULTIPLE_OPTIONS", "CHECKBOX"}:
        if isinstance(value, list) and all(item in options for item in value):
            return list(dict.fromkeys(value))
    elif (
        data_type == "DATE"
        and isinstance(value, str)
        and (_DATE.match(value) or _DATE_TIME.match(value))
    ):
        return value
    raise bad_request(problem)
