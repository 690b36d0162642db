"""Vendor answers, read one way by taps and targets: the JSON body parsed once, and an
error message safe to show (no emails, phones or tokens)."""

from __future__ import annotations

import decimal
import json
import re
import typing as t

import requests

from leadkit import redact

_PARSED = "_leadkit_json"
# Phone numbers in any notation: seven or more digits, with the usual separators.
_PHONE_LIKE = re.compile(r"\+?\d[\d ().-]{5,}\d")
# Opaque tokens (cursors, ids, keys) are no reason a person can act on.
_TOKEN_LIKE = re.compile(r"[A-Za-z0-9_=.+/-]{32,}")


def json_body(response: requests.Response) -> t.Any:
    """The decoded body, parsed once per response (validation parses it first)."""
    cached = response.__dict__.get(_PARSED)
    if cached is None:
        cached = json.loads(response.content, parse_float=decimal.Decimal)
        response.__dict__[_PARSED] = cached
    return cached


def safe_reason(response: requests.Response, limit: int = 160) -> str | None:
    """The vendor's error message, without emails, phones or tokens, at most `limit` chars."""
    try:
        body = json_body(response)
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    message = body.get("message", body.get("error"))
    if isinstance(message, list):
        message = "; ".join(str(part) for part in message if isinstance(part, str))
    if not isinstance(message, str):
        return None
    text = redact.redact(" ".join(message.split()))
    text = _TOKEN_LIKE.sub(redact.MASK, redact.EMAIL.sub(redact.MASK, text))
    text = _PHONE_LIKE.sub(redact.MASK, text)
    text = "".join(char for char in text if char.isprintable())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text or None
