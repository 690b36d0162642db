"""Running tap-wisepops in-process against the sandbox and reading what it wrote."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from singer_sdk import Tap

from sandbox.control import DEMO_KEYS, SandboxClient
from tap_wisepops.tap import TapWisepops

CONTACTS_ROUTE = "GET /api2/contacts"


@dataclass
class SingerOutput:
    """The Singer messages one in-process run of a tap wrote."""

    messages: list[dict[str, Any]]

    def records(self, stream: str = "contacts") -> list[dict[str, Any]]:
        """RECORD payloads of one stream, in order."""
        return [
            m["record"] for m in self.messages if m["type"] == "RECORD" and m["stream"] == stream
        ]

    @property
    def state(self) -> dict[str, Any]:
        """The last STATE value written."""
        states = [m["value"] for m in self.messages if m["type"] == "STATE"]
        return states[-1] if states else {}


@dataclass
class TapRun(SingerOutput):
    """The Singer messages one run wrote, and the calls it spent."""

    calls: int
    error: BaseException | None = None
    streams: list[str] = field(default_factory=list)

    def keys(self) -> list[str]:
        """Primary keys of the contacts emitted, in order."""
        return [r["contact_key"] for r in self.records()]


@contextmanager
def captured_stdout() -> Iterator[io.TextIOWrapper]:
    """Swap stdout for a buffer that both text and binary Singer writers can use."""
    buffer = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)
    previous = sys.stdout
    sys.stdout = buffer
    try:
        yield buffer
    finally:
        sys.stdout = previous


def sync_selected(
    tap: Tap, streams: tuple[str, ...], expect_error: bool
) -> tuple[list[dict[str, Any]], BaseException | None]:
    """Sync only `streams` in-process: the Singer messages written, and what stopped it."""
    for name, stream in tap.streams.items():
        stream.selected = name in streams
    error: BaseException | None = None
    with captured_stdout() as out:
        try:
            tap.sync_all()
        except Exception as exc:
            if not expect_error:
                raise
            error = exc
        out.flush()
        raw = out.buffer.getvalue().decode()  # type: ignore[attr-defined]
    if expect_error and error is None:
        pytest.fail("the run was expected to fail")
    messages = [json.loads(line) for line in raw.splitlines() if line.strip()]
    return messages, error


def run_tap(
    config: dict[str, Any],
    state: dict[str, Any] | None = None,
    streams: tuple[str, ...] = ("contacts",),
    expect_error: bool = False,
) -> TapRun:
    """One sync of the selected streams, as `tap-wisepops --config --state` would do."""
    tap = TapWisepops(config=config, state=state or {}, setup_mapper=True)
    messages, error = sync_selected(tap, streams, expect_error)
    return TapRun(messages, tap.call_budget.spent, error, list(streams))


def contact_calls(sandbox: SandboxClient) -> int:
    """Requests the sandbox saw on /contacts since its last reset."""
    return int(sandbox.counters("wisepops")["by_route"].get(CONTACTS_ROUTE, 0))


def store_keys(sandbox: SandboxClient) -> list[str]:
    """Primary keys of every contact the sandbox holds, oldest first."""
    from tap_wisepops.streams import contact_key

    return [contact_key(c) for c in sandbox.records("wisepops", "contacts")]


@pytest.fixture
def config(sandbox: SandboxClient) -> dict[str, Any]:
    """Settings pointing at the sandbox, with test-sized waits."""
    return {
        "api_key": DEMO_KEYS["wisepops"],
        "api_url": sandbox.api_url("wisepops"),
        "request_timeout": 2,
        "max_retries": 4,
        "backoff_base_seconds": 0.01,
        "max_retry_wait_seconds": 1,
    }


@pytest.fixture(params=["strict", "inclusive"])
def mode(request: pytest.FixtureRequest, sandbox: SandboxClient) -> str:
    """Each `collected_after` reading the server might have."""
    sandbox.settings("wisepops", collected_after_mode=request.param)
    return str(request.param)


@pytest.fixture
def seed_groups(sandbox: SandboxClient) -> Callable[[list[int]], list[str]]:
    """Replace the contacts with groups of the given sizes, one timestamp per group."""

    def seed(sizes: list[int]) -> list[str]:
        sandbox.seed("wisepops", contacts=0, replace=True)
        for index, size in enumerate(sizes):
            sandbox.seed(
                "wisepops",
                contacts=size,
                collected_at=f"2025-03-01T10:{index // 60:02d}:{index % 60:02d}.250Z",
                same_timestamp=True,
                summary_only=True,
            )
        return store_keys(sandbox)

    return seed
