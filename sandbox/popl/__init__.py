"""Emulator of the Popl Open API v2 leads endpoints (see ../shared/api/popl.md).

Faithful to what the reference pages show; where they are silent (page size, error bodies,
where phones, tags, qualifiers and the capture method live in a lead) the choices in this
package are guesses, marked as such, and lean to the harsher plausible behaviour.
"""

from sandbox.popl.api import BASE, PoplApi
from sandbox.popl.capture_times import MALFORMED_CAPTURE_VALUES
from sandbox.popl.cursors import ANCHOR_POLICIES
from sandbox.popl.errors import PoplError
from sandbox.popl.leads import (
    CAMPAIGNS,
    LEAD_SOURCES,
    MEMBER_KEY,
    QUESTIONS,
    SUBTEAMS,
    TAGS,
    TEAM_ID,
    iso_ms,
)
from sandbox.popl.query import parse_iso

__all__ = [
    "ANCHOR_POLICIES",
    "BASE",
    "CAMPAIGNS",
    "LEAD_SOURCES",
    "MALFORMED_CAPTURE_VALUES",
    "MEMBER_KEY",
    "QUESTIONS",
    "SUBTEAMS",
    "TAGS",
    "TEAM_ID",
    "PoplApi",
    "PoplError",
    "iso_ms",
    "parse_iso",
]
