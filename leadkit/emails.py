"""Email addresses as both targets accept them."""

from __future__ import annotations

import re

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def is_email(text: str) -> bool:
    """One `@`, a dotted domain and no white space."""
    return bool(EMAIL.match(text))


def clean_email(raw: object) -> str | None:
    """Trimmed, lower-cased email of at most 254 characters (RFC 5321), or None."""
    if not isinstance(raw, str):
        return None
    email = raw.strip().lower()
    return email if is_email(email) and len(email) <= 254 else None
