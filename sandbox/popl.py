"""Emulator of the Popl Open API v2 leads endpoints (see ../shared/api/popl.md).

Faithful to what the reference pages show; where they are silent (page size, error bodies,
where phones, tags, qualifiers and the capture method live in a lead) the choices below are
guesses, marked as such, and lean to the harsher plausible behaviour.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import hashlib
import hmac
import json
import random
import re
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from sandbox.control import DEMO_KEYS
from sandbox.people import Person, people
from sandbox.vendor import SandboxError, VendorApi

BASE = "/api/pub/v2"
TEAM_ID = 8542
# A key made by a plain member, not a Full Team Admin: it sees only its own leads.
MEMBER_KEY = "sandbox-popl-member-key"

LEAD_SOURCES = (
    "QR_CODE_SCAN",
    "BADGE_SCAN",
    "CARD_SCAN",
    "APP_TO_APP",
    "DIGITAL_CARD",
    "MANUAL_ENTRY",
)
SUBTEAMS = ((301, "Field Sales EMEA"), (302, "Field Sales Americas"), (303, "Partnerships"))
CAMPAIGNS = (
    (101, "CES 2025", "2025-01-07", 4),
    (102, "SaaStr Annual 2025", "2025-03-11", 3),
    (103, "Web Summit Lisbon 2025", "2025-06-10", 3),
    (104, "Dreamforce 2025", "2025-10-14", 3),
)
TAGS = ((12, "Hot lead"), (13, "Follow up"), (14, "Partner"), (15, "Existing customer"))
QUESTIONS = (
    (1, "Buying timeline?", ("This quarter", "Next quarter", "Just browsing")),
    (2, "Team size?", ("1-10", "11-50", "51-200", "200+")),
    (3, "Interested in", ("Lead capture", "CRM sync", "Digital cards")),
)
DEFAULT_LEAD_COUNT = 400
# Capture times as a broken client or import might send them; the server still sorts the
# lead by its true capture time.
MALFORMED_CAPTURE_VALUES = ("not-a-date", "2025-13-45T99:00:00Z", 1744686000, "15/04/2025 03:00")
ANCHOR_POLICIES = ("refuse", "skip")
DEFAULT_PENDING_COUNT = 5

SCOPES = ("teamId", "subteamIds", "assignedMemberIds")
FILTER_KEYS = {
    *SCOPES,
    "startTime",
    "endTime",
    "tagIds",
    "campaignIds",
    "leadSource",
    "exported",
    "leadEntries",
    "hasEmail",
}
BODY_KEYS = {"filters", "query", "sort", "cursor", "includeDefaultLeads"}
ISO_WITH_OFFSET = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$"
)


class PoplError(Exception):
    """An error answer of the API."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _bad(message: str) -> PoplError:
    return PoplError(400, message)


def iso_ms(moment: datetime) -> str:
    """The capture-time format the reference shows: UTC, milliseconds, `Z`."""
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(value: object, field: str) -> datetime:
    """An ISO-8601 timestamp with an offset; naive or malformed values are a 400."""
    if not isinstance(value, str) or not ISO_WITH_OFFSET.match(value):
        raise _bad(f"filters.{field} must be an ISO-8601 date-time with an offset")
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise _bad(f"filters.{field} is not a valid date-time") from exc


def _int_list(value: object, field: str) -> list[int]:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        raise _bad(f"filters.{field} must be a non-empty list of integers")
    return value


def _public(lead: dict[str, Any]) -> dict[str, Any]:
    """The lead as the API shows it: sandbox bookkeeping (`_…` keys) removed."""
    return {k: v for k, v in lead.items() if not k.startswith("_")}


def _digest(lead_id: str) -> int:
    return int(hashlib.sha256(lead_id.encode()).hexdigest()[:12], 16)


def _optional_number(value: object, name: str, minimum: float) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
        raise SandboxError(f"{name} must be null or a number >= {minimum:g}")


def _sort_key(lead: dict[str, Any]) -> tuple[str, str]:
    # Capture times tie often (badge scanners upload in bursts); the id makes order total.
    return (lead["systemFields"]["captureDatetime"], lead["leadId"])


class _Team:
    """The account's team: subteams, members and their ids."""

    def __init__(self, seed: int) -> None:
        pool = people(seed)
        self.members: list[dict[str, Any]] = []
        for index, person in enumerate(pool[-12:]):
            self.members.append(
                {
                    "memberId": 4822 + index * 7,
                    "userPid": 7891 + index,
                    "ownerId": str(
                        uuid.UUID(int=random.Random(seed * 31 + index).getrandbits(128))
                    ),
                    "name": person.full_name,
                    "subteamId": SUBTEAMS[index % len(SUBTEAMS)][0],
                }
            )
        self.by_id = {m["memberId"]: m for m in self.members}

    def to_json(self) -> dict[str, Any]:
        return {
            "teamId": TEAM_ID,
            "subteams": [
                {
                    "subteamId": sid,
                    "name": name,
                    "memberIds": [m["memberId"] for m in self.members if m["subteamId"] == sid],
                }
                for sid, name in SUBTEAMS
            ],
            "members": self.members,
        }


class _LeadFactory:
    """Deterministic leads drawn from the shared people pool."""

    def __init__(self, seed: int, team: _Team) -> None:
        self.seed = seed
        self.team = team
        self.pool = people(seed)
        self.rng = random.Random(seed * 7919 + 1)
        self.legacy = 1500

    def lead(self, captured: datetime, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """One lead captured at `captured`, with optional flat overrides (see seed_records)."""
        spec = dict(overrides or {})
        rng = self.rng
        person: Person = self.pool[spec.pop("person", rng.randrange(len(self.pool) - 12))]
        member = self.team.by_id.get(spec.pop("member_id", None)) or rng.choice(self.team.members)
        campaign = spec.pop("campaign_id", rng.choice(CAMPAIGNS)[0])
        source = spec.pop("lead_source", rng.choice(LEAD_SOURCES))
        self.legacy += 1
        lead_id = spec.pop("leadId", None) or str(uuid.UUID(int=rng.getrandbits(128), version=4))
        ts = iso_ms(captured)
        email = spec.pop("email", person.email)
        phone = spec.pop("phone", person.phone_as_typed)
        first = spec.pop("first_name", person.first_name)
        last = spec.pop("last_name", person.last_name)
        note = spec.pop("note", rng.choice([None, None, "Met at booth 42", "Wants a demo"]))
        system = {
            "leadId": lead_id,
            "legacyLeadId": str(self.legacy),
            "ownerId": member["ownerId"],
            "captureDatetime": ts,
            "gdprConsentDatetime": ts if rng.random() < 0.3 else None,
            "requestId": None,
            "userPid": member["userPid"],
            "email": email,
            "salutation": None,
            "firstName": first,
            "middleName": None,
            "lastName": last,
            "nickname": None,
            "suffix": None,
            "fullName": f"{first} {last}".strip(),
            "profileImageUrl": None,
            "businessCardImageUrl": (
                f"https://cdn.popl.example/cards/{lead_id}.jpg" if source == "CARD_SCAN" else None
            ),
            "appToAppProfileUrl": (
                f"https://popl.example/p/{lead_id[:8]}" if source == "APP_TO_APP" else None
            ),
            "jobTitle": person.job_title,
            "website": None,
            "note": note,
            "linkedinUrl": None,
            "campaignId": campaign,
            "companyName": person.company,
            "companyEmail": None,
            "companyDescription": None,
            "companyFoundingYear": rng.choice([None, 1998, 2011, 2019]),
            "companyNaicsCode": None,
            "companyType": None,
            "companyLinkedin": None,
            "companySize": rng.choice([None, "11-50", "51-200", "1001-5000"]),
            "companyIndustry": rng.choice([None, "Software", "Manufacturing", "Retail"]),
            "companyAnnualRevenue": None,
            "companyTotalFunding": None,
            "monthlyWebsiteVisitors": None,
            "technologiesUsed": None,
            "companyCountry": person.region,
            "companyFormattedAddress": None,
        }
        system.update(spec.pop("systemFields", {}))
        lead: dict[str, Any] = {
            "leadId": lead_id,
            "legacyLeadId": str(self.legacy),
            "assignedMembers": [member["memberId"]],
            "systemFields": system,
            # Guess: the reference page was cut off before these blocks. The overview says a
            # lead carries its capture method, tags, qualifiers and custom fields; the search
            # filter's `leadSource` values name the capture method. Shapes are invented.
            "leadSource": source,
            "tags": spec.pop(
                "tags",
                [{"tagId": i, "name": n} for i, n in TAGS if rng.random() < 0.2],
            ),
            "qualifiers": [
                {"questionId": qid, "question": q, "answer": rng.choice(answers)}
                for qid, q, answers in QUESTIONS
                if rng.random() < 0.5
            ],
            "phones": [{"type": "mobile", "number": phone}] if phone else [],
            "customFields": [
                {"fieldId": "booth", "label": "Booth", "value": f"B{rng.randint(1, 80)}"}
            ]
            if rng.random() < 0.3
            else [],
            "_default": bool(spec.pop("default", False)),
        }
        lead.update(spec)
        return lead


class PoplApi(VendorApi):
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

    def restored(self) -> None:
        """Rebuild the sorted index over the new store; forget cursor uses."""
        self.store.setdefault("deleted", [])
        self._cursor_uses: dict[str, int] = {}
        self._cursors_issued = 0
        self._reindex()

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

    def _present(self, lead: dict[str, Any]) -> dict[str, Any]:
        """The lead as the API sends it: bookkeeping removed, capture time maybe mangled."""
        public = _public(lead)
        shown = lead.get("_captureAsSent", lead["systemFields"]["captureDatetime"])
        every = int(self.settings["malformed_capture_every"] or 0)
        if every and _digest(lead["leadId"]) % every == 0:
            values = self.settings["malformed_capture_values"]
            shown = values[_digest(lead["leadId"]) // every % len(values)]
        if shown != lead["systemFields"]["captureDatetime"]:
            public["systemFields"] = {**public["systemFields"], "captureDatetime": shown}
        return public

    def _reindex(self) -> None:
        self.store["leads"].sort(key=_sort_key)
        self._keys = [_sort_key(lead) for lead in self.store["leads"]]
        self._by_id = {lead["leadId"]: lead for lead in self.store["leads"]}
        self._secret = f"popl-cursor-{self.seed}".encode()

    # Data

    def initial_store(self) -> dict[str, Any]:
        """A team, four events and their leads; a few captured offline are not synced yet."""
        self._team = _Team(self.seed)
        self._factory = _LeadFactory(self.seed, self._team)
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
            moments = self._burst_times(rng, start, days, per_event)
            for moment in moments:
                leads.append(self._factory.lead(moment, {"campaign_id": campaign_id}))
        pending = [
            self._factory.lead(moment, {"campaign_id": CAMPAIGNS[-1][0], "_syncedAt": None})
            for moment in self._burst_times(
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

    @staticmethod
    def _burst_times(
        rng: random.Random, start: datetime, days: int, count: int
    ) -> Iterator[datetime]:
        """Capture times in event hours; about one in six repeats the previous exactly."""
        previous: datetime | None = None
        for _ in range(count):
            if previous is not None and rng.random() < 0.16:
                yield previous
                continue
            offset = timedelta(
                days=rng.randrange(days),
                seconds=rng.randrange(9 * 3600),
                milliseconds=rng.randrange(1000),
            )
            previous = start + offset
            yield previous

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
        for override in spec.get("leads", []):
            override = dict(override)
            captured = override.pop("captured_at", None)
            if "capture_sent_as" in override:
                override["_captureAsSent"] = override.pop("capture_sent_as")
            moment = (
                datetime.fromisoformat(captured.replace("Z", "+00:00"))
                if captured
                else datetime(2025, 11, 3, 10, tzinfo=timezone.utc)
            )
            new.append(self._factory.lead(moment, override))
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

    def _publish(self, leads: list[dict[str, Any]]) -> None:
        """Make leads visible to the API (they have synced)."""
        now = iso_ms(datetime.now(timezone.utc))
        for lead in leads:
            lead["_syncedAt"] = now
        if len(leads) > 50:
            self.store["leads"].extend(leads)
            self._reindex()
            return
        for lead in leads:
            key = _sort_key(lead)
            at = bisect.bisect_left(self._keys, key)
            self._keys.insert(at, key)
            self.store["leads"].insert(at, lead)
            self._by_id[lead["leadId"]] = lead

    def inspect(self, kind: str) -> Any:
        """`leads` (visible), `pending` (captured offline), `team`, `campaigns`.

        Leads here also carry the sandbox's bookkeeping (`_default`, `_syncedAt`), which the
        API never shows.
        """
        return super().inspect(kind)

    def action(self, name: str, body: dict[str, Any]) -> Any:
        """`late_lead`, `capture_offline`, `sync`, `edit_lead` and `delete_lead`."""
        actions: dict[str, Callable[[dict[str, Any]], Any]] = {
            "late_lead": self._late_lead,
            "capture_offline": self._capture_offline,
            "sync": self._sync,
            "edit_lead": self._edit_lead,
            "delete_lead": self._delete_lead,
        }
        if name not in actions:
            return super().action(name, body)
        return actions[name](body)

    def _offline_lead(self, body: dict[str, Any]) -> dict[str, Any]:
        overrides = dict(body.get("lead", {}))
        if "captured_at" in body:
            moment = datetime.fromisoformat(str(body["captured_at"]).replace("Z", "+00:00"))
        else:
            latest = self._keys[-1][0] if self._keys else iso_ms(datetime.now(timezone.utc))
            minutes = float(body.get("minutes_before_latest", 60))
            moment = datetime.fromisoformat(latest.replace("Z", "+00:00")) - timedelta(
                minutes=minutes
            )
        lead = self._factory.lead(moment, overrides)
        lead["_syncedAt"] = None
        return lead

    def _late_lead(self, body: dict[str, Any]) -> dict[str, Any]:
        """A lead captured offline in the past that syncs now: visible with an old time.

        Body: `captured_at` (ISO) or `minutes_before_latest` (default 60, counted back from
        the newest visible capture time), and `lead` overrides as in seed_records.
        """
        lead = self._offline_lead(body)
        self._publish([lead])
        return _public(lead)

    def _capture_offline(self, body: dict[str, Any]) -> dict[str, Any]:
        """A lead captured on a device with no signal: held back until `sync`."""
        lead = self._offline_lead(body)
        self.store["pending"].append(lead)
        return _public(lead)

    def _sync(self, body: dict[str, Any]) -> dict[str, Any]:
        """Devices come back online: pending leads (all, or `leadIds`) become visible."""
        wanted = body.get("leadIds")
        chosen = [
            lead for lead in self.store["pending"] if wanted is None or lead["leadId"] in wanted
        ]
        self.store["pending"] = [lead for lead in self.store["pending"] if lead not in chosen]
        self._publish(chosen)
        return {"synced": [lead["leadId"] for lead in chosen]}

    def _edit_lead(self, body: dict[str, Any]) -> dict[str, Any]:
        """A rep edits an old lead (note, tags): its capture time does not change."""
        lead = self._by_id.get(str(body.get("leadId")))
        if lead is None:
            raise SandboxError("no such visible lead")
        if "note" in body:
            lead["systemFields"]["note"] = body["note"]
        if "tags" in body:
            lead["tags"] = body["tags"]
        return _public(lead)

    def _delete_lead(self, body: dict[str, Any]) -> dict[str, Any]:
        """A rep deletes a lead: it leaves the search, even mid-way through someone's paging."""
        lead = self._by_id.get(str(body.get("leadId")))
        if lead is None:
            raise SandboxError("no such visible lead")
        self.store["leads"].remove(lead)
        self.store["deleted"].append(lead["leadId"])
        self._reindex()
        return {"deleted": lead["leadId"]}

    # HTTP

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
                        raise _bad("body is not valid JSON") from exc
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
        return {**self._present(lead), "duplicatedConnections": duplicates}

    @staticmethod
    def _may_see(principal: dict[str, Any], lead: dict[str, Any]) -> bool:
        return bool(principal["admin"]) or principal["memberId"] in lead["assignedMembers"]

    def _search(self, request: Request, principal: dict[str, Any], body: Any) -> Any:
        query = _SearchQuery.parse(body)
        members = self._scope_members(principal, query.filters)
        leads = self.store["leads"]
        ascending = query.ascending
        position, page_number = self._decode_cursor(query) if query.cursor else (None, 1)
        if ascending:
            index = self._first_index(query.start_key, position)
            indices: Iterator[int] = iter(range(index, len(leads)))
        else:
            index = self._last_index(query.end_key, position)
            indices = iter(range(index, -1, -1))
        page_size = int(self.settings["page_size"])
        page: list[dict[str, Any]] = []
        more = False
        for at in indices:
            lead = leads[at]
            if not query.in_time(lead, bool(self.settings["start_time_inclusive"])):
                if _past_the_window(query, lead, ascending):
                    break
                continue
            if not query.matches(lead, members):
                continue
            if len(page) == page_size:
                more = True
                break
            page.append(lead)
        cursor = self._encode_cursor(query, _sort_key(page[-1]), page_number + 1) if more else None
        return {"leads": [self._present(lead) for lead in page], "nextCursor": cursor}

    def _first_index(self, start_key: str | None, position: tuple[str, str] | None) -> int:
        index = bisect.bisect_left(self._keys, (start_key, "")) if start_key else 0
        if position is not None:
            index = max(index, bisect.bisect_right(self._keys, position))
        return index

    def _last_index(self, end_key: str | None, position: tuple[str, str] | None) -> int:
        index = len(self._keys) - 1
        if end_key:
            index = bisect.bisect_right(self._keys, (end_key, "\uffff")) - 1
        if position is not None:
            index = min(index, bisect.bisect_left(self._keys, position) - 1)
        return index

    def _scope_members(self, principal: dict[str, Any], filters: dict[str, Any]) -> set[int]:
        """Member ids whose leads the scope covers; 403 outside the caller's reach."""
        team = self._team
        if "teamId" in filters:
            if not principal["admin"]:
                raise PoplError(403, "Team-wide leads need a Full Team Admin API key")
            if filters["teamId"] != TEAM_ID:
                raise PoplError(403, "No access to this team")
            return set(team.by_id)
        if "subteamIds" in filters:
            if not principal["admin"]:
                raise PoplError(403, "Subteam leads need a Full Team Admin API key")
            known = {sid for sid, _ in SUBTEAMS}
            if not set(filters["subteamIds"]) <= known:
                raise PoplError(403, "No access to one of the subteams")
            return {m["memberId"] for m in team.members if m["subteamId"] in filters["subteamIds"]}
        wanted = set(filters["assignedMemberIds"])
        if not wanted <= set(team.by_id):
            raise PoplError(403, "No access to one of the members")
        if not principal["admin"] and wanted != {principal["memberId"]}:
            raise PoplError(403, "A member key sees only its own leads")
        return wanted

    # Cursors: opaque, signed, and bound to the query they came from.

    def _encode_cursor(self, query: _SearchQuery, position: tuple[str, str], page: int) -> str:
        # Issue time and a serial make every cursor unique, so uses are counted per cursor.
        self._cursors_issued += 1
        payload = json.dumps(
            {
                "p": list(position),
                "q": query.fingerprint,
                "n": page,
                "t": time.time(),
                "s": self._cursors_issued,
            }
        ).encode()
        signature = hmac.new(self._secret, payload, hashlib.sha256).hexdigest()[:24]
        return base64.urlsafe_b64encode(payload).decode().rstrip("=") + "." + signature

    def _decode_cursor(self, query: _SearchQuery) -> tuple[tuple[str, str], int]:
        """The position after which the page starts, and its page number; 4xx if refused."""
        data = self._verify_cursor(query)
        self._refuse_expired(str(query.cursor), int(data["n"]), float(data["t"]))
        ts, lead_id = data["p"]
        if lead_id in self.store["deleted"] and self.settings["deleted_anchor"] == "refuse":
            raise _bad("Cursor is no longer valid: its position was deleted. Start a new search.")
        return (str(ts), str(lead_id)), int(data["n"])

    def _refuse_expired(self, cursor: str, page: int, issued: float) -> None:
        settings = self.settings
        uses = self._cursor_uses[cursor] = self._cursor_uses.get(cursor, 0) + 1
        ttl, max_uses = settings["cursor_ttl_seconds"], settings["cursor_max_uses"]
        expired = (
            (ttl is not None and time.time() - issued > float(ttl))
            or (max_uses is not None and uses > int(max_uses))
            or page == settings["cursor_expire_at_page"]
        )
        budget = settings["cursor_refusals"]
        if not expired or budget == 0:
            return
        if budget is not None:
            settings["cursor_refusals"] = int(budget) - 1
        raise PoplError(int(settings["cursor_refusal_status"]), settings["cursor_refusal_message"])

    def _verify_cursor(self, query: _SearchQuery) -> dict[str, Any]:
        cursor = query.cursor
        try:
            encoded, signature = str(cursor).split(".")
            payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except (ValueError, binascii.Error) as exc:
            raise _bad("Invalid cursor") from exc
        expected = hmac.new(self._secret, payload, hashlib.sha256).hexdigest()[:24]
        if not hmac.compare_digest(signature, expected):
            raise _bad("Invalid cursor")
        data: dict[str, Any] = json.loads(payload)
        if data["q"] != query.fingerprint:
            raise _bad("Cursor does not belong to this search")
        return data


def _past_the_window(query: _SearchQuery, lead: dict[str, Any], ascending: bool) -> bool:
    captured = lead["systemFields"]["captureDatetime"]
    if ascending:
        return query.end_key is not None and captured > query.end_key
    return query.start_key is not None and captured < query.start_key


class _SearchQuery:
    """A validated search body."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.filters: dict[str, Any] = body["filters"]
        self.cursor: str | None = body.get("cursor")
        sort = body.get("sort") or {"field": "timestamp", "direction": "DESC"}
        self.ascending = sort.get("direction", "DESC") == "ASC"
        self.include_default = bool(body.get("includeDefaultLeads", False))
        self.query: list[dict[str, Any]] = body.get("query") or []
        self.start: datetime | None = None
        self.end: datetime | None = None
        if "startTime" in self.filters:
            self.start = parse_iso(self.filters["startTime"], "startTime")
        if "endTime" in self.filters:
            self.end = parse_iso(self.filters["endTime"], "endTime")
        self.start_key = iso_ms(self.start) if self.start else None
        self.end_key = iso_ms(self.end) if self.end else None
        canonical = {k: v for k, v in body.items() if k != "cursor"}
        self.fingerprint = hashlib.sha256(
            json.dumps(canonical, sort_keys=True).encode()
        ).hexdigest()[:16]

    @classmethod
    def parse(cls, body: Any) -> _SearchQuery:
        """Validate strictly: unknown keys, wrong types and scope mistakes are a 400."""
        if not isinstance(body, dict):
            raise _bad("body must be a JSON object")
        unknown = set(body) - BODY_KEYS
        if unknown:
            raise _bad(f"unknown body fields: {sorted(unknown)}")
        filters = body.get("filters")
        if not isinstance(filters, dict):
            raise _bad("filters is required")
        unknown = set(filters) - FILTER_KEYS
        if unknown:
            raise _bad(f"unknown filters: {sorted(unknown)}")
        scopes = [s for s in SCOPES if s in filters]
        if len(scopes) != 1:
            raise _bad("filters must contain exactly one of teamId, subteamIds, assignedMemberIds")
        if "teamId" in filters:
            team = filters["teamId"]
            if not isinstance(team, int) or isinstance(team, bool):
                raise _bad("filters.teamId must be an integer")
        for field in ("subteamIds", "assignedMemberIds", "tagIds", "campaignIds"):
            if field in filters:
                _int_list(filters[field], field)
        if "leadSource" in filters:
            sources = filters["leadSource"]
            if not isinstance(sources, list) or not all(s in LEAD_SOURCES for s in sources):
                raise _bad(f"filters.leadSource must be a list of {', '.join(LEAD_SOURCES)}")
        for field in ("exported", "hasEmail"):
            if field in filters and not isinstance(filters[field], bool):
                raise _bad(f"filters.{field} must be a boolean")
        if "leadEntries" in filters and not isinstance(filters["leadEntries"], str):
            raise _bad("filters.leadEntries must be a string")
        sort = body.get("sort")
        if sort is not None and (
            not isinstance(sort, dict)
            or sort.get("field") != "timestamp"
            or sort.get("direction", "DESC") not in {"ASC", "DESC"}
            or set(sort) - {"field", "direction"}
        ):
            raise _bad("sort must be {field: timestamp, direction: ASC|DESC}")
        cursor = body.get("cursor")
        if cursor is not None and not isinstance(cursor, str):
            raise _bad("cursor must be a string or null")
        if "includeDefaultLeads" in body and not isinstance(body["includeDefaultLeads"], bool):
            raise _bad("includeDefaultLeads must be a boolean")
        query = body.get("query")
        if query is not None and (
            not isinstance(query, list)
            or not all(
                isinstance(q, dict)
                and isinstance(q.get("fields"), list)
                and isinstance(q.get("value"), str)
                and q.get("match", "FUZZY") in {"FUZZY", "EXACT"}
                for q in query
            )
        ):
            raise _bad("query must be a list of {fields, value, match: FUZZY|EXACT}")
        return cls(body)

    def in_time(self, lead: dict[str, Any], start_inclusive: bool) -> bool:
        """Whether the capture time is inside startTime / endTime (endTime inclusive)."""
        captured = lead["systemFields"]["captureDatetime"]
        if self.start_key is not None:
            exact = self.start is not None and self.start.microsecond % 1000 == 0
            if captured < self.start_key or (
                captured == self.start_key and exact and not start_inclusive
            ):
                return False
        return self.end_key is None or captured <= self.end_key

    def matches(self, lead: dict[str, Any], members: set[int]) -> bool:
        """Every non-time filter."""
        f = self.filters
        system = lead["systemFields"]
        if not members.intersection(lead["assignedMembers"]):
            return False
        if lead.get("_default") and not self.include_default:
            return False
        if "leadSource" in f and lead.get("leadSource") not in f["leadSource"]:
            return False
        if "campaignIds" in f and system.get("campaignId") not in f["campaignIds"]:
            return False
        if "tagIds" in f and not {t["tagId"] for t in lead.get("tags", [])} & set(f["tagIds"]):
            return False
        if "hasEmail" in f and bool(system.get("email")) != f["hasEmail"]:
            return False
        if f.get("exported"):
            return False  # nothing in the sandbox has been exported
        return all(self._query_matches(q, system) for q in self.query)

    @staticmethod
    def _query_matches(clause: dict[str, Any], system: dict[str, Any]) -> bool:
        value = clause["value"].casefold()
        texts = [str(system.get(field) or "").casefold() for field in clause["fields"]]
        if clause.get("match", "FUZZY") == "EXACT":
            return value in texts
        return any(value in text for text in texts)
