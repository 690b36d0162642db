"""GHL's contact search: versions kept for the search lag, filters and sort keys."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sandbox.ghl.errors import bad_request

SEARCH_OPERATORS = ("eq", "not_eq", "contains", "not_contains", "exists", "not_exists")

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
    for rule in filters:
        operator = rule["operator"]
        if operator not in SEARCH_OPERATORS:
            raise bad_request(f"Unsupported filter operator {operator!r}")
        held = contact.get(rule["field"])
        wanted = rule.get("value")
        if rule["field"] == "email" and isinstance(wanted, str):
            held, wanted = contact.get("emailLowerCase"), wanted.lower()
        if operator in {"exists", "not_exists"}:
            ok = bool(held) == (operator == "exists")
        elif isinstance(held, list):
            ok = (str(wanted).lower() in held) == (operator in {"eq", "contains"})
        elif operator in {"eq", "not_eq"}:
            ok = (held == wanted) == (operator == "eq")
        else:
            found = isinstance(held, str) and str(wanted).lower() in held.lower()
            ok = found == (operator == "contains")
        if not ok:
            return False
    return True
