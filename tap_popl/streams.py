"""One class per Popl endpoint the tap reads."""

from __future__ import annotations

import typing as t
from datetime import datetime, timedelta
from http import HTTPStatus

import requests
from singer_sdk.exceptions import FatalAPIError
from typing_extensions import override

from leadkit.errors import describe_response
from leadkit.responses import safe_reason
from leadkit.retry import is_retriable_status
from leadkit.tapstream import null_replication_values_reported_by_caller
from leadkit.timestamps import format_instant, parse_instant, parse_start_date
from tap_popl.capture import EmittedEdge, MalformedCaptureTimes
from tap_popl.client import PoplStream

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context
    from singer_sdk.streams.rest import HTTPRequest, PageContext

DEFAULT_CURSOR_RESTARTS = 3
DEFAULT_LOOKBACK_WINDOW_MINUTES = 1440
DEFAULT_INCLUDE_DEFAULT_LEADS = True
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


class CursorRefused(FatalAPIError):
    """Popl refused a page cursor (expired, or its position deleted): search again."""

    def __init__(self, response: requests.Response) -> None:
        self.described = describe_response("Popl", response)
        self.reason = safe_reason(response)
        said = f"; Popl said: {self.reason}" if self.reason else ""
        super().__init__(f"{self.described}: the page cursor was refused{said}")

    def gave_up(self, restarts: int) -> FatalAPIError:
        """The error that ends the run once restarts are used up."""
        said = f" Popl said: {self.reason}" if self.reason else ""
        return FatalAPIError(
            f"{self.described}: the page cursor was refused again after {restarts} new "
            f"search(es) from the last emitted capture time (setting `cursor_restarts`).{said}"
        )


class LeadsStream(PoplStream):
    """Event leads, oldest capture first, re-read over a lookback window each run."""

    name = "leads"
    path = "/leads/search"
    http_method = "POST"
    primary_keys = ("leadId",)
    replication_key = "captured_at"
    records_jsonpath = "$.data.leads[*]"
    #: Pages come sorted by capture time, so STATE can be saved mid-run.
    state_before_each_page = True

    _window_start: datetime | None = None
    _cursor_sent: str | None = None
    _malformed: MalformedCaptureTimes | None = None

    def search_window_start(self, context: Context | None) -> datetime | None:
        """Bookmark minus the lookback window, never before `start_date`."""
        floor = self.config.get("start_date")
        start = parse_start_date(floor) if floor else None
        # The tap drops a bookmark that does not parse as it loads the state.
        bookmark = parse_instant(self.get_context_state(context).get("replication_key_value"))
        if bookmark is not None:
            minutes = self.config.get("lookback_window_minutes", DEFAULT_LOOKBACK_WINDOW_MINUTES)
            lookback = timedelta(minutes=int(minutes))
            rewound = bookmark - lookback
            start = max(rewound, start) if start else rewound
        if start is None:
            return None
        # The docs don't say whether startTime is inclusive; capture times carry
        # milliseconds, so one millisecond earlier makes it inclusive either way.
        return start - timedelta(milliseconds=1)

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Leads of one search; a refused cursor starts a new one at the last capture time."""
        self._window_start = self.search_window_start(context)
        self._malformed = MalformedCaptureTimes()
        edge = EmittedEdge()
        allowed = int(self.config.get("cursor_restarts", DEFAULT_CURSOR_RESTARTS))
        restarts = 0
        try:
            with null_replication_values_reported_by_caller():
                while True:
                    try:
                        for lead in super().get_records(context):
                            if not edge.seen(lead):
                                yield lead
                                edge.emitted(lead)
                        return
                    except CursorRefused as refused:
                        if restarts >= allowed:
                            raise refused.gave_up(restarts) from refused
                        restarts += 1
                        self.logger.warning(
                            "%s; searching again from the last emitted capture time "
                            "(restart %d of %d)",
                            refused,
                            restarts,
                            allowed,
                        )
                        self._window_start = edge.restart_from() or self._window_start
        finally:
            self._malformed.report(self.logger)

    @override
    def validate_response(self, response: requests.Response) -> None:
        """A 4xx to a page that carried a cursor means the cursor was refused."""
        status = response.status_code
        if (
            self._cursor_sent is not None
            and HTTPStatus.BAD_REQUEST <= status < HTTPStatus.INTERNAL_SERVER_ERROR
            and status not in (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN)
            and not is_retriable_status(status)
        ):
            raise CursorRefused(response)
        super().validate_response(response)

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
            filters["startTime"] = format_instant(self._window_start)
        if config.get("lead_sources"):
            filters["leadSource"] = list(config["lead_sources"])
        return {
            "filters": filters,
            "sort": {"field": "timestamp", "direction": "ASC"},
            "cursor": cursor,
            "includeDefaultLeads": bool(
                config.get("include_default_leads", DEFAULT_INCLUDE_DEFAULT_LEADS)
            ),
        }

    @override
    def get_http_request(self, *, page: PageContext) -> HTTPRequest:
        """POST the search body; the cursor is the only thing that changes between pages."""
        self._cursor_sent = page.next_page_token
        return self.posted(page, self.search_body(page.next_page_token))

    @override
    def post_process(
        self, row: dict[str, t.Any], context: Context | None = None
    ) -> dict[str, t.Any] | None:
        """Lift the capture time and common contact fields; keep everything else as is."""
        malformed = self._malformed or MalformedCaptureTimes()
        malformed.lift(row)
        system = row.get("systemFields") or {}
        for field, source in LIFTED_FIELDS.items():
            row[field] = system.get(source)
        row["phone"] = first_phone(row)
        return row
