"""Popin's webhook events: built from what the emulator did, delivered off the request path.

Popin's docs name the events and say each payload carries the phone, the `user_id`, the agent
and, for calls, the duration; nothing more. The shape here is the harsher plausible one (see
docs/sandbox.md): no event id (a retry or a duplicate is byte-identical, nothing else tells
them apart), `user_id` as the plain number while the capture API answered its base64 form,
and times in the seller's timezone with an offset.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.vendor import SandboxError
from sandbox.webhooks import WebhookSender, policy_from

#: Events a control action may simulate (`POST /_sandbox/popin/actions/simulate_call`).
CALL_EVENTS = frozenset(
    {"popin_call_successful", "popin_call_missed", "popin_call_abandoned", "popin_remark_added"}
)
#: The seller's agents as events describe them (ids are the emulator's `agents` setting).
AGENT_NAMES = {210: "Ananya Rao", 211: "Rohan Mehta"}
USER_ID_FORMS = ("number", "customer_id")
EVENT_SETTINGS: dict[str, Any] = {
    # Where events are POSTed (none: no events), and the static X-API-KEY sent with them.
    "webhook_url": None,
    "webhook_api_key": None,
    # `number`: user_id is the plain number (315) while /capture answered "MzE1" (harsh);
    # `customer_id`: the id exactly as /capture answered it.
    "webhook_user_id": "number",
    # Share of events delivered twice (an at-least-once sender), seeded.
    "webhook_duplicate_rate": 0.05,
    # Tries per event before it is dropped, and the first wait between tries (doubling).
    "webhook_max_attempts": 6,
    "webhook_retry_seconds": 0.5,
    "webhook_timeout_seconds": 5.0,
}


def user_number(customer_id: str) -> int:
    """The number behind a customer_id ("MzE1" -> 315)."""
    padded = customer_id + "=" * (-len(customer_id) % 4)
    return int(base64.b64decode(padded).decode())


def check_event_settings(changes: dict[str, Any]) -> None:
    """Refuse event settings of the wrong type or range."""
    for name in ("webhook_url", "webhook_api_key"):
        value = changes.get(name)
        if value is not None and (not isinstance(value, str) or not value):
            raise SandboxError(f"{name} must be a non-empty string or null")
    form = changes.get("webhook_user_id", "number")
    if form not in USER_ID_FORMS:
        raise SandboxError(f"webhook_user_id must be one of {list(USER_ID_FORMS)}")
    for name, low, top in (
        ("webhook_duplicate_rate", 0.0, 1.0),
        ("webhook_max_attempts", 1, 100),
        ("webhook_retry_seconds", 0.0, 60.0),
        ("webhook_timeout_seconds", 0.1, 60.0),
    ):
        value = changes.get(name, low)
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not low <= value <= top
        ):
            raise SandboxError(f"{name} must be a number from {low:g} to {top:g}")


#: Which event settings make the delivery policy (sandbox/webhooks.py).
POLICY_SETTINGS = {
    "duplicate_rate": "webhook_duplicate_rate",
    "max_attempts": "webhook_max_attempts",
    "retry_seconds": "webhook_retry_seconds",
    "timeout": "webhook_timeout_seconds",
}


class EventSender:
    """Builds events; the sandbox's webhook engine delivers them, in order, with retries."""

    def __init__(self, seed: int) -> None:
        #: Events built since the last reset (what `GET /_sandbox/popin/records/events` shows).
        self.sent: list[dict[str, Any]] = []
        self.deliveries = WebhookSender("popin", seed)

    def reset(self, seed: int) -> None:
        """Forget built events and drop queued deliveries (they belong to the old data)."""
        self.sent = []
        self.deliveries.reset(seed)

    def emit(
        self,
        settings: dict[str, Any],
        event: str,
        customer: dict[str, Any],
        **details: Any,
    ) -> dict[str, Any] | None:
        """Build one event about `customer` and queue its delivery; None without a webhook."""
        url = settings.get("webhook_url")
        if not url:
            return None
        customer_id = str(customer["customer_id"])
        payload: dict[str, Any] = {
            "event": event,
            "user_id": customer_id
            if settings["webhook_user_id"] == "customer_id"
            else user_number(customer_id),
            "phone": f"+{customer['country']}{customer['mobile']}",
            "agent": _agent(customer.get("agent")),
            **details,
            "timestamp": datetime.now(ZoneInfo(str(settings["timezone"]))).isoformat(
                timespec="seconds"
            ),
        }
        headers = {"Content-Type": "application/json", "User-Agent": "Popin-Webhooks/1.0"}
        if settings.get("webhook_api_key"):
            headers["X-API-KEY"] = str(settings["webhook_api_key"])
        self.sent.append(payload)
        self.deliveries.send(
            str(url), json.dumps(payload).encode(), headers, policy_from(settings, POLICY_SETTINGS)
        )
        return payload


def _agent(agent_id: object) -> dict[str, Any] | None:
    """The agent as events describe them; None when the customer was routed to nobody yet."""
    if not isinstance(agent_id, int):
        return None
    name = AGENT_NAMES.get(agent_id, f"Agent {agent_id}")
    return {"id": agent_id, "name": name, "email": f"agent{agent_id}@seller.example"}


def simulated_call(
    body: dict[str, Any], customer: dict[str, Any], agents: list[int]
) -> tuple[str, int, dict[str, Any]]:
    """(event, agent id, details) of a simulated call: `event` one of CALL_EVENTS, optional
    `agent` (else the customer's, else the first), `duration` seconds, `remark` text."""
    event = body.get("event")
    if event not in CALL_EVENTS:
        raise SandboxError(f"event must be one of {sorted(CALL_EVENTS)}")
    agent = body.get("agent", customer.get("agent") or agents[0])
    if agent not in agents:
        raise SandboxError("unknown agent")
    if event == "popin_remark_added":
        remark = body.get("remark")
        if not isinstance(remark, str) or not remark.strip():
            raise SandboxError("a remark needs its `remark` text")
        return event, agent, {"remark": remark}
    default = {"popin_call_successful": 185, "popin_call_abandoned": 7}.get(event, 0)
    duration = body.get("duration", default)
    if isinstance(duration, bool) or not isinstance(duration, int) or duration < 0:
        raise SandboxError("duration must be whole seconds, 0 or more")
    started = datetime.now(ZoneInfo("UTC")).isoformat(timespec="seconds")
    return event, agent, {"call": {"duration": duration, "started_at": started}}
