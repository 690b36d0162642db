"""Fixtures shared by every suite: a real sandbox server on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.control import DEMO_KEYS, SandboxClient, running_sandbox

SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxClient]:
    """One sandbox process for the whole session."""
    with running_sandbox() as client:
        yield client


@pytest.fixture
def sandbox(sandbox_server: SandboxClient) -> SandboxClient:
    """The sandbox, reset to its seeded data before each test."""
    sandbox_server.reset()
    return sandbox_server


@pytest.fixture
def demo_keys() -> dict[str, str]:
    """Credentials the sandbox accepts."""
    return dict(DEMO_KEYS)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The shared specification folder beside the clone; tests needing it skip without it."""
    if not SHARED.is_dir():
        pytest.skip("../shared is not present beside this clone")
    return SHARED
