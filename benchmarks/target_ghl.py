"""target-ghl throughput against the sandbox at a scaled-up GHL rate limit.

Run: `.venv/bin/python -m benchmarks.target_ghl [--contacts 2000] [--serial-contacts 2000]`.
GHL allows 100 requests per 10 s; the sandbox is set to 100 per 1 s with 150 ms latency so
the run is ten times shorter while pacing and concurrency face the same rate x latency
problem. The target runs in this process with its default settings (only credentials, URL
and ledger path given); a second run with `max_concurrency=1` gives the ratio.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from sandbox.control import DEMO_KEYS, SandboxClient, running_sandbox
from target_ghl.target import TargetGHL

RATE_MAX = 100
RATE_WINDOW_MS = 1000
LATENCY_MS = 150


def _lines(count: int) -> str:
    schema = {
        "type": "object",
        "properties": {
            "email": {"type": "string"},
            "firstName": {"type": "string"},
            "phone": {"type": "string"},
        },
    }
    lines: list[dict[str, Any]] = [{"type": "SCHEMA", "stream": "bench", "schema": schema}]
    for n in range(count):
        record = {"email": f"bench{n}@example.com", "firstName": f"B{n}"}
        record["phone"] = f"+1415555{n % 10_000:04d}"
        lines.append({"type": "RECORD", "stream": "bench", "record": record})
    lines.append({"type": "STATE", "value": {"done": count}})
    return "\n".join(json.dumps(line) for line in lines) + "\n"


def _run(sandbox: SandboxClient, count: int, folder: Path, **settings: Any) -> dict[str, float]:
    sandbox.reset()
    sandbox.settings("ghl", rate_limit_max=RATE_MAX, rate_limit_window_ms=RATE_WINDOW_MS)
    sandbox.latency("ghl", LATENCY_MS)
    config = {
        "access_token": DEMO_KEYS["ghl"],
        "location_id": DEMO_KEYS["ghl_location"],
        "api_url": sandbox.api_url("ghl"),
        "ledger_path": str(folder / f"ledger-{time.monotonic_ns()}.sqlite"),
        **settings,
    }
    lines = _lines(count)
    target = TargetGHL(config=config)
    samples: list[tuple[float, int]] = []
    finished = threading.Event()

    def sample() -> None:
        # The sandbox's own request count once a second: the steady-state rate excludes
        # the first and last tenth of the run (start-up and the final drain).
        while not finished.wait(1.0):
            samples.append((time.perf_counter(), sandbox.counters("ghl")["requests"]))

    sampler = threading.Thread(target=sample, daemon=True)
    started = time.perf_counter()
    sampler.start()
    with contextlib.redirect_stdout(io.StringIO()):
        target.listen(io.StringIO(lines))
    elapsed = time.perf_counter() - started
    finished.set()
    sampler.join()
    counters = sandbox.counters("ghl")
    requests = counters["requests"]
    throttled = counters["by_status"].get("429", 0)
    contacts = len(sandbox.records("ghl", "contacts"))
    rate = requests / elapsed
    allowed = RATE_MAX * 1000 / RATE_WINDOW_MS
    middle = [(t, n) for t, n in samples if started + elapsed * 0.1 <= t <= started + elapsed * 0.9]
    steady = (
        (middle[-1][1] - middle[0][1]) / (middle[-1][0] - middle[0][0])
        if len(middle) >= 2
        else rate
    )
    return {
        "contacts": contacts,
        "requests": requests,
        "seconds": round(elapsed, 2),
        "requests_per_s": round(rate, 2),
        "of_allowed_rate": round(rate / allowed, 3),
        "steady_requests_per_s": round(steady, 2),
        "steady_of_allowed_rate": round(steady / allowed, 3),
        "throttled": throttled,
        "throttled_share": round(throttled / requests, 4) if requests else 0.0,
    }


def main() -> None:
    """Run both configurations and print one JSON line each, then the ratio."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=2000)
    parser.add_argument("--serial-contacts", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, running_sandbox() as sandbox:
        folder = Path(tmp)
        default = _run(sandbox, args.contacts, folder)
        print("default settings:", json.dumps(default), flush=True)
        serial = _run(sandbox, args.serial_contacts, folder, max_concurrency=1)
        print("max_concurrency=1:", json.dumps(serial), flush=True)
    ratio = default["requests_per_s"] / serial["requests_per_s"]
    print(f"throughput ratio default / max_concurrency=1: {ratio:.2f}")


if __name__ == "__main__":
    main()
