"""The target base: one client, ledger, reject file and summary per run, shared by sinks."""

from __future__ import annotations

import abc
import logging
import threading
import typing as t
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from singer_sdk import Target
from typing_extensions import override

from leadkit import DISTRIBUTION
from leadkit.configuration import check_plugin_config
from leadkit.logs import Progress
from leadkit.stopping import Stopped, StopRequest, current_handlers, signal_name
from leadkit.writer.acks import Acknowledgements
from leadkit.writer.client import ApiClient
from leadkit.writer.ledger import Ledger, content_hash
from leadkit.writer.outcome import Reject
from leadkit.writer.reader import SafeSingerReader
from leadkit.writer.rejects import RejectFile
from leadkit.writer.settings import check_writer_settings, shutdown_grace
from leadkit.writer.summary import RunSummary

if t.TYPE_CHECKING:
    from leadkit.writer.sink import ApiBatchSink

#: Rejects named one by one in the log; the rest are counted in the summary.
REJECTS_LOGGED = 5


@dataclass
class WriterRun:
    """What every sink of one run shares."""

    client: ApiClient
    ledger: Ledger
    rejects: RejectFile
    summary: RunSummary
    acks: Acknowledgements
    stop_request: StopRequest
    logger: logging.Logger
    progress: Progress
    #: People (ledger keys) written by this run, to tell a repeat from an earlier run's work.
    written_this_run: set[str] = field(default_factory=set)
    #: The run's batch sinks, whose old batches are written when the input goes idle.
    sinks: list[ApiBatchSink[Any]] = field(default_factory=list)

    def reject(self, stream: str, key: str, record: dict[str, Any], reject: Reject) -> None:
        """Reject file and summary; a log line for the first few, naming key and reason."""
        self.summary.reject(stream, reject.reason, key)
        self.rejects.write(
            stream=stream, key=key, reason=reject.reason, record=record, detail=reject.detail
        )
        if self.rejects.count <= REJECTS_LOGGED:
            self.logger.warning("Rejected record %s: %s", key, reject.reason)
        elif self.rejects.count == REJECTS_LOGGED + 1:
            self.logger.warning("More records rejected; the run summary counts them by reason")

    def report(self, logger: logging.Logger, *, complete: bool = True) -> None:
        """Add API calls and 429s per stream, then log the summary (once per run)."""
        with self._report_lock:
            if self._reported:
                return
            self._reported = True
        for stream in self.summary.streams():
            self.summary.count(stream, "api_calls", self.client.calls_for(stream))
            self.summary.count(stream, "throttled", self.client.throttled_for(stream))
        self.summary.log_once(logger, complete=complete)

    _reported: bool = field(default=False, init=False)
    _report_lock: threading.Lock = field(default_factory=threading.Lock, init=False)


ServicesT = t.TypeVar("ServicesT")


class ApiTarget(Target, abc.ABC, t.Generic[ServicesT]):
    """A target writing to a vendor API: secrets redacted, config checked before any request,
    and one summary line per stream logged at the end (or when a fatal error stops it).

    It owns the run-wide objects (`writer_run`, and its connector's `services`) and hands
    them to each sink it makes.
    """

    #: Settings holding credentials, masked in every log line.
    secret_settings: tuple[str, ...] = ()
    #: Credentials that must not be empty (None: every secret setting; a connector with
    #: alternative credentials checks them itself).
    required_secrets: tuple[str, ...] | None = None
    #: The distribution the connectors ship in, which `--version` and every run report.
    package_name = DISTRIBUTION

    def __init__(
        self, *, validate_config: bool = True, setup_mapper: bool = True, **kwargs: Any
    ) -> None:
        reader = SafeSingerReader()
        kwargs.setdefault("message_reader", reader)
        handlers = current_handlers()
        # The SDK would validate the schema (echoing values) and set up the mapper before
        # the credentials are masked and our checks ran: both are done here instead.
        super().__init__(validate_config=False, setup_mapper=False, **kwargs)
        check_plugin_config(
            self, self.secret_settings, self._check_all_settings, validate=validate_config
        )
        if setup_mapper:
            self.setup_mapper()
        reader.host = self
        #: Input positions, so that a stopped run acknowledges exactly what it settled.
        self.acks = Acknowledgements()
        self.stop_request = StopRequest(shutdown_grace(self.config))
        # Replaces the SDK's handlers, which drain and exit 0 while a batch is half written;
        # the ones from before the SDK's come back when the run is over.
        self.stop_request.install(previous=handlers)
        self._finished = False

    def _check_all_settings(self) -> None:
        required = self.secret_settings if self.required_secrets is None else self.required_secrets
        check_writer_settings(self.config, required)
        self.check_settings()

    @abc.abstractmethod
    def check_settings(self) -> None:
        """Raise ConfigError for a bad connector setting; runs before any request, after the
        shared checks (credentials present, `max_concurrency` at least 1)."""

    @abc.abstractmethod
    def build_client(self) -> ApiClient:
        """The run's API client."""

    @abc.abstractmethod
    def build_services(self, run: WriterRun) -> ServicesT:
        """The connector's own run-wide objects, shared by its sinks (built once)."""

    @cached_property
    def services(self) -> ServicesT:
        """What `build_services` built, on first use (sinks are made on the main thread)."""
        return self.build_services(self.writer_run)

    @cached_property
    def writer_run(self) -> WriterRun:
        """The shared client, ledger, reject file and summary, built on first use."""
        client = self.build_client()
        return WriterRun(
            client=client,
            ledger=Ledger(self.config.get("ledger_path")),
            rejects=RejectFile(
                self.config.get("reject_file"), dry_run=bool(self.config.get("dry_run"))
            ),
            summary=RunSummary(),
            acks=self.acks,
            stop_request=self.stop_request,
            logger=self.logger,
            progress=Progress(
                self.logger, "written or rejected", lambda: (client.calls, client.throttled)
            ),
        )

    def idle(self) -> None:
        """No input line came for a while: write the batches `max_batch_age_seconds` old.

        Without this a batch waits for the next record to find it full, so a quiet tap in
        follow mode would leave its last leads unwritten and unacknowledged. It runs on the
        main thread between two input lines, the one thread that stages and drains batches,
        so it never races the batch loop; and `process_batch` emits only the STATE whose
        records are all settled (a younger batch of another stream holds it back).
        """
        if "writer_run" not in self.__dict__:
            return
        for sink in list(self.writer_run.sinks):
            if sink.is_old:
                self.drain_one(sink)

    def reject_input(self, stream: str, reason: str, record: dict[str, Any]) -> None:
        """An input line that cannot become a record goes to the reject file."""
        key = content_hash(record)[:10]
        self.writer_run.reject(stream, key, record, Reject(reason))

    def end_early(self, error: BaseException) -> None:
        """The run stops before its end: acknowledge what was settled, then summarise."""
        covered = self.acks.emit()
        self._finish(complete=False)
        if isinstance(error, Stopped):
            self.logger.warning(
                "Stopped by %s: STATE acknowledges %d of %d records read; the rest are "
                "sent again on the next run",
                signal_name(error.signum),
                covered,
                self.acks.records_read,
            )
            error.reported = True

    @override
    def process_endofpipe(self) -> None:
        """Drain everything, then log the summary (also when draining failed)."""
        try:
            super().process_endofpipe()
        except BaseException as exc:
            self.end_early(exc)
            raise
        finally:
            self._finish()

    def _finish(self, *, complete: bool = True) -> None:
        """Summary, then release the client and the ledger (once)."""
        if self._finished:
            return
        self._finished = True
        self.stop_request.uninstall()
        if "writer_run" in self.__dict__:
            run = self.writer_run
            run.report(self.logger, complete=complete)
            run.client.close()
            run.ledger.close()
