"""Wisepops webhooks as the sandbox delivers them: signed POSTs of collected contacts to the
registered URLs, retried with backoff, sometimes twice (a mixin of `WisepopsApi`).

The docs say deliveries are "not subject to API call limits": they never touch the budget.
Where the docs are silent the sandbox is harsh: a duplicate delivery now and then, several
contacts per POST, and retries that may reach the receiver long after the first try.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timezone
from typing import Any, ClassVar
from urllib.parse import urlsplit

from sandbox.vendor import SandboxError
from sandbox.webhooks import WebhookSender, policy_from
from sandbox.wisepops.contacts import is_phone_label, iso_ms

#: Settings of the deliveries (part of `WisepopsApi.default_settings`).
HOOK_SETTINGS: dict[str, Any] = {
    # Undocumented; at-least-once delivery is the usual webhook contract, so now and then
    # the same POST arrives twice.
    "hook_duplicate_rate": 0.05,
    # Contacts per POST, at most (a delivery is an array).
    "hook_batch_size": 10,
    # Tries per POST before the delivery is dropped, and the first backoff (doubling).
    "hook_max_attempts": 8,
    "hook_retry_base_seconds": 0.5,
    "hook_timeout_seconds": 10.0,
}
#: Hosts the sandbox never delivers to: the reserved example domains of the seeded hooks.
RESERVED_SUFFIXES = (".example.com", ".example.org", ".example.net", ".example", ".invalid")
#: Which hook settings make the delivery policy (sandbox/webhooks.py).
POLICY_SETTINGS = {
    "duplicate_rate": "hook_duplicate_rate",
    "max_attempts": "hook_max_attempts",
    "retry_seconds": "hook_retry_base_seconds",
    "timeout": "hook_timeout_seconds",
}
SEED_KEYS = {"contacts", "wisepop_id", "person", "form_session", "fields", "summary_only"}


def signature(raw: bytes, api_key: str) -> str:
    """`X-Wisepops-Signature`: hex HMAC-SHA256 of the raw body keyed with the API key."""
    return hmac.new(api_key.encode("utf-8"), raw, hashlib.sha256).hexdigest()


def hook_wants(hook: dict[str, Any], contact: dict[str, Any]) -> bool:
    """Whether a hook's event (and popup, if it names one) covers a contact."""
    if "wisepop_id" in hook and hook["wisepop_id"] != contact["wisepop_id"]:
        return False
    fields = contact.get("fields") or {}
    if hook["event"] == "email":
        return any("mail" in label.casefold() and value for label, value in fields.items())
    if hook["event"] == "phone":
        return any(is_phone_label(label) and value for label, value in fields.items())
    return False  # surveys are not emulated


def _reserved(url: str) -> bool:
    host = (urlsplit(url).hostname or "").casefold()
    return any(("." + host).endswith(suffix) for suffix in RESERVED_SUFFIXES)


class HookDeliveries:
    """The `collect` control action and the deliveries it triggers (a `WisepopsApi` mixin)."""

    store: dict[str, Any]
    settings: dict[str, Any]
    default_keys: ClassVar[tuple[str, ...]]
    seed_records: Any
    _deliveries: WebhookSender

    def _start_deliveries(self, seed: int) -> None:
        """After a reset or load: drop what was queued, and draw duplicates from `seed`."""
        if not hasattr(self, "_deliveries"):
            self._deliveries = WebhookSender("wisepops", seed)
        self._deliveries.reset(seed)

    def hook_key(self, hook_id: int) -> str:
        """The API key a hook was registered with: its deliveries are signed with it."""
        keys: dict[str, str] = self.store.setdefault("hook_keys", {})
        return keys.get(str(hook_id), self.default_keys[0])

    def _collect(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Contacts submitted now (as `seed`, without `collected_at`), delivered to hooks."""
        unknown = set(spec) - SEED_KEYS
        if unknown:
            raise SandboxError(f"unknown wisepops collect keys: {sorted(unknown)}")
        now = iso_ms(datetime.now(timezone.utc))
        result: dict[str, Any] = self.seed_records(
            {**spec, "summary_only": False, "collected_at": now}
        )
        contacts: list[dict[str, Any]] = result["contacts"]
        result["posts"] = self._send(contacts)
        if spec.get("summary_only"):
            del result["contacts"]
        return result

    def _send(self, contacts: list[dict[str, Any]]) -> int:
        """Queue the signed POSTs of `contacts` to the hooks that want them; how many."""
        size = max(1, int(self.settings["hook_batch_size"]))
        policy = policy_from(self.settings, POLICY_SETTINGS)
        posts = 0
        for hook in self.store["hooks"]:
            wanted = [c for c in contacts if hook_wants(hook, c)]
            if not wanted:
                continue
            if _reserved(hook["target_url"]):
                self._deliveries.count(skipped=1)
                continue
            key = self.hook_key(hook["id"])
            for start in range(0, len(wanted), size):
                batch = wanted[start : start + size]
                body = json.dumps(batch).encode()
                headers = {
                    "Content-Type": "application/json",
                    "X-Wisepops-Signature": signature(body, key),
                }
                self._deliveries.send(hook["target_url"], body, headers, policy)
                self._deliveries.count(contacts=len(batch))
                posts += 1
        return posts

    def _deliveries_made(self) -> dict[str, int]:
        """What `records/deliveries` shows."""
        return {"skipped": 0, "contacts": 0, **self._deliveries.records()}
