"""The contacts one run emitted, kept by the tap for the streams that read per contact."""

from __future__ import annotations

import threading


class EmittedContacts:
    """Ids of the contacts the `contacts` stream emitted in this run, in emission order,
    with the `dateUpdated` each was emitted with (None when it did not parse)."""

    def __init__(self) -> None:
        self._updated: dict[str, str | None] = {}
        self._lock = threading.Lock()
        #: Whether the `contacts` stream ran in this run (children read nothing otherwise).
        self.read = False

    def add(self, contact_id: str, date_updated: str | None) -> None:
        """Note an emitted contact; one emitted again moves to the end with its new date."""
        with self._lock:
            self._updated.pop(contact_id, None)
            self._updated[contact_id] = date_updated

    def ids(self) -> list[str]:
        """The emitted contacts' ids, oldest emission first."""
        with self._lock:
            return list(self._updated)

    def date_updated(self, contact_id: str) -> str | None:
        """The `dateUpdated` a contact was emitted with."""
        with self._lock:
            return self._updated.get(contact_id)
