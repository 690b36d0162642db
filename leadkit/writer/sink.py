"""A batch sink that writes records concurrently and returns only when all are settled."""

from __future__ import annotations

import abc
import threading
import time
import typing as t
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from singer_sdk.exceptions import InvalidRecord
from singer_sdk.sinks import BatchSink
from singer_sdk.sinks.core import BaseJSONSchemaValidator
from typing_extensions import override

from leadkit.stopping import Stopped
from leadkit.writer.ledger import content_hash
from leadkit.writer.outcome import Reject
from leadkit.writer.settings import max_batch_age, max_concurrency
from leadkit.writer.target import ApiTarget

if TYPE_CHECKING:
    from singer_sdk.target_base import Target

    from leadkit.writer.target import WriterRun

#: What `meltano config test` sends; it must never write anything.
TEST_STREAM = "meltano_test_stream"
#: Reject reason of a record that does not match its stream's SCHEMA message.
OFF_SCHEMA = "does not match its stream schema"


#: How often a batch waiting on its workers looks for a stop request.
POLL_SECONDS = 0.2


@dataclass(frozen=True)
class Staged:
    """A record waiting for its batch, with the input line it came from (None: a BATCH file)."""

    seq: int | None
    record: dict[str, Any]


class Deferred:
    """A record whose outcome is known only after `write_record` returned (a write in doubt
    read back later): it stays unacknowledged until `written` or `rejected` is called."""

    def __init__(self, written: Callable[[], None], rejected: Callable[[Reject], None]) -> None:
        #: Every write of the record landed.
        self.written = written
        #: The record could not be written after all.
        self.rejected = rejected


class StagedRecords(list):
    """The batch's records; shown by count, so that a context logged at DEBUG holds no data."""

    @override
    def __repr__(self) -> str:
        return f"<{len(self)} staged records>"


ServicesT = t.TypeVar("ServicesT")


class ApiBatchSink(BatchSink, t.Generic[ServicesT]):
    """Writes each batch's records concurrently (adaptive pool <= max_concurrency) and only
    returns when every record is written or rejected, so the SDK's STATE after the batch is
    honest. Fatal errors (AuthFailure, QuotaExhausted) stop the pool and are re-raised."""

    #: Records per batch while the allowed rate is unknown.
    MAX_SIZE_DEFAULT = 500
    #: Without `batch_size_rows` a batch holds this many seconds of requests at the allowed
    #: rate: long enough that the pool rarely drains between batches, short enough that
    #: STATE follows within a few minutes.
    BATCH_SECONDS = 30

    def __init__(
        self,
        target: Target,
        stream_name: str,
        schema: dict,
        key_properties: Sequence[str] | None,
    ) -> None:
        super().__init__(target, stream_name, schema, key_properties)
        if not isinstance(target, ApiTarget):
            raise TypeError("ApiBatchSink is made by an ApiTarget, which owns its services")
        #: Client, ledger, reject file, summary and acknowledgements of the run.
        self.run: WriterRun = target.writer_run
        #: The connector's own run-wide objects (see ApiTarget.build_services).
        self.services: ServicesT = target.services
        # The SDK's validator, called from `process_record` so that a failure is a reject
        # (the SDK's own call logs the record and may stop the run).
        self.record_validator = super().get_validator()
        self._executor: ThreadPoolExecutor | None = None
        self._stop = threading.Event()
        self._tally_lock = threading.Lock()
        self._writing = threading.local()
        self._batch_started: float | None = None
        # Drained by the target when the input goes idle (see ApiTarget.idle).
        self.run.sinks.append(self)

    # What subclasses provide

    @abc.abstractmethod
    def write_record(self, record: dict[str, Any]) -> None:
        """Write one record (honouring `dry_run`); raise Reject to send it to the reject file."""

    def defer(self) -> Deferred:
        """From `write_record`: the record's outcome will be given to the handle later."""
        item: Staged | None = getattr(self._writing, "item", None)
        if item is None:
            raise RuntimeError("defer() is only for use inside write_record")
        self._writing.deferred = True
        return Deferred(
            written=lambda: self._settle_written(item),
            rejected=lambda reject: self._settle_reject(item.record, reject, item.seq),
        )

    def note_ignored(self, names: Iterable[str]) -> None:
        """Name, once in the summary, properties outside the input contract; the stream's key
        properties are expected there (mappings send them on purpose) and are not named."""
        keys = set(self.key_properties or ())
        for name in names:
            if name not in keys:
                self.run.summary.ignored_property(self.stream_name, name)

    def count_unchanged(self, person: str) -> None:
        """Nothing to send for `person`: `repeated` if this run already wrote them, else
        `unchanged` (written by an earlier run)."""
        outcome = "repeated" if person in self.run.written_this_run else "unchanged"
        self.run.summary.count(self.stream_name, outcome)

    def record_key(self, record: dict[str, Any]) -> str:
        """A few chars for logs, no PII: a short digest of the record."""
        return content_hash(record)[:10]

    def ordering_key(self, record: dict[str, Any]) -> str | None:
        """Records sharing a key are written in input order by one worker (None: any order)."""
        return None

    # Settings

    @property
    def dry_run(self) -> bool:
        """`dry_run` setting, or the stream `meltano config test` uses."""
        return bool(self.config.get("dry_run")) or self.stream_name == TEST_STREAM

    @property
    @override
    def max_size(self) -> int:
        """`batch_size_rows`, else about BATCH_SECONDS of requests at the allowed rate."""
        if self.batch_size_rows is not None:
            return self.batch_size_rows
        limiter = self.run.client.limiter
        if limiter is None:
            return self.MAX_SIZE_DEFAULT
        return max(100, int(limiter.rate * self.BATCH_SECONDS))

    @property
    @override
    def is_full(self) -> bool:
        """Full by size, or by the age of its first record."""
        return super().is_full or self.is_old

    @property
    def is_old(self) -> bool:
        """Whether the first staged record is `max_batch_age_seconds` old."""
        started = self._batch_started
        return started is not None and time.monotonic() - started >= self._max_age

    @cached_property
    def _max_age(self) -> float:
        return max_batch_age(self.config)

    @property
    def max_concurrency(self) -> int:
        """The cap on requests in flight."""
        return max(1, max_concurrency(self.config))

    # SDK hooks

    @override
    def get_validator(self) -> BaseJSONSchemaValidator | None:
        """None: `process_record` validates, rejecting instead of failing."""
        return None

    @override
    def process_record(self, record: dict, context: dict) -> None:
        """Stage the record for the batch (or reject it now if off-schema); count it."""
        self.run.summary.count(self.stream_name, "received")
        seq = self.run.acks.current
        if self.record_validator is not None:
            try:
                self.record_validator.validate(record)
            except InvalidRecord as exc:
                self._settle_reject(record, Reject(OFF_SCHEMA, exc.error_message))
                return
        staged = context.get("records")
        if not isinstance(staged, StagedRecords):
            staged = context["records"] = StagedRecords()
            self._batch_started = time.monotonic()
        self.run.acks.opened(seq)
        staged.append(Staged(seq, record))

    @override
    def process_batch(self, context: dict) -> None:
        """Write the batch with a bounded pool; block until each record is settled."""
        items = context.get("records") or []
        staged = [item if isinstance(item, Staged) else Staged(None, item) for item in items]
        if not staged:
            return
        from_files = sum(1 for item in staged if item.seq is None)
        if from_files:
            # BATCH messages skip `process_record`.
            self.run.summary.count(self.stream_name, "received", from_files)
        chains = self._chains(staged)
        if self._executor is None:
            self.run.client.cap_in_flight(self.max_concurrency)
            self._executor = ThreadPoolExecutor(
                max_workers=self._max_workers, thread_name_prefix=f"write-{self.stream_name}"
            )
        in_flight: set[Future[None]] = set()
        try:
            for chain in chains:
                while len(in_flight) >= self._pool_target():
                    done, in_flight = self._wait(in_flight)
                    _raise_first(done)
                in_flight.add(self._executor.submit(self._write_chain, chain))
            while in_flight:
                done, in_flight = self._wait(in_flight)
                _raise_first(done)
            self._batch_started = None
            self.run.acks.emit()
        except Stopped as stop:
            self._wind_down(in_flight, stop)
            raise
        except BaseException as exc:
            self._stop.set()
            self.run.client.halt(exc)
            wait(in_flight)
            raise

    def _wait(self, in_flight: set[Future[None]]) -> tuple[set[Future[None]], set[Future[None]]]:
        """Wait for the first future to complete, looking for a stop request meanwhile."""
        while True:
            self.run.stop_request.check()
            done, pending = wait(in_flight, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
            if done:
                return done, pending

    def _wind_down(self, in_flight: set[Future[None]], stop: Stopped) -> None:
        """No record starts any more; those under way get the grace period to finish."""
        self._stop.set()
        wait(in_flight, timeout=self.run.stop_request.remaining())
        # Whatever has not finished now must not send anything more.
        self.run.client.halt(stop)

    @override
    def clean_up(self) -> None:
        """Stop the worker threads."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        # A sink the SDK retired (its stream's schema changed) is no longer drained on idle.
        if self in self.run.sinks:
            self.run.sinks.remove(self)
        super().clean_up()

    # Internals

    @property
    def _max_workers(self) -> int:
        # A worker also spends time between requests (normalising, the ledger), so a few
        # more workers than requests in flight keep `max_concurrency` requests busy.
        return self.max_concurrency + self.max_concurrency // 4

    def _pool_target(self) -> int:
        return self.run.client.suggested_concurrency(self._max_workers)

    def _chains(self, staged: list[Staged]) -> list[list[Staged]]:
        """Group records by ordering key, keeping input order inside and across groups."""
        chains: list[list[Staged]] = []
        by_key: dict[str, list[Staged]] = {}
        for item in staged:
            key = self.ordering_key(item.record)
            if key is None:
                chains.append([item])
            elif key in by_key:
                by_key[key].append(item)
            else:
                by_key[key] = [item]
                chains.append(by_key[key])
        return chains

    def _write_chain(self, chain: list[Staged]) -> None:
        with self.run.client.attribute_to(self.stream_name):
            for item in chain:
                if self._stop.is_set():
                    return
                self._write_one(item)

    def _write_one(self, item: Staged) -> None:
        self._writing.item, self._writing.deferred = item, False
        try:
            self.write_record(item.record)
        except Reject as reject:
            self._settle_reject(item.record, reject, item.seq)
            return
        finally:
            self._writing.item = None
        if not self._writing.deferred:
            self._settle_written(item)

    def _settle_written(self, item: Staged) -> None:
        with self._tally_lock:
            self.tally_record_written()
        self.run.progress.add()
        if item.seq is not None:
            self.run.acks.settled(item.seq)

    def _settle_reject(
        self, record: dict[str, Any], reject: Reject, seq: int | None = None
    ) -> None:
        """Reject file, summary and a log line naming only the record key and the reason."""
        self.run.reject(self.stream_name, self.record_key(record), record, reject)
        self.run.progress.add()
        if seq is not None:
            self.run.acks.settled(seq)


def _raise_first(done: set[Future[None]]) -> None:
    for future in done:
        error = future.exception()
        if error is not None:
            raise error
