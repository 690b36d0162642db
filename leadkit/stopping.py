"""SIGTERM and SIGINT as a request to stop: noticed at safe points, never mid-write."""

from __future__ import annotations

import signal
import threading
import time
import typing as t
from types import FrameType

#: Signals an orchestrator (or Ctrl-C) sends to ask for a stop.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Stopped(BaseException):
    """The run was asked to stop by a signal.

    A BaseException, like KeyboardInterrupt, so that no `except Exception` on the way up
    mistakes it for a failed record.
    """

    def __init__(self, signum: int) -> None:
        self.signum = signum
        #: Whether the plugin already logged what the stop acknowledged.
        self.reported = False
        super().__init__(f"stopped by {signal_name(signum)}")

    @property
    def exit_code(self) -> int:
        """128 + the signal number, as a shell reports a process a signal ended."""
        return 128 + self.signum


def current_handlers() -> dict[int, t.Any]:
    """The handlers of the stop signals now in place."""
    return {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}


def signal_name(signum: int) -> str:
    """`SIGTERM` for 15."""
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


class StopRequest:
    """Set by a signal handler, polled by the reader and the batch loop.

    The handler only records the request: raising from it could cut a STATE line or a
    ledger write in half. A second signal drops the grace period for in-flight requests.
    """

    def __init__(self, grace_seconds: float) -> None:
        self.grace_seconds = grace_seconds
        self._event = threading.Event()
        self._signum = 0
        self._deadline = 0.0
        self._previous: dict[int, t.Any] = {}

    def install(self, previous: dict[int, t.Any] | None = None) -> None:
        """Handle SIGTERM and SIGINT until `uninstall` (only possible on the main thread).

        `previous` are the handlers to put back then (by default, the ones replaced now).
        """
        if threading.current_thread() is not threading.main_thread():
            return
        self._previous = previous if previous is not None else current_handlers()
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._handle)

    def uninstall(self) -> None:
        """Put back the handlers `install` replaced."""
        if threading.current_thread() is not threading.main_thread():
            return
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.request(signum)

    def request(self, signum: int) -> None:
        """Ask for a stop, as the signal `signum` would."""
        if self._event.is_set():
            self._deadline = time.monotonic()
            return
        self._signum = signum
        self._deadline = time.monotonic() + self.grace_seconds
        self._event.set()

    @property
    def requested(self) -> bool:
        """Whether a stop was asked for."""
        return self._event.is_set()

    def remaining(self) -> float:
        """Seconds of grace left for in-flight requests."""
        return max(0.0, self._deadline - time.monotonic())

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`, waking early when a stop is asked for; True if it was."""
        return self._event.wait(seconds)

    def check(self) -> None:
        """Raise Stopped if a stop was asked for."""
        if self._event.is_set():
            raise Stopped(self._signum)
