"""Running tap-ghl in-process (or as its console script) against the sandbox's GHL."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from leadkit.timestamps import format_instant
from sandbox.control import DEMO_KEYS, SandboxClient
from sandbox.ghl.oauth import CLIENT_ID, CLIENT_SECRET
from tap_ghl.tap import TapGhl
from tests.wisepops.conftest import SingerOutput, sync_selected

LOCATION = DEMO_KEYS["ghl_location"]
SEARCH_ROUTE = "POST /contacts/search"


@dataclass
class TapRun(SingerOutput):
    """The Singer messages one run wrote, and what stopped it, if anything."""

    tap: TapGhl
    error: BaseException | None = None

    def ids(self, stream: str = "contacts") -> list[str]:
        """Ids of the records of one stream, in order."""
        return [r["id"] for r in self.records(stream)]

    @property
    def bookmark(self) -> str | None:
        """The contacts bookmark of the last STATE."""
        contacts = self.state.get("bookmarks", {}).get("contacts", {})
        return contacts.get("replication_key_value")


def run_tap(
    config: dict[str, Any],
    state: dict[str, Any] | None = None,
    streams: tuple[str, ...] = ("contacts",),
    expect_error: bool = False,
) -> TapRun:
    """One sync of the selected streams, as `tap-ghl --config --state` would do."""
    tap = TapGhl(config=config, state=state or {}, setup_mapper=True)
    messages, error = sync_selected(tap, streams, expect_error)
    return TapRun(messages, tap, error)


def cli(
    config: dict[str, Any], folder: Path, *args: str, state: dict[str, Any] | None = None
) -> subprocess.CompletedProcess[str]:
    """`tap-ghl --config FILE [--state FILE]`, as Meltano runs it."""
    path = folder / "config.json"
    path.write_text(json.dumps(config))
    command = [str(Path(sys.executable).parent / "tap-ghl"), "--config", str(path), *args]
    if state is not None:
        (folder / "state.json").write_text(json.dumps(state))
        command += ["--state", str(folder / "state.json")]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def ago(**delta: float) -> str:
    """An instant that long before now, as GHL writes it."""
    return format_instant(datetime.now(timezone.utc) - timedelta(**delta))


def seed(sandbox: SandboxClient, *contacts: dict[str, Any]) -> list[dict[str, Any]]:
    """Seeded contacts (searchable at once), as the sandbox stores them."""
    return list(sandbox.seed("ghl", contacts=list(contacts))["contacts"])


def route_count(sandbox: SandboxClient, prefix: str) -> int:
    """Requests the sandbox's GHL saw on routes starting with `prefix` since the reset."""
    routes = sandbox.counters("ghl")["by_route"]
    return sum(count for route, count in routes.items() if route.startswith(prefix))


def child_requests(sandbox: SandboxClient, contact_id: str) -> int:
    """GETs of one contact's notes, tasks and appointments."""
    return route_count(sandbox, f"GET /contacts/{contact_id}/")


@pytest.fixture
def config(sandbox: SandboxClient) -> dict[str, Any]:
    """Only what a user must give tap-ghl: every lag, limit, retry and timeout at its default."""
    return {
        "access_token": DEMO_KEYS["ghl"],
        "location_id": LOCATION,
        "api_url": sandbox.api_url("ghl"),
    }


@pytest.fixture
def oauth_config(sandbox: SandboxClient, config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """OAuth settings instead of the static token: a fresh authorisation, an empty store."""
    authorised = sandbox.action("ghl", "oauth_authorize")
    settings = {k: v for k, v in config.items() if k != "access_token"}
    return {
        **settings,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "refresh_token": authorised["refresh_token"],
        "token_store": str(tmp_path / "tokens" / "ghl.json"),
    }
