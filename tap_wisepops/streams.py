"""The Wisepops streams: contacts (incremental, tie-safe), wisepops and hooks (full table)."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import typing as t
import unicodedata
from datetime import datetime, timezone
from functools import cached_property, lru_cache

from singer_sdk.schema.source import StreamSchema
from typing_extensions import override

from leadkit.responses import json_body
from leadkit.timestamps import format_instant, parse_instant, parse_start_date, require_instant
from tap_wisepops.client import SCHEMAS, WisepopsStream
from tap_wisepops.pagination import (
    INCLUSIVE,
    CollectedAfterPaginator,
    ContactsPage,
    EmittedContacts,
    stamp_of,
)

if t.TYPE_CHECKING:
    import requests
    from singer_sdk.helpers.types import Context
    from singer_sdk.streams.rest import HTTPRequest, PageContext

#: Contacts per call: the API's maximum, and the default (every call counts against the quota).
MAX_PAGE_SIZE = 1000
# Form labels are free text. They are compared after case folding, accent stripping and
# turning every run of non-alphanumerics into one space ("E-mail" -> "e mail").
LIFTED_LABELS: dict[str, frozenset[str]] = {
    "email": frozenset(
        {"email", "e mail", "email address", "e mail address", "mail", "courriel", "your email"}
    ),
    "phone": frozenset(
        {
            "phone",
            "phone number",
            "mobile",
            "mobile phone",
            "mobile number",
            "telephone",
            "telephone number",
            "tel",
            "cell",
            "cell phone",
            "your phone",
        }
    ),
    "first_name": frozenset(
        {"first name", "firstname", "given name", "forename", "prenom", "vorname"}
    ),
    "last_name": frozenset(
        {"last name", "lastname", "surname", "family name", "nom", "nachname", "nom de famille"}
    ),
}
_COLUMN_OF = {variant: column for column, labels in LIFTED_LABELS.items() for variant in labels}
_NON_ALNUM = re.compile(r"[\W_]+")
# State keys next to the SDK's bookmark (see EmittedContacts).
KEYS_AT_BOOKMARK = "keys_at_bookmark"
BOOKMARK_COMPLETE = "bookmark_complete"
COLLECTED_AFTER_MODE = "collected_after_mode"
RESUME_AT = "resume_at"
BOOKMARK = "replication_key_value"
# Keys of malformed contacts named in the run's one warning; the count is always given.
NAMED_IN_WARNING = 20


@lru_cache(maxsize=4096)
def normalise_label(label: str) -> str:
    """`"E-mail"` -> `"e mail"`, `"Prénom"` -> `"prenom"`."""
    decomposed = unicodedata.normalize("NFKD", label.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_ALNUM.sub(" ", plain).strip()


def lift_fields(fields: dict[str, t.Any]) -> dict[str, str | None]:
    """The first non-blank value of each common field, found by its label variants."""
    lifted: dict[str, str | None] = dict.fromkeys(LIFTED_LABELS)
    for label, value in fields.items():
        column = _COLUMN_OF.get(normalise_label(label))
        if column is None or lifted[column] is not None:
            continue
        if isinstance(value, str) and value.strip():
            lifted[column] = value.strip()
    return lifted


def contact_key(record: dict[str, t.Any]) -> str:
    """`form_session` + `collected_at`, else a hash of (wisepop_id, collected_at, fields).

    A `collected_at` that does not parse takes part as sent.
    """
    raw = record.get("collected_at")
    collected_at = stamp_of(raw) or _as_text(raw)
    session = record.get("form_session")
    if session:
        return f"{session}/{collected_at}"
    canonical = json.dumps(
        [record.get("wisepop_id"), collected_at, record.get("fields") or {}],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def contact_record(row: dict[str, t.Any], stamp: str | None, key: str) -> dict[str, t.Any]:
    """The record of one contact: its key, its `collected_at` if it parses (else null, with
    the value as sent in `collected_at_raw`) and the lifted common fields."""
    raw = row.get("collected_at")
    fields = row.get("fields") or {}
    return {
        **row,
        "collected_at": stamp,
        "collected_at_raw": None if stamp or raw is None else _as_text(raw),
        "contact_key": key,
        "fields": fields,
        **lift_fields(fields),
    }


def warn_malformed(logger: logging.Logger, keys: list[str]) -> None:
    """One warning naming (a few of) the contacts whose `collected_at` does not parse."""
    if not keys:
        return
    named = ", ".join(keys[:NAMED_IN_WARNING])
    more = len(keys) - NAMED_IN_WARNING
    logger.warning(
        "contacts: %d contact(s) had a collected_at that is not an ISO-8601 instant; "
        "they were emitted with collected_at null (the value as sent is in "
        "collected_at_raw) and the bookmark ignores them. contact_key: %s%s",
        len(keys),
        named,
        f" and {more} more" if more > 0 else "",
    )


class ContactsStream(WisepopsStream[ContactsPage]):
    """GET /contacts: form submissions, oldest first, incremental on `collected_at`."""

    name = "contacts"
    path = "/contacts"
    primary_keys = ("contact_key",)
    replication_key = "collected_at"
    is_sorted = True
    schema = StreamSchema(SCHEMAS)

    _emitted: EmittedContacts | None = None
    #: Whether contacts were emitted since the last STATE this stream asked for.
    _unsaved: bool = False

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        #: Keys of contacts emitted this run whose `collected_at` does not parse.
        self.malformed: list[str] = []

    @property
    @override
    def partitions(self) -> list[dict] | None:
        """One partition (and bookmark) per configured popup, else none."""
        ids = self.config.get("wisepop_ids")
        return [{"wisepop_id": int(i)} for i in ids] if ids else None

    @cached_property
    def page_size(self) -> int:
        """Records per call (the maximum by default: calls are scarce)."""
        return int(self.config.get("page_size", MAX_PAGE_SIZE))

    @override
    def compare_start_date(self, value: str, start_date_value: str) -> str:
        """The later of bookmark and `start_date`; `start_date` if the bookmark is junk."""
        bookmark, start = parse_instant(value), parse_start_date(start_date_value)
        if bookmark is None or (start is not None and start > bookmark):
            return start_date_value
        return value

    @override
    def request_records(self, context: Context | None) -> t.Iterable[dict]:
        """Resume from the bookmark; remember whether the data was read to its end."""
        state = self.get_context_state(context)
        self._emitted = EmittedContacts(semantics=state.get(COLLECTED_AFTER_MODE))
        self._read_through: str | None = None
        self._start = self._starting_page(state)
        # A position inside a tie group is only good for the run right after it was saved.
        state.pop(RESUME_AT, None)
        try:
            yield from super().request_records(context)
        except Exception:
            # Keep what was emitted: a STATE now saves re-reading it (and the quota).
            self.finalize_state_progress_markers(state)
            raise
        finally:
            partitions = self.partitions
            if not partitions or context == partitions[-1]:
                self._warn_malformed()
        next_page = self._paginator.current_value
        if self._paginator.drained and self._emitted.newest is not None:
            state[BOOKMARK_COMPLETE] = True
        elif self.stopped_by_budget and next_page.page > 1 and self._emitted.newest:
            # Stopped while paging through one timestamp: without this, a run capped
            # below the size of the group would re-read its start forever.
            state[RESUME_AT] = {
                "bookmark": self._emitted.newest,
                "collected_after": next_page.collected_after,
                "page": next_page.page,
                "page_size": next_page.size or self.page_size,
            }
        if self._emitted.semantics == INCLUSIVE:
            state[COLLECTED_AFTER_MODE] = INCLUSIVE

    def _starting_page(self, state: dict[str, t.Any]) -> ContactsPage:
        emitted = t.cast("EmittedContacts", self._emitted)
        bookmark = self._valid_bookmark(state)
        configured = self.config.get("start_date")
        start = parse_start_date(configured) if configured else None
        if bookmark and not (start and start > require_instant(bookmark, "the bookmark")):
            emitted.restore(bookmark, _saved_keys(state))
            if state.get(BOOKMARK_COMPLETE):
                self._read_through = bookmark
                return ContactsPage(emitted.cursor_after(bookmark))
            resumed = _resumed_page(state.get(RESUME_AT), bookmark, self.page_size)
            return resumed or ContactsPage(emitted.cursor_below(bookmark))
        if not bookmark:
            # Only malformed contacts were emitted so far: their keys still apply.
            emitted.restore(None, _saved_keys(state))
        if start:
            # Contacts stamped exactly at start_date belong to the run, whatever the mode.
            return ContactsPage(emitted.cursor_below(format_instant(start)))
        return ContactsPage(None)

    def _valid_bookmark(self, state: dict[str, t.Any]) -> str | None:
        """The bookmark in the API's form; a value that does not parse is dropped."""
        raw = state.get(BOOKMARK)
        bookmark = stamp_of(raw)
        if bookmark is not None:
            # The SDK compares bookmarks as strings: keep them all in one form.
            state[BOOKMARK] = bookmark
        elif raw is not None:
            self.logger.warning(
                "contacts: the bookmark in the incoming state is not an ISO-8601 instant; "
                "it is dropped and contacts are read again from start_date (or the start)"
            )
            for name in (BOOKMARK, KEYS_AT_BOOKMARK, BOOKMARK_COMPLETE, RESUME_AT):
                state.pop(name, None)
        return bookmark

    def _warn_malformed(self) -> None:
        warn_malformed(self.logger, self.malformed)
        self.malformed = []

    @override
    def get_new_paginator(self) -> CollectedAfterPaginator:
        """A paginator starting where the bookmark says."""
        self._paginator = CollectedAfterPaginator(
            self._start,
            self.page_size,
            t.cast("EmittedContacts", self._emitted),
            key_of=contact_key,
            read_through=self._read_through,
        )
        return self._paginator

    @override
    def get_http_request(self, *, page: PageContext[ContactsPage]) -> HTTPRequest:
        """`collected_after`, `page_size`, `wisepop_id` and, within one timestamp, `page`."""
        if self._unsaved:
            # Progress is saved before every call: a run killed mid-way resumes here.
            self.finalize_state_progress_markers(self.get_context_state(page.stream_context))
            self._unsaved = False
        request = super().get_http_request(page=page)
        token = page.next_page_token or self._start
        params: dict[str, t.Any] = {"page_size": token.size or self.page_size}
        if token.collected_after is not None:
            params["collected_after"] = token.collected_after
        if token.page > 1:
            params["page"] = token.page
        if page.stream_context and "wisepop_id" in page.stream_context:
            params["wisepop_id"] = page.stream_context["wisepop_id"]
        request.params = params
        return request

    @override
    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        """The page's contacts, or none when a window lost its anchor (it is read again)."""
        body = json_body(response)
        if not self._paginator.accept(body if isinstance(body, list) else []):
            self.logger.info(
                "contacts: contacts were deleted during paging (page %d moved); "
                "reading an earlier page of the same timestamp",
                self._paginator.current_value.page,
            )
            return
        yield from super().parse_response(response)

    @override
    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        """Drop contacts already emitted; add the key and the lifted common fields."""
        raw = row.get("collected_at")
        stamp = stamp_of(raw)
        key = contact_key(row)
        emitted = t.cast("EmittedContacts", self._emitted)
        if not emitted.admit(stamp, key):
            return None
        if stamp is None:
            self.malformed.append(key)
        state = self.get_context_state(context)
        state[KEYS_AT_BOOKMARK] = emitted.key_list
        state[BOOKMARK_COMPLETE] = False
        self._unsaved = True
        return contact_record(row, stamp, key)


def _saved_keys(state: dict[str, t.Any]) -> list[str]:
    """`keys_at_bookmark` from the incoming state; anything but strings is ignored."""
    keys = state.get(KEYS_AT_BOOKMARK)
    return [k for k in keys if isinstance(k, str)] if isinstance(keys, list) else []


def _as_text(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _resumed_page(resume: object, bookmark: str, page_size: int) -> ContactsPage | None:
    """The window a capped run stopped before, if the state holds a sound one."""
    if not isinstance(resume, dict) or resume.get("bookmark") != bookmark:
        return None
    cursor, page, size = resume.get("collected_after"), resume.get("page"), resume.get("page_size")
    if stamp_of(cursor) is None or not isinstance(page, int) or page < 2:
        return None
    if size is not None and not (isinstance(size, int) and 1 <= size <= page_size):
        return None
    return ContactsPage(t.cast("str", stamp_of(cursor)), page, size)


class WisepopsListStream(WisepopsStream[None]):
    """GET /wisepops: popups with lifetime counters (a full table each run)."""

    name = "wisepops"
    path = "/wisepops"
    primary_keys = ("id",)
    replication_key = None
    schema = StreamSchema(SCHEMAS)

    @override
    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        """Only the configured popups; `created_at` as RFC 3339 (the API gives UTC wall time)."""
        wanted = self.config.get("wisepop_ids")
        if wanted and int(row["id"]) not in {int(i) for i in wanted}:
            return None
        return {**row, "created_at": self._created_at(row)}

    def _created_at(self, row: dict) -> str | None:
        raw = row.get("created_at")
        try:
            moment = datetime.strptime(str(raw), "%Y-%m-%d %H:%M:%S")
        except ValueError:
            self.logger.warning("wisepop %s: unreadable created_at, emitted as null", row["id"])
            return None
        return moment.replace(tzinfo=timezone.utc).isoformat().replace("+00:00", "Z")


class HooksStream(WisepopsStream[None]):
    """GET /hooks: the webhooks registered for this website."""

    name = "hooks"
    path = "/hooks"
    primary_keys = ("id",)
    replication_key = None
    schema = StreamSchema(SCHEMAS)
