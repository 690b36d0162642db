"""tap-popl throughput: 100k leads at zero latency, records/s to /dev/null and requests used.

Run: `.venv/bin/python -m benchmarks.tap_popl [--leads 100000] [--page-size 100]`.
The sandbox runs in its own process; the tap runs as its console script with its output
sent to /dev/null, so the figure includes start-up and the writing of every message.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sandbox.control import DEMO_KEYS, running_sandbox
from sandbox.popl import TEAM_ID

RECORD_COUNT = re.compile(r'"metric":\s*"record_count",\s*"value":\s*(\d+)')


def measure(leads: int, page_size: int) -> dict[str, float]:
    """One run against a fresh sandbox holding exactly `leads` leads."""
    with running_sandbox() as sandbox, tempfile.TemporaryDirectory() as tmp:
        sandbox.settings("popl", page_size=page_size)
        sandbox.seed("popl", replace=True, count=leads, interval_seconds=0.5, tie_every=7)
        config = Path(tmp) / "config.json"
        config.write_text(
            json.dumps(
                {
                    "api_key": DEMO_KEYS["popl"],
                    "api_url": sandbox.api_url("popl"),
                    "team_id": TEAM_ID,
                }
            )
        )
        tap = Path(sys.executable).parent / "tap-popl"
        start = time.perf_counter()
        result = subprocess.run(
            [str(tap), "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            check=True,
        )
        elapsed = time.perf_counter() - start
        match = RECORD_COUNT.search(result.stderr)
        records = int(match.group(1)) if match else 0
        requests_used = sandbox.counters("popl")["requests"]
    return {
        "leads": leads,
        "page_size": page_size,
        "records": records,
        "seconds": elapsed,
        "records_per_second": records / elapsed,
        "requests": requests_used,
    }


def main() -> None:
    """Measure and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=100)
    args = parser.parse_args()
    figures = measure(args.leads, args.page_size)
    print(
        f"{figures['records']:.0f} records in {figures['seconds']:.1f} s = "
        f"{figures['records_per_second']:.0f} records/s; "
        f"{figures['requests']:.0f} requests (page size {figures['page_size']:.0f})"
    )
    if figures["records"] != args.leads:
        raise SystemExit(f"expected {args.leads} records, the tap reported {figures['records']}")


if __name__ == "__main__":
    main()
