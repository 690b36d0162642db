"""Writes in doubt set aside during a batch, so that no worker waits for one to settle."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from leadkit.writer import Reject


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


@dataclass
class _Waiting:
    record: dict[str, Any]
    doubts: list[Doubt]
    finish: Callable[[], None]


class DoubtBook:
    """One sink's writes in doubt and the records waiting on them, until the batch ends.

    A record's `finish` (its ledger entry) runs only once its doubts are resolved, and after
    the finish of any earlier record of the same person, so the ledger keeps the latest.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._doubts: dict[tuple[str, str], Doubt] = {}
        self._open: list[Doubt] = []
        self._waiting: dict[str, list[_Waiting]] = {}

    def __bool__(self) -> bool:
        with self._lock:
            return bool(self._open)

    def get(self, namespace: str, key: str) -> Doubt | None:
        """The doubt already held for this write, if any (the same note twice in a batch)."""
        with self._lock:
            return self._doubts.get((namespace, key))

    def add(self, doubt: Doubt) -> Doubt:
        """Set a write in doubt aside; it is resolved when the batch's records are written."""
        with self._lock:
            self._doubts[(doubt.namespace, doubt.key)] = doubt
            self._open.append(doubt)
        return doubt

    def finish_later(
        self, person: str, record: dict[str, Any], doubts: list[Doubt], finish: Callable[[], None]
    ) -> bool:
        """Hold `finish` back if the record has doubts or an earlier one of the person waits;
        False when nothing waits and the caller may finish now."""
        with self._lock:
            queue = self._waiting.get(person)
            if not doubts and not queue:
                return False
            self._waiting.setdefault(person, []).append(_Waiting(record, doubts, finish))
            return True

    def take_open(self) -> list[Doubt]:
        """The doubts still unresolved; the caller resolves or re-adds each."""
        with self._lock:
            taken, self._open = self._open, []
        return taken

    def reopen(self, doubt: Doubt) -> None:
        """A resend failed in doubt again: it waits for the next round."""
        doubt.sends += 1
        doubt.since = time.monotonic()
        with self._lock:
            self._open.append(doubt)

    def close(self) -> list[tuple[dict[str, Any], Reject | None, Callable[[], None]]]:
        """Every waiting record in order, with the reject of one of its doubts if any."""
        with self._lock:
            waiting = [item for queue in self._waiting.values() for item in queue]
            self.clear_locked()
        return [
            (item.record, next((d.rejected for d in item.doubts if d.rejected), None), item.finish)
            for item in waiting
        ]

    def clear(self) -> None:
        """Forget everything (the batch failed: the ledger's pending entries remain)."""
        with self._lock:
            self.clear_locked()

    def clear_locked(self) -> None:
        """`clear` for a caller already holding the lock."""
        self._doubts.clear()
        self._open.clear()
        self._waiting.clear()
