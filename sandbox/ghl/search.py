"""GHL's contact search: versions kept for the search lag, filters and sort keys."""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

from sandbox.ghl.errors import bad_request

SEARCH_OPERATORS = (
    "eq",
    "not_eq",
    "contains",
    "not_contains",
    "exists",
    "not_exists",
    "range",
)
RANGE_BOUNDS = ("gt", "gte", "lt", "lte")

# Per contact id: [visible_at, snapshot or None once deleted], oldest first.
Versions = dict[str, list[list[Any]]]


def record_version(
    versions: Versions, key: str, snapshot: dict[str, Any] | None, lag_s: float
) -> None:
    """Keep what a write made of contact `key`; search sees it `lag_s` seconds from now."""
    now = time.time()
    history = versions.setdefault(key, [])
    while len(history) > 1 and history[1][0] <= now:
        history.pop(0)  # superseded versions search can no longer see
    history.append([now + lag_s, snapshot])


def searchable(versions: Versions) -> list[dict[str, Any]]:
    """What search sees now: each contact as of its last write older than the lag."""
    now = time.time()
    result = []
    for history in versions.values():
        visible = [index for index, (at, _) in enumerate(history) if at <= now]
        if not visible:
            continue
        del history[: visible[-1]]
        if history[0][1] is not None:
            result.append(history[0][1])
    return result


def next_visible(versions: Versions, now: float) -> float:
    """When the next pending write becomes searchable (infinity when none is pending)."""
    return min(
        (at for history in versions.values() for at, _ in history if at > now),
        default=float("inf"),
    )


def flush(versions: Versions) -> None:
    """Make every pending write searchable now."""
    for history in versions.values():
        history[:] = [[0.0, history[-1][1]]]


def sort_key(field_name: str) -> Callable[[dict[str, Any]], tuple[bool, str]]:
    """Sort key on one field; contacts without it come last."""

    def key(contact: dict[str, Any]) -> tuple[bool, str]:
        value = contact.get(field_name)
        return value is None, str(value if value is not None else "")

    return key


def passes(contact: dict[str, Any], filters: list[dict[str, Any]]) -> bool:
    """Whether a contact meets every filter of a search body."""
    return matcher(filters)(contact)


def matcher(filters: list[dict[str, Any]]) -> Callable[[dict[str, Any]], bool]:
    """The test a search body's filters make of each contact (range bounds parsed once)."""
    for rule in filters:
        if rule["operator"] not in SEARCH_OPERATORS:
            raise bad_request(f"Unsupported filter operator {rule['operator']!r}")
    bounds = {
        index: range_bounds(rule.get("value"))
        for index, rule in enumerate(filters)
        if rule["operator"] == "range"
    }

    def test(contact: dict[str, Any]) -> bool:
        for index, rule in enumerate(filters):
            if index in bounds:
                if not in_range(contact.get(rule["field"]), bounds[index]):
                    return False
            elif not _passes_rule(contact, rule):
                return False
        return True

    return test


def _passes_rule(contact: dict[str, Any], rule: dict[str, Any]) -> bool:
    operator = rule["operator"]
    held = contact.get(rule["field"])
    wanted = rule.get("value")
    if rule["field"] == "email" and isinstance(wanted, str):
        held, wanted = contact.get("emailLowerCase"), wanted.lower()
    if operator in {"exists", "not_exists"}:
        return bool(held) == (operator == "exists")
    if isinstance(held, list):
        return (str(wanted).lower() in held) == (operator in {"eq", "contains"})
    if operator in {"eq", "not_eq"}:
        return (held == wanted) == (operator == "eq")
    found = isinstance(held, str) and str(wanted).lower() in held.lower()
    return found == (operator == "contains")


def _instant(value: object) -> datetime | None:
    return _parsed(value) if isinstance(value, str) else None


# Search re-reads every contact's stamp for each page: parsing each once keeps a search of
# 50,000 contacts fast.
@lru_cache(maxsize=200_000)
def _parsed(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def range_bounds(bounds: object) -> dict[str, datetime]:
    """A range filter's `{gt|gte|lt|lte: ISO date-time}`, parsed; 400 for another shape.

    Undocumented: the bounds must be ISO-8601 date-times (the harsher reading; a date alone
    or an epoch number is refused rather than guessed).
    """
    if not isinstance(bounds, dict) or not bounds or set(bounds) - set(RANGE_BOUNDS):
        raise bad_request("range value must be an object of gt, gte, lt and lte")
    limits = {name: _instant(value) for name, value in bounds.items()}
    parsed = {name: moment for name, moment in limits.items() if moment is not None}
    if len(parsed) != len(limits):
        raise bad_request("range bounds must be ISO 8601 date-times")
    return parsed


def in_range(held: object, limits: dict[str, datetime]) -> bool:
    """Whether a date field lies within parsed range bounds (no date: outside)."""
    moment = _instant(held)
    if moment is None:
        return False
    low, high = limits.get("gt"), limits.get("lt")
    low_eq, high_eq = limits.get("gte"), limits.get("lte")
    return (
        (low is None or moment > low)
        and (low_eq is None or moment >= low_eq)
        and (high is None or moment < high)
        and (high_eq is None or moment <= high_eq)
    )


def position_after(contacts: list[dict[str, Any]], field_name: str, after: list[Any]) -> int:
    """Index of the first contact past a `searchAfter` of `[sort value, id]`.

    Like Elasticsearch's search_after, the position comes from the values, not from a stored
    contact: a contact updated or deleted since the previous page does not break paging.
    """
    wanted = (after[0] is None, str(after[0] if after[0] is not None else ""), str(after[-1]))

    def position(contact: dict[str, Any]) -> tuple[bool, str, str]:
        value = contact.get(field_name)
        return value is None, str(value if value is not None else ""), contact["id"]

    # The contacts are sorted by exactly this key (ascending), so a binary search finds it.
    return bisect.bisect_right(contacts, wanted, key=position)
