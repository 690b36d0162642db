"""What a connector prints at INFO: its own lines, progress every few seconds, and none of
the SDK's routine chatter (still there at DEBUG)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from typing_extensions import override

#: SDK lines that say nothing an operator acts on; shown at DEBUG only.
SDK_CHATTER = (
    "Skipping parse of env var settings",
    "Beginning sync of",
    "Starting incremental sync of",
    "Starting full table sync of",
    "Skipping deselected stream",
    "Target sink for",
    "Reader '",
    "Gracefully shutting down",
    "Pagination stopped after",
)
METRICS_LOGGER = "singer_sdk.metrics"


class QuietChatter(logging.Filter):
    """Drops the SDK's routine INFO lines and its METRIC lines unless `plugin` logs DEBUG."""

    def __init__(self, plugin: str) -> None:
        super().__init__()
        self.plugin = logging.getLogger(plugin)

    @override
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO or self.plugin.isEnabledFor(logging.DEBUG):
            return True
        if record.name == METRICS_LOGGER:
            return False
        return not record.getMessage().startswith(SDK_CHATTER)


def quiet_sdk_chatter(plugin: str) -> None:
    """Install `QuietChatter` on every handler of the root logger."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, QuietChatter) for f in handler.filters):
            handler.addFilter(QuietChatter(plugin))


class Progress:
    """A progress line at most every `interval` seconds while records flow: how many so far,
    the rate, requests and 429s (from `calls`), and the time left when the total is known."""

    def __init__(
        self,
        logger: logging.Logger,
        verb: str,
        calls: Callable[[], tuple[int, int]],
        interval: float = 10.0,
    ) -> None:
        self.logger = logger
        self.verb = verb
        self.calls = calls
        self.interval = interval
        self.total: int | None = None
        self._count = 0
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._last = self._started

    @property
    def count(self) -> int:
        """Records counted so far."""
        return self._count

    def add(self, n: int = 1) -> None:
        """Count `n` records; log a line if the last one is `interval` seconds old."""
        now = time.monotonic()
        with self._lock:
            self._count += n
            if now - self._last < self.interval:
                return
            self._last = now
            count = self._count
        self.logger.info("Progress: %s", self.line(count, now - self._started))

    def line(self, count: int, elapsed: float) -> str:
        """`1,200 records written (40.0/s), 1,530 requests, 3 x 429, 30 s so far`."""
        requests, throttled = self.calls()
        rate = count / elapsed if elapsed > 0 else 0.0
        parts = [
            f"{count:,} records {self.verb} ({rate:,.1f}/s)",
            f"{requests:,} requests",
            f"{throttled:,} x 429",
            f"{elapsed:,.0f} s so far",
        ]
        if self.total and rate > 0 and count < self.total:
            parts.append(f"about {(self.total - count) / rate:,.0f} s left")
        return ", ".join(parts)
