"""The input contract turned into Popin's capture body, and the key that identifies a person."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from leadkit.emails import is_email
from leadkit.phones import split_calling_code
from leadkit.text import clean_text
from leadkit.timestamps import parse_instant
from leadkit.writer.outcome import Reject

_ZONE_SUFFIX = re.compile(r"(?:[Zz]|[+-]\d{2}:?\d{2})$")

#: Record properties the target understands; anything else is named once in the summary.
CONTRACT = frozenset(
    {
        "name",
        "firstName",
        "lastName",
        "mobile",
        "phone",
        "email",
        "group",
        "pincode",
        "pin_code",
        "country",
        "agent",
        "campaign",
        "schedule_at",
    }
)
_CALLING_CODE = re.compile(r"^\+?[1-9]\d{0,2}$")


@dataclass(frozen=True)
class Lead:
    """One record ready for Popin: who they are, the capture body, and when to book."""

    key: str  # the person: +<calling code><national mobile>
    body: dict[str, Any]
    schedule_at: datetime | None


def is_calling_code(value: object) -> bool:
    """`"91"`, `"+44"` or `1`: a plausible country calling code."""
    return not isinstance(value, bool) and bool(_CALLING_CODE.match(str(value).strip()))


def _name(record: dict[str, Any]) -> str:
    name = clean_text(record.get("name"))
    if name is None:
        parts = [clean_text(record.get("firstName")), clean_text(record.get("lastName"))]
        name = " ".join(p for p in parts if p) or None
    if name is None:
        raise Reject("no name")
    return name


def _mobile(record: dict[str, Any], default_country_code: str | None) -> tuple[str, str]:
    raw = record.get("mobile") if record.get("mobile") not in (None, "") else record.get("phone")
    if raw in (None, ""):
        raise Reject("no mobile")
    country = record.get("country")
    if country in (None, ""):
        country = default_country_code
    elif not is_calling_code(country):
        raise Reject("invalid country calling code")
    split = split_calling_code(raw, str(country).strip() if country is not None else None)
    if split is None:
        raise Reject("unparseable mobile")
    return split


def _agent(value: object) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not str(value).strip().isdigit():
        raise Reject("invalid agent")
    return int(str(value).strip())


def _campaign(default: object, value: object) -> dict[str, Any] | None:
    if value is not None and not isinstance(value, dict):
        raise Reject("invalid campaign")
    merged = {**(default if isinstance(default, dict) else {}), **(value or {})}
    return merged or None


def parse_schedule_at(value: object) -> datetime | None:
    """An ISO date-time (naive ones are read later in the slots' timezone), or None."""
    if value is None or value == "":
        return None
    moment = parse_instant(value)
    if moment is None:
        raise Reject("invalid schedule_at")
    if not _ZONE_SUFFIX.search(str(value).strip()):
        # The shared reader takes a zoneless time as UTC; here it is a wall-clock time.
        return moment.replace(tzinfo=None)
    return moment


def to_lead(record: dict[str, Any], config: dict[str, Any]) -> Lead:
    """Build the capture body from a record and the defaults; Reject when it cannot be sent."""
    name = _name(record)
    country, mobile = _mobile(record, config.get("default_country_code"))
    body: dict[str, Any] = {"name": name, "mobile": mobile, "country": country}
    email = clean_text(record.get("email"))
    if email is not None:
        if not is_email(email):
            raise Reject("invalid email")
        body["email"] = email
    group = clean_text(record.get("group")) or clean_text(config.get("group"))
    if group is not None:
        body["group"] = group
    pincode = clean_text(record.get("pincode")) or clean_text(record.get("pin_code"))
    if pincode is not None:
        body["pincode"] = pincode
    agent = _agent(record.get("agent")) if record.get("agent") is not None else None
    agent = agent if agent is not None else _agent(config.get("agent"))
    if agent is not None:
        body["agent"] = agent
    if config.get("native") is not None:
        body["native"] = bool(config["native"])
    campaign = _campaign(config.get("campaign"), record.get("campaign"))
    if campaign is not None:
        body["campaign"] = campaign
    return Lead(
        key=f"+{country}{mobile}",
        body=body,
        schedule_at=parse_schedule_at(record.get("schedule_at")),
    )
