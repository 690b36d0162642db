"""Settling writes in doubt from Popin's events in the relay's spool.

Popin cannot be asked whether a capture or a booking happened, but it tells the webhook when
it does: a `popin_user_captured` event for the same person (same E.164 phone), stored after
the capture was sent, says the capture landed and gives the customer's id; a
`popin_scheduled_created` one naming the slot sent says the booking did.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from leadkit.popin_events import (
    SCHEDULED_CREATED,
    USER_CAPTURED,
    customer_id_of,
    event_phone,
    user_number,
)
from leadkit.spool import Spool, open_spool, utc_now
from leadkit.timestamps import parse_instant

#: Clocks of the relay and the target may differ a little: an event stored this long before
#: the capture was sent still counts as its answer.
CLOCK_SLACK = timedelta(minutes=5)
#: How often a wait for an event looks whether its batch gave up.
CANCEL_POLL_SECONDS = 0.2


def sent_now() -> str:
    """When a capture is sent, in the spool's `received_at` form."""
    return utc_now()


@dataclass(frozen=True)
class Seen:
    """One event about a person: their user number, when it was stored, the slot it names."""

    number: int
    received_at: datetime
    slot: str | None

    @property
    def customer_id(self) -> str:
        """The id /capture would have answered."""
        return customer_id_of(self.number)


class PopinEvents:
    """The capture and booking events of one relay source, by person, read as they arrive."""

    def __init__(self, location: str, source: str) -> None:
        self.source = source
        self._spool: Spool = open_spool(location)
        self._lock = threading.Lock()
        self._after = 0
        self._seen: dict[tuple[str, str], list[Seen]] = {}

    def _refresh(self) -> None:
        with self._lock:
            while entries := self._spool.read(self.source, self._after):
                for entry in entries:
                    self._after = entry.seq
                    self._index(entry.payload, entry.received_at)

    def _index(self, payload: dict[str, Any], received_at: str) -> None:
        event = payload.get("event")
        if event not in (USER_CAPTURED, SCHEDULED_CREATED):
            return
        phone, number = event_phone(payload), user_number(payload.get("user_id"))
        stored = parse_instant(received_at)
        if phone is None or number is None or stored is None:
            return
        schedule = payload.get("schedule")
        slot = schedule.get("time") if isinstance(schedule, dict) else None
        seen = Seen(number, stored, slot if isinstance(slot, str) else None)
        self._seen.setdefault((str(event), phone), []).append(seen)

    def find(self, event: str, phone: str, sent_at: object, slot: str | None = None) -> Seen | None:
        """The latest `event` about `phone` (naming `slot`, if given) stored since `sent_at`
        (any, when that is unknown)."""
        self._refresh()
        since = parse_instant(sent_at)
        floor = None if since is None else since - CLOCK_SLACK
        with self._lock:
            found = [
                seen
                for seen in self._seen.get((event, phone), [])
                if (floor is None or seen.received_at >= floor)
                and (slot is None or seen.slot == slot)
            ]
        return max(found, key=lambda seen: seen.received_at, default=None)

    def wait_for(
        self,
        event: str,
        phone: str,
        sent_at: str,
        timeout: float,
        slot: str | None = None,
        *,
        cancelled: threading.Event | None = None,
    ) -> Seen | None:
        """`find`, waiting up to `timeout` seconds for the event to arrive (None at once
        when `cancelled` is set)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.find(event, phone, sent_at, slot)
            remaining = deadline - time.monotonic()
            if found is not None or remaining <= 0:
                return found
            if cancelled is not None and cancelled.is_set():
                return None
            self._spool.wait(self.source, self._after, min(remaining, CANCEL_POLL_SECONDS))

    def close(self) -> None:
        """Release the spool."""
        self._spool.close()
