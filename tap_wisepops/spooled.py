"""The `contacts` stream read from the relay's spool: webhook deliveries instead of API calls.

Same schema, primary key and cleaning as the API stream; the bookmark and follow mode are
those of every spool stream (leadkit/spooled.py).
"""

from __future__ import annotations

import typing as t
from functools import cached_property

from singer_sdk.schema.source import StreamSchema
from typing_extensions import override

from leadkit.spooled import SpoolStream
from tap_wisepops.client import SCHEMAS
from tap_wisepops.pagination import stamp_of
from tap_wisepops.streams import contact_key, contact_record, warn_malformed

if t.TYPE_CHECKING:
    from singer_sdk import Tap

    from leadkit.spool import SpoolEntry


class SpoolContactsStream(SpoolStream):
    """Wisepops contacts the relay stored for `webhook_source`, in spool order."""

    name = "contacts"
    kind = "wisepops"
    primary_keys = ("contact_key",)
    schema = StreamSchema(SCHEMAS)

    def __init__(self, tap: Tap) -> None:
        super().__init__(tap)
        #: Keys of contacts emitted whose `collected_at` does not parse (warned per group).
        self.malformed: list[str] = []

    @cached_property
    def _popups(self) -> frozenset[int] | None:
        ids = self.config.get("wisepop_ids")
        return frozenset(int(i) for i in ids) if ids else None

    @override
    def wanted(self, entry: SpoolEntry) -> bool:
        """Whether the contact comes from a popup `wisepop_ids` selects (all without it)."""
        return self._popups is None or entry.payload.get("wisepop_id") in self._popups

    @override
    def record_of(self, entry: SpoolEntry) -> dict[str, t.Any]:
        """The contact as the API stream emits it."""
        payload = entry.payload
        stamp = stamp_of(payload.get("collected_at"))
        key = contact_key(payload)
        if stamp is None:
            self.malformed.append(key)
        progress = getattr(self.vendor_tap, "progress", None)
        if progress is not None:
            progress.add()
        return contact_record(payload, stamp, key)

    @override
    def group_emitted(self) -> None:
        """One warning for the group's contacts whose `collected_at` does not parse."""
        warn_malformed(self.logger, self.malformed)
        self.malformed = []
