"""The base stream of tap-popin: entries of one relay source, read from the spool by seq."""

from __future__ import annotations

import typing as t
from functools import cached_property
from pathlib import Path

from singer_sdk import Stream
from singer_sdk.schema.source import SchemaDirectory
from typing_extensions import override

from leadkit.spool import Spool, SpoolEntry, open_spool

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

SCHEMAS = SchemaDirectory(Path(__file__).parent / "schemas")
#: Entries read from the spool at once.
PAGE_SIZE = 1000


class SpoolStream(Stream):
    """Entries of the `webhook_source` relay source, in seq order; the bookmark is the seq.

    The seq is assigned by the spool as it commits, so it only grows: every entry past the
    bookmark is new, and a STATE covers exactly the entries emitted before it.
    """

    replication_key = "spool_seq"
    is_sorted = True
    #: The relay source kind whose entries this stream reads; others are skipped.
    kind: t.ClassVar[str]

    @cached_property
    def spool(self) -> Spool:
        """The spool, opened once per run (`check_settings` has vetted the location)."""
        return open_spool(str(self.config["webhook_spool"]))

    @property
    def source(self) -> str:
        """The relay source NAME whose entries are read."""
        return str(self.config["webhook_source"])

    def starting_seq(self, context: Context | None) -> int:
        """The bookmark; one that is not a whole number is dropped (read from the start)."""
        state = self.get_context_state(context)
        value = state.get("replication_key_value")
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            state["replication_key_value"] = value
            return value
        if value is not None:
            self.logger.warning(
                "%s: the bookmark in the incoming state is not a spool seq; it is dropped "
                "and the events are read from the start",
                self.name,
            )
            state.pop("replication_key_value", None)
        return 0

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Every entry after the bookmark, as records, in seq order."""
        after = self.starting_seq(context)
        skipped = 0
        while True:
            entries = self.spool.read(self.source, after, PAGE_SIZE)
            if not entries:
                break
            for entry in entries:
                after = entry.seq
                if entry.kind != self.kind:
                    skipped += 1
                    continue
                yield self.record_of(entry)
        if skipped:
            self.logger.warning(
                "%s: skipped %d spool entries of source %r that are not %s deliveries",
                self.name,
                skipped,
                self.source,
                self.kind,
            )

    def record_of(self, entry: SpoolEntry) -> dict[str, t.Any]:
        """The record of one spool entry: its identity in the spool; streams add the rest."""
        return {
            "event_key": entry.key,
            "spool_seq": entry.seq,
            "source": entry.source,
            "received_at": entry.received_at,
            "payload": entry.payload,
        }
