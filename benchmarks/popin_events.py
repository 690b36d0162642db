"""Popin events through the relay: seconds from an event to its spool entry, and tap-popin's
read rate.

Run: `.venv/bin/python -m benchmarks.popin_events [--events 1000] [--rate 50]`.
A sandbox and a relay run in processes of their own. The sandbox's Popin captures 100 people,
then sends `--events` simulated call events at a steady `--rate` per second (duplicates at its
default 5 %). Each event's latency runs from the moment the control action that makes it
is sent to the `received_at` the relay stored with it. Then `tap-popin` reads the spool as its
console script, its records counted on stdout.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import requests

from leadkit.spool import content_key, open_spool
from sandbox.control import DEMO_KEYS, SandboxClient, running_sandbox
from tests.relay.running import running_relay

SOURCE = "popin"
HOOK_KEY = "benchmark-hook-key"
PEOPLE = 100
CALL_EVENTS = ("popin_call_successful", "popin_call_missed", "popin_call_abandoned")


def capture_people(sandbox: SandboxClient) -> list[str]:
    """Capture PEOPLE customers through the API; their customer_ids."""
    session = requests.Session()
    session.headers.update(
        {"X-API-KEY": DEMO_KEYS["popin_api_key"], "X-TOKEN": DEMO_KEYS["popin_token"]}
    )
    ids = []
    for n in range(PEOPLE):
        answer = session.post(
            sandbox.api_url("popin") + "/capture",
            json={"name": f"Bench {n}", "mobile": f"98765{n:05d}", "country": "91"},
            timeout=30,
        ).json()
        ids.append(answer["customer_id"])
    return ids


def send_events(
    sandbox: SandboxClient, ids: list[str], events: int, rate: float
) -> dict[str, float]:
    """Simulate `events` calls at `rate` per second; content key -> when each was sent."""
    sent: dict[str, float] = {}
    start = time.monotonic()
    for n in range(events):
        due = start + n / rate
        time.sleep(max(0.0, due - time.monotonic()))
        # Taken before the request: the latency includes the control call that makes the event.
        before = datetime.now(timezone.utc).timestamp()
        payload = sandbox.action(
            "popin",
            "simulate_call",
            customer_id=ids[n % len(ids)],
            event=CALL_EVENTS[n % len(CALL_EVENTS)],
            duration=n % 600,
        )
        sent[content_key(payload)] = before
    return sent


def stored_times(spool: Path, keys: set[str], timeout: float = 120) -> dict[str, float]:
    """When the relay stored each key, once all are there (or the timeout passed)."""
    deadline = time.monotonic() + timeout
    found: dict[str, float] = {}
    while time.monotonic() < deadline:
        with open_spool(str(spool)) as store:
            for entry in store.read(SOURCE, 0, 1_000_000):
                if entry.key in keys:
                    stamp = entry.received_at.replace("Z", "+00:00")
                    found[entry.key] = datetime.fromisoformat(stamp).timestamp()
        if len(found) == len(keys):
            break
        time.sleep(0.2)
    return found


def read_with_tap(spool: Path, folder: Path) -> tuple[int, float]:
    """tap-popin over the whole spool: (records, seconds)."""
    config = folder / "tap.json"
    config.write_text(json.dumps({"webhook_spool": str(spool), "webhook_source": SOURCE}))
    tap = Path(sys.executable).parent / "tap-popin"
    start = time.perf_counter()
    result = subprocess.run([str(tap), "--config", str(config)], capture_output=True, check=True)
    elapsed = time.perf_counter() - start
    return result.stdout.count(b'"type":"RECORD"'), elapsed


def percentile(values: list[float], share: float) -> float:
    """The `share` quantile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def measure(events: int, rate: float) -> dict[str, Any]:
    """One run: latencies, deliveries, spool entries and the tap's read rate."""
    with tempfile.TemporaryDirectory() as tmp, running_sandbox() as sandbox:
        folder = Path(tmp)
        spool = folder / "spool.sqlite"
        with (
            (folder / "relay.log").open("wb") as log,
            running_relay(spool, {SOURCE: ("popin", HOOK_KEY)}, log=log) as relay,
        ):
            sandbox.settings(
                "popin", webhook_url=relay.hook_url("popin", SOURCE), webhook_api_key=HOOK_KEY
            )
            ids = capture_people(sandbox)
            sent = send_events(sandbox, ids, events, rate)
            stored = stored_times(spool, set(sent))
            deliveries = sandbox.records("popin", "deliveries")
        latencies = [stored[key] - sent[key] for key in sent if key in stored]
        with open_spool(str(spool)) as store:
            entries = len(store.read(SOURCE, 0, 1_000_000))
        records, seconds = read_with_tap(spool, folder)
    return {
        "events": events,
        "rate": rate,
        "stored": len(latencies),
        "p50": statistics.median(latencies),
        "p95": percentile(latencies, 0.95),
        "max": max(latencies),
        "deliveries": deliveries,
        "spool_entries": entries,
        "tap_records": records,
        "tap_seconds": seconds,
    }


def main() -> None:
    """Print the figures of one run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=50.0)
    args = parser.parse_args()
    result = measure(args.events, args.rate)
    print(
        f"{result['stored']}/{result['events']} call events stored at {result['rate']:g}/s: "
        f"p50 {result['p50'] * 1000:.0f} ms, p95 {result['p95'] * 1000:.0f} ms, "
        f"max {result['max'] * 1000:.0f} ms from the event to its spool entry"
    )
    print(f"sandbox deliveries: {result['deliveries']}; spool entries: {result['spool_entries']}")
    print(
        f"tap-popin: {result['tap_records']} records in {result['tap_seconds']:.2f} s "
        f"({result['tap_records'] / result['tap_seconds']:.0f} records/s, start-up included)"
    )


if __name__ == "__main__":
    main()
