"""Fixtures of the Popin events suite: a stand-in webhook endpoint."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.popin_events.receiver import HookReceiver


@pytest.fixture
def receiver() -> Iterator[HookReceiver]:
    """A loopback endpoint recording every POST."""
    hook = HookReceiver()
    yield hook
    hook.close()
