"""Helpers for tap-popl tests: configs pointing at the sandbox and an in-process runner."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from typing import Any

import pytest

from sandbox.control import DEMO_KEYS, SandboxClient
from sandbox.popl import TEAM_ID
from tap_popl.tap import TapPopl

ConfigFactory = Callable[..., dict[str, Any]]


@dataclass
class TapRun:
    """What one run of the tap wrote: records and state messages, in order."""

    messages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def records(self) -> list[dict[str, Any]]:
        return [m["record"] for m in self.messages if m["type"] == "RECORD"]

    @property
    def ids(self) -> list[str]:
        return [r["leadId"] for r in self.records]

    @property
    def states(self) -> list[dict[str, Any]]:
        return [m["value"] for m in self.messages if m["type"] == "STATE"]

    @property
    def state(self) -> dict[str, Any]:
        return self.states[-1] if self.states else {}

    @property
    def bookmark(self) -> str | None:
        return bookmark_of(self.state)


def bookmark_of(state: dict[str, Any]) -> str | None:
    """The leads bookmark in a state message, if any."""
    value = state.get("bookmarks", {}).get("leads", {}).get("replication_key_value")
    return None if value is None else str(value)


class _Capture(io.BytesIO):
    """Stdout's byte stream, handing each Singer message to the run as it is written."""

    def __init__(self, run: TapRun, on_message: Callable[[dict[str, Any]], None] | None) -> None:
        super().__init__()
        self.run = run
        self.on_message = on_message
        self.pending = b""

    def write(self, data: Any) -> int:
        self.pending += bytes(data)
        *lines, self.pending = self.pending.split(b"\n")
        for line in lines:
            if line.strip():
                message = json.loads(line)
                self.run.messages.append(message)
                if self.on_message is not None:
                    self.on_message(message)
        return len(data)


def _stdout(run: TapRun, on_message: Callable[[dict[str, Any]], None] | None) -> io.TextIOWrapper:
    return io.TextIOWrapper(_Capture(run, on_message), encoding="utf-8", write_through=True)


def run_tap(
    config: dict[str, Any],
    state: dict[str, Any] | None = None,
    on_message: Callable[[dict[str, Any]], None] | None = None,
) -> TapRun:
    """Sync in this process, collecting the Singer messages; tap errors propagate.

    Use `run_tap_until_error` when the run is expected to fail.
    """
    run = TapRun()
    with redirect_stdout(_stdout(run, on_message)):
        TapPopl(config=config, state=state or {}).sync_all()
    return run


def run_tap_until_error(
    config: dict[str, Any],
    state: dict[str, Any] | None = None,
    on_message: Callable[[dict[str, Any]], None] | None = None,
) -> tuple[TapRun, BaseException]:
    """Sync a run that must fail; return what it wrote before failing, and the error."""
    run = TapRun()
    try:
        with redirect_stdout(_stdout(run, on_message)):
            TapPopl(config=config, state=state or {}).sync_all()
    except Exception as error:
        return run, error
    pytest.fail("the run was expected to fail")


@pytest.fixture
def popl_config(sandbox: SandboxClient) -> ConfigFactory:
    """A valid config for the sandbox with fast retries; keyword arguments override."""

    def make(**overrides: Any) -> dict[str, Any]:
        config: dict[str, Any] = {
            "api_key": DEMO_KEYS["popl"],
            "api_url": sandbox.api_url("popl"),
            "team_id": TEAM_ID,
            "request_timeout": 1,
            "max_retries": 4,
            "backoff_base_seconds": 0.01,
            "max_retry_wait_seconds": 2,
        }
        config.update(overrides)
        return {k: v for k, v in config.items() if v is not None}

    return make


def captured(lead: dict[str, Any]) -> str:
    """A lead's capture time as the API gives it."""
    return str(lead["systemFields"]["captureDatetime"])


def search_calls(sandbox: SandboxClient) -> int:
    """Requests the tap made to the search endpoint."""
    return int(sandbox.counters("popl")["by_route"].get("POST /api/pub/v2/leads/search", 0))
