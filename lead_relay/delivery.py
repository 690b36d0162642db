"""What every webhook source kind implements, and the error for a body it cannot use."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol


class BadDelivery(Exception):
    """The body is not what the vendor sends (not JSON, wrong shape): answered with 400.

    The message says what is wrong with the shape, never a value from the body.
    """


class SourceKind(Protocol):
    """One vendor's webhooks: how a delivery is authenticated and split into items.

    A kind may also set `secret_required = True`: the relay then refuses to start a source
    of that kind whose secret variable is unset.
    """

    name: str

    def verify(self, headers: Mapping[str, str], raw: bytes, secret: str | None) -> bool:
        """Whether the delivery is authentic; compares in constant time."""
        ...

    def items(self, raw: bytes) -> list[dict[str, Any]]:
        """The delivery's items, each stored as one spool entry; BadDelivery if malformed."""
        ...


def parse_json(raw: bytes) -> Any:
    """The body as JSON, or BadDelivery (without echoing any of it)."""
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, ValueError) as error:
        raise BadDelivery("the body is not valid JSON") from error
