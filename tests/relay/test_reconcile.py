"""A delivery that never came: the daily API run (reconcile) picks it up, and GHL ends with
every lead once. Sandbox hooks, relay, tap and target-ghl as they run in production."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import yaml

from sandbox.control import DEMO_KEYS, SandboxClient
from tap_wisepops.hooks import HooksClient
from tests.relay.running import running_relay
from tests.wisepops.conftest import run_tap
from tests.writer.harness import ghl_config, ghl_contacts_by_email, run_target

ROOT = Path(__file__).resolve().parents[2]
KEY = DEMO_KEYS["wisepops"]
#: "Demo request": every contact gives an email, names and a phone.
POPUP = 34567


def wisepops_to_ghl() -> dict[str, Any]:
    """The target-side part of the `wisepops-to-ghl` pipeline of meltano.yml: its mapping
    (as target-ghl's own stream maps) and target-ghl's `validate_records: false`."""
    meltano = yaml.safe_load((ROOT / "meltano.yml").read_text())
    mappings = meltano["plugins"]["mappers"][0]["mappings"]
    mapping = next(m for m in mappings if m["name"] == "wisepops-to-ghl")
    return {**mapping["config"], "validate_records": False}


def to_ghl(sandbox: SandboxClient, folder: Path, messages: list[dict[str, Any]]) -> None:
    """The tap's messages through the mapping into target-ghl."""
    payload = b"".join(json.dumps(message).encode() + b"\n" for message in messages)
    config = ghl_config(sandbox, folder, **wisepops_to_ghl())
    run = run_target("target-ghl", config, folder, payload)
    assert run.returncode == 0, run.stderr[-4000:]


def emails(collected: dict[str, Any]) -> set[str]:
    return {c["fields"]["Email address"].lower() for c in collected["contacts"]}


def settled(sandbox: SandboxClient) -> dict[str, int]:
    """The sandbox's hook deliveries, once none is pending."""
    deadline = time.monotonic() + 60
    while True:
        stats = sandbox.records("wisepops", "deliveries")
        if stats["pending"] == 0 or time.monotonic() > deadline:
            return stats
        time.sleep(0.05)


def test_reconcile_fills_a_gap_the_hooks_left_and_each_lead_is_written_once(
    sandbox: SandboxClient, tmp_path: Path
) -> None:
    # GHL's rate scaled ten times up, as in the other target tests: only run time changes.
    sandbox.settings("ghl", rate_limit_max=100, rate_limit_window_ms=1000)
    spool = tmp_path / "relay-spool.sqlite"
    with running_relay(spool, {"wisepops": ("wisepops", KEY)}) as relay:
        HooksClient(KEY, sandbox.api_url("wisepops")).register(
            relay.hook_url("wisepops", "wisepops"), ("email",), None
        )
        delivered = sandbox.action("wisepops", "collect", contacts=3, wisepop_id=POPUP)
        assert settled(sandbox)["delivered"] >= 1
    # The relay is down and Wisepops gives up after one try: these two never arrive.
    sandbox.settings("wisepops", hook_max_attempts=1)
    lost = sandbox.action("wisepops", "collect", contacts=2, wisepop_id=POPUP)
    assert settled(sandbox)["abandoned"] == 1

    live = run_tap({"api_key": KEY, "webhook_spool": str(spool), "webhook_source": "wisepops"})
    to_ghl(sandbox, tmp_path, live.messages)
    assert set(ghl_contacts_by_email(sandbox)) == emails(delivered)

    # The daily API run, from its bookmark (here: the first of these contacts).
    reconcile = run_tap(
        {
            "api_key": KEY,
            "api_url": sandbox.api_url("wisepops"),
            "start_date": delivered["first_collected_at"],
        }
    )
    to_ghl(sandbox, tmp_path, reconcile.messages)
    in_ghl = ghl_contacts_by_email(sandbox)
    assert set(in_ghl) == emails(delivered) | emails(lost)
    assert [email for email, contacts in in_ghl.items() if len(contacts) > 1] == []
