"""`PopinApi`: the Popin emulator's settings, slot calendar and its three endpoints."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import random
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route
from typing_extensions import override

from sandbox.control import DEMO_KEYS
from sandbox.people import people
from sandbox.popin.events import (
    EVENT_SETTINGS,
    EventSender,
    check_event_settings,
    simulated_call,
)
from sandbox.popin.requests import (
    CAPTURE_FIELDS,
    EMAIL,
    Refused,
    failure,
    json_object,
    pincode_of,
    valid_mobile,
)
from sandbox.popin.slot_times import slot_time, well_formed
from sandbox.vendor import SandboxError, VendorApi

SLOT_SETTINGS = frozenset(
    {"timezone", "free_slots", "slot_minutes", "opening_hour", "closing_hour", "notice_minutes"}
)


class PopinApi(VendorApi):
    """Captures customers, lists free 15-minute slots and books calls, strictly."""

    name = "popin"
    default_keys = (DEMO_KEYS["popin_api_key"], DEMO_KEYS["popin_token"])
    default_settings = {
        # The IANA zone the seller's slots are expressed in.
        "timezone": "Asia/Kolkata",
        # How many free slots exist after a reset (set low to make a run run out).
        "free_slots": 60,
        "slot_minutes": 15,
        # Business hours in the slots' timezone; slots start at or after `notice_minutes`.
        "opening_hour": 10,
        "closing_hour": 19,
        "notice_minutes": 30,
        # Routing groups and agents the seller has; others are refused.
        "groups": ["5211", "5212"],
        "agents": [210, 211],
        # Where `native: false` join links point (the seller's dashboard setting).
        "dashboard_join_url": "https://calls.example-seller.com/join",
        # The docs do not say how fresh /slots is. Harsh: booked and taken slots stay listed
        # (a stale listing), and booking one is refused as not available.
        "booked_slots_listed": False,
        # Listed slots that refuse every booking, as if the seller's calendar were busy
        # elsewhere: the earliest listed slot, and/or a seeded share of all slots (0 to 1).
        "refuse_first_slot": False,
        "refused_slot_rate": 0.0,
        # Popin acts on a request at once but answers only after this delay (a slow vendor
        # whose work is done even when the client gives up; the sandbox-wide latency instead
        # delays before the request is read).
        "answer_delay_ms": 0,
        # Webhook events (sandbox/popin/events.py): where to, and how faithfully.
        **EVENT_SETTINGS,
    }

    # --- data -------------------------------------------------------------------------

    @override
    def reset(self, seed: int | None = None) -> None:
        """Back to the seeded data; events not yet delivered are dropped."""
        if not hasattr(self, "events"):
            self.events = EventSender(seed if seed is not None else self.seed)
        super().reset(seed)
        self.events.reset(self.seed)

    @override
    def inspect(self, kind: str) -> Any:
        """`events`: every event built since the reset; `deliveries`: how their POSTs went."""
        if kind == "events":
            return self.events.sent
        if kind == "deliveries":
            return self.events.deliveries.records()
        return super().inspect(kind)

    @override
    def initial_store(self) -> dict[str, Any]:
        """No customers or bookings; free slots from now on."""
        self._availability: tuple[str, dict[str, Any]] | None = None
        return {"customers": [], "bookings": [], "slots": self._generate_slots([])}

    @override
    def update_settings(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Change switches; slot settings lay out the free slots again (bookings stay)."""
        _check_refusals(changes)
        check_event_settings(changes)
        if "timezone" in changes:
            try:
                ZoneInfo(str(changes["timezone"]))
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise SandboxError(f"unknown timezone {changes['timezone']!r}") from exc
        settings = super().update_settings(changes)
        if SLOT_SETTINGS & set(changes):
            kept = [s for s in self.store["slots"] if s["state"] != "free"]
            self.store["slots"] = self._generate_slots(kept)
        # Several settings change what /slots lists.
        self._availability = None
        return settings

    def _zone(self) -> ZoneInfo:
        return ZoneInfo(str(self.settings["timezone"]))

    def _generate_slots(self, kept: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """`free_slots` slots in business hours from now, skipping times already kept."""
        zone = self._zone()
        step = timedelta(minutes=int(self.settings["slot_minutes"]))
        opening, closing = int(self.settings["opening_hour"]), int(self.settings["closing_hour"])
        moment = datetime.now(zone) + timedelta(minutes=int(self.settings["notice_minutes"]))
        moment = moment.replace(second=0, microsecond=0)
        moment += timedelta(minutes=-moment.minute % int(self.settings["slot_minutes"]))
        used = {s["time"] for s in kept}
        slots = list(kept)
        wanted = len(kept) + int(self.settings["free_slots"])
        while len(slots) < wanted:
            if moment.hour < opening:
                moment = moment.replace(hour=opening, minute=0)
            if moment.hour >= closing:
                moment = (moment + timedelta(days=1)).replace(hour=opening, minute=0)
                continue
            text = slot_time(moment)
            if text not in used:
                start = moment.astimezone(timezone.utc).isoformat()
                slots.append({"time": text, "start": start, "state": "free", "customer_id": None})
            moment += step
        slots.sort(key=lambda s: s["start"])
        return slots

    @override
    def seed_records(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Add customers: `count` people from the shared seed data, or explicit `customers`."""
        added = []
        for person in people(self.seed)[: int(spec.get("count", 0))]:
            if person.phone_e164 is None:
                continue
            number = phonenumbers.parse(person.phone_e164)
            added.append(
                self._new_customer(
                    {
                        "name": person.full_name,
                        "mobile": phonenumbers.national_significant_number(number),
                        "country": str(number.country_code),
                        "email": person.email,
                    }
                )
            )
        for body in spec.get("customers", []):
            added.append(self._new_customer(dict(body)))
        return {"customers": added}

    def _new_customer(self, fields: dict[str, Any]) -> dict[str, Any]:
        sequence = 300 + len(self.store["customers"])
        customer_id = base64.b64encode(str(sequence).encode()).decode().rstrip("=")
        if fields.get("native", True):
            rng = random.Random(self.seed * 100_003 + sequence)
            url = f"https://live.popin.to/{rng.randrange(10_000):04d}-{rng.randrange(16**4):04x}"
        else:
            url = f"{self.settings['dashboard_join_url']}?customer={customer_id}"
        customer = {"customer_id": customer_id, "url": url, **fields}
        self.store["customers"].append(customer)
        return customer

    @override
    def action(self, name: str, body: dict[str, Any]) -> Any:
        """`take_slot`: someone else books a slot (`time`, else the first free one);
        `simulate_call`: a call (or a remark) happens for a customer, and its event is sent."""
        if name == "simulate_call":
            return self._simulate_call(body)
        if name != "take_slot":
            return super().action(name, body)
        free = [s for s in self._free_slots() if body.get("time") in (None, s["time"])]
        if not free:
            raise SandboxError("no such free slot")
        free[0]["state"] = "taken"
        self._availability = None
        return {"time": free[0]["time"]}

    def _simulate_call(self, body: dict[str, Any]) -> dict[str, Any]:
        customer = next(
            (c for c in self.store["customers"] if c["customer_id"] == body.get("customer_id")),
            None,
        )
        if customer is None:
            raise SandboxError("no such customer_id")
        event, agent, details = simulated_call(body, customer, self.settings["agents"])
        payload = self.events.emit(self.settings, event, {**customer, "agent": agent}, **details)
        if payload is None:
            raise SandboxError("no webhook_url is set: PATCH /_sandbox/popin/settings first")
        return payload

    def _free_slots(self) -> list[dict[str, Any]]:
        now = datetime.now(timezone.utc).isoformat()
        return [s for s in self.store["slots"] if s["state"] == "free" and s["start"] > now]

    def _listed_slots(self) -> list[dict[str, Any]]:
        """What /slots shows: the free slots, or every future slot when the listing is stale."""
        if not self.settings["booked_slots_listed"]:
            return self._free_slots()
        now = datetime.now(timezone.utc).isoformat()
        return [s for s in self.store["slots"] if s["start"] > now]

    def _refuses(self, slot: dict[str, Any]) -> bool:
        """Whether this free slot refuses every booking (see the refusal settings)."""
        if self.settings["refuse_first_slot"]:
            listed = self._listed_slots()
            if listed and listed[0]["time"] == slot["time"]:
                return True
        rate = float(self.settings["refused_slot_rate"])
        if not rate:
            return False
        # Seeded per slot, so that the same slot answers the same way every time.
        digest = hashlib.sha256(f"{self.seed}:{slot['time']}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64 < rate

    # --- HTTP -------------------------------------------------------------------------

    @override
    def routes(self) -> list[BaseRoute]:
        """The three documented endpoints under `/api/v1/external`."""
        base = "/api/v1/external"
        return [
            Route(f"{base}/capture", self._guarded(self.capture), methods=["POST"]),
            Route(f"{base}/slots", self._guarded(self.slots), methods=["GET"]),
            Route(f"{base}/schedule", self._guarded(self.schedule), methods=["POST"]),
        ]

    def _guarded(self, handler: Any) -> Any:
        async def endpoint(request: Request) -> JSONResponse:
            api_key = request.headers.get("x-api-key")
            token = request.headers.get("x-token")
            if not (
                self.key_ok(api_key)
                and self.key_ok(token)
                and api_key == DEMO_KEYS["popin_api_key"]
                and token == DEMO_KEYS["popin_token"]
            ):
                return JSONResponse({"status": 0, "message": "Unauthenticated."}, status_code=401)
            try:
                body = await json_object(request) if request.method == "POST" else {}
                response = JSONResponse(handler(body))
            except Refused as exc:
                response = failure(exc)
            delay = float(self.settings["answer_delay_ms"])
            if delay > 0:
                await asyncio.sleep(delay / 1000)
            return response

        return endpoint

    def capture(self, body: dict[str, Any]) -> dict[str, Any]:
        """Register a customer; not idempotent (the same mobile twice is two customers)."""
        unknown = sorted(set(body) - CAPTURE_FIELDS)
        if unknown:
            raise Refused(f"Unknown field(s): {', '.join(unknown)}.", 422)
        for field in ("name", "mobile"):
            value = body.get(field)
            if not isinstance(value, str) or not value.strip():
                raise Refused(f"The {field} field is required.", 422)
        country = body.get("country", "91")
        if not isinstance(country, str) or not country.isdigit():
            raise Refused("Invalid country code.")
        if phonenumbers.region_code_for_country_code(int(country)) == "ZZ":
            raise Refused("Invalid country code.")
        if not valid_mobile(body["mobile"], country):
            raise Refused("Invalid mobile number.")
        email = body.get("email")
        if email is not None and (not isinstance(email, str) or not EMAIL.match(email)):
            raise Refused("Invalid email address.")
        group = body.get("group")
        if group is not None and group not in self.settings["groups"]:
            raise Refused("Invalid group.")
        agent = body.get("agent")
        if agent is not None and (
            not isinstance(agent, int)
            or isinstance(agent, bool)
            or agent not in self.settings["agents"]
        ):
            raise Refused("Invalid agent.")
        native = body.get("native", True)
        if not isinstance(native, bool):
            raise Refused("The native field must be true or false.", 422)
        campaign = body.get("campaign")
        if campaign is not None and not isinstance(campaign, dict):
            raise Refused("The campaign field must be an object.", 422)
        pincode = pincode_of(body)
        customer = self._new_customer(
            {
                "name": body["name"].strip(),
                "mobile": body["mobile"],
                "country": country,
                "email": email,
                "group": group,
                "agent": agent,
                "pincode": pincode,
                "native": native,
                "campaign": campaign,
            }
        )
        # Popin acts, then tells the webhook; its answer to the caller may still be lost.
        self.events.emit(self.settings, "popin_user_captured", customer)
        return {
            "status": 1,
            "customer_id": customer["customer_id"],
            "url": customer["url"],
            "message": "User captured successfully",
        }

    def slots(self, body: dict[str, Any]) -> dict[str, Any]:
        """Free future slots grouped by date, in the seller's timezone."""
        # Built once per change: the sandbox must not be a benchmark's bottleneck.
        now = datetime.now(timezone.utc).isoformat()
        if self._availability is not None and now < self._availability[0]:
            return self._availability[1]
        listed = self._listed_slots()
        availability: list[dict[str, Any]] = []
        for slot in listed:
            date, clock = slot["time"][:16], slot["time"][17:]
            if not availability or availability[-1]["date"] != date:
                availability.append({"date": date, "slots": []})
            availability[-1]["slots"].append(clock)
        answer = {
            "availability": availability,
            "slotDiff": int(self.settings["slot_minutes"]),
            "timezone": self.settings["timezone"],
        }
        # Valid until the earliest listed slot starts (it then stops being offered).
        self._availability = (listed[0]["start"] if listed else "9999", answer)
        return answer

    @override
    def load(self, data: dict[str, Any]) -> None:
        """Restore a saved store; the cached availability no longer applies."""
        super().load(data)
        self._availability = None

    def schedule(self, body: dict[str, Any]) -> dict[str, Any]:
        """Book a listed free slot for a captured customer, once."""
        customer_id, time = body.get("customer_id"), body.get("time")
        if not isinstance(customer_id, str) or not customer_id:
            raise Refused("The customer_id field is required.", 422)
        if not isinstance(time, str) or not time:
            raise Refused("The time field is required.", 422)
        if not any(c["customer_id"] == customer_id for c in self.store["customers"]):
            raise Refused("Invalid customer.")
        if not well_formed(time):
            raise Refused("Invalid time format. Use: Thu, 25 Sep 2025 03:15 PM")
        if any(b["customer_id"] == customer_id for b in self.store["bookings"]):
            raise Refused("A call is already scheduled for this customer.")
        slot = next((s for s in self._free_slots() if s["time"] == time), None)
        if slot is None or self._refuses(slot):
            raise Refused("The selected slot is not available.")
        slot["state"], slot["customer_id"] = "booked", customer_id
        self._availability = None
        self.store["bookings"].append(
            {"customer_id": customer_id, "time": time, "start": slot["start"]}
        )
        customer = next(c for c in self.store["customers"] if c["customer_id"] == customer_id)
        schedule = {"time": time, "start": slot["start"], "timezone": self.settings["timezone"]}
        self.events.emit(self.settings, "popin_scheduled_created", customer, schedule=schedule)
        return {"status": 1, "message": "Call scheduled successfully"}


def _check_refusals(changes: dict[str, Any]) -> None:
    """Refuse slot-refusal and delay settings of the wrong type or range."""
    for name in ("booked_slots_listed", "refuse_first_slot"):
        if name in changes and not isinstance(changes[name], bool):
            raise SandboxError(f"{name} must be true or false")
    for name, top in (("refused_slot_rate", 1.0), ("answer_delay_ms", 600_000.0)):
        value = changes.get(name, 0)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= top:
            raise SandboxError(f"{name} must be a number from 0 to {top:g}")
