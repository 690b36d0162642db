"""Writes in doubt set aside during a batch and read back in the background, so that no
writer waits for one to settle."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from leadkit.writer import Reject
from leadkit.writer.sink import Deferred


@dataclass
class Doubt:
    """A note or task POST that may or may not have landed (its answer was lost)."""

    namespace: str
    key: str
    post: Callable[[], dict[str, Any]]
    find: Callable[[], dict[str, Any] | None]
    #: When the last POST was seen to fail (monotonic seconds).
    since: float = field(default_factory=time.monotonic)
    #: POSTs sent so far.
    sends: int = 1
    #: Set when resending it was refused: every record waiting on it is rejected.
    rejected: Reject | None = None


class Awaited(Protocol):
    """A write a record waits for until the batch ends: a doubt, or tags added in bulk."""

    rejected: Reject | None


@dataclass
class _Waiting:
    record: Deferred
    awaited: list[Awaited]
    finish: Callable[[], None]


#: What resolving a doubt returns: True when the resend failed in doubt again.
Resolve = Callable[[Doubt], bool]


class DoubtBook:
    """One sink's writes in doubt and the records waiting on them, until the batch ends.

    Each doubt is read back `settle_seconds` after its POST failed, by a small pool of its
    own, while the batch goes on. A record's `finish` (its ledger entry) runs only once its
    doubts are resolved, after that of any earlier record of the same person.
    """

    def __init__(self, resolve: Resolve, *, settle_seconds: float, workers: int) -> None:
        self._resolve = resolve
        self.settle_seconds = settle_seconds
        self._workers = max(1, workers)
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Condition()
        self._doubts: dict[tuple[str, str], Doubt] = {}
        self._waiting: dict[str, list[_Waiting]] = {}
        self._outstanding = 0
        self._error: BaseException | None = None

    def get(self, namespace: str, key: str) -> Doubt | None:
        """The doubt already held for this write, if any (the same note twice in a batch)."""
        with self._lock:
            return self._doubts.get((namespace, key))

    def add(self, doubt: Doubt) -> Doubt:
        """Set a write in doubt aside; it is read back once it had time to land."""
        with self._lock:
            self._doubts[(doubt.namespace, doubt.key)] = doubt
            self._outstanding += 1
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="ghl-doubt")
            pool = self._pool
        pool.submit(self._settle, doubt)
        return doubt

    def _settle(self, doubt: Doubt) -> None:
        delay = doubt.since + self.settle_seconds - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        again = False
        try:
            again = self._resolve(doubt)
        except BaseException as exc:
            with self._lock:
                self._error = self._error or exc
        if again and self._pool is not None:
            doubt.sends += 1
            doubt.since = time.monotonic()
            self._pool.submit(self._settle, doubt)
            return
        with self._lock:
            self._outstanding -= 1
            self._lock.notify_all()

    def waits_for(self, person: str) -> bool:
        """Whether an earlier record of this person is still waiting on a doubt."""
        with self._lock:
            return bool(self._waiting.get(person))

    def finish_later(
        self, person: str, record: Deferred, awaited: list[Awaited], finish: Callable[[], None]
    ) -> None:
        """Hold `finish` back until the record's awaited writes and the person's earlier ones
        are resolved (records of one person are written by one worker, in order)."""
        with self._lock:
            self._waiting.setdefault(person, []).append(_Waiting(record, awaited, finish))

    def drain(self) -> None:
        """Block until every doubt is resolved; raise the first error met doing so."""
        error = self._wait_idle()
        if error is not None:
            raise error

    def _wait_idle(self) -> BaseException | None:
        with self._lock:
            self._lock.wait_for(lambda: self._outstanding == 0)
            error, self._error = self._error, None
        return error

    def close(self) -> list[tuple[Deferred, Reject | None, Callable[[], None]]]:
        """Every waiting record in order, with the reject of one of its awaited writes if any."""
        with self._lock:
            waiting = [item for queue in self._waiting.values() for item in queue]
            self._doubts.clear()
            self._waiting.clear()
        return [
            (item.record, next((a.rejected for a in item.awaited if a.rejected), None), item.finish)
            for item in waiting
        ]

    def abandon(self) -> None:
        """The batch failed: let running read-backs end, then forget everything (the
        ledger's pending entries stay, for the next run to read back)."""
        self._wait_idle()
        self.close()

    def shutdown(self) -> None:
        """Stop the pool's threads."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
