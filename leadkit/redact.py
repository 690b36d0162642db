"""Keep credentials and people's data out of logs, whatever code emits the record."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable

EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
E164 = re.compile(r"\+\d{7,15}\b")
MASK = "[redacted]"

_lock = threading.Lock()
_secrets: set[str] = set()
_installed = False


def redact(text: str) -> str:
    """Mask registered secrets, email addresses and E.164 phone numbers in `text`."""
    for secret in _secrets:
        text = text.replace(secret, MASK)
    return E164.sub(MASK, EMAIL.sub(MASK, text))


def register_secrets(values: Iterable[object]) -> None:
    """Add credential values to mask; short or empty values are ignored as too ambiguous."""
    with _lock:
        _secrets.update(str(v) for v in values if isinstance(v, str) and len(v) >= 6)


def install(secrets: Iterable[object] = ()) -> None:
    """Redact every log record created from now on in this process."""
    global _installed
    register_secrets(secrets)
    with _lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: object, **kwargs: object) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            try:
                message = record.getMessage()
            except Exception:
                message = str(record.msg)
            record.msg, record.args = redact(message), None
            return record

        logging.setLogRecordFactory(factory)
        _installed = True
