"""The `contacts` stream read from the relay's spool: webhook deliveries instead of API calls.

Same schema, primary key and cleaning as the API stream. The bookmark is the spool seq of the
relay source, kept under its own state key (`spool_seqs`), so that switching between the
spool and the API never reads a seq as a `collected_at` or the other way round.
"""

from __future__ import annotations

import typing as t
from functools import cached_property

from singer_sdk import Stream
from singer_sdk.schema.source import StreamSchema
from typing_extensions import override

from leadkit.spool import Spool, SpoolEntry, open_spool
from leadkit.stopping import StopRequest
from tap_wisepops.client import SCHEMAS
from tap_wisepops.pagination import stamp_of
from tap_wisepops.streams import contact_key, contact_record, warn_malformed

if t.TYPE_CHECKING:
    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context

#: State key of the bookmarks: relay source NAME -> the last spool seq emitted.
SPOOL_SEQS = "spool_seqs"
#: Entries read from the spool at once.
PAGE_SIZE = 1000
#: In follow mode, how long one wait for new entries lasts before a stop is looked for.
WAIT_SECONDS = 0.5
KIND = "wisepops"


class SpoolContactsStream(Stream):
    """Wisepops contacts the relay stored for `webhook_source`, in spool order.

    With `follow`, the stream never ends by itself: it waits for new entries, writing STATE
    after each group it emitted, until SIGTERM or SIGINT, noticed between records.
    """

    name = "contacts"
    primary_keys = ("contact_key",)
    # No replication key for the SDK: the seq is not a property of the record, so this
    # stream keeps its bookmark itself (see `_save`).
    replication_key = None
    schema = StreamSchema(SCHEMAS)

    def __init__(self, tap: Tap) -> None:
        super().__init__(tap)
        self.vendor_tap = tap
        #: Keys of contacts emitted whose `collected_at` does not parse (warned per group).
        self.malformed: list[str] = []

    @cached_property
    def spool(self) -> Spool:
        """The spool, opened once per run (the tap's settings check vetted the location)."""
        return open_spool(str(self.config["webhook_spool"]))

    @property
    def source(self) -> str:
        """The relay source NAME whose deliveries are read."""
        return str(self.config["webhook_source"])

    @property
    def follow(self) -> bool:
        """Whether to keep waiting for deliveries."""
        return bool(self.config.get("follow"))

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Entries after the bookmark as contacts; with `follow`, then wait for more."""
        state = self.get_context_state(context)
        bookmarks = self._bookmarks(state)
        after = self._starting_seq(bookmarks)
        stop = StopRequest(0)
        if self.follow:
            # Noticed between records: the default handler could cut a message in half.
            stop.install()
        try:
            while True:
                entries = self.spool.read(self.source, after, PAGE_SIZE)
                for entry in entries:
                    if stop.requested:
                        break
                    if entry.kind == KIND and self._wanted(entry.payload):
                        # The SDK writes the record before this generator resumes.
                        yield self._record_of(entry)
                    after = bookmarks[self.source] = entry.seq
                if entries:
                    self._save()
                    warn_malformed(self.logger, self.malformed)
                    self.malformed = []
                stop.check()
                if len(entries) == PAGE_SIZE:
                    continue
                if not self.follow:
                    return
                while not self.spool.wait(self.source, after, WAIT_SECONDS):
                    stop.check()
        finally:
            stop.uninstall()
            self.spool.close()
            self.__dict__.pop("spool", None)

    @cached_property
    def _popups(self) -> frozenset[int] | None:
        ids = self.config.get("wisepop_ids")
        return frozenset(int(i) for i in ids) if ids else None

    def _wanted(self, payload: dict[str, t.Any]) -> bool:
        """Whether the contact comes from a popup `wisepop_ids` selects (all without it)."""
        return self._popups is None or payload.get("wisepop_id") in self._popups

    def _record_of(self, entry: SpoolEntry) -> dict[str, t.Any]:
        payload = entry.payload
        stamp = stamp_of(payload.get("collected_at"))
        key = contact_key(payload)
        if stamp is None:
            self.malformed.append(key)
        progress = getattr(self.vendor_tap, "progress", None)
        if progress is not None:
            progress.add()
        return contact_record(payload, stamp, key)

    def _bookmarks(self, state: dict[str, t.Any]) -> dict[str, t.Any]:
        bookmarks = state.get(SPOOL_SEQS)
        if not isinstance(bookmarks, dict):
            if bookmarks is not None:
                self.logger.warning("contacts: `%s` in the incoming state is dropped", SPOOL_SEQS)
            bookmarks = state[SPOOL_SEQS] = {}
        return bookmarks

    def _starting_seq(self, bookmarks: dict[str, t.Any]) -> int:
        """The bookmark of this source; one that is not a seq of this spool is dropped."""
        value = bookmarks.get(self.source)
        if value is None:
            bookmarks[self.source] = 0
            return 0
        last = self.spool.last_seq(self.source)
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= last:
            return value
        # A seq beyond the spool's end means another (new or restored) spool: reading it
        # again from the start costs nothing, the targets skip unchanged contacts.
        self.logger.warning(
            "contacts: the bookmark of source %r is not a seq of this spool (it holds %d); "
            "the spool is read from its start",
            self.source,
            last,
        )
        bookmarks[self.source] = 0
        return 0

    def _save(self) -> None:
        """STATE covering exactly the entries emitted so far."""
        self.vendor_tap.state_writer.write_state(self.tap_state)
