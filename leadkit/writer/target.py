"""The target base: one client, ledger, reject file and summary per run, shared by sinks."""

from __future__ import annotations

import abc
import logging
import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import PurePath
from typing import Any

from singer_sdk import Target

from leadkit import redact
from leadkit.writer.client import ApiClient
from leadkit.writer.ledger import Ledger
from leadkit.writer.rejects import RejectFile
from leadkit.writer.settings import check_writer_settings
from leadkit.writer.summary import RunSummary


@dataclass
class WriterRun:
    """What every sink of one run shares."""

    client: ApiClient
    ledger: Ledger
    rejects: RejectFile
    summary: RunSummary

    def report(self, logger: logging.Logger) -> None:
        """Add API calls and 429s per stream, then log the summary (once per run)."""
        with self._report_lock:
            if self._reported:
                return
            self._reported = True
        for stream in self.summary.streams():
            self.summary.count(stream, "api_calls", self.client.calls_for(stream))
            self.summary.count(stream, "throttled", self.client.throttled_for(stream))
        self.summary.log_once(logger)

    _reported: bool = field(default=False, init=False)
    _report_lock: threading.Lock = field(default_factory=threading.Lock, init=False)


class ApiTarget(Target, abc.ABC):
    """A target writing to a vendor API: secrets redacted, config checked before any request,
    and one summary line per stream logged at the end (or when a fatal error stops it)."""

    #: Settings holding credentials, masked in every log line.
    secret_settings: tuple[str, ...] = ()
    #: STATE follows every full drain; draining at least this often keeps it current.
    _MAX_RECORD_AGE_IN_MINUTES: float = 1.0

    def __init__(
        self,
        *,
        config: dict | PurePath | str | list[PurePath | str] | None = None,
        parse_env_config: bool = False,
        validate_config: bool = True,
        setup_mapper: bool = True,
        **kwargs: Any,
    ) -> None:
        if isinstance(config, dict):
            redact.install(config.get(name) for name in self.secret_settings)
        super().__init__(
            config=config,
            parse_env_config=parse_env_config,
            validate_config=validate_config,
            setup_mapper=setup_mapper,
            **kwargs,
        )
        redact.install(self.config.get(name) for name in self.secret_settings)
        if validate_config:
            check_writer_settings(self.config, self.secret_settings)
            self.check_settings()

    @abc.abstractmethod
    def check_settings(self) -> None:
        """Raise ConfigError for a bad connector setting; runs before any request, after the
        shared checks (credentials present, `max_concurrency` at least 1)."""

    @abc.abstractmethod
    def build_client(self) -> ApiClient:
        """The run's API client."""

    @cached_property
    def writer_run(self) -> WriterRun:
        """The shared client, ledger, reject file and summary, built on first use."""
        return WriterRun(
            client=self.build_client(),
            ledger=Ledger(self.config.get("ledger_path")),
            rejects=RejectFile(self.config.get("reject_file")),
            summary=RunSummary(),
        )

    def process_endofpipe(self) -> None:
        """Drain everything, then log the summary (also when draining failed)."""
        try:
            super().process_endofpipe()
        finally:
            if "writer_run" in self.__dict__:
                run = self.writer_run
                run.report(self.logger)
                run.client.close()
                run.ledger.close()
