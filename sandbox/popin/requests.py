"""Popin's refusals and the request fields it checks: JSON body, mobile, email, pincode."""

from __future__ import annotations

import json
import re
from typing import Any

import phonenumbers
from starlette.requests import Request
from starlette.responses import JSONResponse

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CAPTURE_FIELDS = frozenset(
    {"name", "mobile", "email", "group", "pincode", "pin_code", "country", "agent", "native"}
    | {"campaign"}
)


class Refused(Exception):
    """A request Popin answers with `{"status": 0, "message": ...}`."""

    def __init__(self, message: str, http_status: int = 200) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status


def failure(exc: Refused) -> JSONResponse:
    """The answer a refusal gets."""
    return JSONResponse({"status": 0, "message": exc.message}, status_code=exc.http_status)


async def json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object; a 400 refusal if it is not one."""
    try:
        body = json.loads(await request.body())
    except ValueError as exc:
        raise Refused("Invalid JSON body.", 400) from exc
    if not isinstance(body, dict):
        raise Refused("Invalid JSON body.", 400)
    return body


def valid_mobile(mobile: str, country: str) -> bool:
    """Only the national significant number, digits only, valid for the calling code."""
    if not mobile.isdigit():
        return False
    try:
        number = phonenumbers.parse(f"+{country}{mobile}")
    except phonenumbers.NumberParseException:
        return False
    return (
        phonenumbers.is_valid_number(number)
        and str(number.country_code) == country
        and phonenumbers.national_significant_number(number) == mobile
    )


def pincode_of(body: dict[str, Any]) -> str | None:
    """`pincode` (newer docs) or `pin_code` (older docs); both given must agree."""
    values = [body[k] for k in ("pincode", "pin_code") if body.get(k) is not None]
    if any(not isinstance(v, str) or not v.strip() for v in values):
        raise Refused("The pincode field must be a string.", 422)
    if len(set(values)) > 1:
        raise Refused("The pincode and pin_code fields disagree.", 422)
    return values[0] if values else None
