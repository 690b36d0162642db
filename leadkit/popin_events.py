"""Reading Popin's webhook events: who they are about, in the forms the connectors use.

Popin documents the events' names and that each carries the phone, the `user_id`, the agent
and, for calls, the duration; not their exact shape. `user_id` may come as the plain number
(315) while /capture answered the opaque customer_id ("MzE1", base64 of "315"), or as that
customer_id itself: both are read, and compared as the number.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from leadkit.phones import to_e164

#: The events that say Popin captured someone, or booked their call (what settles a
#: capture or a booking in doubt).
USER_CAPTURED = "popin_user_captured"
SCHEDULED_CREATED = "popin_scheduled_created"


def user_number(value: object) -> int | None:
    """The number behind a user id: 315, "315" or "MzE1" -> 315; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if not isinstance(value, str) or not value.strip() or len(value) > 64:
        return None
    text = value.strip()
    if text.isdigit():
        return int(text)
    try:
        decoded = base64.b64decode(text + "=" * (-len(text) % 4), validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return int(decoded) if decoded.isdigit() else None


def customer_id_of(number: int) -> str:
    """The customer_id /capture answers for a user number: 315 -> "MzE1" (unpadded base64,
    as in Popin's documented example)."""
    return base64.b64encode(str(number).encode()).decode().rstrip("=")


def event_phone(payload: Mapping[str, Any]) -> str | None:
    """The event's phone in E.164, or None when it carries no valid international number."""
    phone = payload.get("phone")
    if isinstance(phone, str) and phone.strip() and not phone.strip().startswith(("+", "00")):
        # Popin stores numbers with their calling code; one sent without the plus still has it.
        phone = "+" + phone.strip()
    return to_e164(phone)
