"""The sandbox's Wisepops webhooks: collected contacts POSTed, signed, to registered URLs."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import requests

from leadkit.spool import canonical_json, open_spool
from sandbox.control import DEMO_KEYS, SandboxClient, free_port
from tests.relay.running import running_relay

KEY = DEMO_KEYS["wisepops"]


def register(sandbox: SandboxClient, url: str, event: str = "email") -> int:
    """POST /hooks as a client would (it is an API call)."""
    response = requests.post(
        sandbox.api_url("wisepops") + "/hooks",
        json={"event": event, "target_url": url},
        headers={"Authorization": f'WISEPOPS-API key="{KEY}"'},
        timeout=30,
    )
    response.raise_for_status()
    return int(response.json()["id"])


def settled(sandbox: SandboxClient, timeout: float = 60) -> dict[str, Any]:
    """The delivery counters once nothing is pending."""
    deadline = time.monotonic() + timeout
    while True:
        stats = sandbox.records("wisepops", "deliveries")
        if stats["pending"] == 0 or time.monotonic() > deadline:
            return stats
        time.sleep(0.05)


def stored(spool_path: Path) -> list[str]:
    """The spooled contacts as canonical JSON, sorted (POSTs arrive in any order)."""
    with open_spool(str(spool_path)) as spool:
        return sorted(canonical_json(entry.payload) for entry in spool.read("site", after=0))


def expected(contacts: list[dict[str, Any]], label: str = "email") -> list[str]:
    """The contacts a hook of one event gets: those whose form gave that field."""
    return sorted(
        canonical_json(c)
        for c in contacts
        if any(label in k.casefold() and v for k, v in c["fields"].items())
    )


def relay_for(spool_path: Path, port: int | None = None) -> Any:
    return running_relay(spool_path, {"site": ("wisepops", KEY)}, port=port)


def test_collected_contacts_reach_the_hook_signed_without_spending_calls(
    sandbox: SandboxClient, tmp_path: Path
) -> None:
    with relay_for(tmp_path / "spool.db") as relay:
        register(sandbox, relay.hook_url("wisepops", "site"))
        used = sandbox.records("wisepops", "usage")["used"]
        collected = sandbox.action("wisepops", "collect", contacts=25, wisepop_id=12345)
        stats = settled(sandbox)
    wanted = expected(collected["contacts"])
    assert stats["delivered"] == stats["posts"] == -(-len(wanted) // 10)  # 10 contacts a POST
    # The relay accepted them, so each POST carried a good signature.
    assert stored(tmp_path / "spool.db") == wanted
    assert sandbox.records("wisepops", "usage")["used"] == used


def test_a_receiver_down_gets_the_delivery_on_a_retry(
    sandbox: SandboxClient, tmp_path: Path
) -> None:
    port = free_port()
    register(sandbox, f"http://127.0.0.1:{port}/hooks/wisepops/site")
    collected = sandbox.action("wisepops", "collect", contacts=5, wisepop_id=12345)
    time.sleep(1.0)  # the first tries meet a closed port
    with relay_for(tmp_path / "spool.db", port=port):
        stats = settled(sandbox)
    assert stats["failed_attempts"] >= 1
    assert stats["delivered"] == stats["posts"]
    assert stored(tmp_path / "spool.db") == expected(collected["contacts"])


def test_duplicate_deliveries_are_sent_and_stored_once(
    sandbox: SandboxClient, tmp_path: Path
) -> None:
    sandbox.settings("wisepops", hook_duplicate_rate=1.0, hook_batch_size=1)
    with relay_for(tmp_path / "spool.db") as relay:
        register(sandbox, relay.hook_url("wisepops", "site"))
        collected = sandbox.action("wisepops", "collect", contacts=6, wisepop_id=12345)
        stats = settled(sandbox)
        metrics = relay.metrics()
    wanted = expected(collected["contacts"])
    assert stats["duplicates"] == stats["posts"] == len(wanted)
    assert f'lead_relay_deliveries_duplicate_total{{source="site"}} {len(wanted)}' in metrics
    assert stored(tmp_path / "spool.db") == wanted


def test_a_hook_gets_only_contacts_of_its_event(sandbox: SandboxClient, tmp_path: Path) -> None:
    with relay_for(tmp_path / "spool.db") as relay:
        register(sandbox, relay.hook_url("wisepops", "site"), event="phone")
        # "Live Wisepop" asks for an email only; "SMS club" for a mobile number.
        sandbox.action("wisepops", "collect", contacts=2, wisepop_id=12345)
        with_phone = sandbox.action("wisepops", "collect", contacts=2, wisepop_id=45678)
        settled(sandbox)
    assert stored(tmp_path / "spool.db") == expected(with_phone["contacts"], "mobile")


def test_the_seeded_hooks_on_example_domains_are_never_called(sandbox: SandboxClient) -> None:
    sandbox.action("wisepops", "collect", contacts=2, wisepop_id=12345)
    stats = settled(sandbox)
    assert stats["posts"] == 0
    assert stats["skipped"] == 1
