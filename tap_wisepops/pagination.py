"""Tie-safe paging of /contacts by moving `collected_after`, as Wisepops advises.

The API never says whether `collected_after` is strict (>) or inclusive (>=), and many
contacts can share one millisecond. So after a full page ending at timestamp L the next
page starts just below L (L - 1 ms; L itself once the server is known to be inclusive):
both readings then return every contact at L again, and the ones already emitted are
dropped by primary key. A full page that holds a single timestamp cannot be passed that
way, so the same query continues with the `page` parameter until the timestamp changes.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from singer_sdk.pagination import BaseAPIPaginator

from leadkit.tapstream import json_body

if t.TYPE_CHECKING:
    import requests

ONE_MS = timedelta(milliseconds=1)
INCLUSIVE = "inclusive"


def parse_instant(value: str) -> datetime:
    """An ISO-8601 instant in UTC; a value without zone is taken as UTC."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def format_instant(moment: datetime) -> str:
    """The API's own form, `2019-10-10T10:10:58.389Z` (milliseconds, UTC)."""
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def normalise(value: str) -> str:
    """A `collected_at` in the API's own form, so that strings compare as instants."""
    if len(value) == 24 and value[10] == "T" and value.endswith("Z"):
        return value
    return format_instant(parse_instant(value))


def shift(value: str, delta: timedelta) -> str:
    """`value` moved by `delta`, in the API's form."""
    return format_instant(parse_instant(value) + delta)


@dataclass(frozen=True)
class ContactsPage:
    """One request: the `collected_after` value (None: from the beginning) and `page`."""

    collected_after: str | None
    page: int = 1


@dataclass
class EmittedContacts:
    """What has been emitted at the newest timestamp, to drop records read twice.

    Contacts come oldest first, so anything older than the newest timestamp emitted was
    either emitted already or arrived late, after a run had passed its time; neither is
    emitted again. The keys at the newest timestamp persist in the stream state so the
    next run can skip them too.
    """

    newest: str | None = None
    keys: set[str] = field(default_factory=set)
    #: "inclusive" once the server returned a contact stamped exactly `collected_after`.
    semantics: str | None = None

    def admit(self, collected_at: str, key: str) -> bool:
        """Whether this contact is new; if so, remember it."""
        stamp = normalise(collected_at)
        if self.newest is None or stamp > self.newest:
            self.newest, self.keys = stamp, {key}
            return True
        if stamp < self.newest or key in self.keys:
            return False
        self.keys.add(key)
        return True

    def cursor_below(self, stamp: str) -> str:
        """A `collected_after` that returns every contact at `stamp`, whatever the mode."""
        return normalise(stamp) if self.semantics == INCLUSIVE else shift(stamp, -ONE_MS)

    def cursor_after(self, stamp: str) -> str:
        """A `collected_after` that skips what is at `stamp` when the mode allows it.

        Only used when everything at `stamp` was read: on a strict server `stamp` itself,
        on an inclusive one a millisecond later. Unknown mode: `stamp`, whose contacts an
        inclusive server sends again and `admit` drops.
        """
        return shift(stamp, ONE_MS) if self.semantics == INCLUSIVE else normalise(stamp)


class CollectedAfterPaginator(BaseAPIPaginator[ContactsPage]):
    """Moves `collected_after` to just below the last timestamp of each full page."""

    def __init__(
        self,
        start: ContactsPage,
        page_size: int,
        emitted: EmittedContacts,
        read_through: str | None = None,
    ) -> None:
        super().__init__(start)
        self.page_size = page_size
        self.emitted = emitted
        #: A timestamp whose contacts were all read by the previous run, if any.
        self.read_through = read_through
        #: Whether the last page was short, so that everything has been read.
        self.drained = False

    def has_more(self, response: requests.Response) -> bool:
        """A full page may have a successor; a short one is the end (no extra call)."""
        records = json_body(response)
        self._learn_semantics(records)
        if len(records) < self.page_size:
            self.drained = True
            return False
        return True

    def continue_if_empty(self, response: requests.Response) -> bool:
        """An empty page is the end of the data."""
        self.drained = True
        return False

    def get_next(self, response: requests.Response) -> ContactsPage:
        """The page after a full one."""
        records = json_body(response)
        first, last = records[0]["collected_at"], records[-1]["collected_at"]
        current = self.current_value
        if normalise(first) == normalise(last):
            if self.emitted.semantics == INCLUSIVE and normalise(last) == self.read_through:
                # An inclusive server sent back a tie group the last run read in full.
                return ContactsPage(shift(last, ONE_MS))
            # One timestamp fills the page: no cursor can split it, page through it.
            return ContactsPage(current.collected_after, current.page + 1)
        return ContactsPage(self.emitted.cursor_below(last), 1)

    def _learn_semantics(self, records: list[dict[str, t.Any]]) -> None:
        cursor = self.current_value.collected_after
        if records and cursor is not None and normalise(records[0]["collected_at"]) == cursor:
            self.emitted.semantics = INCLUSIVE
