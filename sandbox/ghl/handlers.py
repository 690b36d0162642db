"""GHL's endpoint handlers: one method per operation, given a request already checked."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.ghl.contacts import ContactStore, now_iso
from sandbox.ghl.errors import FORBIDDEN, GhlError, bad_request
from sandbox.ghl.fields import clean_tags
from sandbox.ghl.search import matcher, next_visible, position_after, sort_key


@dataclass
class Call:
    """One authenticated, validated request as a handler sees it."""

    location: str
    body: Any
    path: dict[str, str]
    query: dict[str, str]


#: Contacts one business-contacts page may hold.
BUSINESS_PAGE_MAX = 100

Handler = Callable[["ContactHandlers", Call], tuple[int, dict[str, Any]]]


class ContactHandlers(ContactStore):
    """The operations' logic over the store; each answers (status, body) or raises GhlError."""

    def _contact(self, call: Call) -> dict[str, Any]:
        contact = self.store["contacts"].get(call.path["contactId"])
        if contact is None:
            # The spec lists 400 (not 404) as the error answer of every contact operation.
            raise bad_request("Contact not found")
        if contact["locationId"] != call.location:
            raise GhlError(403, FORBIDDEN)
        return contact

    def _own_location(self, call: Call, location: str) -> None:
        if location != call.location:
            raise GhlError(403, FORBIDDEN)

    def upsert(self, call: Call) -> tuple[int, dict[str, Any]]:
        """POST /contacts/upsert: match by the priority field, update or create."""
        self._own_location(call, call.body["locationId"])
        changes = self._prepare(call.location, call.body)
        if (
            call.body.get("createNewIfDuplicateAllowed")
            and self.settings["allow_duplicate_contacts"]
        ):
            return 200, self._upserted(True, self._create(call.location, changes))
        order = self._priority()
        for position, field_name in enumerate(order):
            matches = self._matches(call.location, field_name, changes.get(field_name))
            if not matches:
                continue
            target = matches[0]
            for other in order[position + 1 :]:
                # The documented email/phone split: the lower-priority value already belongs
                # to another contact, so it is silently dropped from this update.
                if any(
                    cid != target for cid in self._matches(call.location, other, changes.get(other))
                ):
                    changes.pop(other)
            contact = self.store["contacts"][target]
            self._apply(contact, changes)
            return 200, self._upserted(False, contact)
        return 200, self._upserted(True, self._create(call.location, changes))

    @staticmethod
    def _upserted(new: bool, contact: dict[str, Any]) -> dict[str, Any]:
        return {"new": new, "contact": contact, "traceId": str(uuid.uuid4())}

    def create(self, call: Call) -> tuple[int, dict[str, Any]]:
        """POST /contacts/: 400 with meta when duplicates are not allowed."""
        self._own_location(call, call.body["locationId"])
        changes = self._prepare(call.location, call.body)
        self._refuse_duplicates(call.location, changes)
        return 201, {"contact": self._create(call.location, changes)}

    def update(self, call: Call) -> tuple[int, dict[str, Any]]:
        """PUT /contacts/{id}: body tags replace; custom fields merge by field."""
        contact = self._contact(call)
        changes = self._prepare(call.location, call.body)
        # Undocumented: an update may not take another contact's email or phone either.
        self._refuse_duplicates(call.location, changes, own_id=contact["id"])
        self._apply(contact, changes)
        return 200, {"succeded": True, "contact": contact}

    def get_contact(self, call: Call) -> tuple[int, dict[str, Any]]:
        """GET /contacts/{id}."""
        return 200, {"contact": self._contact(call)}

    def delete(self, call: Call) -> tuple[int, dict[str, Any]]:
        """DELETE /contacts/{id}: the contact, its notes and tasks."""
        contact = self._contact(call)
        self._set_matchable(contact, "email", {"email": None})
        self._set_matchable(contact, "phone", {"phone": None})
        del self.store["contacts"][contact["id"]]
        self.store["notes"].pop(contact["id"], None)
        self.store["tasks"].pop(contact["id"], None)
        self._index_for_search(call.location, None, True, contact_id=contact["id"])
        return 200, {"succeded": True}

    def add_tags(self, call: Call) -> tuple[int, dict[str, Any]]:
        """POST /contacts/{id}/tags: additive and idempotent."""
        contact = self._contact(call)
        tags = contact["tags"] + [
            t for t in clean_tags(call.body["tags"]) if t not in contact["tags"]
        ]
        self._apply(contact, {"tags": tags})
        return 201, {"tags": contact["tags"]}

    def remove_tags(self, call: Call) -> tuple[int, dict[str, Any]]:
        """DELETE /contacts/{id}/tags."""
        contact = self._contact(call)
        gone = set(clean_tags(call.body["tags"]))
        self._apply(contact, {"tags": [tag for tag in contact["tags"] if tag not in gone]})
        return 200, {"tags": contact["tags"]}

    def bulk_tags(self, call: Call) -> tuple[int, dict[str, Any]]:
        """POST /contacts/bulk/tags/update/{type}: add or remove tags on many contacts, with
        one result per contact (UpdateTagsResponseDTO)."""
        kind = call.path["type"]
        if kind not in {"add", "remove"}:
            # Undocumented: the spec names only the two types.
            raise bad_request("type must be one of the following values: add, remove")
        body = call.body
        self._own_location(call, body["locationId"])
        limit = int(self.settings["bulk_tags_max_contacts"])
        if len(body["contacts"]) > limit:
            # Undocumented: the spec gives no maximum; class-validator's ArrayMaxSize words.
            raise GhlError(
                422,
                {
                    "statusCode": 422,
                    "message": [f"contacts must contain no more than {limit} elements"],
                    "error": "Unprocessable Entity",
                },
            )
        if body.get("removeAllTags") and kind != "remove":
            raise bad_request("removeAllTags can only be used with remove type")
        tags = clean_tags(body["tags"])
        results = [
            self._bulk_tag_one(call.location, kind, cid, tags, body) for cid in body["contacts"]
        ]
        errors = sum(1 for result in results if result["type"] == "error")
        return 201, {"succeded": errors == 0, "errorCount": errors, "responses": results}

    def _bulk_tag_one(
        self, location: str, kind: str, contact_id: str, tags: list[str], body: dict[str, Any]
    ) -> dict[str, Any]:
        contact = self.store["contacts"].get(contact_id)
        if contact is None:
            return {
                "contactId": contact_id,
                "message": "contact id is not a valid firebase id",
                "type": "error",
            }
        if contact["locationId"] != location:
            return {
                "contactId": contact_id,
                "message": "contact does not belong to location",
                "type": "error",
            }
        if contact.get("email") in self.settings["bulk_tags_busy_emails"]:
            # Undocumented: a per-contact failure the single endpoint does not share, so that
            # a client's fallback can be exercised.
            return {"contactId": contact_id, "message": "contact is being updated", "type": "error"}
        old = list(contact["tags"])
        if kind == "add":
            added = [tag for tag in tags if tag not in old]
            self._apply(contact, {"tags": old + added})
            removed: list[str] = []
        else:
            gone = set(old) if body.get("removeAllTags") else set(tags)
            removed = [tag for tag in old if tag in gone]
            self._apply(contact, {"tags": [tag for tag in old if tag not in gone]})
            added = []
        return {
            "contactId": contact_id,
            "message": "Tags updated",
            "type": "success",
            "oldTags": old,
            "tagsAdded": added,
            "tagsRemoved": removed,
        }

    def notes(self, call: Call) -> tuple[int, dict[str, Any]]:
        """GET /contacts/{id}/notes."""
        contact = self._contact(call)
        return 200, {"notes": self.store["notes"].get(contact["id"], [])}

    def add_note(self, call: Call) -> tuple[int, dict[str, Any]]:
        """POST /contacts/{id}/notes: every call makes a new note."""
        contact = self._contact(call)
        note = {
            "id": self._new_id(),
            **call.body,
            "contactId": contact["id"],
            "dateAdded": now_iso(),
        }
        self.store["notes"].setdefault(contact["id"], []).append(note)
        return 201, {"note": note}

    def tasks(self, call: Call) -> tuple[int, dict[str, Any]]:
        """GET /contacts/{id}/tasks."""
        contact = self._contact(call)
        return 200, {"tasks": self.store["tasks"].get(contact["id"], [])}

    def add_task(self, call: Call) -> tuple[int, dict[str, Any]]:
        """POST /contacts/{id}/tasks: every call makes a new task."""
        contact = self._contact(call)
        task = {"id": self._new_id(), **call.body, "contactId": contact["id"]}
        self.store["tasks"].setdefault(contact["id"], []).append(task)
        return 201, {"task": task}

    def complete_task(self, call: Call) -> tuple[int, dict[str, Any]]:
        """PUT /contacts/{id}/tasks/{taskId}/completed."""
        contact = self._contact(call)
        for task in self.store["tasks"].get(contact["id"], []):
            if task["id"] == call.path["taskId"]:
                task["completed"] = call.body["completed"]
                return 200, {"task": task}
        raise bad_request("Task not found")

    def appointments(self, call: Call) -> tuple[int, dict[str, Any]]:
        """GET /contacts/{id}/appointments: the contact's calendar events."""
        contact = self._contact(call)
        return 200, {"events": self.store.get("appointments", {}).get(contact["id"], [])}

    def business_contacts(self, call: Call) -> tuple[int, dict[str, Any]]:
        """GET /contacts/business/{businessId}: the business's contacts, `skip`/`limit` pages.

        Undocumented: `limit` above 100 is a 422 (the spec's default is 25 and it names no
        maximum: the harsher reading), and the order is by dateAdded then id.
        """
        self._own_location(call, call.query["locationId"])
        try:
            limit = int(call.query.get("limit", "25"))
            skip = int(call.query.get("skip", "0"))
        except ValueError as exc:
            raise bad_request("limit and skip must be whole numbers") from exc
        if not 1 <= limit <= BUSINESS_PAGE_MAX or skip < 0:
            raise GhlError(
                422,
                {
                    "statusCode": 422,
                    "message": [f"limit must not be greater than {BUSINESS_PAGE_MAX}"],
                    "error": "Unprocessable Entity",
                },
            )
        members = sorted(
            (
                contact
                for contact in self.store["contacts"].values()
                if contact["locationId"] == call.location
                and contact.get("businessId") == call.path["businessId"]
            ),
            key=lambda contact: (contact["dateAdded"], contact["id"]),
        )
        return 200, {"contacts": members[skip : skip + limit], "count": len(members)}

    def custom_fields(self, call: Call) -> tuple[int, dict[str, Any]]:
        """GET /locations/{id}/customFields: the location's contact field definitions."""
        self._own_location(call, call.path["locationId"])
        if call.query.get("model") == "opportunity":
            return 200, {"customFields": []}
        definitions = self.store["locations"][call.location]["customFields"]
        return 200, {"customFields": list(definitions.values())}

    def duplicate(self, call: Call) -> tuple[int, dict[str, Any]]:
        """GET /contacts/search/duplicate: served from the (lagging) search index."""
        self._own_location(call, call.query["locationId"])
        email = (call.query.get("email") or "").strip().lower()
        number = call.query.get("number")
        phone = self._phone(number) if number else None
        wanted = {"email": email, "phone": phone}
        visible = self._searchable(call.location)
        for field_name in self._priority():
            value = wanted[field_name]
            if not value:
                continue
            for contact in sorted(visible, key=lambda c: c["dateAdded"]):
                held = contact.get(field_name)
                if held and (held.lower() if field_name == "email" else held) == value:
                    return 200, {"contact": contact}
        return 200, {"contact": None}

    def _matching(
        self, location: str, filters: list[dict[str, Any]], sort: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """The sorted contacts a search sees now; the last result is reused while nothing
        was written and no pending write became searchable (paging 50,000 contacts)."""
        key = (
            id(self.store),
            location,
            json.dumps(filters, sort_keys=True),
            json.dumps(sort, sort_keys=True),
            getattr(self, "search_generation", 0),
        )
        cache: dict[Any, tuple[float, list[dict[str, Any]]]] = self.__dict__.setdefault(
            "_search_cache", {}
        )
        now = time.time()
        hit = cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        test = matcher(filters)
        contacts = [c for c in self._searchable(location) if test(c)]
        # The id breaks ties, as GHL's `searchAfter` pair [sort value, id] implies.
        contacts.sort(key=lambda contact: contact["id"])
        for rule in reversed(sort):
            contacts.sort(key=sort_key(rule["field"]), reverse=rule["direction"] == "desc")
        cache.clear()
        cache[key] = (next_visible(self.store["search"][location], now), contacts)
        return contacts

    def search(self, call: Call) -> tuple[int, dict[str, Any]]:
        """POST /contacts/search: filters, sort, page or searchAfter, over the lagging index."""
        body = call.body
        self._own_location(call, body["locationId"])
        sort = body.get("sort") or [{"field": "dateAdded", "direction": "asc"}]
        contacts = self._matching(call.location, body.get("filters", []), sort)
        first_rule = sort[0]["field"]
        limit = int(body["pageLimit"])
        start = (int(body.get("page", 1)) - 1) * limit
        if "searchAfter" in body:
            after = body["searchAfter"]
            if len(after) != 2:
                raise bad_request("searchAfter must be the [sort value, id] of a contact")
            if sort[0]["direction"] == "desc":
                ids = [c["id"] for c in contacts]
                if after[-1] not in ids:
                    raise bad_request("searchAfter does not point at a contact of this search")
                start = ids.index(after[-1]) + 1
            else:
                start = position_after(contacts, first_rule, after)
        page = [
            {**contact, "searchAfter": [contact.get(first_rule), contact["id"]]}
            for contact in contacts[start : start + limit]
        ]
        junk = set(self.settings["malformed_date_updated_ids"])
        for contact in page:
            if contact["id"] in junk:
                contact["dateUpdated"] = self.settings["malformed_date_updated_value"]
        return 200, {"contacts": page, "total": len(contacts)}
