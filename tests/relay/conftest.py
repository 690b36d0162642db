"""A relay process over a spool of its own, and signed Wisepops deliveries to send it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from lead_relay.running import RelayProcess, running_relay
from lead_relay.wisepops import sign

SECRET = "relay-test-website-key"
SOURCE = "shop-fr"


def contact(n: int, **extra: Any) -> dict[str, Any]:
    """A Wisepops contact in the /contacts shape."""
    return {
        "collected_at": f"2026-01-01T10:00:{n % 60:02d}.{n % 1000:03d}Z",
        "wisepop_id": 12345,
        "ip": "127.0.0.1",
        "country_code": "FR",
        "form_session": f"00000000-0000-4000-8000-{n:012d}",
        "fields": {"email": f"lead{n}@relay.example.com", "Phone": f"+3361234{n:04d}"},
        **extra,
    }


def deliver(
    relay: RelayProcess,
    body: bytes | list[dict[str, Any]],
    *,
    secret: str | None = SECRET,
    source: str = SOURCE,
    headers: dict[str, str] | None = None,
) -> requests.Response:
    """POST a delivery, signed with `secret` (unsigned when None)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    sent = {"Content-Type": "application/json", **(headers or {})}
    if secret is not None:
        sent["X-Wisepops-Signature"] = sign(raw, secret)
    return requests.post(relay.hook_url("wisepops", source), data=raw, headers=sent, timeout=30)


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
