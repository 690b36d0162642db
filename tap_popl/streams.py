"""One class per Popl endpoint the tap reads."""

from __future__ import annotations

import typing as t
from datetime import datetime, timedelta, timezone

from singer_sdk.streams.rest import HTTPRequest, PageContext

from tap_popl.client import PoplStream

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

# Lifted to the top level so mappings need no knowledge of Popl's nesting.
LIFTED_FIELDS = {
    "email": "email",
    "first_name": "firstName",
    "last_name": "lastName",
    "full_name": "fullName",
    "company_name": "companyName",
    "job_title": "jobTitle",
    "note": "note",
}
# Where a phone might sit: the public reference was cut off before any phone field.
PHONE_FIELDS = ("phone", "phoneNumber", "mobilePhone", "workPhone")
PHONE_KEYS = ("number", "value", "phone", "phoneNumber")


def parse_timestamp(value: str) -> datetime:
    """An ISO-8601 timestamp; naive values are read as UTC."""
    moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def first_phone(lead: dict[str, t.Any]) -> str | None:
    """The first phone found in the lead, as captured (formats vary, local ones included)."""
    system = lead.get("systemFields") or {}
    for field in PHONE_FIELDS:
        if isinstance(system.get(field), str) and system[field].strip():
            return str(system[field])
    phones = lead.get("phones")
    for entry in phones if isinstance(phones, list) else []:
        if isinstance(entry, str) and entry.strip():
            return entry
        if isinstance(entry, dict):
            for key in PHONE_KEYS:
                if isinstance(entry.get(key), str) and entry[key].strip():
                    return str(entry[key])
    return None


class LeadsStream(PoplStream):
    """Event leads, oldest capture first, re-read over a lookback window each run."""

    name = "leads"
    path = "/leads/search"
    http_method = "POST"
    primary_keys = ("leadId",)
    replication_key = "captured_at"
    records_jsonpath = "$.data.leads[*]"

    _window_start: datetime | None = None

    @property
    def is_sorted(self) -> bool:
        """Pages come sorted by capture time, so state can be saved mid-run."""
        return True

    @property
    def check_sorted(self) -> bool:
        """The lookback overlap starts below the old bookmark by design: no sort check.

        The bookmark then follows the last emitted lead, so it never passes one not yet
        emitted, even if the run stops half-way.
        """
        return False

    def search_window_start(self, context: Context | None) -> datetime | None:
        """Bookmark minus the lookback window, never before `start_date`."""
        floor = self.config.get("start_date")
        start = parse_timestamp(str(floor)) if floor else None
        bookmark = self.get_context_state(context).get("replication_key_value")
        if bookmark:
            lookback = timedelta(minutes=int(self.config.get("lookback_window_minutes", 1440)))
            rewound = parse_timestamp(str(bookmark)) - lookback
            start = max(rewound, start) if start else rewound
        if start is None:
            return None
        # The docs don't say whether startTime is inclusive; capture times carry
        # milliseconds, so one millisecond earlier makes it inclusive either way.
        return start - timedelta(milliseconds=1)

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Fix the time window once per run: every page must repeat the same search."""
        self._window_start = self.search_window_start(context)
        yield from super().get_records(context)

    def search_body(self, cursor: str | None) -> dict[str, t.Any]:
        """The search request: one scope, the time window, ascending capture time."""
        config = self.config
        filters: dict[str, t.Any] = {}
        if config.get("team_id") is not None:
            filters["teamId"] = config["team_id"]
        elif config.get("subteam_ids"):
            filters["subteamIds"] = list(config["subteam_ids"])
        else:
            filters["assignedMemberIds"] = list(config["member_ids"])
        if self._window_start is not None:
            filters["startTime"] = self._window_start.isoformat(timespec="milliseconds")
        if config.get("lead_sources"):
            filters["leadSource"] = list(config["lead_sources"])
        return {
            "filters": filters,
            "sort": {"field": "timestamp", "direction": "ASC"},
            "cursor": cursor,
            "includeDefaultLeads": bool(config.get("include_default_leads", True)),
        }

    def get_http_request(self, *, page: PageContext) -> HTTPRequest:
        """POST the search body; the cursor is the only thing that changes between pages."""
        return HTTPRequest(
            url=self.get_url(page.stream_context),
            method=self.http_method,
            headers=self.http_headers,
            data=self.search_body(page.next_page_token),
        )

    def post_process(
        self, row: dict[str, t.Any], context: Context | None = None
    ) -> dict[str, t.Any] | None:
        """Lift the capture time and common contact fields; keep everything else as is."""
        system = row.get("systemFields") or {}
        row["captured_at"] = system.get("captureDatetime")
        for field, source in LIFTED_FIELDS.items():
            row[field] = system.get(source)
        row["phone"] = first_phone(row)
        return row
