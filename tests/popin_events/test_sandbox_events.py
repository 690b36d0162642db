"""The sandbox's Popin sends webhook events for captures, bookings and simulated calls."""

from __future__ import annotations

from typing import Any

import requests

from sandbox.control import DEMO_KEYS, SandboxClient, free_port
from sandbox.popin.events import user_number
from tests.popin_events.receiver import HookReceiver

HOOK_KEY = "popin-hook-key-31"


def capture(sandbox: SandboxClient, mobile: str = "9544510895") -> dict[str, Any]:
    """POST /capture as a client would; Popin's answer."""
    response = requests.post(
        sandbox.api_url("popin") + "/capture",
        json={"name": "Asha Verma", "mobile": mobile, "country": "91", "agent": 210},
        headers={"X-API-KEY": DEMO_KEYS["popin_api_key"], "X-TOKEN": DEMO_KEYS["popin_token"]},
        timeout=10,
    )
    assert response.status_code == 200
    return dict(response.json())


def test_a_capture_sends_popin_user_captured_with_the_plain_user_id(
    sandbox: SandboxClient, receiver: HookReceiver
) -> None:
    sandbox.settings(
        "popin", webhook_url=receiver.url, webhook_api_key=HOOK_KEY, webhook_duplicate_rate=0
    )
    answer = capture(sandbox)
    receiver.wait_for(lambda got: len(got) == 1)
    hook = receiver.received[0]
    assert hook.headers["X-API-KEY"] == HOOK_KEY
    event = hook.event
    assert event["event"] == "popin_user_captured"
    assert event["phone"] == "+919544510895"
    # The harsh default: the plain number, while /capture answered its base64 form.
    assert event["user_id"] == user_number(answer["customer_id"])
    assert isinstance(event["user_id"], int)
    assert event["agent"]["id"] == 210
    assert "timestamp" in event


def test_the_lenient_setting_sends_the_customer_id_as_capture_answered_it(
    sandbox: SandboxClient, receiver: HookReceiver
) -> None:
    sandbox.settings(
        "popin", webhook_url=receiver.url, webhook_user_id="customer_id", webhook_duplicate_rate=0
    )
    answer = capture(sandbox)
    receiver.wait_for(lambda got: len(got) == 1)
    assert receiver.received[0].event["user_id"] == answer["customer_id"]
    assert "X-API-KEY" not in receiver.received[0].headers


def test_a_refused_delivery_is_retried_with_the_same_bytes(
    sandbox: SandboxClient, receiver: HookReceiver
) -> None:
    # Short waits between tries keep the test quick; the default (0.5 s, doubling) only
    # changes when the retries come.
    sandbox.settings(
        "popin", webhook_url=receiver.url, webhook_retry_seconds=0.01, webhook_duplicate_rate=0
    )
    receiver.statuses = [500, 503]
    capture(sandbox)
    receiver.wait_for(lambda got: len(got) == 3)
    assert len({hook.body for hook in receiver.received}) == 1
    deliveries = sandbox.records("popin", "deliveries")
    assert (deliveries["failed_attempts"], deliveries["delivered"]) == (2, 1)
    assert (deliveries["attempts"], deliveries["pending"]) == (3, 0)


def test_duplicate_deliveries_send_an_event_twice_byte_for_byte(
    sandbox: SandboxClient, receiver: HookReceiver
) -> None:
    sandbox.settings("popin", webhook_url=receiver.url, webhook_duplicate_rate=1)
    capture(sandbox)
    receiver.wait_for(lambda got: len(got) == 2)
    assert receiver.received[0].body == receiver.received[1].body
    assert len(sandbox.records("popin", "events")) == 1


def test_a_simulated_missed_call_sends_its_event_with_agent_and_duration(
    sandbox: SandboxClient, receiver: HookReceiver
) -> None:
    sandbox.settings("popin", webhook_url=receiver.url, webhook_duplicate_rate=0)
    answer = capture(sandbox)
    sandbox.action(
        "popin", "simulate_call", customer_id=answer["customer_id"], event="popin_call_missed"
    )
    receiver.wait_for(lambda got: len(got) == 2)
    event = receiver.received[1].event
    assert event["event"] == "popin_call_missed"
    assert event["call"]["duration"] == 0
    assert event["agent"]["name"]
    assert event["phone"] == "+919544510895"


def test_a_webhook_endpoint_that_is_down_does_not_fail_the_capture(
    sandbox: SandboxClient,
) -> None:
    dead = f"http://127.0.0.1:{free_port()}/hooks"
    sandbox.settings("popin", webhook_url=dead, webhook_retry_seconds=0.01, webhook_max_attempts=2)
    assert capture(sandbox)["status"] == 1
    assert sandbox.records("popin", "customers")[-1]["mobile"] == "9544510895"
