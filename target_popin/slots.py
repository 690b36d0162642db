"""The run's view of Popin's slots: read once, re-read after a refusal, shared by every thread."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import datetime

from leadkit.writer import ApiClient, Reject
from target_popin.slot_book import SlotBook
from target_popin.slot_times import SlotsUnreadable, parse_availability, parse_slot_text


class Slots:
    """Popin's listed slots as one `SlotBook` for the whole run."""

    def __init__(
        self, client: ApiClient, booked_earlier: Callable[[], Iterable[str]] = tuple
    ) -> None:
        self.client = client
        #: `/schedule` times booked (or maybe booked) by earlier runs, read at the first read.
        self.booked_earlier = booked_earlier
        self._book: SlotBook | None = None
        self._lock = threading.Lock()

    def _read(self) -> SlotBook:
        response = self.client.request("GET", "slots")
        if not response.ok:
            raise Reject(f"slots unavailable (HTTP {response.status_code})")
        try:
            zone, listed = parse_availability(response.json())
        except (ValueError, SlotsUnreadable) as exc:
            raise Reject("slots unreadable", str(exc)) from exc
        if self._book is not None:
            self._book.replace(zone, listed)
            return self._book
        self._book = SlotBook(zone, listed)
        # A listing may still show slots we booked before (Popin does not say how fresh it is).
        for text in self.booked_earlier():
            try:
                self._book.booked(parse_slot_text(text, zone))
            except SlotsUnreadable:
                continue
        return self._book

    def book(self) -> SlotBook:
        """The slot book, read from `GET /slots` the first time."""
        with self._lock:
            return self._book if self._book is not None else self._read()

    def claim(self, not_before: datetime | None) -> tuple[datetime, str] | None:
        """A slot nobody else holds and its exact `/schedule` string; None when none is left."""
        book = self.book()
        moment = book.claim(not_before)
        return None if moment is None else (moment, book.text(moment))

    def release(self, moment: datetime) -> None:
        """Give back a claimed slot that was not booked."""
        self.book().release(moment)

    def booked(self, moment: datetime) -> None:
        """A slot Popin booked for us: never offered again, even if `/slots` still lists it."""
        self.book().booked(moment)

    def refused(self, moment: datetime) -> None:
        """A slot Popin refused: never offered again; the listing is read again, since
        someone else may have taken more slots."""
        self.book().refuse(moment)
        with self._lock:
            self._read()
