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
import queue
import random
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests

from sandbox.vendor import SandboxError
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
#: Longest wait between two tries of one POST.
MAX_BACKOFF_SECONDS = 30.0
#: Hosts the sandbox never delivers to: the reserved example domains of the seeded hooks.
RESERVED_SUFFIXES = (".example.com", ".example.org", ".example.net", ".example", ".invalid")
WORKERS = 8
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


@dataclass
class Post:
    """One signed POST to one hook URL, and whether to send it twice."""

    url: str
    body: bytes
    signature: str
    generation: int
    duplicate: bool


@dataclass
class DeliveryStats:
    """What the deliverer did since the last reset (`records/deliveries`)."""

    posts: int = 0
    attempts: int = 0
    delivered: int = 0
    failed_attempts: int = 0
    duplicates: int = 0
    abandoned: int = 0
    skipped: int = 0
    contacts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **amounts: int) -> None:
        """Add to some counters."""
        with self.lock:
            for name, amount in amounts.items():
                setattr(self, name, getattr(self, name) + amount)

    def to_json(self, pending: int) -> dict[str, int]:
        """The counters, and the POSTs not yet delivered nor abandoned."""
        with self.lock:
            names = ("posts", "attempts", "delivered", "failed_attempts", "duplicates")
            data = {name: getattr(self, name) for name in names}
            data.update(abandoned=self.abandoned, skipped=self.skipped, contacts=self.contacts)
        data["pending"] = pending
        return data


class HookDeliverer:
    """Daemon threads POSTing queued deliveries; a reset abandons what is still queued."""

    def __init__(self) -> None:
        self.generation = 0
        self.stats = DeliveryStats()
        self._queue: queue.Queue[Post] = queue.Queue()
        self._pending = 0
        self._lock = threading.Lock()
        self._changed = threading.Event()
        self._threads: list[threading.Thread] = []
        self.settings: dict[str, Any] = dict(HOOK_SETTINGS)

    def reset(self) -> None:
        """Forget queued and retrying deliveries (they belong to the data before the reset)."""
        with self._lock:
            self.generation += 1
            self.stats = DeliveryStats()
            self._changed.set()
            self._changed = threading.Event()

    def send(self, posts: list[Post]) -> None:
        """Queue POSTs; the worker threads start on first use."""
        if not self._threads:
            for number in range(WORKERS):
                thread = threading.Thread(target=self._work, name=f"hooks-{number}", daemon=True)
                thread.start()
                self._threads.append(thread)
        with self._lock:
            self._pending += len(posts)
        for post in posts:
            self._queue.put(post)

    def pending(self) -> int:
        """POSTs queued or being retried."""
        with self._lock:
            return self._pending

    def _work(self) -> None:
        session = requests.Session()
        while True:
            post = self._queue.get()
            try:
                if post.generation == self.generation:
                    self._deliver(session, post)
            finally:
                with self._lock:
                    self._pending -= 1

    def _deliver(self, session: requests.Session, post: Post) -> None:
        stats, changed = self.stats, self._changed
        settings = self.settings
        attempts = int(settings["hook_max_attempts"])
        for attempt in range(1, attempts + 1):
            if post.generation != self.generation:
                return
            stats.add(attempts=1)
            if self._post_once(session, post, float(settings["hook_timeout_seconds"])):
                stats.add(delivered=1)
                if post.duplicate:
                    stats.add(duplicates=1, attempts=1)
                    self._post_once(session, post, float(settings["hook_timeout_seconds"]))
                return
            stats.add(failed_attempts=1)
            if attempt < attempts:
                backoff = float(settings["hook_retry_base_seconds"]) * 2 ** (attempt - 1)
                if changed.wait(min(backoff, MAX_BACKOFF_SECONDS)):
                    return  # reset meanwhile
        stats.add(abandoned=1)

    @staticmethod
    def _post_once(session: requests.Session, post: Post, timeout: float) -> bool:
        try:
            response = session.post(
                post.url,
                data=post.body,
                headers={
                    "Content-Type": "application/json",
                    "X-Wisepops-Signature": post.signature,
                },
                timeout=timeout,
            )
        except requests.RequestException:
            return False
        return 200 <= response.status_code < 300


class HookDeliveries:
    """The `collect` control action and the deliveries it triggers (a `WisepopsApi` mixin)."""

    store: dict[str, Any]
    settings: dict[str, Any]
    default_keys: ClassVar[tuple[str, ...]]
    seed_records: Any
    _rng: random.Random
    _deliverer: HookDeliverer

    def _start_deliveries(self, seed: int) -> None:
        """After a reset or load: drop what was queued, and draw duplicates from `seed`."""
        if not hasattr(self, "_deliverer"):
            self._deliverer = HookDeliverer()
        self._deliverer.reset()
        self._rng = random.Random(seed * 7919 + 3)

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
        posts = self._posts(contacts)
        self._deliverer.send(posts)
        result["posts"] = len(posts)
        if spec.get("summary_only"):
            del result["contacts"]
        return result

    def _posts(self, contacts: list[dict[str, Any]]) -> list[Post]:
        deliverer = self._deliverer
        deliverer.settings = {name: self.settings[name] for name in HOOK_SETTINGS}
        size = max(1, int(self.settings["hook_batch_size"]))
        rate = float(self.settings["hook_duplicate_rate"])
        posts: list[Post] = []
        for hook in self.store["hooks"]:
            wanted = [c for c in contacts if hook_wants(hook, c)]
            if not wanted:
                continue
            if _reserved(hook["target_url"]):
                deliverer.stats.add(skipped=1)
                continue
            key = self.hook_key(hook["id"])
            for start in range(0, len(wanted), size):
                body = json.dumps(wanted[start : start + size]).encode()
                duplicate = self._rng.random() < rate
                posts.append(
                    Post(
                        hook["target_url"],
                        body,
                        signature(body, key),
                        deliverer.generation,
                        duplicate,
                    )
                )
                deliverer.stats.add(posts=1, contacts=len(wanted[start : start + size]))
        return posts

    def _deliveries(self) -> dict[str, int]:
        """What `records/deliveries` shows."""
        return self._deliverer.stats.to_json(self._deliverer.pending())
