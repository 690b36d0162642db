"""Popl's search body: strict validation, the time window and the other filters."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from typing import Any

from sandbox.popl.errors import bad_request
from sandbox.popl.leads import LEAD_SOURCES, iso_ms

SCOPES = ("teamId", "subteamIds", "assignedMemberIds")
FILTER_KEYS = {
    *SCOPES,
    "startTime",
    "endTime",
    "tagIds",
    "campaignIds",
    "leadSource",
    "exported",
    "leadEntries",
    "hasEmail",
}
BODY_KEYS = {"filters", "query", "sort", "cursor", "includeDefaultLeads"}
ISO_WITH_OFFSET = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$"
)


def parse_iso(value: object, field: str) -> datetime:
    """An ISO-8601 timestamp with an offset; naive or malformed values are a 400."""
    if not isinstance(value, str) or not ISO_WITH_OFFSET.match(value):
        raise bad_request(f"filters.{field} must be an ISO-8601 date-time with an offset")
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise bad_request(f"filters.{field} is not a valid date-time") from exc


def int_list(value: object, field: str) -> list[int]:
    """`value` when it is a non-empty list of integers; a 400 naming `filters.field` if not."""
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        raise bad_request(f"filters.{field} must be a non-empty list of integers")
    return value


def past_the_window(query: SearchQuery, lead: dict[str, Any], ascending: bool) -> bool:
    """Whether a walk in this direction has left the time window for good."""
    captured = lead["systemFields"]["captureDatetime"]
    if ascending:
        return query.end_key is not None and captured > query.end_key
    return query.start_key is not None and captured < query.start_key


class SearchQuery:
    """A validated search body."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.filters: dict[str, Any] = body["filters"]
        self.cursor: str | None = body.get("cursor")
        sort = body.get("sort") or {"field": "timestamp", "direction": "DESC"}
        self.ascending = sort.get("direction", "DESC") == "ASC"
        self.include_default = bool(body.get("includeDefaultLeads", False))
        self.query: list[dict[str, Any]] = body.get("query") or []
        self.start: datetime | None = None
        self.end: datetime | None = None
        if "startTime" in self.filters:
            self.start = parse_iso(self.filters["startTime"], "startTime")
        if "endTime" in self.filters:
            self.end = parse_iso(self.filters["endTime"], "endTime")
        self.start_key = iso_ms(self.start) if self.start else None
        self.end_key = iso_ms(self.end) if self.end else None
        canonical = {k: v for k, v in body.items() if k != "cursor"}
        self.fingerprint = hashlib.sha256(
            json.dumps(canonical, sort_keys=True).encode()
        ).hexdigest()[:16]

    @classmethod
    def parse(cls, body: Any) -> SearchQuery:
        """Validate strictly: unknown keys, wrong types and scope mistakes are a 400."""
        if not isinstance(body, dict):
            raise bad_request("body must be a JSON object")
        unknown = set(body) - BODY_KEYS
        if unknown:
            raise bad_request(f"unknown body fields: {sorted(unknown)}")
        filters = body.get("filters")
        if not isinstance(filters, dict):
            raise bad_request("filters is required")
        unknown = set(filters) - FILTER_KEYS
        if unknown:
            raise bad_request(f"unknown filters: {sorted(unknown)}")
        scopes = [s for s in SCOPES if s in filters]
        if len(scopes) != 1:
            raise bad_request(
                "filters must contain exactly one of teamId, subteamIds, assignedMemberIds"
            )
        if "teamId" in filters:
            team = filters["teamId"]
            if not isinstance(team, int) or isinstance(team, bool):
                raise bad_request("filters.teamId must be an integer")
        for field in ("subteamIds", "assignedMemberIds", "tagIds", "campaignIds"):
            if field in filters:
                int_list(filters[field], field)
        if "leadSource" in filters:
            sources = filters["leadSource"]
            if not isinstance(sources, list) or not all(s in LEAD_SOURCES for s in sources):
                raise bad_request(f"filters.leadSource must be a list of {', '.join(LEAD_SOURCES)}")
        for field in ("exported", "hasEmail"):
            if field in filters and not isinstance(filters[field], bool):
                raise bad_request(f"filters.{field} must be a boolean")
        if "leadEntries" in filters and not isinstance(filters["leadEntries"], str):
            raise bad_request("filters.leadEntries must be a string")
        sort = body.get("sort")
        if sort is not None and (
            not isinstance(sort, dict)
            or sort.get("field") != "timestamp"
            or sort.get("direction", "DESC") not in {"ASC", "DESC"}
            or set(sort) - {"field", "direction"}
        ):
            raise bad_request("sort must be {field: timestamp, direction: ASC|DESC}")
        cursor = body.get("cursor")
        if cursor is not None and not isinstance(cursor, str):
            raise bad_request("cursor must be a string or null")
        if "includeDefaultLeads" in body and not isinstance(body["includeDefaultLeads"], bool):
            raise bad_request("includeDefaultLeads must be a boolean")
        query = body.get("query")
        if query is not None and (
            not isinstance(query, list)
            or not all(
                isinstance(q, dict)
                and isinstance(q.get("fields"), list)
                and isinstance(q.get("value"), str)
                and q.get("match", "FUZZY") in {"FUZZY", "EXACT"}
                for q in query
            )
        ):
            raise bad_request("query must be a list of {fields, value, match: FUZZY|EXACT}")
        return cls(body)

    def in_time(self, lead: dict[str, Any], start_inclusive: bool) -> bool:
        """Whether the capture time is inside startTime / endTime (endTime inclusive)."""
        captured = lead["systemFields"]["captureDatetime"]
        if self.start_key is not None:
            exact = self.start is not None and self.start.microsecond % 1000 == 0
            if captured < self.start_key or (
                captured == self.start_key and exact and not start_inclusive
            ):
                return False
        return self.end_key is None or captured <= self.end_key

    def matches(self, lead: dict[str, Any], members: set[int]) -> bool:
        """Every non-time filter."""
        f = self.filters
        system = lead["systemFields"]
        if not members.intersection(lead["assignedMembers"]):
            return False
        if lead.get("_default") and not self.include_default:
            return False
        if "leadSource" in f and lead.get("leadSource") not in f["leadSource"]:
            return False
        if "campaignIds" in f and system.get("campaignId") not in f["campaignIds"]:
            return False
        if "tagIds" in f and not {t["tagId"] for t in lead.get("tags", [])} & set(f["tagIds"]):
            return False
        if "hasEmail" in f and bool(system.get("email")) != f["hasEmail"]:
            return False
        if f.get("exported"):
            return False  # nothing in the sandbox has been exported
        return all(self._query_matches(q, system) for q in self.query)

    @staticmethod
    def _query_matches(clause: dict[str, Any], system: dict[str, Any]) -> bool:
        value = clause["value"].casefold()
        texts = [str(system.get(field) or "").casefold() for field in clause["fields"]]
        if clause.get("match", "FUZZY") == "EXACT":
            return value in texts
        return any(value in text for text in texts)
