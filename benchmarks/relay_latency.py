"""Seconds from a Wisepops collection to the GHL contact, through the relay in follow mode.

Run: `.venv/bin/python -m benchmarks.relay_latency [--contacts 1000] [--rate 10]`
(after `make meltano`). One sandbox, one `lead-relay serve`, the relay's URL registered as a
hook, then `meltano run follow-wisepops-to-ghl` (tap-wisepops-follow, the wisepops-to-ghl
mapping, target-ghl-follow) left running while the sandbox collects contacts at a steady rate
and delivers them as signed hooks (retries, 5% duplicates: its defaults). Each contact has an
email of its own, so each is one new GHL contact; its latency is the GHL contact's `dateAdded`
minus the contact's `collected_at`. The Wisepops API calls of the live path are the calls the
sandbox counted from the first collection to the last GHL contact (registering the hook is
setup). The sandbox's GHL allows 100 requests a second (GHL: 100 per 10 s), as in `make demo`:
at 10 contacts a second GHL's own limit, not the pipeline, would set the pace.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from sandbox.control import DEMO_KEYS, SandboxClient, running_sandbox
from tap_wisepops.hooks import HooksClient
from tests.relay.running import running_relay

ROOT = Path(__file__).resolve().parents[1]
MELTANO = ROOT / ".venv" / "meltano" / "bin" / "meltano"
SOURCE = "wisepops"
#: "Demo request": a form with an email, names and a phone.
POPUP = 34567


def instant(value: str) -> float:
    """Epoch seconds of an ISO-8601 instant ending in Z."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def meltano_env(sandbox: SandboxClient, home: Path, spool: Path) -> dict[str, str]:
    """The sandbox environment, with state, logs and the spool under `home`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_", "TARGET_"))}
    env.update(
        {
            "MELTANO_ENVIRONMENT": "sandbox",
            "MELTANO_STATE_BACKEND_URI": (home / "state").as_uri(),
            "MELTANO_DATABASE_URI": f"sqlite:///{home / 'meltano.db'}",
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "NO_COLOR": "1",
            "TAP_WISEPOPS_API_URL": sandbox.api_url("wisepops"),
            "TAP_WISEPOPS_FOLLOW_WEBHOOK_SPOOL": str(spool),
            "TARGET_GHL_API_URL": sandbox.api_url("ghl"),
            "TARGET_GHL_LEDGER_PATH": str(home / "ledger.sqlite"),
            "TARGET_GHL_REJECT_FILE": str(home / "rejects.jsonl"),
        }
    )
    return env


def collect(sandbox: SandboxClient, index: int) -> dict[str, Any]:
    """One contact submitted now, with an email no other contact has."""
    fields = {
        "Email address": f"relay-bench-{index:05d}@leads.example.org",
        "First name": "Bench",
        "Last name": f"Lead {index}",
    }
    result = sandbox.action("wisepops", "collect", contacts=1, wisepop_id=POPUP, fields=fields)
    return dict(result["contacts"][0])


def ghl_added(sandbox: SandboxClient) -> dict[str, float]:
    """Email -> when GHL created the contact."""
    return {
        str(c["email"]).lower(): instant(c["dateAdded"])
        for c in sandbox.records("ghl", "contacts")
        if c.get("email")
    }


def wait_for(sandbox: SandboxClient, emails: set[str], timeout: float) -> dict[str, float]:
    """GHL's creation times once every email is there (or at the timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        added = ghl_added(sandbox)
        if emails <= set(added) or time.monotonic() > deadline:
            return added
        time.sleep(0.5)


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def main() -> None:
    """One run: print p50, p95, max, the API calls spent and how the pipeline stopped."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=10.0, help="collections per second")
    args = parser.parse_args()
    key = DEMO_KEYS["wisepops"]
    with tempfile.TemporaryDirectory() as folder, running_sandbox() as sandbox:
        home = Path(folder)
        spool = home / "relay-spool.sqlite"
        sandbox.settings("ghl", rate_limit_window_ms=1000)
        with running_relay(spool, {SOURCE: ("wisepops", key)}) as relay:
            hooks = HooksClient(key, sandbox.api_url("wisepops"))
            hooks.register(relay.hook_url("wisepops", SOURCE), ("email", "phone"), None)
            log = (home / "meltano.log").open("wb")
            pipeline = subprocess.Popen(
                [str(MELTANO), "run", "follow-wisepops-to-ghl"],
                cwd=ROOT,
                env=meltano_env(sandbox, home, spool),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                # A first contact, not measured: the pipeline is up once it reached GHL.
                warm = collect(sandbox, 0)
                warm_email = warm["fields"]["Email address"]
                wait_for(sandbox, {warm_email}, timeout=180)
                calls_before = sandbox.records("wisepops", "usage")["used"]
                started = time.monotonic()
                collected = []
                for index in range(1, args.contacts + 1):
                    due = started + (index - 1) / args.rate
                    time.sleep(max(0.0, due - time.monotonic()))
                    collected.append(collect(sandbox, index))
                spent = time.monotonic() - started
                emails = {c["fields"]["Email address"] for c in collected}
                added = wait_for(sandbox, emails, timeout=300)
                calls = sandbox.records("wisepops", "usage")["used"] - calls_before
                deliveries = sandbox.records("wisepops", "deliveries")
            finally:
                os.killpg(pipeline.pid, signal.SIGTERM)
                try:
                    code = pipeline.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    os.killpg(pipeline.pid, signal.SIGKILL)
                    code = pipeline.wait()
                log.close()
            metrics = relay.metrics()
    latencies = [
        added[c["fields"]["Email address"]] - instant(c["collected_at"])
        for c in collected
        if c["fields"]["Email address"] in added
    ]
    duplicates = [line for line in metrics.splitlines() if "items_duplicate_total{" in line]
    print(f"contacts collected: {len(collected)} in {spent:.1f} s ({len(collected) / spent:.1f}/s)")
    print(f"reached GHL: {len(latencies)}")
    print(f"p50: {statistics.median(latencies):.2f} s")
    print(f"p95: {percentile(latencies, 0.95):.2f} s")
    print(f"max: {max(latencies):.2f} s")
    print(f"Wisepops API calls spent by the live path: {calls}")
    print(f"hook POSTs: {deliveries['posts']}, duplicates sent: {deliveries['duplicates']}")
    print(f"relay: {'; '.join(duplicates) or 'no duplicates'}")
    print(f"meltano run exit code after SIGTERM: {code}")


if __name__ == "__main__":
    main()
