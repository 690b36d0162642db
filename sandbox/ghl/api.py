"""`GhlApi`: the GHL emulator's settings, lifecycle and control actions, and the request
pipeline every operation goes through (token, rate limit, Version, DTO, handler, log)."""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from typing_extensions import override

from sandbox.control import DEMO_KEYS
from sandbox.ghl.contacts import empty_store
from sandbox.ghl.dto import dto_errors, operations
from sandbox.ghl.errors import TOO_MANY, UNAUTHORIZED, GhlError
from sandbox.ghl.handlers import Call, ContactHandlers, Handler
from sandbox.ghl.limits import RateLimiter
from sandbox.ghl.oauth import OAuthApp
from sandbox.ghl.routes import ALL_METHODS, ROUTES, bearer_token, json_body, not_found
from sandbox.ghl.search import flush
from sandbox.vendor import SandboxError, VendorApi

#: Keys a seeded contact may carry besides its DTO fields.
SEED_EXTRAS = ("dateAdded", "dateUpdated", "businessId", "notes", "tasks", "appointments")


class GhlApi(ContactHandlers, OAuthApp, VendorApi):
    """HighLevel API v2 under `/ghl`: Bearer token bound to one location."""

    name = "ghl"
    default_keys = (DEMO_KEYS["ghl"],)
    default_settings = {
        # The location's "Allow Duplicate Contact" setting and its matching priority.
        "allow_duplicate_contacts": False,
        "duplicate_priority": "email",  # "email" or "phone": which match wins
        "rate_limit_max": 100,
        "rate_limit_window_ms": 10_000,
        "daily_limit": 200_000,
        "retry_after_on_429": False,
        # Documented: every response carries the five X-RateLimit-* headers. Off, a 429 carries
        # none of them (the harsher variant: a client then knows neither window nor budget).
        "rate_limit_headers_on_429": True,
        "rate_limit_counts_refused": True,
        # POST /contacts/search and GET /contacts/search/duplicate see writes this late.
        "search_lag_ms": 3_000,
        # Region a phone without "+" is read in (the location's country).
        "location_country": "US",
        "request_log_max": 10_000,
        # Contacts one bulk tag update may name; past it, a 422 (GHL documents no maximum).
        "bulk_tags_max_contacts": 100,
        # Emails of contacts a bulk tag update answers with a per-contact error.
        "bulk_tags_busy_emails": [],
        # OAuth (sandbox/ghl/oauth.py): access tokens live a day less a second, as GHL's
        # `expires_in` says; a used refresh token dies at once (0) or after this grace.
        "access_token_ttl_seconds": 86_399,
        "refresh_token_grace_seconds": 0,
        # Delay of a token answer, after the rotation: a client killed meanwhile loses it.
        "oauth_token_delay_ms": 0,
        # Contacts search answers with a junk `dateUpdated` (filters and sort still see the
        # true one), as a format change or a corrupt record would.
        "malformed_date_updated_ids": [],
        "malformed_date_updated_value": "30/11/2026 10:00",
    }

    @override
    def reset(self, seed: int | None = None) -> None:
        """Seeded store, fresh rate-limit counters and an empty request log."""
        self.limiter = RateLimiter()
        self.request_log: deque[dict[str, Any]] = deque(maxlen=10_000)
        super().reset(seed)
        self._ids = random.Random(self.seed)

    @override
    def restored(self) -> None:
        """A new store: no cached search result may outlive the old one."""
        self.search_changed()

    @override
    def load(self, data: dict[str, Any]) -> None:
        """Restore a saved store; new ids must not repeat the saved ones."""
        super().load(data)
        held = sum(len(self.store[kind]) for kind in ("contacts", "notes", "tasks"))
        self._ids = random.Random(f"{self.seed}/{held}/{time.time_ns()}")

    @override
    def update_settings(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Refuse values the emulator cannot honour."""
        if changes.get("duplicate_priority", "email") not in {"email", "phone"}:
            raise SandboxError("duplicate_priority must be 'email' or 'phone'")
        positive = (
            "rate_limit_max",
            "rate_limit_window_ms",
            "daily_limit",
            "request_log_max",
            "bulk_tags_max_contacts",
            "access_token_ttl_seconds",
        )
        for name in positive:
            if name in changes and not (
                isinstance(changes[name], (int, float)) and changes[name] > 0
            ):
                raise SandboxError(f"{name} must be a positive number")
        settings = super().update_settings(changes)
        if self.request_log.maxlen != settings["request_log_max"]:
            self.request_log = deque(self.request_log, maxlen=int(settings["request_log_max"]))
        return settings

    # -- store and control API --------------------------------------------------------------

    @override
    def initial_store(self) -> dict[str, Any]:
        """One location (the demo token's) with the seeded custom fields and no contacts."""
        self.store = empty_store()
        self._add_location(DEMO_KEYS["ghl_location"], DEMO_KEYS["ghl"])
        return self.store

    @override
    def seed_records(self, spec: dict[str, Any]) -> dict[str, Any]:
        """`{"location_id"?, "custom_fields": [{name, dataType, fieldKey?, picklistOptions?}],
        "contacts": [UpsertContactDto-like bodies]}`: contacts are stored as they are (no
        duplicate check, no rate limit) and are searchable at once."""
        location = spec.get("location_id", DEMO_KEYS["ghl_location"])
        if location not in self.store["locations"]:
            raise SandboxError(f"unknown location {location!r}; add it with add_location")
        unknown = set(spec) - {"location_id", "custom_fields", "contacts"}
        if unknown:
            raise SandboxError(f"unknown seed keys: {sorted(unknown)}")
        fields = [
            self._add_custom_field(
                location,
                item["name"],
                item["dataType"],
                item.get("fieldKey"),
                list(item.get("picklistOptions", [])),
            )
            for item in spec.get("custom_fields", [])
        ]
        contacts = []
        for body in spec.get("contacts", []):
            body = dict(body)
            extras = {key: body.pop(key) for key in SEED_EXTRAS if key in body}
            try:
                changes = self._prepare(location, body)
            except GhlError as exc:
                raise SandboxError(f"seed contact refused: {exc.body['message']}") from exc
            contact = self._create(location, changes, lag=False)
            self._seed_extras(contact, extras)
            contacts.append(contact)
        return {"custom_fields": fields, "contacts": contacts}

    def _seed_extras(self, contact: dict[str, Any], extras: dict[str, Any]) -> None:
        """Seed-only keys: dates, a business, and notes, tasks and appointments."""
        for key in ("dateAdded", "dateUpdated", "businessId"):
            if key in extras:
                contact[key] = extras[key]
        for kind in ("notes", "tasks", "appointments"):
            for item in extras.get(kind, []):
                entry = {"id": self._new_id(), **item, "contactId": contact["id"]}
                if kind == "appointments":
                    entry.setdefault("locationId", contact["locationId"])
                self.store.setdefault(kind, {}).setdefault(contact["id"], []).append(entry)
        if {"dateAdded", "dateUpdated", "businessId"} & set(extras):
            self._index_for_search(contact["locationId"], contact, False)

    def seed_many(self, body: dict[str, Any]) -> dict[str, Any]:
        """`seed_contacts`: `count` plain contacts fast, `dateUpdated` spread evenly from
        `start` to `end` (ISO date-times), searchable at once; optionally one `businessId`."""
        location = body.get("location_id", DEMO_KEYS["ghl_location"])
        if location not in self.store["locations"]:
            raise SandboxError(f"unknown location {location!r}")
        count = body.get("count")
        if not isinstance(count, int) or count < 1:
            raise SandboxError("seed_contacts needs a positive whole `count`")
        try:
            start = datetime.fromisoformat(str(body["start"]).replace("Z", "+00:00"))
            end = datetime.fromisoformat(str(body["end"]).replace("Z", "+00:00"))
        except (KeyError, ValueError) as exc:
            raise SandboxError("seed_contacts needs ISO date-times `start` and `end`") from exc
        step = (end - start) / max(1, count - 1)
        versions = self.store["search"][location]
        for index in range(count):
            stamp = (start + step * index).astimezone(timezone.utc)
            iso = stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")
            contact_id = self._new_id()
            contact = {
                "id": contact_id,
                "locationId": location,
                "type": "lead",
                "tags": [],
                "customFields": [],
                "dnd": False,
                "firstName": f"Bulk{index}",
                "firstNameLowerCase": f"bulk{index}",
                "name": f"Bulk{index}",
                "contactName": f"Bulk{index}",
                "fullNameLowerCase": f"bulk{index}",
                "dateAdded": iso,
                "dateUpdated": iso,
            }
            if body.get("business_id"):
                contact["businessId"] = body["business_id"]
            self.store["contacts"][contact_id] = contact
            versions[contact_id] = [[0.0, dict(contact)]]
        self.search_changed()
        return {"created": count}

    @override
    def inspect(self, kind: str) -> Any:
        """contacts (with notes, tasks and customFieldsByKey), notes, tasks, custom_fields,
        locations, requests (write requests: method, path, operation, body, status, at)."""
        if kind == "contacts":
            return [self._inspected(contact) for contact in self.store["contacts"].values()]
        if kind in {"notes", "tasks", "appointments"}:
            return [item for items in self.store.get(kind, {}).values() for item in items]
        if kind == "custom_fields":
            return [
                definition
                for location in self.store["locations"].values()
                for definition in location["customFields"].values()
            ]
        if kind == "locations":
            return [
                {"id": loc["id"], "name": loc["name"]} for loc in self.store["locations"].values()
            ]
        if kind == "requests":
            return list(self.request_log)
        if kind == "oauth":
            # Every token the OAuth app issued, so that tests can grep logs for them.
            return self._oauth()
        raise SandboxError(
            "ghl holds contacts, notes, tasks, appointments, custom_fields, locations, "
            "requests and oauth"
        )

    def _inspected(self, contact: dict[str, Any]) -> dict[str, Any]:
        definitions = self.store["locations"][contact["locationId"]]["customFields"]
        return {
            **contact,
            "customFieldsByKey": {
                definitions[item["id"]]["fieldKey"]: item["value"]
                for item in contact["customFields"]
                if item["id"] in definitions
            },
            "notes": self.store["notes"].get(contact["id"], []),
            "tasks": self.store["tasks"].get(contact["id"], []),
        }

    @override
    def action(self, name: str, body: dict[str, Any]) -> Any:
        """`add_location` {token, location_id, name?}: a second tenant with its own token;
        `flush_search`: make every pending write searchable now; `oauth_authorize`
        {location_id?}: a fresh OAuth refresh token, as an app installation ends with;
        `seed_contacts` {count, start, end, business_id?, location_id?}: many contacts fast."""
        if name == "add_location":
            if not body.get("token") or not body.get("location_id"):
                raise SandboxError("add_location needs token and location_id")
            return self._add_location(body["location_id"], body["token"], body.get("name"))
        if name == "oauth_authorize":
            return self.authorize(body.get("location_id", DEMO_KEYS["ghl_location"]))
        if name == "seed_contacts":
            return self.seed_many(body)
        if name == "flush_search":
            for versions in self.store["search"].values():
                flush(versions)
            self.search_changed()
            return {"flushed": True}
        return super().action(name, body)

    @override
    def key_ok(self, key: str | None) -> bool:
        """Revoked keys and expired OAuth access tokens are refused."""
        return super().key_ok(key) and not self.oauth_access_expired(key)

    # -- HTTP ---------------------------------------------------------------------------------

    @override
    def routes(self) -> list[BaseRoute]:
        """The vendor paths (relative to `/ghl`)."""
        routes: list[BaseRoute] = [
            Route(path, self._endpoint(method, template, handler), methods=[method])
            for path, method, template, handler in ROUTES
        ]
        routes.append(Route("/oauth/token", self.token_endpoint, methods=["POST"]))
        routes.append(Route("/{rest:path}", not_found, methods=ALL_METHODS))
        return routes

    def _endpoint(
        self, method: str, template: str, handler: Handler
    ) -> Callable[[Request], Awaitable[Response]]:
        operation = operations()[f"{method} {template}"]

        async def endpoint(request: Request) -> Response:
            raw = await request.body()
            status, payload, headers = self._answer(request, raw, operation, handler)
            return JSONResponse(payload, status_code=status, headers=headers)

        return endpoint

    def _answer(
        self, request: Request, raw: bytes, operation: dict[str, Any], handler: Handler
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Auth, rate limit, Version, DTO checks, then the handler; the write is logged."""
        token = bearer_token(request.headers.get("authorization"))
        if not self.key_ok(token):
            location = None
        else:
            # A key granted through the control API without add_location acts for the
            # demo location.
            location = self.store["tokens"].get(token, DEMO_KEYS["ghl_location"])
        if location is None:
            # Undocumented: a request no token identifies counts against no location, so
            # its 401 carries no X-RateLimit-* headers.
            return 401, UNAUTHORIZED, {}
        allowed, headers = self.limiter.hit(location, self.settings)
        if not allowed:
            if not self.settings["rate_limit_headers_on_429"]:
                headers = {k: v for k, v in headers.items() if not k.startswith("X-RateLimit-")}
            return 429, TOO_MANY, headers
        version = request.headers.get("version")
        if version is None:
            return 400, {"statusCode": 400, "message": "Version header is missing"}, headers
        if version not in operation["versions"]:
            message = f"Version header value {version!r} is not supported"
            return 400, {"statusCode": 400, "message": message}, headers
        accept = request.headers.get("accept", "*/*")
        if not any(kind in accept for kind in ("application/json", "*/*", "application/*")):
            return 406, {"statusCode": 406, "message": "Not Acceptable"}, headers
        body: Any = None
        if operation["body"] is not None:
            try:
                body = json_body(request, raw)
            except ValueError:
                return 400, {"statusCode": 400, "message": "Invalid JSON in request body"}, headers
        path = request.scope["path"][len(request.scope.get("root_path", "")) :] or "/"
        # Undocumented: query strings are whitelisted like bodies (an undeclared parameter
        # is a 422), as class-validator does for query DTOs.
        query = dict(request.query_params)
        errors = dto_errors(operation["query"], query)
        if operation["body"] is not None:
            errors += dto_errors(operation["body"], body)
        if errors:
            status, payload = (
                422,
                {
                    "statusCode": 422,
                    "message": errors,
                    "error": "Unprocessable Entity",
                },
            )
        else:
            call = Call(location, body, dict(request.path_params), query)
            try:
                status, payload = handler(self, call)
            except GhlError as exc:
                status, payload = exc.status, exc.body
        if request.method != "GET":
            self.request_log.append(
                {
                    "method": request.method,
                    "path": path,
                    "template": operation["template"],
                    "operation": operation["operationId"],
                    "location_id": location,
                    "body": body,
                    "status": status,
                    # Wall-clock seconds when answered: shows whether two runs' writes overlap.
                    "at": time.time(),
                }
            )
        return status, payload, headers
