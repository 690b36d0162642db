"""Throughput under injected faults, per target, with default settings.

Run: `.venv/bin/python -m benchmarks.faults [--ghl-records 2000] [--popin-records 1000]`.
Each target runs twice in this process against one sandbox: without faults, then with 10% of
requests failing (target-ghl: 502, 503 or a dropped connection; target-popin: 429 with
Retry-After, 500, 502, 503 or a dropped connection). The figure is the faulty run's
throughput (records settled per second) divided by the fault-free run's. Only credentials,
URL and the ledger path are given: every timeout, retry bound and backoff is the default.
The sandbox answers after 150 ms; GHL's rate limit is scaled from 100 per 10 s to 100 per
1 s (as in benchmarks/target_ghl.py) so that a run lasts seconds, not minutes.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sandbox.control import DEMO_KEYS, SandboxClient, running_sandbox
from target_ghl.target import TargetGHL
from target_popin.target import TargetPopin

FAULT_RATE = 0.1
GHL_FAULTS = ["502", "503", "drop"]
POPIN_FAULTS = ["429", "500", "502", "503", "drop"]
LATENCY_MS = 150
GHL_RATE_MAX = 100
GHL_RATE_WINDOW_MS = 1000
SEED = 2026


def _lines(stream: str, records: list[dict[str, Any]]) -> str:
    schema = {"type": "object", "properties": {}}
    lines: list[dict[str, Any]] = [{"type": "SCHEMA", "stream": stream, "schema": schema}]
    lines += [{"type": "RECORD", "stream": stream, "record": r} for r in records]
    lines.append({"type": "STATE", "value": {"done": len(records)}})
    return "\n".join(json.dumps(line) for line in lines) + "\n"


def _listen(target: TargetGHL | TargetPopin, lines: str) -> float:
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        target.listen(io.StringIO(lines))
    return time.perf_counter() - started


def _prepare(sandbox: SandboxClient, api: str, faults: list[str] | None) -> None:
    sandbox.reset()
    sandbox.latency(api, LATENCY_MS)
    if faults:
        sandbox.faults(api, rate=FAULT_RATE, kinds=faults, seed=SEED)


def _ghl(sandbox: SandboxClient, count: int, folder: Path, faults: list[str] | None) -> dict:
    _prepare(sandbox, "ghl", faults)
    sandbox.settings("ghl", rate_limit_max=GHL_RATE_MAX, rate_limit_window_ms=GHL_RATE_WINDOW_MS)
    config = {
        "access_token": DEMO_KEYS["ghl"],
        "location_id": DEMO_KEYS["ghl_location"],
        "api_url": sandbox.api_url("ghl"),
        "ledger_path": str(folder / f"ghl-{time.monotonic_ns()}.sqlite"),
    }
    records = [{"email": f"bench{n}@example.com", "notes": f"Note {n}"} for n in range(count)]
    target = TargetGHL(config=config)
    seconds = _listen(target, _lines("bench", records))
    held = sandbox.records("ghl", "contacts")
    notes = Counter(note["body"] for contact in held for note in contact["notes"])
    summary = target.writer_run.summary
    return {
        **_figures(sandbox, "ghl", count, seconds, sum(summary.rejected("bench").values())),
        "contacts_held": len(held),
        "notes_held": sum(notes.values()),
        "notes_doubled": sum(1 for n in notes.values() if n > 1),
        "created": summary.get("bench", "created"),
        "updated": summary.get("bench", "updated"),
    }


def _popin(sandbox: SandboxClient, count: int, folder: Path, faults: list[str] | None) -> dict:
    _prepare(sandbox, "popin", faults)
    config = {
        "api_key": DEMO_KEYS["popin_api_key"],
        "seller_token": DEMO_KEYS["popin_token"],
        "api_url": sandbox.api_url("popin"),
        "ledger_path": str(folder / f"popin-{time.monotonic_ns()}.sqlite"),
    }
    records = [
        {"name": f"Lead {n}", "mobile": f"+9198{n:08d}", "email": f"lead{n}@example.com"}
        for n in range(count)
    ]
    target = TargetPopin(config=config)
    seconds = _listen(target, _lines("bench", records))
    rejected = sum(target.writer_run.summary.rejected("bench").values())
    return {
        **_figures(sandbox, "popin", count, seconds, rejected),
        "customers_held": len(sandbox.records("popin", "customers")),
    }


def _figures(sandbox: SandboxClient, api: str, count: int, seconds: float, rejected: int) -> dict:
    counters = sandbox.counters(api)
    return {
        "records": count,
        "rejected": rejected,
        "seconds": round(seconds, 2),
        "records_per_s": round(count / seconds, 2),
        "written_per_s": round((count - rejected) / seconds, 2),
        "requests": counters["requests"],
        "faults": dict(counters["faults"]),
    }


def main() -> None:
    """Both targets, both runs each; one JSON line per run, then the ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ghl-records", type=int, default=2000)
    parser.add_argument("--popin-records", type=int, default=1000)
    args = parser.parse_args()
    ratios = {}
    with tempfile.TemporaryDirectory() as tmp, running_sandbox() as sandbox:
        folder = Path(tmp)
        for name, run, count, faults in (
            ("target-ghl", _ghl, args.ghl_records, GHL_FAULTS),
            ("target-popin", _popin, args.popin_records, POPIN_FAULTS),
        ):
            clean = run(sandbox, count, folder, None)
            print(f"{name} without faults:", json.dumps(clean), flush=True)
            faulty = run(sandbox, count, folder, faults)
            print(f"{name} with 10% {'/'.join(faults)}:", json.dumps(faulty), flush=True)
            ratios[name] = faulty["records_per_s"] / clean["records_per_s"]
    for name, ratio in ratios.items():
        print(f"{name}: throughput with faults / without = {ratio:.2f}")
    print("load average (1, 5, 15 min):", " ".join(f"{n:.2f}" for n in os.getloadavg()))


if __name__ == "__main__":
    main()
