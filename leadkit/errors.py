"""Errors whose messages are safe to log: no secrets, no record contents."""

from __future__ import annotations

from urllib.parse import urlsplit

import requests
from singer_sdk.exceptions import ConfigValidationError, FatalAPIError


class ConfigError(ConfigValidationError):
    """A setting is missing or invalid; raised before any request is sent."""

    def __init__(self, message: str, *, errors: list[str] | None = None) -> None:
        # The SDK's CLI prints only `errors`, so a bare message would show as a generic failure.
        super().__init__(message, errors=errors or [message])


class AuthFailure(FatalAPIError):
    """The vendor refused the credential (401/403): retrying cannot help."""


class QuotaExhausted(FatalAPIError):
    """The vendor's call budget for the period is spent: stop cleanly, retry later."""


def describe_response(vendor: str, response: requests.Response) -> str:
    """Status, method and path of a response; never its body, headers or query string."""
    request = response.request
    method = request.method if request is not None else "?"
    path = urlsplit(response.url or "").path or "?"
    return f"HTTP {response.status_code} from {vendor} {method} {path}"


def auth_failure(vendor: str, response: requests.Response, setting: str) -> AuthFailure:
    """Build the message that tells the user which setting to fix."""
    return AuthFailure(
        f"{describe_response(vendor, response)}: the credential was refused. "
        f"Check the `{setting}` setting (it may be wrong, revoked or lack access)."
    )


class InputError(Exception):
    """The Singer input cannot be used (a broken SCHEMA, an unreadable stream); the message
    names the stream, never a record's values."""
