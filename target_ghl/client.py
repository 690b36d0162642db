"""HighLevel API v2 calls the target makes, over the shared writer client."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import requests

from leadkit.ghl import API_VERSION, BURST_REQUESTS, BURST_WINDOW_SECONDS, DAILY_REMAINING_HEADER
from leadkit.oauth import build_auth
from leadkit.ratelimit import RateLimiter
from leadkit.responses import safe_reason
from leadkit.settings import request_timeout, retry_policy
from leadkit.timestamps import parse_instant
from leadkit.writer import ApiClient, Reject

VENDOR = "GHL"
#: class-validator's words for a list longer than its maximum (GHL documents no maximum).
CONTACTS_LIMIT = re.compile(r"contacts must contain no more than (\d+)")


def build_api_client(config: Mapping[str, Any]) -> ApiClient:
    """The shared client, configured for GHL's auth (a Private Integration Token or OAuth),
    version header and rate limits."""
    policy = retry_policy(dict(config))
    timeout = request_timeout(config)
    return ApiClient(
        vendor=VENDOR,
        base_url=str(config["api_url"]),
        headers={
            "Version": str(config.get("api_version") or API_VERSION),
            "Accept": "application/json",
        },
        auth=build_auth(config, base_url=str(config["api_url"]), policy=policy, timeout=timeout),
        auth_setting="access_token",
        forbidden_setting="location_id",
        policy=policy,
        timeout=timeout,
        limiter=RateLimiter(BURST_REQUESTS, BURST_WINDOW_SECONDS),
        daily_remaining_header=DAILY_REMAINING_HEADER,
    )


def checked(response: requests.Response, what: str) -> dict[str, Any]:
    """The JSON body of a 2xx answer; a 4xx makes the record a Reject with GHL's message."""
    if response.ok:
        try:
            body = response.json()
        except ValueError:
            body = {}
        return body if isinstance(body, dict) else {}
    raise Reject(f"ghl {response.status_code} on {what}", safe_reason(response))


@dataclass(frozen=True)
class Upserted:
    """An upsert's outcome: the contact as GHL keeps it, and whether this run created it."""

    contact: dict[str, Any]
    created: bool


@dataclass(frozen=True)
class BulkAnswer:
    """A bulk tag update's outcome: the contacts it did not tag, or why it was refused whole
    (422) and the largest chunk the refusal names, if it names one."""

    failed: list[str] = field(default_factory=list)
    refused: str | None = None
    limit: int | None = None


def _contacts_limit(reason: str) -> int | None:
    """N of a 422 "contacts must contain no more than N elements"; None for another 422."""
    match = CONTACTS_LIMIT.search(reason)
    return int(match.group(1)) if match else None


class ServerClock:
    """How far GHL's clock is ahead of ours, as a lower bound learned from its answers.

    A stamp GHL wrote while serving a request was written before the answer arrived, so
    stamp minus arrival time never exceeds the offset; the largest such sample is the best.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset: float | None = None

    def observe(self, stamp: Any, arrived: float) -> None:
        """Learn from a stamp GHL wrote while answering a request that arrived at `arrived`."""
        moment = parse_instant(stamp)
        if moment is None:
            return
        sample = moment.timestamp() - arrived
        with self._lock:
            self._offset = sample if self._offset is None else max(self._offset, sample)

    def server_time(self, local: float) -> float:
        """GHL's time at our `local` time, never later than the truth."""
        with self._lock:
            return local + (self._offset or 0.0)


class GhlClient:
    """The handful of GHL operations a contact write needs."""

    def __init__(self, api: ApiClient, location_id: str) -> None:
        self.api = api
        self.location_id = location_id
        self.clock = ServerClock()

    def custom_fields(self) -> list[dict[str, Any]]:
        """The location's contact custom-field definitions."""
        response = self.api.request(
            "GET", f"/locations/{self.location_id}/customFields", params={"model": "contact"}
        )
        body = checked(response, "custom fields")
        fields = body.get("customFields")
        return [item for item in fields if isinstance(item, dict)] if fields else []

    def upsert(self, body: dict[str, Any]) -> Upserted:
        """POST /contacts/upsert (`{"new": bool, "contact": {...}}`); retried when in doubt."""
        sent_at: list[float] = []
        response = self.api.request(
            "POST", "/contacts/upsert", json=body, on_send=lambda: sent_at.append(time.time())
        )
        arrived = time.time()
        answer = checked(response, "upsert")
        contact = answer.get("contact")
        if not isinstance(contact, dict):
            contact = {}
        self.clock.observe(contact.get("dateUpdated"), arrived)
        if answer.get("new") is True or len(sent_at) < 2:
            return Upserted(contact, answer.get("new") is True)
        # An earlier try may have created the contact before its answer was lost, so this
        # answer says `new: false`: it did if GHL added the contact after that try left.
        added = contact.get("dateAdded")
        if added is None and contact.get("id"):
            added = self.contact(str(contact["id"])).get("dateAdded")
        moment = parse_instant(added)
        created = moment is not None and moment.timestamp() >= self.clock.server_time(sent_at[0])
        return Upserted(contact, created)

    def contact(self, contact_id: str) -> dict[str, Any]:
        """GET /contacts/{id}."""
        response = self.api.request("GET", f"/contacts/{contact_id}")
        contact = checked(response, "contact").get("contact")
        return contact if isinstance(contact, dict) else {}

    def find_duplicate(self, *, email: str | None, phone: str | None) -> dict[str, Any] | None:
        """The contact GHL would match, by email first, then phone (a read: dry runs use it)."""
        for name, value in (("email", email), ("number", phone)):
            if not value:
                continue
            params = {"locationId": self.location_id, name: value}
            response = self.api.request("GET", "/contacts/search/duplicate", params=params)
            contact = checked(response, "duplicate search").get("contact")
            if isinstance(contact, dict):
                return contact
        return None

    def add_tags(self, contact_id: str, tags: list[str]) -> None:
        """POST /contacts/{id}/tags: additive and idempotent."""
        response = self.api.request("POST", f"/contacts/{contact_id}/tags", json={"tags": tags})
        checked(response, "tags")

    def bulk_add_tags(self, contact_ids: list[str], tags: list[str]) -> BulkAnswer:
        """POST /contacts/bulk/tags/update/add (UpdateTagsDTO): additive and idempotent."""
        body = {"locationId": self.location_id, "contacts": contact_ids, "tags": tags}
        response = self.api.request("POST", "/contacts/bulk/tags/update/add", json=body)
        if response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY:
            reason = safe_reason(response) or "unprocessable entity"
            return BulkAnswer(refused=reason, limit=_contacts_limit(reason))
        results = checked(response, "bulk tags").get("responses")
        done = {
            str(item.get("contactId"))
            for item in results or []
            if isinstance(item, dict) and item.get("type") == "success"
        }
        return BulkAnswer(failed=[cid for cid in contact_ids if cid not in done])

    def post_note(self, contact_id: str, body: str) -> dict[str, Any]:
        """POST /contacts/{id}/notes (not idempotent: the ledger brackets it)."""
        response = self.api.request(
            "POST", f"/contacts/{contact_id}/notes", json={"body": body}, retry_ambiguous=False
        )
        note = checked(response, "note").get("note")
        return note if isinstance(note, dict) else {}

    def notes(self, contact_id: str) -> list[dict[str, Any]]:
        """GET /contacts/{id}/notes."""
        response = self.api.request("GET", f"/contacts/{contact_id}/notes")
        return [n for n in checked(response, "notes").get("notes") or [] if isinstance(n, dict)]

    def post_task(self, contact_id: str, task: dict[str, Any]) -> dict[str, Any]:
        """POST /contacts/{id}/tasks (not idempotent: the ledger brackets it)."""
        response = self.api.request(
            "POST", f"/contacts/{contact_id}/tasks", json=task, retry_ambiguous=False
        )
        created = checked(response, "task").get("task")
        return created if isinstance(created, dict) else {}

    def tasks(self, contact_id: str) -> list[dict[str, Any]]:
        """GET /contacts/{id}/tasks."""
        response = self.api.request("GET", f"/contacts/{contact_id}/tasks")
        return [t for t in checked(response, "tasks").get("tasks") or [] if isinstance(t, dict)]
