"""Popl's control actions: leads captured offline that sync late, edits and deletions
made behind a client's back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from sandbox.popl.index import LeadIndex
from sandbox.popl.leads import LeadFactory, iso_ms, public
from sandbox.vendor import SandboxError


class LeadActions(LeadIndex):
    """`POST /_sandbox/popl/actions/{name}` (a mixin of `PoplApi`)."""

    _factory: LeadFactory

    def lead_actions(self) -> dict[str, Callable[[dict[str, Any]], Any]]:
        """`late_lead`, `capture_offline`, `sync`, `edit_lead` and `delete_lead`."""
        return {
            "late_lead": self._late_lead,
            "capture_offline": self._capture_offline,
            "sync": self._sync,
            "edit_lead": self._edit_lead,
            "delete_lead": self._delete_lead,
        }

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
        return public(lead)

    def _capture_offline(self, body: dict[str, Any]) -> dict[str, Any]:
        """A lead captured on a device with no signal: held back until `sync`."""
        lead = self._offline_lead(body)
        self.store["pending"].append(lead)
        return public(lead)

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
        return public(lead)

    def _delete_lead(self, body: dict[str, Any]) -> dict[str, Any]:
        """A rep deletes a lead: it leaves the search, even mid-way through someone's paging."""
        lead = self._by_id.get(str(body.get("leadId")))
        if lead is None:
            raise SandboxError("no such visible lead")
        self.store["leads"].remove(lead)
        self.store["deleted"].append(lead["leadId"])
        self._reindex()
        return {"deleted": lead["leadId"]}
