"""ISO-8601 instants as the vendors send them, parsed one way by every connector."""

from __future__ import annotations

import re
from datetime import datetime, timezone

# Date, a `T`, a time and an optional zone. Epoch numbers, day-first dates and values with
# a space between date and time are refused: a vendor that sends them has changed format,
# and guessing would move a bookmark by hours or years.
_INSTANT = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:[Zz]|[+-]\d{2}:?\d{2})?"
)


def parse_instant(value: object) -> datetime | None:
    """An aware UTC datetime from an ISO-8601 instant (no zone: UTC), else None."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not _INSTANT.fullmatch(text):
        return None
    if text[-1] in "Zz":
        text = text[:-1] + "+00:00"
    date_part, _, rest = text.partition(text[10])
    # fromisoformat before Python 3.11 takes at most six fractional digits.
    rest = re.sub(r"(\.\d{6})\d+", r"\1", rest)
    try:
        moment = datetime.fromisoformat(f"{date_part}T{rest}")
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def parse_start_date(value: object) -> datetime | None:
    """`start_date` as an instant: an ISO-8601 date-time, or a date meaning its midnight UTC."""
    text = str(value).strip()
    return parse_instant(text) or (parse_instant(f"{text}T00:00:00Z") if len(text) == 10 else None)


def require_instant(value: object, what: str) -> datetime:
    """`parse_instant`, raising ValueError that names `what` (never the value itself)."""
    moment = parse_instant(value)
    if moment is None:
        raise ValueError(f"{what} is not an ISO-8601 date and time")
    return moment


def format_instant(moment: datetime) -> str:
    """`2019-10-10T10:10:58.389Z`: UTC, milliseconds, the form both taps' APIs use."""
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
