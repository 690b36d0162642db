"""Popin webhook events: one event per POST (or a list), checked against a static X-API-KEY."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

from lead_relay.delivery import BadDelivery, parse_json

API_KEY_HEADER = "x-api-key"
#: Events one delivery may carry; a longer list is not something Popin sends.
MAX_EVENTS = 1000


class PopinKind:
    """`POST /hooks/popin/NAME`: Popin's call events (`popin_user_captured`, `popin_call_*`...)."""

    name = "popin"
    #: Popin's webhooks may carry no key at all: without a secret, no X-API-KEY check.
    secret_required = False

    def verify(self, headers: Mapping[str, str], raw: bytes, secret: str | None) -> bool:
        """With a secret, the X-API-KEY header must equal it (constant-time comparison)."""
        if not secret:
            return True
        given = headers.get(API_KEY_HEADER) or headers.get("X-API-KEY")
        if not given:
            return False
        # Bytes, so that a non-ASCII header is refused rather than raising.
        return hmac.compare_digest(secret.encode("utf-8"), given.strip().encode("utf-8"))

    def items(self, raw: bytes) -> list[dict[str, Any]]:
        """The events: a JSON object, or an array of them, each naming its `event`."""
        body = parse_json(raw)
        events = body if isinstance(body, list) else [body]
        if not events:
            raise BadDelivery("a Popin delivery holds no event")
        if len(events) > MAX_EVENTS:
            raise BadDelivery(f"a Popin delivery holds more than {MAX_EVENTS} events")
        for position, event in enumerate(events):
            if not isinstance(event, dict):
                raise BadDelivery(f"event {position} is not a JSON object")
            name = event.get("event")
            if not isinstance(name, str) or not name.strip():
                raise BadDelivery(f"event {position} has no `event` name")
        return events


POPIN = PopinKind()
