"""Captures and bookings in doubt set aside while the batch goes on: a small pool of their own
waits for Popin's event, so that no writer thread is parked for `webhook_wait_seconds`.

A record set aside stays unacknowledged (`ApiBatchSink.defer`) until its work ends: written
when it returns, rejected when it raises Reject. A later record of the same person is
written after it, on the same pool, so the ledger sees the two in input order.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from leadkit.stopping import StopRequest
from leadkit.writer import Reject
from leadkit.writer.sink import Deferred

#: How often a batch waiting on set-aside records looks for a stop request.
POLL_SECONDS = 0.2


class Abandoned(BaseException):
    """The batch failed or was stopped while the work waited: its record stays open."""


class Settling:
    """One sink's records set aside, by person, and the pool that finishes them."""

    def __init__(self, workers: int) -> None:
        self._workers = max(1, workers)
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Condition()
        self._queues: dict[str, deque[tuple[Deferred, Callable[[], None]]]] = {}
        self._error: BaseException | None = None
        self._local = threading.local()
        #: Set when the batch gives up on what is still waiting.
        self.cancelled = threading.Event()

    def on_pool(self) -> bool:
        """Whether the caller is one of the pool's threads (its work may wait inline)."""
        return bool(getattr(self._local, "active", False))

    def busy(self, person: str) -> bool:
        """Whether a record of this person is set aside and not finished yet."""
        with self._lock:
            return person in self._queues

    def submit(self, person: str, record: Deferred, work: Callable[[], None]) -> None:
        """Run `work` off the writer thread, after the person's earlier work; then settle
        `record`: written, or rejected with the Reject `work` raised."""
        with self._lock:
            queue = self._queues.get(person)
            if queue is not None:
                queue.append((record, work))
                return
            self._queues[person] = deque([(record, work)])
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="popin-settle")
            pool = self._pool
        pool.submit(self._run_person, person)

    def _run_person(self, person: str) -> None:
        self._local.active = True
        while True:
            with self._lock:
                queue = self._queues[person]
                if not queue:
                    del self._queues[person]
                    self._lock.notify_all()
                    return
                record, work = queue[0]
            self._run_one(record, work)
            with self._lock:
                queue.popleft()

    def _run_one(self, record: Deferred, work: Callable[[], None]) -> None:
        if self.cancelled.is_set():
            return  # left open: the next run looks again
        try:
            work()
        except Reject as reject:
            record.rejected(reject)
            return
        except Abandoned:
            return
        except BaseException as exc:
            with self._lock:
                self._error = self._error or exc
            self.cancelled.set()
            return
        record.written()

    def drain(self, stop: StopRequest) -> None:
        """Block until every record set aside is settled; raise the first error met, or
        Stopped when a stop is asked for meanwhile."""
        with self._lock:
            while self._queues:
                self._lock.wait(POLL_SECONDS)
                if self._queues:
                    self._lock.release()
                    try:
                        stop.check()
                    finally:
                        self._lock.acquire()
            error, self._error = self._error, None
        if error is not None:
            raise error

    def abandon(self) -> None:
        """The batch failed or stopped: what waits gives up, its records stay open (the
        ledger's pending entries stay, for the next run to settle from the spool)."""
        self.cancelled.set()
        with self._lock:
            self._lock.wait_for(lambda: not self._queues)
            self._error = None
        self.cancelled = threading.Event()

    def shutdown(self) -> None:
        """Stop the pool's threads."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
