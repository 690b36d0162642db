"""The leads the API can see, sorted by capture time, with their keys for bisecting."""

from __future__ import annotations

import bisect
from datetime import datetime, timezone
from typing import Any

from sandbox.popl.leads import iso_ms, sort_key


class LeadIndex:
    """Keeps `store["leads"]` sorted and indexed (a mixin of `PoplApi`, which owns it)."""

    store: dict[str, Any]
    settings: dict[str, Any]
    seed: int
    _keys: list[tuple[str, str]]
    _by_id: dict[str, dict[str, Any]]
    _secret: bytes

    def _reindex(self) -> None:
        self.store["leads"].sort(key=sort_key)
        self._keys = [sort_key(lead) for lead in self.store["leads"]]
        self._by_id = {lead["leadId"]: lead for lead in self.store["leads"]}
        self._secret = f"popl-cursor-{self.seed}".encode()

    def _publish(self, leads: list[dict[str, Any]]) -> None:
        """Make leads visible to the API (they have synced)."""
        now = iso_ms(datetime.now(timezone.utc))
        for lead in leads:
            lead["_syncedAt"] = now
        if len(leads) > 50:
            self.store["leads"].extend(leads)
            self._reindex()
            return
        for lead in leads:
            key = sort_key(lead)
            at = bisect.bisect_left(self._keys, key)
            self._keys.insert(at, key)
            self.store["leads"].insert(at, lead)
            self._by_id[lead["leadId"]] = lead
