"""The sandbox's one webhook delivery engine, used by every emulated API that sends webhooks
(Wisepops hooks, Popin events): each API builds and signs its bodies, this sends them.

Deliveries go out off the request path, from one background thread per receiving URL, in
the order they were queued (a receiver that is down delays only its own deliveries). A POST
that meets a non-2xx answer or no answer is tried again with a doubling backoff (capped),
then abandoned. Webhook senders deliver at least once: a seeded share of the POSTs is sent a
second time, byte for byte. A reset abandons everything still queued or retrying.
"""

from __future__ import annotations

import queue
import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests

#: Longest wait between two tries of one POST.
MAX_BACKOFF_SECONDS = 30.0
#: The counters `records/deliveries` shows, besides `pending` and an API's own.
COUNTERS = ("posts", "attempts", "delivered", "failed_attempts", "duplicates", "abandoned")


@dataclass(frozen=True)
class DeliveryPolicy:
    """How one API's deliveries are made (from its sandbox settings)."""

    duplicate_rate: float
    max_attempts: int
    retry_seconds: float  # the first wait between tries, doubling
    timeout: float


@dataclass(frozen=True)
class _Post:
    url: str
    body: bytes
    headers: Mapping[str, str]
    policy: DeliveryPolicy
    duplicate: bool
    generation: int


class WebhookSender:
    """Queues POSTs and delivers them in order per URL, with retries and duplicates."""

    def __init__(self, name: str, seed: int) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._generation = 0
        self._reset_event = threading.Event()
        self._rng = random.Random(seed)
        self._counts: dict[str, int] = {}
        self._pending = 0
        self._queues: dict[str, queue.Queue[_Post]] = {}

    def reset(self, seed: int) -> None:
        """Abandon what is queued or retrying (it belongs to the data before the reset),
        zero the counters and draw duplicates from `seed` again."""
        with self._lock:
            self._generation += 1
            self._rng = random.Random(seed)
            self._counts = {}
            self._reset_event.set()
            self._reset_event = threading.Event()

    def send(
        self, url: str, body: bytes, headers: Mapping[str, str], policy: DeliveryPolicy
    ) -> None:
        """Queue one POST of `body` to `url` (sent once, or twice at the duplicate rate)."""
        with self._lock:
            duplicate = self._rng.random() < policy.duplicate_rate
            post = _Post(url, body, dict(headers), policy, duplicate, self._generation)
            self._add(posts=1, duplicates=int(duplicate))
            self._pending += 1
            deliveries = self._queues.get(url)
            if deliveries is None:
                deliveries = self._queues[url] = queue.Queue()
                threading.Thread(
                    target=self._deliver_forever,
                    args=(deliveries,),
                    name=f"{self.name}-webhooks-{len(self._queues)}",
                    daemon=True,
                ).start()
        deliveries.put(post)

    def count(self, **amounts: int) -> None:
        """Add to counters of the API's own (e.g. POSTs skipped, contacts sent)."""
        with self._lock:
            self._add(**amounts)

    def pending(self) -> int:
        """POSTs queued or being tried."""
        with self._lock:
            return self._pending

    def records(self) -> dict[str, int]:
        """What `GET /_sandbox/<api>/records/deliveries` shows."""
        with self._lock:
            data = {name: 0 for name in COUNTERS}
            data.update(self._counts)
            data["pending"] = self._pending
        return data

    def _add(self, **amounts: int) -> None:
        for name, amount in amounts.items():
            self._counts[name] = self._counts.get(name, 0) + amount

    def _deliver_forever(self, deliveries: queue.Queue[_Post]) -> None:
        session = requests.Session()
        while True:
            post = deliveries.get()
            try:
                self._deliver(session, post)
            finally:
                with self._lock:
                    self._pending -= 1

    def _deliver(self, session: requests.Session, post: _Post) -> None:
        policy = post.policy
        for attempt in range(1, policy.max_attempts + 1):
            with self._lock:
                if post.generation != self._generation:
                    return  # the sandbox was reset since
                reset = self._reset_event
                self._add(attempts=1)
            if _post_once(session, post):
                with self._lock:
                    if post.generation == self._generation:
                        self._add(delivered=1, attempts=int(post.duplicate))
                if post.duplicate:
                    _post_once(session, post)
                return
            with self._lock:
                if post.generation == self._generation:
                    self._add(failed_attempts=1)
            if attempt < policy.max_attempts:
                backoff = policy.retry_seconds * 2 ** (attempt - 1)
                if reset.wait(min(backoff, MAX_BACKOFF_SECONDS)):
                    return  # reset meanwhile
        with self._lock:
            if post.generation == self._generation:
                self._add(abandoned=1)


def _post_once(session: requests.Session, post: _Post) -> bool:
    try:
        response = session.post(
            post.url, data=post.body, headers=dict(post.headers), timeout=post.policy.timeout
        )
    except requests.RequestException:
        return False
    return 200 <= response.status_code < 300


def policy_from(settings: Mapping[str, Any], names: Mapping[str, str]) -> DeliveryPolicy:
    """A policy from an API's settings; `names` maps each policy field to its setting."""
    return DeliveryPolicy(
        duplicate_rate=float(settings[names["duplicate_rate"]]),
        max_attempts=max(1, int(settings[names["max_attempts"]])),
        retry_seconds=float(settings[names["retry_seconds"]]),
        timeout=float(settings[names["timeout"]]),
    )
