"""Faults that strike while a client pages: contacts deleted between two pages, and
`collected_at` values served malformed."""

from __future__ import annotations

import copy
from typing import Any

from sandbox.vendor import SandboxError
from sandbox.wisepops.contacts import ContactIndex, iso_ms, parse_utc


class PagingFaults(ContactIndex):
    """Scheduled deletions and malformed timestamps (a mixin of `WisepopsApi`)."""

    settings: dict[str, Any]

    def _delete_contacts(self, body: dict[str, Any]) -> dict[str, Any]:
        """Action `delete_contacts`: erase contacts now or after the k-th coming GET /contacts.

        Body: `after_requests` (default 0: now), and `form_sessions` and/or `positions`
        (indexes in the stored order, oldest first, resolved when the action is called).
        """
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

    def _shown(self, contact: dict[str, Any]) -> dict[str, Any]:
        """The contact as served: `collected_at` replaced when the setting names it."""
        shown: dict[str, Any] = self.settings["malformed_collected_at"]
        if contact["collected_at"] in shown:
            return {**contact, "collected_at": shown[contact["collected_at"]]}
        return contact


def malformed_rules(changes: dict[str, Any]) -> dict[str, str | None]:
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
