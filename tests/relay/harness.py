"""Signed Wisepops deliveries to send a relay, and the contacts they carry."""

from __future__ import annotations

import json
from typing import Any

import requests

from lead_relay.wisepops import sign
from tests.relay.running import RelayProcess

SECRET = "relay-test-website-key"
SOURCE = "shop-fr"


def contact(n: int, **extra: Any) -> dict[str, Any]:
    """A Wisepops contact in the /contacts shape."""
    return {
        "collected_at": f"2026-01-01T10:00:{n % 60:02d}.{n % 1000:03d}Z",
        "wisepop_id": 12345,
        "ip": "127.0.0.1",
        "country_code": "FR",
        "form_session": f"00000000-0000-4000-8000-{n:012d}",
        "fields": {"email": f"lead{n}@relay.example.com", "Phone": f"+3361234{n:04d}"},
        **extra,
    }


def deliver(
    relay: RelayProcess,
    body: bytes | list[dict[str, Any]],
    *,
    secret: str | None = SECRET,
    source: str = SOURCE,
    headers: dict[str, str] | None = None,
) -> requests.Response:
    """POST a delivery, signed with `secret` (unsigned when None)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    sent = {"Content-Type": "application/json", **(headers or {})}
    if secret is not None:
        sent["X-Wisepops-Signature"] = sign(raw, secret)
    return requests.post(relay.hook_url("wisepops", source), data=raw, headers=sent, timeout=30)
