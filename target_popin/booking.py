"""Slots of one run: read once, re-read only after Popin refuses one."""

from __future__ import annotations

import threading
from datetime import datetime

from leadkit.writer import ApiClient, Reject
from target_popin.slots import SlotBook, SlotsUnreadable, parse_availability


class Slots:
    """The run's view of Popin's free slots, shared by every sink and thread."""

    def __init__(self, client: ApiClient) -> None:
        self.client = client
        self.reads = 0
        self._book: SlotBook | None = None
        self._lock = threading.Lock()

    def _read(self) -> SlotBook:
        response = self.client.request("GET", "slots")
        self.reads += 1
        if not response.ok:
            raise Reject(f"slots unavailable (HTTP {response.status_code})")
        try:
            zone, free = parse_availability(response.json())
        except (ValueError, SlotsUnreadable) as exc:
            raise Reject("slots unreadable", str(exc)) from exc
        if self._book is None:
            self._book = SlotBook(zone, free)
        else:
            self._book.replace(zone, free)
        return self._book

    def book(self) -> SlotBook:
        """The slot book, read from `GET /slots` the first time."""
        with self._lock:
            return self._book if self._book is not None else self._read()

    def claim(self, not_before: datetime | None) -> tuple[datetime, str]:
        """A distinct free slot and its exact `/schedule` string; Reject when none is left."""
        book = self.book()
        moment = book.claim(not_before)
        if moment is None:
            raise Reject("no free slot")
        return moment, book.text(moment)

    def release(self, moment: datetime) -> None:
        """Give back a claimed slot that was not booked."""
        self.book().release(moment)

    def refused(self, moment: datetime) -> bool:
        """Re-read the slots after a refusal; True when the slot is gone (someone took it)."""
        with self._lock:
            book = self._read()
        if book.is_listed(moment):
            book.release(moment)
            return False
        book.refuse(moment)
        return True
