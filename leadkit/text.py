"""Values from a record as text, read the same way by every connector."""

from __future__ import annotations

import json


def clean_text(value: object) -> str | None:
    """A scalar as trimmed text; None when empty, a boolean, an object or a list."""
    if value is None or isinstance(value, (bool, dict, list)):
        return None
    text = str(value).strip()
    return text or None


def as_text(value: object) -> str | None:
    """A raw value as text: strings as they are, anything else as JSON."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, default=str)
