"""GHL's paths: which handler serves each, under which spec template, and the HTTP helpers
that come before a handler (token, JSON body, GHL's own 404)."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sandbox.ghl.handlers import ContactHandlers, Handler

# (path as routed, method, template as in the spec, handler)
ROUTES: tuple[tuple[str, str, str, Handler], ...] = (
    ("/contacts/upsert", "POST", "/contacts/upsert", ContactHandlers.upsert),
    ("/contacts/search", "POST", "/contacts/search", ContactHandlers.search),
    ("/contacts/search/duplicate", "GET", "/contacts/search/duplicate", ContactHandlers.duplicate),
    (
        "/contacts/bulk/tags/update/{type}",
        "POST",
        "/contacts/bulk/tags/update/{type}",
        ContactHandlers.bulk_tags,
    ),
    ("/contacts/", "POST", "/contacts/", ContactHandlers.create),
    ("/contacts", "POST", "/contacts/", ContactHandlers.create),
    ("/contacts/{contactId}", "GET", "/contacts/{contactId}", ContactHandlers.get_contact),
    ("/contacts/{contactId}", "PUT", "/contacts/{contactId}", ContactHandlers.update),
    ("/contacts/{contactId}", "DELETE", "/contacts/{contactId}", ContactHandlers.delete),
    ("/contacts/{contactId}/tags", "POST", "/contacts/{contactId}/tags", ContactHandlers.add_tags),
    (
        "/contacts/{contactId}/tags",
        "DELETE",
        "/contacts/{contactId}/tags",
        ContactHandlers.remove_tags,
    ),
    ("/contacts/{contactId}/notes", "GET", "/contacts/{contactId}/notes", ContactHandlers.notes),
    (
        "/contacts/{contactId}/notes",
        "POST",
        "/contacts/{contactId}/notes",
        ContactHandlers.add_note,
    ),
    ("/contacts/{contactId}/tasks", "GET", "/contacts/{contactId}/tasks", ContactHandlers.tasks),
    (
        "/contacts/{contactId}/tasks",
        "POST",
        "/contacts/{contactId}/tasks",
        ContactHandlers.add_task,
    ),
    (
        "/contacts/{contactId}/tasks/{taskId}/completed",
        "PUT",
        "/contacts/{contactId}/tasks/{taskId}/completed",
        ContactHandlers.complete_task,
    ),
    (
        "/contacts/{contactId}/appointments",
        "GET",
        "/contacts/{contactId}/appointments",
        ContactHandlers.appointments,
    ),
    (
        "/contacts/business/{businessId}",
        "GET",
        "/contacts/business/{businessId}",
        ContactHandlers.business_contacts,
    ),
    (
        "/locations/{locationId}/customFields",
        "GET",
        "/locations/{locationId}/customFields",
        ContactHandlers.custom_fields,
    ),
)
# Any other path answers 404 whatever the method, as GHL does.
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


async def not_found(request: Request) -> Response:
    """GHL's (NestJS's) 404 for a path it does not serve."""
    path = request.scope["path"][len(request.scope.get("root_path", "")) :]
    body = {"statusCode": 404, "message": f"Cannot {request.method} {path}", "error": "Not Found"}
    return JSONResponse(body, status_code=404)


def bearer_token(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, None when there is none."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def json_body(request: Request, raw: bytes) -> Any:
    """The parsed body. Like Express's JSON parser, a body sent without a JSON content type is
    not read at all (the DTO then sees `{}`); malformed JSON raises ValueError."""
    content_type = request.headers.get("content-type", "")
    if "json" not in content_type.lower():
        return {}
    if not raw.strip():
        return {}
    return json.loads(raw)
