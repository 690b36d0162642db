"""GHL's contact store: locations, custom-field definitions, contacts and the indexes that
match them by email or phone; every write also feeds the lagging search index."""

from __future__ import annotations

import copy
import random
import re
import string
from datetime import datetime, timezone
from hashlib import sha256
from typing import Any

from sandbox.ghl.errors import DUPLICATE_MESSAGE, bad_request
from sandbox.ghl.fields import (
    DATA_TYPES,
    PLAIN_FIELDS,
    SEEDED_CUSTOM_FIELDS,
    birth_date,
    clean_tags,
    custom_field_value,
    e164,
)
from sandbox.ghl.search import record_version, searchable
from sandbox.vendor import SandboxError

_ID_ALPHABET = string.ascii_letters + string.digits


def now_iso() -> str:
    """UTC now as GHL writes it (`2021-07-02T05:18:26.704Z`)."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def empty_store() -> dict[str, Any]:
    """No tokens, locations or contacts; the indexes are keyed by location."""
    return {
        "tokens": {},
        "locations": {},
        "contacts": {},
        "notes": {},
        "tasks": {},
        "appointments": {},
        "by_email": {},
        "by_phone": {},
        "search": {},
    }


class ContactStore:
    """The store model of the GHL emulator (a mixin of `GhlApi`, which owns the state)."""

    store: dict[str, Any]
    settings: dict[str, Any]
    keys: set[str]
    _ids: random.Random

    def _add_location(self, location: str, token: str, name: str | None = None) -> dict[str, Any]:
        if location not in self.store["locations"]:
            self.store["locations"][location] = {
                "id": location,
                "name": name or f"Sandbox sub-account {location}",
                "customFields": {},
            }
            for field_name, key, data_type, options in SEEDED_CUSTOM_FIELDS:
                self._add_custom_field(location, field_name, data_type, key, list(options))
            for index_name in ("by_email", "by_phone", "search"):
                self.store[index_name][location] = {}
        self.store["tokens"][token] = location
        self.keys.add(token)
        return dict(self.store["locations"][location])

    def _add_custom_field(
        self, location: str, name: str, data_type: str, key: str | None, options: list[str]
    ) -> dict[str, Any]:
        if data_type not in DATA_TYPES:
            raise SandboxError(f"dataType must be one of {', '.join(DATA_TYPES)}")
        slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
        key = key or f"contact.{slug}"
        digest = sha256(f"{location}/{key}".encode()).digest()
        field_id = "".join(_ID_ALPHABET[byte % len(_ID_ALPHABET)] for byte in digest[:20])
        definitions = self.store["locations"][location]["customFields"]
        definition = {
            "id": field_id,
            "name": name,
            "fieldKey": key,
            "placeholder": "",
            "dataType": data_type,
            "position": len(definitions),
            "locationId": location,
            "model": "contact",
        }
        if options:
            definition["picklistOptions"] = options
        definitions[field_id] = definition
        return definition

    def _new_id(self) -> str:
        return "".join(self._ids.choices(_ID_ALPHABET, k=20))

    def _phone(self, raw: str) -> str:
        """E.164, as GHL stores phones.

        Undocumented: a number with "+" must be valid as written (spaces and dashes are
        fine, as in the spec's example "+1 888-888-8888"); one without "+" is read in the
        location's country (setting `location_country`), so a foreign local number becomes
        a wrong number or, when invalid there, a 400. Nothing is stored unnormalised.
        """
        text = raw.strip()
        found = e164(text, None if text.startswith("+") else self.settings["location_country"])
        if found is None:
            raise bad_request("Invalid phone number")
        return found

    def _prepare(self, location: str, body: dict[str, Any]) -> dict[str, Any]:
        """Normalised changes from a contact DTO; raises before anything is stored."""
        changes: dict[str, Any] = {
            key: copy.deepcopy(body[key]) for key in PLAIN_FIELDS if key in body
        }
        for key in ("firstName", "lastName", "name"):
            if key in body:
                changes[key] = body[key].strip() if isinstance(body[key], str) else None
        if "email" in body:
            email = body["email"].strip() if isinstance(body["email"], str) else ""
            changes["email"] = email or None
        if "phone" in body:
            phone = body["phone"]
            changes["phone"] = self._phone(phone) if isinstance(phone, str) and phone else None
        if "dateOfBirth" in body:
            changes["dateOfBirth"] = birth_date(body["dateOfBirth"])
        if "tags" in body:
            changes["tags"] = clean_tags(body["tags"])
        if "customFields" in body:
            changes["customFields"] = self._custom_values(location, body["customFields"])
        return changes

    def _custom_values(self, location: str, items: list[dict[str, Any]]) -> dict[str, Any]:
        """Field id -> stored value (None clears).

        Undocumented: an unknown id or key is a 400 naming it, not silently ignored, and a
        value that does not fit the field's dataType (or picklist) is a 400 too.
        """
        definitions = self.store["locations"][location]["customFields"]
        by_key: dict[str, dict[str, Any]] = {}
        for definition in definitions.values():
            by_key[definition["fieldKey"]] = definition
            by_key[definition["fieldKey"].removeprefix("contact.")] = definition
        values: dict[str, Any] = {}
        for item in items:
            if "id" in item:
                definition = definitions.get(item["id"])
                ref = item["id"]
            else:
                definition = by_key.get(item["key"])
                ref = item["key"]
            if definition is None:
                raise bad_request(f"Custom field {ref!r} does not exist in this location")
            values[definition["id"]] = custom_field_value(definition, item.get("field_value"))
        return values

    def _matches(self, location: str, field_name: str, value: str | None) -> list[str]:
        if not value:
            return []
        index = self.store["by_email" if field_name == "email" else "by_phone"][location]
        return list(index.get(value.lower() if field_name == "email" else value, []))

    def _priority(self) -> tuple[str, str]:
        return (
            ("email", "phone")
            if self.settings["duplicate_priority"] == "email"
            else (
                "phone",
                "email",
            )
        )

    def _refuse_duplicates(
        self, location: str, changes: dict[str, Any], own_id: str | None = None
    ) -> None:
        if self.settings["allow_duplicate_contacts"]:
            return
        for field_name in self._priority():
            others = [
                cid
                for cid in self._matches(location, field_name, changes.get(field_name))
                if cid != own_id
            ]
            if others:
                existing = self.store["contacts"][others[0]]
                raise bad_request(
                    DUPLICATE_MESSAGE,
                    meta={
                        "contactId": existing["id"],
                        "contactName": existing.get("contactName", ""),
                        "matchingField": field_name,
                    },
                )

    def _create(self, location: str, changes: dict[str, Any], lag: bool = True) -> dict[str, Any]:
        stamp = now_iso()
        contact: dict[str, Any] = {
            "id": self._new_id(),
            "locationId": location,
            "type": "lead",
            "tags": [],
            "customFields": [],
            "dnd": False,
            "dateAdded": stamp,
            "dateUpdated": stamp,
        }
        self.store["contacts"][contact["id"]] = contact
        self._apply(contact, changes, lag=lag)
        return contact

    def _apply(self, contact: dict[str, Any], changes: dict[str, Any], lag: bool = True) -> None:
        location = contact["locationId"]
        for key, value in changes.items():
            if key in {"customFields", "tags", "email", "phone", "name"}:
                continue
            if value is None:
                contact.pop(key, None)
            else:
                contact[key] = value
        if "tags" in changes:
            contact["tags"] = changes["tags"]
        if "customFields" in changes:
            current = {item["id"]: item["value"] for item in contact["customFields"]}
            current.update(changes["customFields"])
            contact["customFields"] = [
                {"id": fid, "value": value} for fid, value in current.items() if value is not None
            ]
        if "name" in changes and not {"firstName", "lastName"} & set(changes):
            first, _, last = (changes["name"] or "").partition(" ")
            for key, value in (("firstName", first), ("lastName", last)):
                if value:
                    contact[key] = value
                else:
                    contact.pop(key, None)
        self._set_matchable(contact, "email", changes)
        self._set_matchable(contact, "phone", changes)
        self._derive_names(contact)
        contact["dateUpdated"] = now_iso()
        self._index_for_search(location, contact, lag)

    def _set_matchable(self, contact: dict[str, Any], key: str, changes: dict[str, Any]) -> None:
        if key not in changes:
            return
        index = self.store["by_email" if key == "email" else "by_phone"][contact["locationId"]]
        old = contact.get(key)
        new = changes[key]
        fold = str.lower if key == "email" else str
        if old:
            ids = index.get(fold(old), [])
            if contact["id"] in ids:
                ids.remove(contact["id"])
            if not ids:
                index.pop(fold(old), None)
        if new:
            contact[key] = new
            index.setdefault(fold(new), []).append(contact["id"])
        else:
            contact.pop(key, None)
        if key == "email":
            if new:
                contact["emailLowerCase"] = new.lower()
            else:
                contact.pop("emailLowerCase", None)

    @staticmethod
    def _derive_names(contact: dict[str, Any]) -> None:
        first, last = contact.get("firstName", ""), contact.get("lastName", "")
        full = f"{first} {last}".strip()
        for key, value in (
            ("firstNameLowerCase", first.lower()),
            ("lastNameLowerCase", last.lower()),
            ("fullNameLowerCase", full.lower()),
            ("name", full),
            ("contactName", full),
        ):
            if value:
                contact[key] = value
            else:
                contact.pop(key, None)

    def _index_for_search(
        self,
        location: str,
        contact: dict[str, Any] | None,
        lag: bool,
        *,
        contact_id: str | None = None,
    ) -> None:
        key = contact["id"] if contact is not None else contact_id
        assert key is not None
        # Writes replace a contact's values and never mutate them in place, so a shallow
        # copy is a faithful snapshot.
        snapshot = dict(contact) if contact is not None else None
        lag_s = self.settings["search_lag_ms"] / 1000 if lag else 0.0
        self.search_changed()
        record_version(self.store["search"][location], key, snapshot, lag_s)

    def search_changed(self) -> None:
        """Forget cached search results: the index changed."""
        self.search_generation = getattr(self, "search_generation", 0) + 1

    def _searchable(self, location: str) -> list[dict[str, Any]]:
        """What search sees now: each contact as of its last write older than the lag."""
        return searchable(self.store["search"][location])
