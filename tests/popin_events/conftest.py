"""Fixtures of the Popin events suite: a stand-in webhook endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.popin_events.receiver import HookReceiver
from tests.popin_events.relay import PopinRelay, popin_relay


@pytest.fixture
def receiver() -> Iterator[HookReceiver]:
    """A loopback endpoint recording every POST."""
    hook = HookReceiver()
    yield hook
    hook.close()


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[PopinRelay]:
    """A relay for one Popin source, its X-API-KEY set, over a spool of its own."""
    with popin_relay(tmp_path) as running:
        yield running
