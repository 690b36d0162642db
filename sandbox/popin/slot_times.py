"""Popin's slot times: `Wed, 24 Sep 2025 01:15 PM`, written and checked to the letter."""

from __future__ import annotations

import re
from datetime import datetime

# English names, whatever the process locale: the documented format is `%a, %d %b %Y %I:%M %p`.
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
TIME_FORMAT = re.compile(
    rf"^(?P<day>{'|'.join(DAYS)}), (?P<dd>\d{{2}}) (?P<mon>{'|'.join(MONTHS)}) (?P<yyyy>\d{{4}}) "
    r"(?P<hh>0[1-9]|1[0-2]):(?P<mm>[0-5]\d) (?P<ampm>AM|PM)$"
)


def slot_date(moment: datetime) -> str:
    """`Wed, 24 Sep 2025`, the `date` of an availability entry."""
    return f"{DAYS[moment.weekday()]}, {moment.day:02d} {MONTHS[moment.month - 1]} {moment.year}"


def slot_clock(moment: datetime) -> str:
    """`01:15 PM`, one entry of an availability's `slots`."""
    hour = moment.hour % 12 or 12
    return f"{hour:02d}:{moment.minute:02d} {'AM' if moment.hour < 12 else 'PM'}"


def slot_time(moment: datetime) -> str:
    """The exact string `/schedule` takes: date, space, clock."""
    return f"{slot_date(moment)} {slot_clock(moment)}"


def well_formed(time: str) -> bool:
    """Exactly `%a, %d %b %Y %I:%M %p` in English, naming a real date and its weekday."""
    match = TIME_FORMAT.match(time)
    if not match:
        return False
    try:
        day = datetime(
            int(match["yyyy"]), MONTHS.index(match["mon"]) + 1, int(match["dd"])
        ).weekday()
    except ValueError:
        return False
    return DAYS[day] == match["day"]
