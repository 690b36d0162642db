"""A batch sink that writes records concurrently and returns only when all are settled."""

from __future__ import annotations

import abc
import threading
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any

from singer_sdk.exceptions import InvalidRecord
from singer_sdk.sinks import BatchSink
from singer_sdk.sinks.core import BaseJSONSchemaValidator

from leadkit.writer.ledger import content_hash
from leadkit.writer.outcome import Reject
from leadkit.writer.settings import max_concurrency

if TYPE_CHECKING:
    from singer_sdk.target_base import Target

    from leadkit.writer.target import WriterRun

#: What `meltano config test` sends; it must never write anything.
TEST_STREAM = "meltano_test_stream"
#: Reject reason of a record that does not match its stream's SCHEMA message.
OFF_SCHEMA = "does not match its stream schema"


class _RejectingValidator(BaseJSONSchemaValidator):
    """Remembers a schema failure instead of stopping the run (and logging the values)."""

    def __init__(self, inner: BaseJSONSchemaValidator) -> None:
        super().__init__(inner.schema)
        self.inner = inner
        self.failures: dict[int, str] = {}

    def validate(self, record: dict) -> None:
        try:
            self.inner.validate(record)
        except InvalidRecord as exc:
            self.failures[id(record)] = exc.error_message


class ApiBatchSink(BatchSink):
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
        run = getattr(target, "writer_run", None)
        if run is None:
            raise TypeError("ApiBatchSink needs a target with a `writer_run` (see ApiTarget)")
        self.run: WriterRun = run
        #: The target that owns this sink (for connector-specific shared objects).
        self.owner = target
        self._executor: ThreadPoolExecutor | None = None
        self._stop = threading.Event()
        self._tally_lock = threading.Lock()

    # What subclasses provide

    @abc.abstractmethod
    def write_record(self, record: dict[str, Any]) -> None:
        """Write one record (honouring `dry_run`); raise Reject to send it to the reject file."""

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
        return bool(self.config.get("dry_run", False)) or self.stream_name == TEST_STREAM

    @property
    def max_size(self) -> int:
        """`batch_size_rows`, else about BATCH_SECONDS of requests at the allowed rate."""
        if self.batch_size_rows is not None:
            return self.batch_size_rows
        limiter = self.run.client.limiter
        if limiter is None:
            return self.MAX_SIZE_DEFAULT
        return max(100, int(limiter.rate * self.BATCH_SECONDS))

    @property
    def max_concurrency(self) -> int:
        """The cap on requests in flight."""
        return max(1, max_concurrency(self.config))

    # SDK hooks

    def _after_process_record(self, context: dict) -> None:
        """The SDK's default logs the whole batch context, records included: not here."""

    def get_validator(self) -> BaseJSONSchemaValidator | None:
        """The SDK's validator, but a failing record is rejected rather than fatal."""
        inner = super().get_validator()
        return None if inner is None else _RejectingValidator(inner)

    def process_record(self, record: dict, context: dict) -> None:
        """Stage the record for the batch (or reject it now if off-schema); count it."""
        self.run.summary.count(self.stream_name, "received")
        failure = None
        if isinstance(self._validator, _RejectingValidator):
            failure = self._validator.failures.pop(id(record), None)
        if failure is not None:
            self._settle_reject(record, Reject(OFF_SCHEMA, failure))
            return
        super().process_record(record, context)

    def process_batch(self, context: dict) -> None:
        """Write the batch with a bounded pool; block until each record is settled."""
        records: list[dict[str, Any]] = context.get("records", [])
        if not records:
            return
        chains = self._chains(records)
        if self._executor is None:
            self.run.client.cap_in_flight(self.max_concurrency)
            self._executor = ThreadPoolExecutor(
                max_workers=self._max_workers, thread_name_prefix=f"write-{self.stream_name}"
            )
        in_flight: set[Future[None]] = set()
        try:
            for chain in chains:
                while len(in_flight) >= self._pool_target():
                    done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                    _raise_first(done)
                in_flight.add(self._executor.submit(self._write_chain, chain))
            done, in_flight = wait(in_flight)
            _raise_first(done)
        except BaseException as exc:
            self._stop.set()
            self.run.client.halt(exc)
            wait(in_flight)
            self.run.report(self.logger)
            raise

    def clean_up(self) -> None:
        """Stop the worker threads."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        super().clean_up()

    # Internals

    @property
    def _max_workers(self) -> int:
        # A worker also spends time between requests (normalising, the ledger), so a few
        # more workers than requests in flight keep `max_concurrency` requests busy.
        return self.max_concurrency + self.max_concurrency // 4

    def _pool_target(self) -> int:
        return self.run.client.suggested_concurrency(self._max_workers)

    def _chains(self, records: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
        """Group records by ordering key, keeping input order inside and across groups."""
        chains: list[list[dict[str, Any]]] = []
        by_key: dict[str, list[dict[str, Any]]] = {}
        for record in records:
            key = self.ordering_key(record)
            if key is None:
                chains.append([record])
            elif key in by_key:
                by_key[key].append(record)
            else:
                by_key[key] = [record]
                chains.append(by_key[key])
        return chains

    def _write_chain(self, chain: list[dict[str, Any]]) -> None:
        with self.run.client.attribute_to(self.stream_name):
            for record in chain:
                if self._stop.is_set():
                    return
                self._write_one(record)

    def _write_one(self, record: dict[str, Any]) -> None:
        try:
            self.write_record(record)
        except Reject as reject:
            self._settle_reject(record, reject)
            return
        with self._tally_lock:
            self.tally_record_written()

    def _settle_reject(self, record: dict[str, Any], reject: Reject) -> None:
        """Reject file, summary and a log line naming only the record key and the reason."""
        key = self.record_key(record)
        self.run.summary.reject(self.stream_name, reject.reason, key)
        self.run.rejects.write(
            stream=self.stream_name,
            key=key,
            reason=reject.reason,
            record=record,
            detail=reject.detail,
        )
        self.logger.warning("Rejected record %s: %s", key, reject.reason)


def _raise_first(done: set[Future[None]]) -> None:
    for future in done:
        error = future.exception()
        if error is not None:
            raise error
