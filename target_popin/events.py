"""Settling captures in doubt from Popin's `popin_user_captured` events in the relay's spool.

Popin cannot be asked whether a capture happened, but it tells the webhook when it does: an
event for the same person (same E.164 phone), stored after the capture was sent, says the
capture landed and gives the customer's id.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from leadkit.popin_events import USER_CAPTURED, customer_id_of, event_phone, user_number
from leadkit.spool import Spool, open_spool, utc_now

#: Clocks of the relay and the target may differ a little: an event stored this long before
#: the capture was sent still counts as its answer.
CLOCK_SLACK = timedelta(minutes=5)


def sent_now() -> str:
    """When a capture is sent, in the spool's `received_at` form."""
    return utc_now()


def _instant(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class Captured:
    """One `popin_user_captured` event: the customer Popin made, and when it was stored."""

    number: int
    received_at: datetime

    @property
    def customer_id(self) -> str:
        """The id /capture would have answered."""
        return customer_id_of(self.number)


class CaptureEvents:
    """The `popin_user_captured` events of one relay source, by phone, read as they arrive."""

    def __init__(self, location: str, source: str) -> None:
        self.source = source
        self._spool: Spool = open_spool(location)
        self._lock = threading.Lock()
        self._after = 0
        self._by_phone: dict[str, list[Captured]] = {}

    def _refresh(self) -> None:
        with self._lock:
            while entries := self._spool.read(self.source, self._after):
                for entry in entries:
                    self._after = entry.seq
                    self._index(entry.payload, entry.received_at)

    def _index(self, payload: dict[str, Any], received_at: str) -> None:
        if payload.get("event") != USER_CAPTURED:
            return
        phone, number = event_phone(payload), user_number(payload.get("user_id"))
        stored = _instant(received_at)
        if phone is None or number is None or stored is None:
            return
        self._by_phone.setdefault(phone, []).append(Captured(number, stored))

    def find(self, phone: str, sent_at: object) -> Captured | None:
        """The latest capture event for `phone` stored since `sent_at` (any, when unknown)."""
        self._refresh()
        since = _instant(sent_at)
        floor = None if since is None else since - CLOCK_SLACK
        with self._lock:
            found = [
                c for c in self._by_phone.get(phone, []) if floor is None or c.received_at >= floor
            ]
        return max(found, key=lambda c: c.received_at, default=None)

    def wait_for(self, phone: str, sent_at: str, timeout: float) -> Captured | None:
        """`find`, waiting up to `timeout` seconds for the event to arrive."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.find(phone, sent_at)
            remaining = deadline - time.monotonic()
            if found is not None or remaining <= 0:
                return found
            self._spool.wait(self.source, self._after, min(remaining, 1.0))

    def close(self) -> None:
        """Release the spool."""
        self._spool.close()
