"""SIGKILL of the relay mid-delivery: every item it acknowledged is in the spool, once."""

from __future__ import annotations

import threading
from pathlib import Path

import requests

from leadkit.spool import content_key, open_spool
from tests.relay.harness import SECRET, SOURCE, contact, deliver
from tests.relay.running import RelayProcess, running_relay, start_relay

SENDERS = 8
DELIVERIES_PER_SENDER = 60
CONTACTS_PER_DELIVERY = 5
#: Acknowledged deliveries before the kill: the rest are in flight or not sent yet.
KILL_AFTER = 120


def batches() -> list[list[dict[str, object]]]:
    """Every delivery the senders make, disjoint contacts."""
    total = SENDERS * DELIVERIES_PER_SENDER
    return [
        [contact(n * CONTACTS_PER_DELIVERY + i) for i in range(CONTACTS_PER_DELIVERY)]
        for n in range(total)
    ]


def test_a_killed_relay_loses_nothing_it_acknowledged(tmp_path: Path) -> None:
    spool_path = tmp_path / "spool.db"
    relay = start_relay(spool_path, {SOURCE: ("wisepops", SECRET)})
    deliveries = batches()
    acknowledged: list[list[dict[str, object]]] = []
    lock = threading.Lock()
    enough = threading.Event()

    def sender(number: int) -> None:
        for batch in deliveries[number::SENDERS]:
            try:
                response = deliver(relay, batch)
            except requests.RequestException:
                return  # the relay died under this request
            if response.status_code == 200:
                with lock:
                    acknowledged.append(batch)
                    if len(acknowledged) >= KILL_AFTER:
                        enough.set()

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(SENDERS)]
    for thread in threads:
        thread.start()
    enough.wait(timeout=120)
    relay.process.kill()
    relay.process.wait()
    for thread in threads:
        thread.join(timeout=60)

    with open_spool(str(spool_path)) as spool:
        stored = {entry.key for entry in spool.read(SOURCE, after=0, limit=100_000)}
    acked = {content_key(item) for batch in acknowledged for item in batch}
    assert len(acknowledged) >= KILL_AFTER
    assert acked - stored == set()
    # Not every delivery got through before the kill: the test did kill mid-stream.
    assert len(stored) < len(deliveries) * CONTACTS_PER_DELIVERY

    # The vendor retries what was not acknowledged: after a restart everything is there once.
    with running_relay(spool_path, {SOURCE: ("wisepops", SECRET)}) as restarted:
        for batch in deliveries:
            assert deliver(restarted, batch).status_code == 200
        assert_stored_once(restarted, spool_path, len(deliveries) * CONTACTS_PER_DELIVERY)


def assert_stored_once(relay: RelayProcess, spool_path: Path, expected: int) -> None:
    with open_spool(str(spool_path)) as spool:
        entries = spool.read(SOURCE, after=0, limit=100_000)
    assert len(entries) == expected
    assert len({entry.key for entry in entries}) == expected
