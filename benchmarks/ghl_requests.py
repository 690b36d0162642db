"""target-ghl requests per written contact, notes aside, against the sandbox.

Run: `.venv/bin/python -m benchmarks.ghl_requests [--contacts 1000]`.
GHL writes contacts at 10 / (requests per contact) per second, so this is the figure to keep
near 1. Records are shaped like the demo's Popl leads (`popl_leads`: names, phone, company,
website, source, one of three tag sets, a note on a quarter of them). The target runs in this
process with its default settings (only credentials, URL and ledger path given); the sandbox's
rate is scaled as in benchmarks/target_ghl.py (100 per 1 s, 150 ms latency). Three runs share
one ledger: new contacts; the same people back with the same tags and a changed company; the
same input again. A fourth sends that input with a new ledger, so only the upserts' answers
tell the target which tags the contacts hold (and the notes are posted again: notes aside).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from sandbox.control import DEMO_KEYS, SandboxClient, running_sandbox
from target_ghl.target import TargetGHL

RATE_MAX = 100
RATE_WINDOW_MS = 1000
LATENCY_MS = 150
STREAM = "popl_leads"
#: Capture method, campaign and event, as the demo's popl-to-ghl mapping builds them.
TAG_SETS = (
    ["popl", "popl-scan", "campaign-101", "ces 2025"],
    ["popl", "popl-card", "campaign-102", "saastr annual 2025"],
    ["popl", "popl-form", "campaign-103", "web summit lisbon 2025"],
)
SCHEMA = {
    "type": "object",
    "properties": {
        name: {"type": ["string", "null"]}
        for name in (
            "leadId",
            "firstName",
            "lastName",
            "email",
            "phone",
            "companyName",
            "website",
            "source",
            "notes",
        )
    }
    | {"tags": {"type": ["array", "null"], "items": {"type": "string"}}},
}


def _lead(n: int, company: str) -> dict[str, Any]:
    record: dict[str, Any] = {
        "leadId": str(n),
        "firstName": f"Lead{n}",
        "lastName": "Bench",
        "email": f"lead{n}@example.com",
        "phone": f"+1415555{n % 10_000:04d}",
        "companyName": company,
        "website": "https://example.com",
        "source": "Popl",
        "tags": TAG_SETS[n % len(TAG_SETS)],
    }
    if n % 4 == 0:
        record["notes"] = f"Met at the booth, asked about pricing ({n})"
    return record


def _lines(count: int, company: str) -> str:
    lines: list[dict[str, Any]] = [
        {"type": "SCHEMA", "stream": STREAM, "schema": SCHEMA, "key_properties": ["leadId"]}
    ]
    lines += [
        {"type": "RECORD", "stream": STREAM, "record": _lead(n, company)} for n in range(count)
    ]
    lines.append({"type": "STATE", "value": {"done": count}})
    return "\n".join(json.dumps(line) for line in lines) + "\n"


def _run(sandbox: SandboxClient, lines: str, ledger: Path) -> dict[str, Any]:
    before = sandbox.counters("ghl")["by_route"]
    config = {
        "access_token": DEMO_KEYS["ghl"],
        "location_id": DEMO_KEYS["ghl_location"],
        "api_url": sandbox.api_url("ghl"),
        "ledger_path": str(ledger),
    }
    target = TargetGHL(config=config)
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        target.listen(io.StringIO(lines))
    elapsed = time.perf_counter() - started
    after = sandbox.counters("ghl")["by_route"]
    sent = {route: after[route] - before.get(route, 0) for route in after}
    notes = sum(n for route, n in sent.items() if route.endswith("/notes"))
    tags_bulk = sum(n for route, n in sent.items() if "/bulk/tags/" in route)
    tags_single = sum(n for route, n in sent.items() if route.endswith("/tags"))
    requests = sum(sent.values()) - notes
    summary = target.writer_run.summary
    written = sum(summary.get(STREAM, o) for o in ("created", "updated", "tagged_only"))
    return {
        "written": written,
        "unchanged": summary.get(STREAM, "unchanged"),
        "requests_notes_aside": requests,
        "requests_per_written_contact": round(requests / written, 3) if written else None,
        "bulk_tag_requests": tags_bulk,
        "single_tag_requests": tags_single,
        "note_requests": notes,
        "seconds": round(elapsed, 2),
    }


def main() -> None:
    """Print one JSON line per run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, running_sandbox() as sandbox:
        sandbox.reset()
        sandbox.settings("ghl", rate_limit_max=RATE_MAX, rate_limit_window_ms=RATE_WINDOW_MS)
        sandbox.latency("ghl", LATENCY_MS)
        ledger = Path(tmp) / "ledger.sqlite"
        changed = _lines(args.contacts, "Acme Corp")
        runs = (
            ("new contacts", _lines(args.contacts, "Acme"), ledger),
            ("known contacts, same tags, company changed", changed, ledger),
            ("the same input again", changed, ledger),
            ("known contacts, same tags, a new ledger", changed, Path(tmp) / "new.sqlite"),
        )
        for label, lines, path in runs:
            print(f"{label}:", json.dumps(_run(sandbox, lines, path)), flush=True)


if __name__ == "__main__":
    main()
