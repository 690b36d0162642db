"""`PoplApi`: the Popl emulator's settings, seeded data and its two HTTP endpoints."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route
from typing_extensions import override

from sandbox.control import DEMO_KEYS
from sandbox.popl.actions import LeadActions
from sandbox.popl.capture_times import MALFORMED_CAPTURE_VALUES, presented
from sandbox.popl.cursors import ANCHOR_POLICIES
from sandbox.popl.errors import PoplError, bad_request
from sandbox.popl.leads import (
    CAMPAIGNS,
    DEFAULT_LEAD_COUNT,
    DEFAULT_PENDING_COUNT,
    MEMBER_KEY,
    LeadFactory,
    Team,
    burst_times,
)
from sandbox.popl.search import LeadSearch
from sandbox.vendor import SandboxError, VendorApi

BASE = "/api/pub/v2"


def _optional_number(value: object, name: str, minimum: float) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
        raise SandboxError(f"{name} must be null or a number >= {minimum:g}")


class PoplApi(LeadSearch, LeadActions, VendorApi):
    """POST /leads/search and GET /leads/{leadId}, with offline leads that sync late."""

    name = "popl"
    default_keys = (DEMO_KEYS["popl"], MEMBER_KEY)
    default_settings = {
        # The docs name no page size; the server decides.
        "page_size": 100,
        # Whether `startTime` matches a lead captured exactly then. The docs don't say;
        # strict is the harsher guess.
        "start_time_inclusive": False,
        # Cursor lifetime is undocumented. Harsh guess: a cursor dies after 15 minutes.
        # Null settings switch a rule off; `cursor_refusals` bounds how many refusals the
        # rules serve in all (null: no bound), and counts down as they are served.
        "cursor_ttl_seconds": 900,
        "cursor_max_uses": None,
        "cursor_expire_at_page": None,
        "cursor_refusals": None,
        "cursor_refusal_status": 400,
        "cursor_refusal_message": "Cursor expired. Start a new search.",
        # A cursor whose last lead was deleted: `refuse` (400, harsh) or `skip` (go on
        # after where it was).
        "deleted_anchor": "refuse",
        # Every k-th lead (by a hash of its id; 0: none) is sent with a junk capture time.
        "malformed_capture_every": 0,
        "malformed_capture_values": list(MALFORMED_CAPTURE_VALUES),
    }

    @override
    def restored(self) -> None:
        """Rebuild the sorted index over the new store; forget cursor uses."""
        self.store.setdefault("deleted", [])
        self._cursor_uses: dict[str, int] = {}
        self._cursors_issued = 0
        self._reindex()

    @override
    def update_settings(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Check the types of the fault-like settings before taking them."""
        for name in ("cursor_ttl_seconds", "cursor_max_uses", "cursor_refusals"):
            _optional_number(changes.get(name), name, 0)
        _optional_number(changes.get("cursor_expire_at_page"), "cursor_expire_at_page", 2)
        status = changes.get("cursor_refusal_status", 400)
        if not isinstance(status, int) or not 400 <= status < 500 or status in (401, 403, 429):
            raise SandboxError("cursor_refusal_status must be a 4xx other than 401, 403, 429")
        if changes.get("deleted_anchor", "refuse") not in ANCHOR_POLICIES:
            raise SandboxError(f"deleted_anchor must be one of {', '.join(ANCHOR_POLICIES)}")
        _optional_number(changes.get("malformed_capture_every", 0), "malformed_capture_every", 0)
        if not changes.get("malformed_capture_values", MALFORMED_CAPTURE_VALUES):
            raise SandboxError("malformed_capture_values must be a non-empty list")
        return super().update_settings(changes)

    # Data

    @override
    def initial_store(self) -> dict[str, Any]:
        """A team, four events and their leads; a few captured offline are not synced yet."""
        self._team = Team(self.seed)
        self._factory = LeadFactory(self.seed, self._team)
        rng = random.Random(self.seed)
        leads = [
            self._factory.lead(
                datetime(2024, 12, 2, 15, 4, 5, tzinfo=timezone.utc),
                {"default": True, "first_name": "Popl", "last_name": "Sample", "email": None},
            )
        ]
        per_event = DEFAULT_LEAD_COUNT // len(CAMPAIGNS)
        for campaign_id, _, day, days in CAMPAIGNS:
            start = datetime.fromisoformat(day).replace(hour=9, tzinfo=timezone.utc)
            moments = burst_times(rng, start, days, per_event)
            for moment in moments:
                leads.append(self._factory.lead(moment, {"campaign_id": campaign_id}))
        pending = [
            self._factory.lead(moment, {"campaign_id": CAMPAIGNS[-1][0], "_syncedAt": None})
            for moment in burst_times(
                rng,
                datetime(2025, 10, 16, 9, tzinfo=timezone.utc),
                1,
                DEFAULT_PENDING_COUNT,
            )
        ]
        synced = "2025-10-17T00:00:00.000Z"
        for lead in leads:
            lead["_syncedAt"] = synced
        return {
            "leads": leads,
            "pending": pending,
            "team": self._team.to_json(),
            "campaigns": [
                {"campaignId": cid, "name": name, "startDate": day, "days": days}
                for cid, name, day, days in CAMPAIGNS
            ],
        }

    @override
    def seed_records(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Add leads. Spec keys:

        `leads`: list of flat overrides (captured_at, person, email, first_name, last_name,
        phone, note, lead_source, member_id, campaign_id, tags, default, leadId, systemFields,
        capture_sent_as: the capture time the API sends instead of the true one);
        `count` generated leads from `start` every `interval_seconds` (`tie_every` k: every
        k-th lead shares the previous capture time); `pending`: captured offline, not synced;
        `replace`: drop existing leads first.
        """
        unknown = set(spec) - {
            "leads",
            "count",
            "start",
            "interval_seconds",
            "tie_every",
            "pending",
            "replace",
        }
        if unknown:
            raise SandboxError(f"unknown popl seed keys: {sorted(unknown)}")
        if spec.get("replace"):
            self.store["leads"], self.store["pending"] = [], []
            self._reindex()
        new: list[dict[str, Any]] = []
        for given in spec.get("leads", []):
            given = dict(given)
            captured = given.pop("captured_at", None)
            if "capture_sent_as" in given:
                given["_captureAsSent"] = given.pop("capture_sent_as")
            moment = (
                datetime.fromisoformat(captured.replace("Z", "+00:00"))
                if captured
                else datetime(2025, 11, 3, 10, tzinfo=timezone.utc)
            )
            new.append(self._factory.lead(moment, given))
        count = int(spec.get("count", 0))
        if count:
            moment = datetime.fromisoformat(
                str(spec.get("start", "2025-11-01T08:00:00+00:00")).replace("Z", "+00:00")
            )
            step = timedelta(seconds=float(spec.get("interval_seconds", 1)))
            tie_every = int(spec.get("tie_every", 0))
            for index in range(count):
                if not (tie_every and index % tie_every):
                    moment += step
                new.append(self._factory.lead(moment))
        if spec.get("pending"):
            for lead in new:
                lead["_syncedAt"] = None
            self.store["pending"].extend(new)
        else:
            self._publish(new)
        return {"leadIds": [lead["leadId"] for lead in new]}

    @override
    def inspect(self, kind: str) -> Any:
        """`leads` (visible), `pending` (captured offline), `team`, `campaigns`.

        Leads here also carry the sandbox's bookkeeping (`_default`, `_syncedAt`), which the
        API never shows.
        """
        return super().inspect(kind)

    @override
    def action(self, name: str, body: dict[str, Any]) -> Any:
        """`late_lead`, `capture_offline`, `sync`, `edit_lead` and `delete_lead`."""
        actions = self.lead_actions()
        if name not in actions:
            return super().action(name, body)
        return actions[name](body)

    # HTTP

    @override
    def routes(self) -> list[BaseRoute]:
        """The two documented v2 lead endpoints."""
        return [
            Route(f"{BASE}/leads/search", self._handle(self._search), methods=["POST"]),
            Route(f"{BASE}/leads/{{leadId}}", self._handle(self._get_lead), methods=["GET"]),
        ]

    def _handle(
        self, handler: Callable[[Request, dict[str, Any], Any], Any]
    ) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> JSONResponse:
            try:
                principal = self._authenticate(request.headers.get("authorization"))
                body: Any = None
                if request.method == "POST":
                    raw = await request.body()
                    try:
                        body = json.loads(raw) if raw else None
                    except ValueError as exc:
                        raise bad_request("body is not valid JSON") from exc
                return JSONResponse({"data": handler(request, principal, body)})
            except PoplError as error:
                return JSONResponse(
                    {"statusCode": error.status, "message": error.message},
                    status_code=error.status,
                )

        return endpoint

    def _authenticate(self, header: str | None) -> dict[str, Any]:
        """Raw key or `Bearer <key>`; returns who is calling (admin or one member)."""
        if not header:
            raise PoplError(401, "Missing Authorization header")
        key = header[7:].strip() if header.lower().startswith("bearer ") else header.strip()
        if not self.key_ok(key):
            raise PoplError(401, "Invalid or revoked API key")
        if key == MEMBER_KEY:
            return {"admin": False, "memberId": self._team.members[0]["memberId"]}
        return {"admin": True}

    def _get_lead(self, request: Request, principal: dict[str, Any], body: Any) -> Any:
        lead = self._by_id.get(request.path_params["leadId"])
        if lead is None or not self._may_see(principal, lead):
            raise PoplError(404, "Lead not found")
        email = lead["systemFields"]["email"]
        duplicates = [
            {
                "leadId": other["leadId"],
                "captureDatetime": other["systemFields"]["captureDatetime"],
                "assignedMembers": other["assignedMembers"],
            }
            for other in self.store["leads"]
            if email and other is not lead and other["systemFields"]["email"] == email
        ]
        return {**presented(lead, self.settings), "duplicatedConnections": duplicates}

    @staticmethod
    def _may_see(principal: dict[str, Any], lead: dict[str, Any]) -> bool:
        return bool(principal["admin"]) or principal["memberId"] in lead["assignedMembers"]
