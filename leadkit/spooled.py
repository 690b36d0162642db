"""The base of the streams that read the relay's spool (`lead-relay serve`) instead of an API.

One bookmark scheme: the spool seq of the relay source, kept in the stream's state under
`spool_seqs` (source NAME -> the last seq decided), never a record property, so that a tap
switching between its API and the spool never reads a seq as a time or the other way round.
It only moves past entries already emitted (or skipped as not wanted), and a value that is
not a seq of this spool is dropped. One follow mode: with `follow`, the stream waits on the
spool for more, writing STATE after each group emitted, until SIGTERM or SIGINT, noticed
between records (exit 143 or 130, STATE covering exactly the records emitted).
"""

from __future__ import annotations

import abc
import typing as t
from functools import cached_property

from singer_sdk import Stream
from typing_extensions import override

from leadkit.spool import Spool, SpoolEntry, open_spool
from leadkit.stopping import StopRequest

if t.TYPE_CHECKING:
    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context

#: State key of the bookmarks: relay source NAME -> the last spool seq emitted.
SPOOL_SEQS = "spool_seqs"
#: Entries read from the spool at once.
PAGE_SIZE = 1000
#: In follow mode, how long one wait for new entries lasts before a stop is looked for.
WAIT_SECONDS = 0.5


class SpoolStream(Stream, abc.ABC):
    """Entries of the `webhook_source` relay source, in seq order, as records."""

    #: No replication key for the SDK: the stream keeps its bookmark itself (see `_save`).
    replication_key = None
    #: The relay source kind whose entries this stream reads; others are skipped.
    kind: t.ClassVar[str]

    def __init__(self, tap: Tap) -> None:
        super().__init__(tap)
        self.vendor_tap = tap

    @abc.abstractmethod
    def record_of(self, entry: SpoolEntry) -> dict[str, t.Any]:
        """The record of one spool entry."""

    def wanted(self, entry: SpoolEntry) -> bool:
        """Whether to emit an entry of the right kind (all of them unless overridden)."""
        return True

    def group_emitted(self) -> None:
        """After each group of records and its STATE: warnings about the group, if any."""

    @cached_property
    def spool(self) -> Spool:
        """The spool, opened once per run (the tap's settings check vetted the location)."""
        return open_spool(str(self.config["webhook_spool"]))

    @property
    def source(self) -> str:
        """The relay source NAME whose entries are read."""
        return str(self.config["webhook_source"])

    @property
    def follow(self) -> bool:
        """Whether to keep waiting for entries."""
        return bool(self.config.get("follow"))

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Entries after the bookmark as records; with `follow`, then wait for more."""
        state = self.get_context_state(context)
        bookmarks = self._bookmarks(state)
        after = self._starting_seq(bookmarks)
        stop = StopRequest(0)
        if self.follow:
            # Noticed between records: the default handler could cut a message in half.
            stop.install()
        skipped = 0
        try:
            while True:
                entries = self.spool.read(self.source, after, PAGE_SIZE)
                for entry in entries:
                    if stop.requested:
                        break
                    if entry.kind != self.kind:
                        skipped += 1
                    elif self.wanted(entry):
                        # The SDK writes the record before this generator resumes.
                        yield self.record_of(entry)
                    after = bookmarks[self.source] = entry.seq
                if entries:
                    self._save()
                    skipped = self._warn_skipped(skipped)
                    self.group_emitted()
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

    def _warn_skipped(self, skipped: int) -> int:
        if skipped:
            self.logger.warning(
                "%s: skipped %d spool entries of source %r that are not %s deliveries",
                self.name,
                skipped,
                self.source,
                self.kind,
            )
        return 0

    def _bookmarks(self, state: dict[str, t.Any]) -> dict[str, t.Any]:
        bookmarks = state.get(SPOOL_SEQS)
        if not isinstance(bookmarks, dict):
            if bookmarks is not None:
                self.logger.warning(
                    "%s: `%s` in the incoming state is dropped", self.name, SPOOL_SEQS
                )
            bookmarks = state[SPOOL_SEQS] = {}
        legacy = _legacy_bookmark(state)
        if legacy is not None and self.source not in bookmarks:
            bookmarks[self.source] = legacy
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
        # again from the start costs nothing, the targets skip unchanged records.
        self.logger.warning(
            "%s: the bookmark of source %r is not a seq of this spool (it holds %d); the "
            "spool is read from its start",
            self.name,
            self.source,
            last,
        )
        bookmarks[self.source] = 0
        return 0

    def _save(self) -> None:
        """STATE covering exactly the entries emitted so far."""
        self.vendor_tap.state_writer.write_state(self.tap_state)


def _legacy_bookmark(state: dict[str, t.Any]) -> object:
    """A bookmark of the earlier scheme (the SDK's `spool_seq` replication key), taken over
    once into `spool_seqs` and removed; `_starting_seq` vets its value."""
    if state.get("replication_key") != "spool_seq":
        return None
    state.pop("replication_key")
    value = state.pop("replication_key_value", None)
    return int(value) if isinstance(value, str) and value.isdigit() else value
