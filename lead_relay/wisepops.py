"""Wisepops hook deliveries: a JSON array of contacts signed with the website's API key."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from lead_relay.delivery import BadDelivery, parse_json

SIGNATURE_HEADER = "x-wisepops-signature"


def sign(raw: bytes, api_key: str) -> str:
    """The hex HMAC-SHA256 of the raw body keyed with the API key, as Wisepops sends it."""
    return hmac.new(api_key.encode("utf-8"), raw, hashlib.sha256).hexdigest()


class WisepopsKind:
    """`POST /hooks/wisepops/NAME`: contacts in the /contacts shape, `X-Wisepops-Signature`."""

    name = "wisepops"
    #: Deliveries are always signed: a source without its API key cannot check them.
    secret_required = True

    def verify(self, headers: Mapping[str, str], raw: bytes, secret: str | None) -> bool:
        """The signature header matches the body's HMAC (constant-time comparison)."""
        given = headers.get(SIGNATURE_HEADER) or headers.get("X-Wisepops-Signature")
        if not secret or not given:
            return False
        expected = sign(raw, secret)
        # Bytes, so that a non-ASCII header is refused rather than raising.
        return hmac.compare_digest(expected.encode(), given.strip().lower().encode())

    def items(self, raw: bytes) -> list[dict[str, Any]]:
        """The contacts of the array; each must be an object whose `fields` is an object."""
        body = parse_json(raw)
        if not isinstance(body, list):
            raise BadDelivery("a Wisepops delivery must be a JSON array of contacts")
        for position, contact in enumerate(body):
            if not isinstance(contact, dict):
                raise BadDelivery(f"contact {position} is not a JSON object")
            if not isinstance(contact.get("fields", {}), dict):
                raise BadDelivery(f"contact {position}: `fields` is not a JSON object")
        return body


WISEPOPS = WisepopsKind()
