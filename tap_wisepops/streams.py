"""The Wisepops streams: contacts (incremental, tie-safe), wisepops and hooks (full table)."""

from __future__ import annotations

import hashlib
import json
import re
import typing as t
import unicodedata
from datetime import datetime, timezone
from functools import cached_property, lru_cache

from singer_sdk.schema.source import StreamSchema

from tap_wisepops.client import SCHEMAS, WisepopsStream
from tap_wisepops.pagination import (
    INCLUSIVE,
    CollectedAfterPaginator,
    ContactsPage,
    EmittedContacts,
    format_instant,
    normalise,
    parse_instant,
)

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context
    from singer_sdk.streams.rest import HTTPRequest, PageContext

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
    """`form_session` + `collected_at`, else a hash of (wisepop_id, collected_at, fields)."""
    collected_at = normalise(record["collected_at"])
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


class ContactsStream(WisepopsStream[ContactsPage]):
    """GET /contacts: form submissions, oldest first, incremental on `collected_at`."""

    name = "contacts"
    path = "/contacts"
    primary_keys = ("contact_key",)
    replication_key = "collected_at"
    is_sorted = True
    schema = StreamSchema(SCHEMAS)

    _emitted: EmittedContacts | None = None

    @property
    def partitions(self) -> list[dict] | None:
        """One partition (and bookmark) per configured popup, else none."""
        ids = self.config.get("wisepop_ids")
        return [{"wisepop_id": int(i)} for i in ids] if ids else None

    @cached_property
    def page_size(self) -> int:
        """Records per call (the maximum by default: calls are scarce)."""
        return int(self.config.get("page_size", 1000))

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
            }
        if self._emitted.semantics == INCLUSIVE:
            state[COLLECTED_AFTER_MODE] = INCLUSIVE

    def _starting_page(self, state: dict[str, t.Any]) -> ContactsPage:
        emitted = t.cast("EmittedContacts", self._emitted)
        bookmark = state.get("replication_key_value")
        start_date = self.config.get("start_date")
        if bookmark and not (start_date and parse_instant(start_date) > parse_instant(bookmark)):
            emitted.newest = normalise(bookmark)
            emitted.keys = set(state.get(KEYS_AT_BOOKMARK) or ())
            if state.get(BOOKMARK_COMPLETE):
                self._read_through = emitted.newest
                return ContactsPage(emitted.cursor_after(bookmark))
            resume = state.get(RESUME_AT)
            if resume and resume.get("bookmark") == emitted.newest:
                return ContactsPage(resume["collected_after"], int(resume["page"]))
            return ContactsPage(emitted.cursor_below(bookmark))
        if start_date:
            start = format_instant(parse_instant(start_date))
            # Contacts stamped exactly at start_date belong to the run, whatever the mode.
            return ContactsPage(emitted.cursor_below(start))
        return ContactsPage(None)

    def get_new_paginator(self) -> CollectedAfterPaginator:
        """A paginator starting where the bookmark says."""
        self._paginator = CollectedAfterPaginator(
            self._start,
            self.page_size,
            t.cast("EmittedContacts", self._emitted),
            read_through=self._read_through,
        )
        return self._paginator

    def get_http_request(self, *, page: PageContext[ContactsPage]) -> HTTPRequest:
        """`collected_after`, `page_size`, `wisepop_id` and, within one timestamp, `page`."""
        request = super().get_http_request(page=page)
        token = page.next_page_token or self._start
        params: dict[str, t.Any] = {"page_size": self.page_size}
        if token.collected_after is not None:
            params["collected_after"] = token.collected_after
        if token.page > 1:
            params["page"] = token.page
        if page.stream_context and "wisepop_id" in page.stream_context:
            params["wisepop_id"] = page.stream_context["wisepop_id"]
        request.params = params
        return request

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        """Drop contacts already emitted; add the key and the lifted common fields."""
        key = contact_key(row)
        emitted = t.cast("EmittedContacts", self._emitted)
        newest_before = emitted.newest
        if not emitted.admit(row["collected_at"], key):
            return None
        state = self.get_context_state(context)
        if emitted.newest != newest_before:
            state[KEYS_AT_BOOKMARK] = [key]
        else:
            state.setdefault(KEYS_AT_BOOKMARK, []).append(key)
        state[BOOKMARK_COMPLETE] = False
        fields = row.get("fields") or {}
        return {**row, "contact_key": key, "fields": fields, **lift_fields(fields)}


class WisepopsListStream(WisepopsStream[None]):
    """GET /wisepops: popups with lifetime counters (a full table each run)."""

    name = "wisepops"
    path = "/wisepops"
    primary_keys = ("id",)
    replication_key = None
    schema = StreamSchema(SCHEMAS)

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
