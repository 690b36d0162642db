"""One class per GHL endpoint the tap reads."""

from __future__ import annotations

import logging
import typing as t
from datetime import datetime, timedelta, timezone

from singer_sdk.pagination import BaseAPIPaginator, OffsetPaginator
from typing_extensions import override

from leadkit.errors import ConfigError
from leadkit.responses import json_body
from leadkit.tapstream import null_replication_values_reported_by_caller
from leadkit.text import as_text
from leadkit.timestamps import format_instant, parse_instant, parse_start_date
from tap_ghl.client import GhlStream

if t.TYPE_CHECKING:
    import requests
    from singer_sdk.helpers.types import Context
    from singer_sdk.streams.rest import HTTPRequest, PageContext

MAX_PAGE_LIMIT = 500
#: Search lags writes by a few seconds (GHL documents no bound; the sandbox's default is
#: 3 s). Two minutes is far past that and past a plausible clock skew, and only delays a
#: contact updated in the last two minutes to the next run.
DEFAULT_SEARCH_LAG_SECONDS = 120
DEFAULT_LOOKBACK_WINDOW_MINUTES = 10
#: Contacts per business-contacts page (the sandbox refuses more, as GHL may).
BUSINESS_PAGE_SIZE = 100
#: Ids named in the one warning per run about unparseable `dateUpdated` values.
NAMED_AT_MOST = 50
#: In a child stream's state: the `dateUpdated` of the last contact whose items it emitted.
CONTACTS_THROUGH = "contacts_through"
#: `contacts_through` before the first complete read: every contact is still to be read.
EVERY_CONTACT = "1970-01-01T00:00:00.000Z"


class SearchAfterPaginator(BaseAPIPaginator["list[t.Any] | None"]):
    """Follows the `searchAfter` of each full page's last contact; a short page is the end."""

    def __init__(self, page_limit: int) -> None:
        super().__init__(None)
        self.page_limit = page_limit

    @override
    def has_more(self, response: requests.Response) -> bool:
        contacts = json_body(response).get("contacts") or []
        return len(contacts) >= self.page_limit

    @override
    def get_next(self, response: requests.Response) -> list[t.Any] | None:
        last = (json_body(response).get("contacts") or [{}])[-1]
        after = last.get("searchAfter")
        if isinstance(after, list) and after:
            return after
        return [last.get("dateUpdated"), last.get("id")]


class MalformedDates:
    """Contacts whose `dateUpdated` did not parse: counted, named once per run by id."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.count = 0

    def add(self, contact_id: object) -> None:
        """Count one; remember its id if there is room."""
        self.count += 1
        if len(self.ids) < NAMED_AT_MOST:
            self.ids.append(str(contact_id))

    def report(self, logger: logging.Logger) -> None:
        """One warning for the run; the values themselves are never logged."""
        if self.count:
            logger.warning(
                "%d contact(s) had a dateUpdated that is not an ISO-8601 date-time: emitted "
                "with `dateUpdated` null and the value in `dateUpdated_raw`; they do not move "
                "the bookmark. id: %s%s",
                self.count,
                ", ".join(self.ids),
                f" and {self.count - len(self.ids)} more" if self.count > len(self.ids) else "",
            )


class CustomFieldsStream(GhlStream[None]):
    """The location's contact custom-field definitions (FULL_TABLE)."""

    name = "custom_fields"
    path = "/locations/{location_id}/customFields"
    primary_keys = ("id",)
    records_jsonpath = "$.customFields[*]"

    _definitions: list[dict[str, t.Any]] | None = None

    @override
    def get_url(self, context: Context | None) -> str:
        """The path carries the configured location."""
        return f"{self.url_base}/locations/{str(self.config['location_id']).strip()}/customFields"

    @override
    def get_url_params(self, context: Context | None, next_page_token: None) -> dict[str, str]:
        """Contact fields only."""
        return {"model": "contact"}

    def definitions(self) -> list[dict[str, t.Any]]:
        """The definitions, requested once per run whichever stream needs them first."""
        if self._definitions is None:
            self._definitions = [dict(item) for item in self.request_records(None)]
        return self._definitions

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """The (shared) definitions."""
        yield from (dict(item) for item in self.definitions())


class ContactsStream(GhlStream["list[t.Any] | None"]):
    """Contacts changed since the bookmark, oldest change first, via POST /contacts/search."""

    name = "contacts"
    path = "/contacts/search"
    http_method = "POST"
    primary_keys = ("id",)
    replication_key = "dateUpdated"
    records_jsonpath = "$.contacts[*]"
    #: Sorted by dateUpdated ascending, so STATE can be written between pages.
    state_before_each_page = True

    _window: tuple[datetime | None, datetime] | None = None
    _malformed: MalformedDates | None = None
    _fields: dict[str, dict[str, t.Any]] | None = None

    @property
    def page_limit(self) -> int:
        """Contacts per page (at most 500, GHL's maximum)."""
        return int(self.config.get("page_limit") or MAX_PAGE_LIMIT)

    def window(self, context: Context | None, now: datetime) -> tuple[datetime | None, datetime]:
        """(from, to) of this run's search: bookmark minus lookback (never before
        `start_date`) up to now minus the search lag, so that the bookmark never gets
        closer to now than the lag and no write search has not shown yet is passed."""
        floor = self.config.get("start_date")
        start = parse_start_date(floor) if floor else None
        bookmark = parse_instant(self.get_context_state(context).get("replication_key_value"))
        for child in self.selected_children():
            through = parse_instant(child.stream_state.get(CONTACTS_THROUGH))
            if through is None:
                # The child's items are complete up to where this search starts, no further.
                done = format_instant(bookmark) if bookmark else EVERY_CONTACT
                child.stream_state[CONTACTS_THROUGH] = done
            elif bookmark is not None:
                # A run stopped among its contacts: search again from its last finished one.
                bookmark = min(bookmark, through)
        if bookmark is not None:
            minutes = self.config.get("lookback_window_minutes", DEFAULT_LOOKBACK_WINDOW_MINUTES)
            rewound = bookmark - timedelta(minutes=int(minutes))
            start = max(rewound, start) if start else rewound
        lag = float(self.config.get("search_lag_seconds", DEFAULT_SEARCH_LAG_SECONDS))
        return start, now - timedelta(seconds=lag)

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Every contact of the window; malformed dates are reported once at the end."""
        self.services.emitted.read = True
        self._window = self.window(context, datetime.now(timezone.utc))
        self._malformed = MalformedDates()
        custom_fields = t.cast("CustomFieldsStream", self.vendor_tap.streams["custom_fields"])
        self._fields = {str(item.get("id")): item for item in custom_fields.definitions()}
        try:
            with null_replication_values_reported_by_caller():
                yield from super().get_records(context)
        finally:
            self._malformed.report(self.logger)

    def search_body(self, search_after: list[t.Any] | None) -> dict[str, t.Any]:
        """The search: dateUpdated in the window, ascending, `searchAfter` the last page."""
        start, end = self._window or (None, datetime.now(timezone.utc))
        bounds = {"lte": format_instant(end)}
        if start is not None:
            bounds["gte"] = format_instant(start)
        body: dict[str, t.Any] = {
            "locationId": str(self.config["location_id"]).strip(),
            "pageLimit": self.page_limit,
            "filters": [{"field": "dateUpdated", "operator": "range", "value": bounds}],
            "sort": [{"field": "dateUpdated", "direction": "asc"}],
        }
        if search_after:
            body["searchAfter"] = search_after
        return body

    @override
    def get_http_request(self, *, page: PageContext) -> HTTPRequest:
        """POST the search body; only `searchAfter` changes between pages."""
        return self.posted(page, self.search_body(page.next_page_token))

    @override
    def get_new_paginator(self) -> SearchAfterPaginator:
        """Pages follow `searchAfter`."""
        return SearchAfterPaginator(self.page_limit)

    @override
    def post_process(
        self, row: dict[str, t.Any], context: Context | None = None
    ) -> dict[str, t.Any] | None:
        """A UTC `dateUpdated` (null when it does not parse), custom fields with key and name."""
        row.pop("searchAfter", None)
        sent = row.get("dateUpdated")
        moment = parse_instant(sent)
        if moment is not None and self._window and moment > self._window[1]:
            return None  # past the lag horizon: the next run reads it
        row["dateUpdated"] = format_instant(moment) if moment else None
        row["dateUpdated_raw"] = None if moment else as_text(sent)
        if moment is None and self._malformed is not None:
            self._malformed.add(row.get("id"))
        fields = self._fields or {}
        values = row.get("customFields")
        if isinstance(values, list):
            row["customFields"] = [
                {
                    **item,
                    "key": fields.get(str(item.get("id")), {}).get("fieldKey"),
                    "name": fields.get(str(item.get("id")), {}).get("name"),
                }
                if isinstance(item, dict)
                else item
                for item in values
            ]
        if row.get("id") is not None:
            self.services.emitted.add(str(row["id"]), row["dateUpdated"])
        return row

    def selected_children(self) -> list[ContactChildStream]:
        """The selected streams read per emitted contact."""
        streams = self.vendor_tap.streams.values()
        return [s for s in streams if isinstance(s, ContactChildStream) and s.selected]


class ContactChildStream(GhlStream[None]):
    """A per-contact list, read for each contact the `contacts` stream emitted in this run
    (the tap syncs `contacts` first and keeps their ids in `EmittedContacts`)."""

    primary_keys = ("id",)
    #: One state for the stream, not one per contact.
    state_partitioning_keys: t.ClassVar[list[str]] = []

    @property
    @override
    def partitions(self) -> list[dict[str, t.Any]]:
        """One partition per contact emitted in this run, in the order they were emitted."""
        return [{"contact_id": contact_id} for contact_id in self.services.emitted.ids()]

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """The contact's items; once all are emitted, STATE may say its `dateUpdated` is
        done, so that a run stopped among the contacts re-reads only from there."""
        if context is None:
            if not self.services.emitted.read:
                raise ConfigError(
                    f"`{self.name}` reads the items of the contacts the `contacts` stream "
                    "emits in the same run: select `contacts` too, or deselect it"
                )
            return  # no contact emitted in this run: nothing to read
        yield from super().get_records(context)
        date_updated = self.services.emitted.date_updated(str(context["contact_id"]))
        done = self.stream_state.get(CONTACTS_THROUGH)
        if date_updated is not None and (done is None or date_updated > done):
            self.stream_state[CONTACTS_THROUGH] = date_updated

    @override
    def post_process(
        self, row: dict[str, t.Any], context: Context | None = None
    ) -> dict[str, t.Any] | None:
        """Every item names its contact, even where GHL leaves it out."""
        if context and not row.get("contactId"):
            row["contactId"] = context["contact_id"]
        return row


class NotesStream(ContactChildStream):
    """GET /contacts/{contactId}/notes."""

    name = "notes"
    path = "/contacts/{contact_id}/notes"
    records_jsonpath = "$.notes[*]"


class TasksStream(ContactChildStream):
    """GET /contacts/{contactId}/tasks."""

    name = "tasks"
    path = "/contacts/{contact_id}/tasks"
    records_jsonpath = "$.tasks[*]"


class AppointmentsStream(ContactChildStream):
    """GET /contacts/{contactId}/appointments (`events`)."""

    name = "appointments"
    path = "/contacts/{contact_id}/appointments"
    records_jsonpath = "$.events[*]"


class BusinessContactsStream(GhlStream[int]):
    """GET /contacts/business/{businessId}: each configured business's contacts."""

    name = "business_contacts"
    path = "/contacts/business/{business_id}"
    primary_keys = ("id",)
    records_jsonpath = "$.contacts[*]"
    state_partitioning_keys: t.ClassVar[list[str]] = []

    @property
    @override
    def partitions(self) -> list[dict[str, t.Any]]:
        """One partition per business in `business_ids`."""
        return [{"business_id": str(b)} for b in self.config.get("business_ids") or []]

    @override
    def get_url_params(self, context: Context | None, next_page_token: int | None) -> dict:
        """The location, and the page as `skip` and `limit` (strings, as the spec types them)."""
        return {
            "locationId": str(self.config["location_id"]).strip(),
            "limit": str(BUSINESS_PAGE_SIZE),
            "skip": str(next_page_token or 0),
        }

    @override
    def get_new_paginator(self) -> OffsetPaginator:
        """`skip` moves by a full page; a short page is the last."""
        return BusinessContactsPaginator(0, BUSINESS_PAGE_SIZE)


class BusinessContactsPaginator(OffsetPaginator):
    """Offsets by full pages; a page shorter than `page_size` is the last."""

    @override
    def has_more(self, response: requests.Response) -> bool:
        return len(json_body(response).get("contacts") or []) >= self.page_size
