"""GHL's error answers: the exception handlers raise and the fixed bodies it carries."""

from __future__ import annotations

from typing import Any

UNAUTHORIZED = {
    "statusCode": 401,
    "message": "Invalid token: access token is invalid",
    "error": "Unauthorized",
}
FORBIDDEN = {"statusCode": 403, "message": "The token does not have access to this location."}
TOO_MANY = {"statusCode": 429, "message": "Too Many Requests - Rate limit exceeded"}
DUPLICATE_MESSAGE = "This location does not allow duplicated contacts."


class GhlError(Exception):
    """An answer other than success, with GHL's body."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


def bad_request(message: str, **extra: Any) -> GhlError:
    """400 in GHL's shape."""
    return GhlError(400, {"statusCode": 400, "message": message, **extra})
