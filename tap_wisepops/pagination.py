"""Paging /contacts: tie-safe cursors between timestamps, anchored windows inside one.

Between timestamps. The API never says whether `collected_after` is strict (>) or inclusive
(>=), and many contacts can share one millisecond. After a full page whose last timestamp is
L the next query starts just below L (L - 1 ms; L itself once the server is known to be
inclusive): both readings return every contact at L again, and those already emitted are
dropped by key.

Inside one timestamp. A full page holding a single timestamp cannot be passed with a
cursor, so the same query goes on with `page`. Wisepops computes `page` over live data:
deleting a contact already read moves the unread ones to lower positions, and a plain next
page skips them. So every later window of the query overlaps what was read: page p of size
s covers positions [(p-1)s, ps), and (p, s <= page_size) are chosen so that the window
starts at or before the last position read and reaches as far as possible. The window is
accepted only if its first contact is one already read ("the anchor"). Proof that nothing
alive all along is skipped: all positions below `read_to` were read; contacts keep their
relative order (a query is sorted by time, and within one timestamp by arrival); so every
contact after the anchor in the new window's order is either in the window or after it,
and every contact before the anchor that was alive at the start was read. A window whose
first contact is unknown (or that comes back empty) is dropped unread and the query backs
up to an earlier window, ending at position 0 where no anchor is needed. Without deletions
this costs no call: only the overlap (one contact, a few deep in huge blocks) is re-read.
Only a short page that passed the check ends the data, so the bookmark is never marked
complete over a gap. Where no size up to `page_size` can overlap (sizes 1 and 2, and very
small sizes at positions every size divides) a plain next page is read, unchecked.

Malformed `collected_at`. The server sorts by its true time, so a contact whose value does
not parse lies between its parseable neighbours. Pages are cut on their last parseable
timestamp, and keys of such contacts stay with the keys at the next parseable timestamp,
so whichever query returns them again, they are dropped.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache

from singer_sdk.pagination import BaseAPIPaginator
from typing_extensions import override

from leadkit.responses import json_body
from leadkit.timestamps import format_instant, parse_instant, require_instant

if t.TYPE_CHECKING:
    from collections.abc import Callable

    import requests

ONE_MS = timedelta(milliseconds=1)
INCLUSIVE = "inclusive"
#: Pages one run may find moved before it gives up: contacts deleted between nearly every
#: two calls would otherwise keep it backing up until the month's calls are gone.
MAX_MOVED_PAGES = 20


def stamp_of(value: object) -> str | None:
    """A `collected_at` in the API's own form (strings then compare as instants), else None."""
    return _stamp_of_text(value) if isinstance(value, str) else None


# Each value is read several times (key, dedup, paging), so one page's worth is cached.
@lru_cache(maxsize=4096)
def _stamp_of_text(value: str) -> str | None:
    moment = parse_instant(value)
    if moment is None:
        return None
    if len(value) == 24 and value[10] == "T" and value[19] == "." and value[23] == "Z":
        return value  # already the API's form: formatting it again would give it back
    return format_instant(moment)


def shift(stamp: str, delta: timedelta) -> str:
    """`stamp` moved by `delta`, in the API's form."""
    return format_instant(require_instant(stamp, "a bookmark") + delta)


@dataclass(frozen=True)
class ContactsPage:
    """One request: `collected_after` (None: from the beginning), `page` and its size.

    `size` None is the stream's page size. `anchored` windows (page > 1) must start with a
    contact already read.
    """

    collected_after: str | None
    page: int = 1
    size: int | None = None
    anchored: bool = True

    def start(self, default_size: int) -> int:
        """The position of the window's first contact within its query."""
        return (self.page - 1) * (self.size or default_size)


def next_window(read_to: int, page_size: int) -> tuple[int, int] | None:
    """(page, size) of the window that starts at or before `read_to - 1`, reaching furthest."""
    best: tuple[int, int, int] | None = None  # (end, start, size)
    for size in range(page_size, 1, -1):
        start = (read_to - 1) // size * size
        end = start + size
        if end > read_to and (best is None or (end, start) > best[:2]):
            best = (end, start, size)
    if best is None:
        return None
    _, start, size = best
    return start // size + 1, size


@dataclass
class EmittedContacts:
    """What has been emitted at the newest timestamp, to drop records read twice.

    Contacts come oldest first, so anything older than the newest timestamp emitted was
    either emitted already or arrived late, after a run had passed its time; neither is
    emitted again. The keys at the newest timestamp persist in the stream state so the
    next run can skip them too.
    """

    #: "inclusive" once the server returned a contact stamped exactly `collected_after`.
    semantics: str | None = None
    newest: str | None = None
    #: Keys at `newest`, plus keys of malformed contacts that may share it, in order.
    key_list: list[str] = field(default_factory=list)
    _keys: set[str] = field(default_factory=set, init=False)
    #: Malformed contacts met since the last parseable one: they may share the next stamp.
    _unplaced: list[str] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self._keys = set(self.key_list)

    def restore(self, newest: str | None, keys: t.Iterable[str]) -> None:
        """Start from a saved bookmark and the keys emitted at it."""
        self.newest = newest
        self.key_list = list(keys)
        self._keys = set(self.key_list)

    def knows(self, key: str) -> bool:
        """Whether this key was emitted at the newest timestamp (or is malformed near it)."""
        return key in self._keys

    def admit(self, stamp: str | None, key: str) -> bool:
        """Whether this contact is new; if so, remember it. `stamp` None: malformed."""
        if stamp is None:
            self._unplaced.append(key)
            return self._remember(key)
        unplaced, self._unplaced = self._unplaced, []
        if self.newest is None or stamp > self.newest:
            self.newest = stamp
            self.key_list = [*unplaced, key]
            self._keys = set(self.key_list)
            return True
        if stamp < self.newest:
            return False
        return self._remember(key)

    def _remember(self, key: str) -> bool:
        if key in self._keys:
            return False
        self._keys.add(key)
        self.key_list.append(key)
        return True

    def cursor_below(self, stamp: str) -> str:
        """A `collected_after` that returns every contact at `stamp`, whatever the mode."""
        return stamp if self.semantics == INCLUSIVE else shift(stamp, -ONE_MS)

    def cursor_after(self, stamp: str) -> str:
        """A `collected_after` that skips what is at `stamp` when the mode allows it.

        Only used when everything at `stamp` was read: on a strict server `stamp` itself,
        on an inclusive one a millisecond later. Unknown mode: `stamp`, whose contacts an
        inclusive server sends again and `admit` drops.
        """
        return shift(stamp, ONE_MS) if self.semantics == INCLUSIVE else stamp


class ContactsKeepMoving(Exception):
    """Too many pages moved under deletions in one run; the state covers what was emitted."""


class CollectedAfterPaginator(BaseAPIPaginator[ContactsPage]):
    """Moves `collected_after` between timestamps and anchored windows within one."""

    def __init__(
        self,
        start: ContactsPage,
        page_size: int,
        emitted: EmittedContacts,
        key_of: Callable[[dict[str, t.Any]], str],
        read_through: str | None = None,
    ) -> None:
        super().__init__(start)
        self.page_size = page_size
        self.emitted = emitted
        self.key_of = key_of
        #: A timestamp whose contacts were all read by the previous run, if any.
        self.read_through = read_through
        #: Whether a short page passed every check, so that everything has been read.
        self.drained = False
        #: Whether the last window started with an unknown contact (and was dropped).
        self.anchor_lost = False
        self._backups = 0
        self._moved = 0

    def accept(self, records: list[dict[str, t.Any]]) -> bool:
        """Whether the records of the window just received can be used (call it first)."""
        current = self.current_value
        self._learn_semantics(records)
        self.anchor_lost = (
            current.page > 1
            and current.anchored
            and not (records and self.emitted.knows(self.key_of(records[0])))
        )
        return not self.anchor_lost

    @override
    def has_more(self, response: requests.Response) -> bool:
        """A full page may have a successor; a short one is the end (no extra call)."""
        if self.anchor_lost:
            return True
        if len(json_body(response)) < (self.current_value.size or self.page_size):
            self.drained = True
            return False
        return True

    @override
    def continue_if_empty(self, response: requests.Response) -> bool:
        """An empty page is the end of the data, unless the window lost its anchor."""
        if self.anchor_lost:
            return True
        self.drained = True
        return False

    @override
    def get_next(self, response: requests.Response) -> ContactsPage:
        """The window after a full one, or an earlier one when the anchor was lost."""
        current = self.current_value
        if self.anchor_lost:
            return self._back_up(current)
        self._backups = 0
        records = json_body(response)
        first, last = _first_stamp(records), _first_stamp(reversed(records))
        if last is not None and first != last:
            return ContactsPage(self.emitted.cursor_below(last))
        if last is not None and self.emitted.semantics == INCLUSIVE and last == self.read_through:
            # An inclusive server sent back a tie group the last run read in full.
            return ContactsPage(shift(last, ONE_MS))
        # One timestamp (or none readable) fills the page: no cursor can split it.
        read_to = current.start(self.page_size) + len(records)
        window = next_window(read_to, self.page_size)
        if window is None:
            size = max(s for s in range(1, self.page_size + 1) if read_to % s == 0)
            return ContactsPage(current.collected_after, read_to // size + 1, size, False)
        page, size = window
        return ContactsPage(current.collected_after, page, size)

    def _back_up(self, lost: ContactsPage) -> ContactsPage:
        """A window starting earlier, twice as far back each time, down to position 0."""
        self._backups += 1
        self._moved += 1
        if self._moved > MAX_MOVED_PAGES:
            raise ContactsKeepMoving(
                f"contacts were deleted during paging {self._moved} times in this run; "
                "stopped to spare the call budget. The next run reads the rest."
            )
        distance = self.page_size * 2 ** (self._backups - 1)
        start = max(0, lost.start(self.page_size) - distance)
        return ContactsPage(lost.collected_after, start // self.page_size + 1, self.page_size)

    def _learn_semantics(self, records: list[dict[str, t.Any]]) -> None:
        cursor = self.current_value.collected_after
        if cursor is not None and _first_stamp(records) == cursor:
            self.emitted.semantics = INCLUSIVE


def _first_stamp(records: t.Iterable[dict[str, t.Any]]) -> str | None:
    """The first parseable `collected_at` among these contacts."""
    return next((s for s in (stamp_of(r.get("collected_at")) for r in records) if s), None)
