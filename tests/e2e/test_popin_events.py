"""Popin's call events reach GHL: `meltano run tap-popin popin-events-to-ghl target-ghl`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests

from sandbox.control import DEMO_KEYS, SandboxClient
from tests.e2e.harness import MeltanoProject, ghl_contacts
from tests.popin_events.relay import SOURCE, popin_relay, send_events_to

POPIN_EVENTS_TO_GHL = ("tap-popin", "popin-events-to-ghl", "target-ghl")


def capture(sandbox: SandboxClient, name: str, mobile: str) -> str:
    """Capture someone in the sandbox Popin; their customer_id."""
    response = requests.post(
        sandbox.api_url("popin") + "/capture",
        json={"name": name, "mobile": mobile, "country": "91", "agent": 210},
        headers={"X-API-KEY": DEMO_KEYS["popin_api_key"], "X-TOKEN": DEMO_KEYS["popin_token"]},
        timeout=10,
    )
    return str(response.json()["customer_id"])


def contact_with_phone(sandbox: SandboxClient, phone: str) -> dict[str, Any]:
    """The one GHL contact holding `phone`."""
    (contact,) = [c for c in ghl_contacts(sandbox) if c.get("phone") == phone]
    return contact


def test_call_outcomes_become_notes_and_call_back_tasks_in_ghl(
    meltano: MeltanoProject, sandbox: SandboxClient, tmp_path: Path
) -> None:
    with popin_relay(tmp_path / "relay") as relay:
        send_events_to(sandbox, relay)  # duplicate deliveries at the default rate
        answered = capture(sandbox, "Asha Verma", "9876500011")
        missed = capture(sandbox, "Ravi Iyer", "9876500012")
        sandbox.action(
            "popin",
            "simulate_call",
            customer_id=answered,
            event="popin_call_successful",
            duration=185,
        )
        sandbox.action(
            "popin",
            "simulate_call",
            customer_id=answered,
            event="popin_remark_added",
            remark="Wants a demo on Friday",
        )
        sandbox.action("popin", "simulate_call", customer_id=missed, event="popin_call_missed")
        relay.wait_for_events(5)
        meltano.extra_env.update(
            {"TAP_POPIN_WEBHOOK_SPOOL": str(relay.spool), "TAP_POPIN_WEBHOOK_SOURCE": SOURCE}
        )
        meltano.run(*POPIN_EVENTS_TO_GHL).check()

    talked = contact_with_phone(sandbox, "+919876500011")
    notes = sorted(note["body"] for note in talked["notes"])
    assert len(notes) == 2
    assert notes[0].startswith("Popin call with Ananya Rao, 3 min 5 s, at ")
    assert notes[1].startswith("Popin remark by Ananya Rao at ")
    assert notes[1].endswith(": Wants a demo on Friday")
    assert talked["tasks"] == []
    (task,) = contact_with_phone(sandbox, "+919876500012")["tasks"]
    assert task["title"] == "Call back"
    assert task["body"].startswith("Popin call missed at ")
    assert task["dueDate"]
    # Captures are not sent to GHL: only the two people whose calls were events.
    assert len(ghl_contacts(sandbox)) == 2
