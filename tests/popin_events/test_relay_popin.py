"""The relay takes Popin's events: X-API-KEY checked, each event stored once."""

from __future__ import annotations

import json
import time
import zlib
from pathlib import Path
from typing import Any

import pytest
import requests

from sandbox.control import DEMO_KEYS, SandboxClient
from tests.popin_events.relay import HOOK_KEY, PopinRelay, popin_relay, send_events_to


@pytest.fixture
def event(request: pytest.FixtureRequest) -> dict[str, Any]:
    """A Popin event no other test of the module sends (they share one relay and spool)."""
    return {
        "event": "popin_call_missed",
        "user_id": 300 + zlib.crc32(request.node.name.encode()) % 10_000,
        "phone": "+919544510895",
        "agent": {"id": 210, "name": "Ananya Rao"},
        "call": {"duration": 0, "started_at": "2026-11-30T09:30:00+00:00"},
        "timestamp": "2026-11-30T15:00:12+05:30",
    }


def post(relay: PopinRelay, body: object, key: str | None = HOOK_KEY) -> requests.Response:
    """POST a body as Popin would, with `key` as X-API-KEY (none when None)."""
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["X-API-KEY"] = key
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return requests.post(relay.hook_url, data=raw, headers=headers, timeout=10)


def test_a_wrong_api_key_is_refused_and_nothing_stored(
    relay: PopinRelay, event: dict[str, Any]
) -> None:
    assert post(relay, event, key="not-the-key").status_code == 401
    assert post(relay, event, key=None).status_code == 401
    assert relay.events() == []


def test_an_event_with_the_key_is_stored(relay: PopinRelay, event: dict[str, Any]) -> None:
    assert post(relay, event).status_code == 200
    assert relay.events() == [event]


def test_a_duplicate_event_is_stored_once(relay: PopinRelay, event: dict[str, Any]) -> None:
    assert post(relay, event).status_code == 200
    assert post(relay, event).json() == {"stored": 0, "duplicates": 1}
    assert relay.events() == [event]


def test_a_list_of_events_is_stored_as_one_entry_each(
    relay: PopinRelay, event: dict[str, Any]
) -> None:
    second = {**event, "event": "popin_remark_added", "remark": "Call back after 6 pm"}
    assert post(relay, [event, second]).status_code == 200
    assert relay.events() == [event, second]


def test_a_malformed_event_is_refused_with_400(relay: PopinRelay, event: dict[str, Any]) -> None:
    assert post(relay, b"{not json").status_code == 400
    assert post(relay, {"user_id": 315}).status_code == 400  # no event name
    assert post(relay, [event, "text"]).status_code == 400
    assert relay.events() == []


def test_without_a_secret_events_need_no_key(tmp_path: Path, event: dict[str, Any]) -> None:
    with popin_relay(tmp_path, secret=None) as open_relay:
        assert post(open_relay, event, key=None).status_code == 200
        assert open_relay.events() == [event]


def test_the_sandbox_events_reach_the_spool_once_despite_duplicate_deliveries(
    sandbox: SandboxClient, relay: PopinRelay
) -> None:
    send_events_to(sandbox, relay, webhook_duplicate_rate=1)
    answer = requests.post(
        sandbox.api_url("popin") + "/capture",
        json={"name": "Asha Verma", "mobile": "9544510895", "country": "91"},
        headers={"X-API-KEY": DEMO_KEYS["popin_api_key"], "X-TOKEN": DEMO_KEYS["popin_token"]},
        timeout=10,
    ).json()
    (event,) = relay.wait_for_events(1)
    assert event["event"] == "popin_user_captured"
    assert event["phone"] == "+919544510895"
    wait_until_delivered(sandbox)
    deliveries = sandbox.records("popin", "deliveries")
    assert (deliveries["delivered"], deliveries["duplicates"]) == (1, 1)
    assert len(relay.events()) == 1
    assert answer["status"] == 1


def test_no_phone_or_key_reaches_the_relay_log(tmp_path: Path, event: dict[str, Any]) -> None:
    # A relay of its own: its log is complete once it has stopped.
    with popin_relay(tmp_path) as relay:
        assert post(relay, event, key="wrong-key-value").status_code == 401
        assert post(relay, event).status_code == 200
        assert post(relay, b"[").status_code == 400
    log = relay.log.read_text()
    assert "delivery stored" in log
    for secret in (HOOK_KEY, "wrong-key-value", "+919544510895", "9544510895", "Ananya"):
        assert secret not in log


def wait_until_delivered(sandbox: SandboxClient, timeout: float = 20) -> None:
    """Until the sandbox has no event delivery left to make."""
    deadline = time.monotonic() + timeout
    while sandbox.records("popin", "deliveries")["pending"]:
        assert time.monotonic() < deadline, "deliveries still pending"
        time.sleep(0.05)
