"""A relay taking one Popin source, for the suites that need Popin's events in a spool."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from leadkit.spool import open_spool
from sandbox.control import SandboxClient
from tests.relay.running import RelayProcess, running_relay

SOURCE = "calls"
HOOK_KEY = "popin-hook-key-31"


@dataclass
class PopinRelay:
    """The relay, its spool and its log."""

    process: RelayProcess
    spool: Path
    log: Path
    #: Events stored up to this seq are not shown by `events` (see `from_now`).
    after: int = 0

    @property
    def hook_url(self) -> str:
        """Where Popin delivers this source's events."""
        return self.process.hook_url("popin", SOURCE)

    def events(self) -> list[dict[str, Any]]:
        """The events stored so far (after `after`), in seq order."""
        with open_spool(str(self.spool)) as spool:
            return [entry.payload for entry in spool.read(SOURCE, self.after, 100_000)]

    def from_now(self) -> PopinRelay:
        """The same relay, showing only the events stored from now on."""
        with open_spool(str(self.spool)) as spool:
            return replace(self, after=spool.last_seq(SOURCE))

    def wait_for_events(self, count: int, timeout: float = 20) -> list[dict[str, Any]]:
        """The stored events once there are `count`, or fail after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while len(events := self.events()) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"after {timeout} s the spool holds {len(events)} events")
            time.sleep(0.05)
        return events


@contextmanager
def popin_relay(folder: Path, secret: str | None = HOOK_KEY) -> Iterator[PopinRelay]:
    """`lead-relay serve --source calls=popin:VAR` over a spool in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    spool, log = folder / "spool.sqlite", folder / "relay.log"
    with log.open("wb") as out, running_relay(spool, {SOURCE: ("popin", secret)}, log=out) as p:
        yield PopinRelay(p, spool, log)


def send_events_to(sandbox: SandboxClient, relay: PopinRelay, **settings: Any) -> None:
    """Register the relay as the sandbox Popin's webhook (with its key)."""
    sandbox.settings("popin", webhook_url=relay.hook_url, webhook_api_key=HOOK_KEY, **settings)
