"""Reading Popin's answers: success needs HTTP 2xx and `status == 1`."""

from __future__ import annotations

from typing import Any

import requests

from leadkit.responses import safe_reason

#: Both credentials go together and Popin's 401 does not say which one it refused.
AUTH_SETTINGS = "api_key` and `seller_token"


def success_body(response: requests.Response) -> dict[str, Any] | None:
    """The body when the HTTP status is 2xx and `status` is 1; None otherwise."""
    if not response.ok:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict) or body.get("status") != 1:
        return None
    return body


def names_the_customer(response: requests.Response) -> bool:
    """Whether a refusal's message is about the customer (unknown, already booked) rather
    than the slot; Popin documents no codes, so its message is all there is to go on."""
    message = safe_reason(response)
    return message is not None and "customer" in message.lower()
