"""Requests per 1,000 contacts and records/s of tap-ghl reading 50,000 contacts in one run.

Run: `.venv/bin/python -m benchmarks.tap_ghl [--contacts 50000] [--window-ms 1000]`.
The sandbox runs in its own process at zero latency, with GHL's burst limit scaled from 100
requests per 10 s to 100 per `--window-ms` (default 1 s, ten times GHL's pace): at GHL's own
pace the run could not beat 10 requests a second whatever the tap did, so the scaled rate
shows the tap's and the sandbox's own cost while still pacing from the headers. Only the
`contacts` stream (and the custom-field definitions it needs) is selected, the CLI's output
goes to /dev/null, and requests are read from the sandbox's counters.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sandbox.control import DEMO_KEYS, running_sandbox

SEARCH_ROUTE = "POST /contacts/search"
CATALOG_STREAMS = ("contacts", "custom_fields")


def catalog(folder: Path) -> Path:
    """The tap's discovered catalog with only `contacts` selected."""
    config = folder / "config.json"
    found = subprocess.run(
        [str(Path(sys.executable).parent / "tap-ghl"), "--config", str(config), "--discover"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    data = json.loads(found)
    for stream in data["streams"]:
        selected = stream["tap_stream_id"] == "contacts"
        for entry in stream["metadata"]:
            if entry["breadcrumb"] == []:
                entry["metadata"]["selected"] = selected
    path = folder / "catalog.json"
    path.write_text(json.dumps(data))
    return path


def main() -> None:
    """Seed, run the CLI once, print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=50_000)
    parser.add_argument("--window-ms", type=int, default=1000)
    args = parser.parse_args()
    now = datetime.now(timezone.utc)
    with running_sandbox() as sandbox, tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        sandbox.settings("ghl", rate_limit_window_ms=args.window_ms)
        sandbox.action(
            "ghl",
            "seed_contacts",
            count=args.contacts,
            start=(now - timedelta(days=30)).isoformat(),
            end=(now - timedelta(hours=1)).isoformat(),
        )
        config = {
            "access_token": DEMO_KEYS["ghl"],
            "location_id": DEMO_KEYS["ghl_location"],
            "api_url": sandbox.api_url("ghl"),
        }
        (folder / "config.json").write_text(json.dumps(config))
        catalog_path = catalog(folder)
        before = sandbox.counters("ghl")
        command = [
            str(Path(sys.executable).parent / "tap-ghl"),
            "--config",
            str(folder / "config.json"),
            "--catalog",
            str(catalog_path),
        ]
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        elapsed = time.perf_counter() - start
        after = sandbox.counters("ghl")
    requests = after["requests"] - before["requests"]
    searches = after["by_route"].get(SEARCH_ROUTE, 0) - before["by_route"].get(SEARCH_ROUTE, 0)
    throttled = after["by_status"].get("429", 0) - before["by_status"].get("429", 0)
    per_thousand = requests / (args.contacts / 1000)
    print(
        f"{args.contacts} contacts, pageLimit 500, burst limit 100 per {args.window_ms} ms, "
        "one CLI run\n"
    )
    print(
        "| requests | of which searches | 429s | requests / 1,000 contacts | seconds | records/s |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {requests} | {searches} | {throttled} | {per_thousand:.2f} | {elapsed:.2f} "
        f"| {args.contacts / elapsed:,.0f} |"
    )


if __name__ == "__main__":
    main()
