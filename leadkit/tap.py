"""The tap base both taps share: credentials masked and settings checked before any request."""

from __future__ import annotations

import abc
import json
import signal
import threading
import typing as t
from pathlib import Path, PurePath
from types import FrameType

from singer_sdk import Tap
from singer_sdk.contrib.msgspec import MsgSpecWriter

from leadkit import DISTRIBUTION
from leadkit.configuration import check_plugin_config
from leadkit.logs import Progress
from leadkit.stopping import STOP_SIGNALS, Stopped


class VendorTap(Tap, abc.ABC):
    """A tap whose credentials never reach a log and whose bad settings fail with a message
    naming them, before the JSON-schema checks and before any request."""

    #: Settings holding credentials, masked in every log line.
    secret_settings: t.ClassVar[tuple[str, ...]] = ("api_key",)
    #: The distribution the connectors ship in, which `--version` and every run report.
    package_name = DISTRIBUTION
    #: Measured faster than the SDK's default writer (benchmarks/tap_wisepops.md).
    message_writer_class = MsgSpecWriter

    def __init__(
        self,
        *,
        state: PurePath | str | dict | None = None,
        validate_config: bool = True,
        setup_mapper: bool = True,
        **kwargs: t.Any,
    ) -> None:
        # The SDK would validate the schema (echoing values) and build the streams before
        # the credentials are masked and our checks ran: both are done here instead.
        super().__init__(validate_config=False, setup_mapper=False, **kwargs)
        check_plugin_config(
            self,
            self.secret_settings,
            lambda: self.check_settings(self.config),
            validate=validate_config,
        )
        #: Requests sent and 429s met by every stream of the run.
        self.requests_sent = 0
        self.throttled = 0
        self.progress = Progress(self.logger, "read", lambda: (self.requests_sent, self.throttled))
        if setup_mapper:
            self.setup_mapper()
        self.load_state(_read_state(state))
        if threading.current_thread() is threading.main_thread():
            # The SDK's handler exits 0, which reads as a finished run. Stopped unwinds
            # instead: every STATE already written covers only records written before it.
            for signum in STOP_SIGNALS:
                signal.signal(signum, _raise_stopped)

    @staticmethod
    @abc.abstractmethod
    def check_settings(config: t.Mapping[str, t.Any]) -> None:
        """Raise ConfigError for a setting the tap cannot work with."""


def _read_state(state: PurePath | str | dict | None) -> dict:
    """The state given as a dict or as the path of a JSON file (the CLI's `--state`)."""
    if state is None:
        return {}
    if isinstance(state, dict):
        return state
    return dict(json.loads(Path(state).read_text()))


def _raise_stopped(signum: int, frame: FrameType | None) -> None:
    raise Stopped(signum)
