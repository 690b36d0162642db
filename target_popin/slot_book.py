"""A thread-safe book of one run's slots: each handed to one customer, none offered twice."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from target_popin.slot_times import as_aware, format_slot


@dataclass
class SlotBook:
    """Listed slots of one run. A slot is claimed by one customer at a time; once booked or
    refused it is never offered again, whatever later `/slots` answers list."""

    zone: ZoneInfo
    listed: list[datetime]
    _claimed: set[datetime] = field(default_factory=set)
    _booked: set[datetime] = field(default_factory=set)
    _refused: set[datetime] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def claim(self, not_before: datetime | None = None) -> datetime | None:
        """The earliest slot still on offer at or after `not_before`; None when none is left."""
        with self._lock:
            taken = self._claimed | self._booked | self._refused
            for moment in self.listed:
                if moment in taken:
                    continue
                if not_before is not None and moment < as_aware(not_before, self.zone):
                    continue
                self._claimed.add(moment)
                return moment
        return None

    def release(self, moment: datetime) -> None:
        """Give back a claimed slot that was not used: it is on offer again."""
        with self._lock:
            self._claimed.discard(moment)

    def booked(self, moment: datetime) -> None:
        """Popin booked this slot for us (in this run or an earlier one): never offer it again."""
        with self._lock:
            self._claimed.discard(moment)
            self._booked.add(moment)

    def refuse(self, moment: datetime) -> None:
        """Popin refused this slot: nobody gets it in this run."""
        with self._lock:
            self._claimed.discard(moment)
            self._refused.add(moment)

    def replace(self, zone: ZoneInfo, listed: Iterable[datetime]) -> None:
        """Adopt a fresh `/slots` answer; claims, bookings and refusals of this run still hold."""
        with self._lock:
            self.zone = zone
            self.listed = sorted(listed)

    def text(self, moment: datetime) -> str:
        """The exact string `/schedule` takes for a slot."""
        return format_slot(moment, self.zone)
