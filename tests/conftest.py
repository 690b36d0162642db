"""Fixtures shared by every suite: a real sandbox server on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.control import DEMO_KEYS, SandboxClient, running_sandbox

SHARED = Path(__file__).resolve().parents[2] / "shared"
#: The longest modules (several minutes of `meltano run`s each) are handed out first, so that
#: under several workers none of them starts last and alone.
LONGEST_FIRST = ("tests/orchestration/test_three_tenants.py", "tests/e2e/")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Order the collection longest first (stable otherwise: a module stays contiguous)."""

    def rank(item: pytest.Item) -> int:
        return next(
            (n for n, prefix in enumerate(LONGEST_FIRST) if item.nodeid.startswith(prefix)),
            len(LONGEST_FIRST),
        )

    items.sort(key=rank)


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
