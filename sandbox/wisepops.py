"""Emulator of the Wisepops api2: contacts, popups, hooks and GDPR deletion.

Faithful to `../shared/api/wisepops.md`; where the docs are silent it picks the behaviour
that hurts a careless client most: timestamp ties across page boundaries, a strict
`collected_after` by default, a call budget that runs out, strict validation, `page`
offsets over live data (a deletion moves later contacts to earlier pages), and contacts
whose `collected_at` is served malformed while the server still sorts them by true time.
"""

from __future__ import annotations

import bisect
import copy
import json
import random
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from leadkit.phones import to_e164
from sandbox.control import DEMO_KEYS
from sandbox.people import Person, people
from sandbox.vendor import SandboxError, VendorApi

AUTH_HEADER = re.compile(r'^WISEPOPS-API key="([^"]+)"$')
INTERNATIONAL_PHONE = re.compile(r"^\+\d{6,15}$")
HOOK_EVENTS = ("email", "phone", "survey")
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100
SEED_START = datetime(2024, 1, 8, 9, 0, tzinfo=timezone.utc)

# id, label, created_at, activated, display_count, click_count, form labels (case kept).
POPUPS: tuple[tuple[int, str, str, bool, int, int, tuple[str, ...]], ...] = (
    (10000, "Optin Wisepop", "2017-02-25 19:10:00", False, 0, 0, ("email",)),
    (12345, "Live Wisepop", "2017-02-27 15:29:43", True, 18250, 2210, ("email", "Gender", "City")),
    (
        23456,
        "Newsletter FR",
        "2021-06-03 08:00:12",
        True,
        40112,
        3015,
        ("E-mail", "Prénom", "Nom", "Téléphone"),
    ),
    (
        34567,
        "Demo request",
        "2022-11-21 17:45:00",
        True,
        9120,
        1480,
        ("Email address", "First name", "Last name", "Phone number", "Company"),
    ),
    (
        45678,
        "SMS club",
        "2023-02-14 10:30:59",
        True,
        7010,
        905,
        ("Mobile", "first_name", "last_name"),
    ),
    (
        56789,
        "Event signup",
        "2023-09-30 23:59:59",
        True,
        12004,
        1999,
        ("Email", "Firstname", "Surname", "Phone", "Job title"),
    ),
)
ACTIVE_POPUPS = tuple(p[0] for p in POPUPS if p[3])


class WisepopsError(Exception):
    """A refusal the API answers with a JSON error body."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def iso_ms(moment: datetime) -> str:
    """`2019-10-10T10:10:58.389Z`: the API's own timestamp form."""
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_utc(value: str) -> datetime:
    """An ISO-8601 instant; a value without zone is UTC, as the docs say."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed


def _sort_key(moment: datetime) -> str:
    # Microsecond precision so a `collected_after` finer than the stored ms still compares.
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")


def _is_phone_label(label: str) -> bool:
    text = label.casefold()
    return any(word in text for word in ("phone", "mobile", "téléphone", "tel"))


class _ContactFactory:
    """Deterministic contacts from the shared people pool (the same people Popl has)."""

    def __init__(self, seed: int, salt: int) -> None:
        self.pool = people(seed)
        self.rng = random.Random(seed * 104729 + salt)

    def contact(
        self,
        collected_at: datetime,
        wisepop_id: int | None = None,
        person: int | None = None,
        form_session: bool | None = None,
        fields: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """One form submission."""
        rng = self.rng
        popup_id = wisepop_id if wisepop_id is not None else rng.choice(ACTIVE_POPUPS)
        labels = next((p[6] for p in POPUPS if p[0] == popup_id), ("email",))
        who = self.pool[person if person is not None else rng.randrange(len(self.pool))]
        record: dict[str, Any] = {
            "collected_at": iso_ms(collected_at),
            "wisepop_id": popup_id,
            "ip": f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}."
            f"{rng.randint(1, 254)}",
            "country_code": who.region,
            "fields": fields if fields is not None else self._fields(labels, who),
        }
        with_session = rng.random() < 0.85 if form_session is None else form_session
        if with_session:
            record["form_session"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        return record

    def _fields(self, labels: tuple[str, ...], who: Person) -> dict[str, str]:
        values: dict[str, str] = {}
        for label in labels:
            key = label.casefold()
            value: str | None
            if "mail" in key:
                value = who.email
            elif _is_phone_label(label):
                value = who.phone_as_typed
            elif key in {"prénom", "first name", "first_name", "firstname"}:
                value = who.first_name
            elif key in {"nom", "last name", "last_name", "surname"}:
                value = who.last_name
            elif key == "company":
                value = who.company
            elif key == "job title":
                value = who.job_title
            elif key == "city":
                value = who.city
            else:
                value = self.rng.choice(["male", "female", ""])
            if value is None:
                # An optional field left blank: some forms send "", most send nothing.
                if self.rng.random() < 0.3:
                    values[label] = ""
                continue
            values[label] = value
        return values


class WisepopsApi(VendorApi):
    """GET /contacts, GET /wisepops, /hooks (GET, POST, DELETE), DELETE /data-privacy."""

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
    }

    def restored(self) -> None:
        """Rebuild the sorted index over the new store."""
        self._snapshots: dict[tuple[str | None, str | None], list[dict[str, Any]]] = {}
        self.store.setdefault("contacts_requests", 0)
        self.store.setdefault("pending_deletions", [])
        self._reindex()

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
        if "malformed_collected_at" in changes:
            changes = {**changes, "malformed_collected_at": _malformed(changes)}
        return super().update_settings(changes)

    def action(self, name: str, body: dict[str, Any]) -> Any:
        """`delete_contacts`: erase contacts now or after the k-th coming GET /contacts.

        Body: `after_requests` (default 0: now), and `form_sessions` and/or `positions`
        (indexes in the stored order, oldest first, resolved when the action is called).
        """
        if name != "delete_contacts":
            return super().action(name, body)
        after = body.get("after_requests", 0)
        if not isinstance(after, int) or isinstance(after, bool) or after < 0:
            raise SandboxError("after_requests must be a non-negative integer")
        contacts: list[dict[str, Any]] = self.store["contacts"]
        sessions = set(body.get("form_sessions") or ())
        targets = [c for c in contacts if c.get("form_session") in sessions]
        for position in body.get("positions") or ():
            if not isinstance(position, int) or not 0 <= position < len(contacts):
                raise SandboxError(f"no contact at position {position!r}")
            targets.append(contacts[position])
        if after == 0:
            return {"deleted": self._delete(targets)}
        at = self.store["contacts_requests"] + after
        self.store["pending_deletions"].append({"at": at, "contacts": copy.deepcopy(targets)})
        return {"scheduled": len(targets), "after_request": at}

    def _delete(self, targets: list[dict[str, Any]]) -> int:
        contacts: list[dict[str, Any]] = self.store["contacts"]
        kept = [c for c in contacts if c not in targets]
        self.store["contacts"] = kept
        self._reindex()
        return len(contacts) - len(kept)

    def _served_contacts_request(self) -> None:
        self.store["contacts_requests"] += 1
        due = [
            p for p in self.store["pending_deletions"] if p["at"] <= self.store["contacts_requests"]
        ]
        for pending in due:
            self.store["pending_deletions"].remove(pending)
            self._delete(pending["contacts"])

    def _reindex(self) -> None:
        contacts = self.store["contacts"]
        # A stable sort keeps ties in insertion order, which is the order pages show.
        contacts.sort(key=lambda c: c["collected_at"])
        # Stored timestamps all have the `...SS.mmmZ` form: widen them to microseconds.
        self._keys = [c["collected_at"][:23] + "000" for c in contacts]

    # Data

    def initial_store(self) -> dict[str, Any]:
        """Six popups and about 3,000 contacts with many timestamp ties."""
        self._factory = _ContactFactory(self.seed, salt=1)
        # Every test resets the sandbox: build each seed's data once, copy it after.
        return json.loads(_seeded_store(self.seed))

    @staticmethod
    def build_store(seed: int) -> dict[str, Any]:
        """The deterministic data for one seed."""
        factory = _ContactFactory(seed, salt=0)
        rng = random.Random(seed * 31 + 7)
        contacts: list[dict[str, Any]] = []
        moment = SEED_START

        def add_group(size: int, wisepop_id: int | None = None) -> None:
            nonlocal moment
            moment += timedelta(seconds=rng.randint(1, 5400), milliseconds=rng.randint(0, 999))
            seen: set[str] = set()
            for _ in range(size):
                contact = factory.contact(moment, wisepop_id)
                content = json.dumps([contact["wisepop_id"], contact["fields"]], sort_keys=True)
                if content in seen and "form_session" not in contact:
                    # Two identical sessionless submissions in one millisecond would be
                    # indistinguishable; real ones differ by their form session.
                    contact["form_session"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                seen.add(content)
                contacts.append(contact)

        # Groups placed so they straddle the default page size (100) and the largest (1000).
        plan: list[tuple[int, int | None]] = []
        straddles = {98: 5, 197: 6, 296: 9, 997: 7}
        position = 0
        while position < 1500:
            if position in straddles:
                size = straddles[position]
            elif rng.random() < 0.08:
                size = rng.randint(2, 6)  # a burst: one click, several submissions
            else:
                size = 1
            size = min(size, next((s - position for s in straddles if s > position), size))
            plan.append((max(size, 1), None))
            position += max(size, 1)
        plan.append((1200, 34567))  # an import: 1,200 contacts share one collected_at
        plan.extend((rng.choice((1, 1, 1, 3)), None) for _ in range(280))
        for size, wisepop_id in plan:
            add_group(size, wisepop_id)
        return {
            "contacts": contacts,
            "wisepops": [
                {
                    "id": popup_id,
                    "label": label,
                    "created_at": created,
                    "activated": active,
                    "display_count": displays,
                    "click_count": clicks,
                }
                for popup_id, label, created, active, displays, clicks, _ in POPUPS
            ],
            "hooks": [
                {
                    "id": 1,
                    "event": "email",
                    "target_url": "https://hooks.example.com/wisepops",
                    "wisepop_id": 12345,
                },
                {"id": 2, "event": "phone", "target_url": "https://crm.example.org/in"},
            ],
            "next_hook_id": 3,
            "usage": [],
            "refused": 0,
        }

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

    def inspect(self, kind: str) -> Any:
        """Stored records; `usage` shows the call budget."""
        if kind == "usage":
            used = self._calls_in_window(time.time())
            limit = self.settings["monthly_call_budget"]
            return {
                "used": len(used),
                "limit": limit,
                "remaining": max(0, limit - len(used)),
                "window_days": self.settings["budget_window_days"],
                "refused": self.store["refused"],
            }
        if kind in {"next_hook_id", "refused", "contacts_requests"}:
            raise SandboxError(f"wisepops holds no {kind!r}")
        return super().inspect(kind)

    # HTTP

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
                    self.store["usage"].append(time.time())
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
        now = time.time()
        used = self._calls_in_window(now)
        if len(used) >= self.settings["monthly_call_budget"]:
            self.store["refused"] += 1
            window = self.settings["budget_window_days"] * 86400
            # Retry-After says when the oldest counted call leaves the window: often days.
            wait = max(1, int(used[0] + window - now) + 1) if used else window
            raise WisepopsError(
                429,
                "API usage limit reached for the current 30-day period",
                {"Retry-After": str(wait)},
            )

    def _calls_in_window(self, now: float) -> list[float]:
        horizon = now - self.settings["budget_window_days"] * 86400
        usage: list[float] = self.store["usage"]
        first = bisect.bisect_right(usage, horizon)
        if first:
            del usage[:first]
        return usage

    async def _contacts(self, request: Request) -> list[dict[str, Any]]:
        query = request.query_params
        page_size = _int_param(query.get("page_size"), "page_size", DEFAULT_PAGE_SIZE)
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise WisepopsError(400, f"page_size must be between 1 and {MAX_PAGE_SIZE}")
        page = _int_param(query.get("page"), "page", 1)
        if page < 1:
            raise WisepopsError(400, "page must be 1 or more")
        first = 0
        bound = None
        after = query.get("collected_after")
        if after is not None:
            try:
                bound = _sort_key(parse_utc(after))
            except ValueError:
                raise WisepopsError(
                    400, "collected_after must be a UTC ISO-8601 date-time"
                ) from None
            if self.settings["collected_after_mode"] == "strict":
                first = bisect.bisect_right(self._keys, bound)
            else:
                first = bisect.bisect_left(self._keys, bound)
        contacts: list[dict[str, Any]] = self.store["contacts"]
        wisepop = query.get("wisepop_id")
        if wisepop is None:
            matching = contacts[first:]
        else:
            popup_id = _int_param(wisepop, "wisepop_id", 0)
            if all(p["id"] != popup_id for p in self.store["wisepops"]):
                raise WisepopsError(404, "Wisepop not found")
            matching = [c for c in contacts[first:] if c["wisepop_id"] == popup_id]
        if self.settings["page_snapshots"]:
            if page == 1:
                self._snapshots[bound, wisepop] = matching
            else:
                matching = self._snapshots.get((bound, wisepop), matching)
        offset = (page - 1) * page_size
        served = [self._shown(c) for c in matching[offset : offset + page_size]]
        self._served_contacts_request()
        return served

    def _shown(self, contact: dict[str, Any]) -> dict[str, Any]:
        shown: dict[str, Any] = self.settings["malformed_collected_at"]
        if contact["collected_at"] in shown:
            return {**contact, "collected_at": shown[contact["collected_at"]]}
        return contact

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
            hook_id = _int_param(raw, "hook_id", 0)
            kept = [h for h in hooks if h["id"] != hook_id]
            if len(kept) == len(hooks):
                raise WisepopsError(404, "Hook not found")
            self.store["hooks"] = kept
            return {"deleted": 1}
        body = await _json_object(request)
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
        return {"id": hook["id"]}

    async def _data_privacy(self, request: Request) -> dict[str, int]:
        body = await _json_object(request)
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
                if phone is not None and _is_phone_label(label) and value:
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


def _malformed(changes: dict[str, Any]) -> dict[str, str | None]:
    """The `malformed_collected_at` setting with its keys in the stored form."""
    rules = changes["malformed_collected_at"]
    if not isinstance(rules, dict):
        raise SandboxError("malformed_collected_at must map true instants to served values")
    normalised: dict[str, str | None] = {}
    for instant, shown in rules.items():
        if shown is not None and not isinstance(shown, str):
            raise SandboxError("malformed_collected_at values must be strings or null")
        try:
            normalised[iso_ms(parse_utc(instant))] = shown
        except ValueError:
            raise SandboxError("malformed_collected_at keys must be ISO-8601 instants") from None
    return normalised


@lru_cache(maxsize=4)
def _seeded_store(seed: int) -> str:
    return json.dumps(WisepopsApi.build_store(seed))


def _int_param(raw: str | None, name: str, default: int) -> int:
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise WisepopsError(400, f"{name} must be an integer") from None


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        raise WisepopsError(400, "Body must be JSON") from None
    if not isinstance(body, dict):
        raise WisepopsError(400, "Body must be a JSON object")
    return body
