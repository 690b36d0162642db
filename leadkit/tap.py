"""The tap base both taps share: credentials masked and settings checked before any request."""

from __future__ import annotations

import abc
import signal
import threading
import typing as t
from types import FrameType

from singer_sdk import Tap
from singer_sdk.contrib.msgspec import MsgSpecWriter

from leadkit import redact
from leadkit.errors import ConfigError
from leadkit.stopping import STOP_SIGNALS, Stopped


class VendorTap(Tap, abc.ABC):
    """A tap whose credentials never reach a log and whose bad settings fail with a message
    naming them, before the JSON-schema checks and before any request."""

    #: Settings holding credentials, masked in every log line.
    secret_settings: t.ClassVar[tuple[str, ...]] = ("api_key",)
    #: Measured faster than the SDK's default writer (benchmarks/tap_wisepops.md).
    message_writer_class = MsgSpecWriter

    def __init__(self, **kwargs: t.Any) -> None:
        super().__init__(**kwargs)
        if threading.current_thread() is threading.main_thread():
            # The SDK's handler exits 0, which reads as a finished run. Stopped unwinds
            # instead: every STATE already written covers only records written before it.
            for signum in STOP_SIGNALS:
                signal.signal(signum, _raise_stopped)

    @staticmethod
    @abc.abstractmethod
    def check_settings(config: t.Mapping[str, t.Any]) -> None:
        """Raise ConfigError for a setting the tap cannot work with."""

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        """Mask the credentials, run the tap's own checks, then the SDK's schema checks."""
        redact.install(self._config.get(name) for name in self.secret_settings)
        try:
            self.check_settings(self._config)
        except ConfigError as exc:
            if raise_errors:
                raise
            return [str(exc)]
        return super()._validate_config(raise_errors=raise_errors)


def _raise_stopped(signum: int, frame: FrameType | None) -> None:
    raise Stopped(signum)
