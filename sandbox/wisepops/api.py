"""`WisepopsApi`: the Wisepops emulator's settings, seeded data, authentication and its
endpoints other than GET /contacts (popups, hooks, GDPR deletion)."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route
from typing_extensions import override

from leadkit.phones import to_e164
from sandbox.control import DEMO_KEYS
from sandbox.vendor import SandboxError, VendorApi
from sandbox.wisepops.budget import CallBudget
from sandbox.wisepops.contacts import (
    SEED_START,
    ContactFactory,
    is_phone_label,
    parse_utc,
    seeded_store,
)
from sandbox.wisepops.errors import WisepopsError, int_param, json_object
from sandbox.wisepops.hooks import HOOK_SETTINGS, HookDeliveries
from sandbox.wisepops.paging import ContactPaging
from sandbox.wisepops.paging_faults import malformed_rules

AUTH_HEADER = re.compile(r'^WISEPOPS-API key="([^"]+)"$')
INTERNATIONAL_PHONE = re.compile(r"^\+\d{6,15}$")
HOOK_EVENTS = ("email", "phone", "survey")


class WisepopsApi(CallBudget, ContactPaging, HookDeliveries, VendorApi):
    """GET /contacts, GET /wisepops, /hooks (GET, POST, DELETE), DELETE /data-privacy, and
    signed hook deliveries of the contacts the `collect` action adds."""

    name = "wisepops"
    default_keys = (DEMO_KEYS["wisepops"],)
    default_settings = {
        # The docs don't say whether `collected_after` is > or >=. Strict is the harsher
        # default: a client that moves the cursor to the last timestamp it saw silently
        # loses the rest of a tie group, whereas inclusive only makes it re-read records.
        "collected_after_mode": "strict",
        # "1,500 API calls within 30 days"; every authenticated call that is served counts.
        "monthly_call_budget": 1500,
        "budget_window_days": 30,
        # The API is "available in Pro plans and above": False answers 403 to valid keys.
        "api_access": True,
        # True instant (ISO-8601) -> the value served as `collected_at` instead (any string,
        # or null). Sorting and `collected_after` still use the true time: the server's
        # own column is fine, only what it prints is broken.
        "malformed_collected_at": {},
        # Undocumented: whether `page` of one query is computed over live data. False (the
        # harsher default) recomputes every request, so deleting contacts already served
        # moves later ones onto pages already read. True serves `page` >= 2 from the result
        # the same query had when its page 1 was served, so nothing shifts during paging.
        "page_snapshots": False,
        # Hook deliveries: duplicates, contacts per POST, retries (sandbox/wisepops/hooks.py).
        **HOOK_SETTINGS,
    }

    @override
    def restored(self) -> None:
        """Rebuild the sorted index over the new store."""
        self._snapshots: dict[tuple[str | None, str | None], list[dict[str, Any]]] = {}
        self.store.setdefault("contacts_requests", 0)
        self.store.setdefault("pending_deletions", [])
        self._reindex()
        self._start_deliveries(self.seed)

    @override
    def update_settings(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Validate the switches this API has."""
        mode = changes.get("collected_after_mode", "strict")
        if mode not in {"strict", "inclusive"}:
            raise SandboxError("collected_after_mode must be 'strict' or 'inclusive'")
        for name in ("monthly_call_budget", "budget_window_days"):
            if name in changes and (not isinstance(changes[name], int) or changes[name] < 0):
                raise SandboxError(f"{name} must be a non-negative integer")
        if "page_snapshots" in changes and not isinstance(changes["page_snapshots"], bool):
            raise SandboxError("page_snapshots must be true or false")
        for name in HOOK_SETTINGS:
            if name in changes and (
                not isinstance(changes[name], (int, float)) or changes[name] < 0
            ):
                raise SandboxError(f"{name} must be a non-negative number")
        if "malformed_collected_at" in changes:
            changes = {**changes, "malformed_collected_at": malformed_rules(changes)}
        return super().update_settings(changes)

    @override
    def action(self, name: str, body: dict[str, Any]) -> Any:
        """`delete_contacts` (see `PagingFaults._delete_contacts`); `collect` (contacts
        submitted now, delivered to the hooks: see `HookDeliveries._collect`)."""
        if name == "collect":
            return self._collect(body)
        if name != "delete_contacts":
            return super().action(name, body)
        return self._delete_contacts(body)

    # Data

    @override
    def initial_store(self) -> dict[str, Any]:
        """Six popups and about 3,000 contacts with many timestamp ties."""
        self._factory = ContactFactory(self.seed, salt=1)
        # Every test resets the sandbox: build each seed's data once, copy it after.
        return json.loads(seeded_store(self.seed))

    @override
    def seed_records(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Add contacts: {"contacts": n, "collected_at", "same_timestamp", "wisepop_id",
        "person", "form_session", "fields", "replace", "summary_only"}."""
        known = {
            "contacts",
            "collected_at",
            "same_timestamp",
            "step_ms",
            "wisepop_id",
            "person",
            "form_session",
            "fields",
            "replace",
            "summary_only",
        }
        unknown = set(spec) - known
        if unknown:
            raise SandboxError(f"unknown wisepops seed keys: {sorted(unknown)}")
        count = int(spec.get("contacts", 1))
        if count < 0:
            raise SandboxError("contacts must be >= 0")
        if spec.get("replace"):
            self.store["contacts"] = []
        if "collected_at" in spec:
            start = parse_utc(str(spec["collected_at"]))
        elif self.store["contacts"]:
            start = parse_utc(self.store["contacts"][-1]["collected_at"]) + timedelta(seconds=1)
        else:
            start = SEED_START
        step = timedelta(milliseconds=0 if spec.get("same_timestamp") else spec.get("step_ms", 1))
        added = [
            self._factory.contact(
                start + step * index,
                wisepop_id=spec.get("wisepop_id"),
                person=spec.get("person"),
                form_session=spec.get("form_session"),
                fields=spec.get("fields"),
            )
            for index in range(count)
        ]
        self.store["contacts"].extend(added)
        self._reindex()
        result: dict[str, Any] = {"added": len(added), "total": len(self.store["contacts"])}
        if added:
            result["first_collected_at"] = added[0]["collected_at"]
            result["last_collected_at"] = added[-1]["collected_at"]
        if not spec.get("summary_only"):
            result["contacts"] = added
        return result

    @override
    def inspect(self, kind: str) -> Any:
        """Stored records; `usage` shows the call budget."""
        if kind == "usage":
            return self._usage()
        if kind == "deliveries":
            return self._deliveries_made()
        if kind in {"next_hook_id", "refused", "contacts_requests", "hook_keys"}:
            raise SandboxError(f"wisepops holds no {kind!r}")
        return super().inspect(kind)

    # HTTP

    @override
    def routes(self) -> list[BaseRoute]:
        """The api2 paths."""
        return [
            Route("/api2/contacts", self._handle(self._contacts), methods=["GET"]),
            Route("/api2/wisepops", self._handle(self._wisepops), methods=["GET"]),
            Route("/api2/hooks", self._handle(self._hooks), methods=["GET", "POST", "DELETE"]),
            Route("/api2/data-privacy", self._handle(self._data_privacy), methods=["DELETE"]),
        ]

    def _handle(
        self, handler: Callable[[Request], Awaitable[Any]]
    ) -> Callable[[Request], Awaitable[JSONResponse]]:
        async def endpoint(request: Request) -> JSONResponse:
            try:
                self._admit(request.headers.get("authorization"))
                try:
                    return JSONResponse(await handler(request))
                finally:
                    # Served calls count, bad requests included; refused ones do not.
                    self._count_call()
            except WisepopsError as exc:
                return JSONResponse(
                    {"error": exc.message}, status_code=exc.status, headers=exc.headers
                )

        return endpoint

    def _admit(self, header: str | None) -> None:
        match = AUTH_HEADER.match(header or "")
        if match is None:
            raise WisepopsError(
                401, 'Missing or malformed Authorization header; expected WISEPOPS-API key="..."'
            )
        if not self.key_ok(match.group(1)):
            raise WisepopsError(401, "Invalid API key")
        if not self.settings["api_access"]:
            raise WisepopsError(403, "API access requires a Pro plan or above")
        self._refuse_past_budget()

    async def _wisepops(self, request: Request) -> list[dict[str, Any]]:
        counts: dict[int, int] = {}
        for contact in self.store["contacts"]:
            counts[contact["wisepop_id"]] = counts.get(contact["wisepop_id"], 0) + 1
        return [{**p, "email_count": counts.get(p["id"], 0)} for p in self.store["wisepops"]]

    async def _hooks(self, request: Request) -> Any:
        hooks: list[dict[str, Any]] = self.store["hooks"]
        if request.method == "GET":
            return hooks
        if request.method == "DELETE":
            raw = request.query_params.get("hook_id")
            if raw is None:
                raise WisepopsError(400, "hook_id is required")
            hook_id = int_param(raw, "hook_id", 0)
            kept = [h for h in hooks if h["id"] != hook_id]
            if len(kept) == len(hooks):
                raise WisepopsError(404, "Hook not found")
            self.store["hooks"] = kept
            return {"deleted": 1}
        body = await json_object(request)
        unknown = set(body) - {"event", "target_url", "wisepop_id"}
        if unknown:
            raise WisepopsError(400, f"Unknown fields: {', '.join(sorted(unknown))}")
        if body.get("event") not in HOOK_EVENTS:
            raise WisepopsError(400, f"event must be one of {', '.join(HOOK_EVENTS)}")
        target = body.get("target_url")
        parts = urlsplit(target) if isinstance(target, str) else None
        if parts is None or parts.scheme not in {"http", "https"} or not parts.hostname:
            raise WisepopsError(400, "target_url must be an absolute http(s) URL")
        hook: dict[str, Any] = {"id": self.store["next_hook_id"], "event": body["event"]}
        hook["target_url"] = target
        if "wisepop_id" in body:
            popup_id = body["wisepop_id"]
            if not isinstance(popup_id, int) or isinstance(popup_id, bool):
                raise WisepopsError(400, "wisepop_id must be an integer")
            if all(p["id"] != popup_id for p in self.store["wisepops"]):
                raise WisepopsError(400, "wisepop_id does not match any wisepop")
            hook["wisepop_id"] = popup_id
        self.store["next_hook_id"] += 1
        hooks.append(hook)
        # Deliveries are signed with the key of the website that registered the hook.
        key = AUTH_HEADER.match(request.headers.get("authorization", ""))
        if key is not None:
            self.store.setdefault("hook_keys", {})[str(hook["id"])] = key.group(1)
        return {"id": hook["id"]}

    async def _data_privacy(self, request: Request) -> dict[str, int]:
        body = await json_object(request)
        email, phone = body.get("email"), body.get("phone")
        if email is None and phone is None:
            raise WisepopsError(400, "At least email or phone must be provided")
        if email is not None and (not isinstance(email, str) or "@" not in email):
            raise WisepopsError(400, "email is not a valid address")
        if phone is not None and (
            not isinstance(phone, str) or not INTERNATIONAL_PHONE.match(phone)
        ):
            raise WisepopsError(
                400, "phone must be in international format with a leading + and no spaces"
            )

        def matches(contact: dict[str, Any]) -> bool:
            for label, value in contact["fields"].items():
                if email is not None and value.strip().casefold() == email.casefold():
                    return True
                if phone is not None and is_phone_label(label) and value:
                    if to_e164(value, contact.get("country_code")) == phone:
                        return True
                    if re.sub(r"[\s().-]", "", value) == phone:
                        return True
            return False

        contacts = self.store["contacts"]
        kept = [c for c in contacts if not matches(c)]
        self.store["contacts"] = kept
        self._reindex()
        return {"deleted": len(contacts) - len(kept)}
