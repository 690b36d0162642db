"""Keep credentials and people's data out of logs, whatever code emits the record."""

from __future__ import annotations

import logging
import re
import threading
import urllib.parse
from collections.abc import Iterable

EMAIL = re.compile(r"[\w.+'%-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
E164 = re.compile(r"(?:\+|%2B)\d{7,15}\b", re.IGNORECASE)
# Query strings carry search terms (emails, phones, names): a library logging a URL at
# DEBUG keeps the parameter names and loses the values.
QUERY_VALUE = re.compile(r"([?&][^=&\s\"'#]+=)[^&\s\"'#]+")
# OAuth fields in form-encoded bodies and JSON answers, and bearer headers: masked whatever
# the value, so that a token not (yet) registered as a secret still never reaches a log.
TOKEN_FIELD = re.compile(
    r"(\b(?:access_token|refresh_token|client_secret|id_token)"
    r"(?:\"|\\\"|')?\s*(?:=|:)\s*(?:\"|\\\"|')?)[^\s\"'&,}\\]+",
    re.IGNORECASE,
)
BEARER = re.compile(r"(Bearer\s+)[^\s\"',}]+", re.IGNORECASE)
MASK = "[redacted]"

_lock = threading.Lock()
_secrets: set[str] = set()
_installed = False


def redact(text: str) -> str:
    """Mask secrets, query values, emails and E.164 phones, also in URL-encoded form."""
    for secret in _secrets:
        text = text.replace(secret, MASK)
        quoted = urllib.parse.quote(secret, safe="")
        if quoted != secret:
            text = text.replace(quoted, MASK)
    text = TOKEN_FIELD.sub(rf"\g<1>{MASK}", text)
    text = BEARER.sub(rf"\g<1>{MASK}", text)
    text = QUERY_VALUE.sub(rf"\g<1>{MASK}", text)
    return E164.sub(MASK, EMAIL.sub(MASK, text))


def register_secrets(values: Iterable[object]) -> None:
    """Add credential values to mask; short or empty values are ignored as too ambiguous."""
    with _lock:
        _secrets.update(str(v) for v in values if isinstance(v, str) and len(v) >= 6)


def install(secrets: Iterable[object] = ()) -> None:
    """Redact every log record created from now on in this process, tracebacks included."""
    global _installed
    register_secrets(secrets)
    with _lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()
        formatter = logging.Formatter()

        def factory(*args: object, **kwargs: object) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            try:
                message = record.getMessage()
            except Exception:
                message = str(record.msg)
            record.msg, record.args = redact(message), None
            if record.exc_info:
                # Exception messages can quote input; format the traceback now, masked,
                # so that no handler formats the raw one later.
                record.exc_text = redact(formatter.formatException(record.exc_info))
                record.exc_info = None
            return record

        logging.setLogRecordFactory(factory)
        _installed = True
