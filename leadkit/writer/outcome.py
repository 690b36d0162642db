"""How a sink says that one record cannot be written while the run goes on."""

from __future__ import annotations


class Reject(Exception):
    """Raised by a sink's write_record: the record goes to the reject file, the run goes on."""

    def __init__(self, reason: str, detail: str | None = None) -> None:
        super().__init__(reason if detail is None else f"{reason}: {detail}")
        #: Short and stable, no PII: it groups rejects in the run summary.
        self.reason = reason
        #: More on why (the vendor's message, or what to check): kept in the reject file only.
        self.detail = detail
