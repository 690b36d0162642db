"""Fixtures of the Popin events suite: a stand-in webhook endpoint."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.popin_events.receiver import HookReceiver
from tests.popin_events.relay import PopinRelay, popin_relay


@pytest.fixture
def receiver() -> Iterator[HookReceiver]:
    """A loopback endpoint recording every POST."""
    hook = HookReceiver()
    yield hook
    hook.close()


@pytest.fixture(scope="module")
def module_relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PopinRelay]:
    """One relay per module (starting one takes a second), X-API-KEY set, spool of its own."""
    with popin_relay(tmp_path_factory.mktemp("relay")) as running:
        yield running


@pytest.fixture
def relay(module_relay: PopinRelay) -> PopinRelay:
    """The module's relay, showing only the events stored during the test."""
    return module_relay.from_now()
