"""Emulator of the Wisepops api2: contacts, popups, hooks and GDPR deletion.

Faithful to `../shared/api/wisepops.md`; where the docs are silent it picks the behaviour
that hurts a careless client most: timestamp ties across page boundaries, a strict
`collected_after` by default, a call budget that runs out, strict validation, `page`
offsets over live data (a deletion moves later contacts to earlier pages), and contacts
whose `collected_at` is served malformed while the server still sorts them by true time.
"""

from sandbox.wisepops.api import WisepopsApi
from sandbox.wisepops.contacts import POPUPS, SEED_START, is_phone_label, iso_ms, parse_utc
from sandbox.wisepops.errors import WisepopsError
from sandbox.wisepops.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

# The name tests/e2e/harness.py imports.
_is_phone_label = is_phone_label

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "POPUPS",
    "SEED_START",
    "WisepopsApi",
    "WisepopsError",
    "is_phone_label",
    "iso_ms",
    "parse_utc",
]
