"""Popin's slot strings (`Thu, 25 Sep 2025 03:15 PM`) and its `/slots` answer, read and written."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# English names whatever the process locale (strftime's %a and %b follow LC_TIME).
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DATE = re.compile(rf"^({'|'.join(DAYS)}), (\d{{2}}) ({'|'.join(MONTHS)}) (\d{{4}})$")
_CLOCK = re.compile(r"^(0[1-9]|1[0-2]):([0-5]\d) (AM|PM)$")


class SlotsUnreadable(ValueError):
    """The /slots answer does not have the documented shape."""


def format_slot(moment: datetime, zone: ZoneInfo) -> str:
    """`Thu, 25 Sep 2025 03:15 PM`: `%a, %d %b %Y %I:%M %p` in English, in `zone`."""
    local = moment.astimezone(zone)
    hour = local.hour % 12 or 12
    return (
        f"{DAYS[local.weekday()]}, {local.day:02d} {MONTHS[local.month - 1]} {local.year} "
        f"{hour:02d}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"
    )


def parse_slot(date: str, clock: str, zone: ZoneInfo) -> datetime:
    """The aware moment of one availability entry; SlotsUnreadable when malformed."""
    date_match, clock_match = _DATE.match(date), _CLOCK.match(clock)
    if date_match is None or clock_match is None:
        raise SlotsUnreadable("a slot does not have the documented date or time format")
    hour = int(clock_match[1]) % 12 + (12 if clock_match[3] == "PM" else 0)
    try:
        moment = datetime(
            int(date_match[4]),
            MONTHS.index(date_match[3]) + 1,
            int(date_match[2]),
            hour,
            int(clock_match[2]),
        ).replace(tzinfo=zone)
    except ValueError as exc:
        raise SlotsUnreadable("a slot names a date that does not exist") from exc
    return moment


def parse_slot_text(text: str, zone: ZoneInfo) -> datetime:
    """The moment of a whole `/schedule` time string; SlotsUnreadable when malformed."""
    rest, _, meridiem = text.rpartition(" ")
    date, _, clock = rest.rpartition(" ")
    return parse_slot(date, f"{clock} {meridiem}", zone)


def parse_availability(body: Any) -> tuple[ZoneInfo, list[datetime]]:
    """The slots' timezone and every listed slot, sorted, from a `GET /slots` body."""
    if not isinstance(body, dict) or not isinstance(body.get("availability"), list):
        raise SlotsUnreadable("the /slots answer has no availability list")
    try:
        zone = ZoneInfo(str(body.get("timezone")))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SlotsUnreadable("the /slots answer names an unknown timezone") from exc
    moments = []
    for entry in body["availability"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("slots"), list):
            raise SlotsUnreadable("an availability entry has no slots list")
        for clock in entry["slots"]:
            moments.append(parse_slot(str(entry.get("date")), str(clock), zone))
    return zone, sorted(set(moments))


def as_aware(moment: datetime, zone: ZoneInfo) -> datetime:
    """Naive date-times are read in the slots' timezone."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)
