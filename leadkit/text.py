"""Free text from a record, read the same way by both targets."""

from __future__ import annotations


def clean_text(value: object) -> str | None:
    """A scalar as trimmed text; None when empty, a boolean, an object or a list."""
    if value is None or isinstance(value, (bool, dict, list)):
        return None
    text = str(value).strip()
    return text or None
