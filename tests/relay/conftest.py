"""A relay process over a spool of its own, at default settings, for one test module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.relay.harness import SECRET, SOURCE
from tests.relay.running import RelayProcess, running_relay


@pytest.fixture(scope="module")
def relay_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Everything the module's relay printed."""
    return tmp_path_factory.mktemp("relay") / "relay.log"


@pytest.fixture(scope="module")
def spool_path(relay_log: Path) -> Path:
    """The module relay's spool."""
    return relay_log.parent / "spool.db"


@pytest.fixture(scope="module")
def relay(relay_log: Path, spool_path: Path) -> Iterator[RelayProcess]:
    """One relay for the module, at default settings."""
    with (
        relay_log.open("wb") as log,
        running_relay(spool_path, {SOURCE: ("wisepops", SECRET)}, log=log) as process,
    ):
        yield process
