"""Malformed capture times: a setting makes the API send junk in place of some leads'
`captureDatetime`, while the server still sorts them by their true capture time."""

from __future__ import annotations

import hashlib
from typing import Any

from sandbox.popl.leads import public

# Capture times as a broken client or import might send them.
MALFORMED_CAPTURE_VALUES = ("not-a-date", "2025-13-45T99:00:00Z", 1744686000, "15/04/2025 03:00")


def digest(lead_id: str) -> int:
    """A stable number per lead: which leads the setting mangles, and with which value."""
    return int(hashlib.sha256(lead_id.encode()).hexdigest()[:12], 16)


def presented(lead: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """The lead as the API sends it: bookkeeping removed, capture time maybe mangled."""
    shown_lead = public(lead)
    shown = lead.get("_captureAsSent", lead["systemFields"]["captureDatetime"])
    every = int(settings["malformed_capture_every"] or 0)
    if every and digest(lead["leadId"]) % every == 0:
        values = settings["malformed_capture_values"]
        shown = values[digest(lead["leadId"]) // every % len(values)]
    if shown != lead["systemFields"]["captureDatetime"]:
        shown_lead["systemFields"] = {**shown_lead["systemFields"], "captureDatetime": shown}
    return shown_lead
