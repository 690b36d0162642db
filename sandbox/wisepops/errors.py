"""Wisepops' error answers, and the readers of query parameters and bodies that raise them."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request


class WisepopsError(Exception):
    """A refusal the API answers with a JSON error body."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def int_param(raw: str | None, name: str, default: int) -> int:
    """A query parameter as an integer (`default` when absent); 400 if not one."""
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise WisepopsError(400, f"{name} must be an integer") from None


async def json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object; 400 if it is not one."""
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        raise WisepopsError(400, "Body must be JSON") from None
    if not isinstance(body, dict):
        raise WisepopsError(400, "Body must be a JSON object")
    return body
