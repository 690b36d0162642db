"""The relay pipeline under Meltano: `follow-wisepops-to-ghl` brings hook deliveries to GHL
while it runs, and stops cleanly on SIGTERM with its bookmark saved."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

from leadkit.spooled import SPOOL_SEQS
from sandbox.control import DEMO_KEYS, SandboxClient
from tap_wisepops.hooks import HooksClient
from tests.e2e.harness import MeltanoProject
from tests.relay.running import running_relay

KEY = DEMO_KEYS["wisepops"]
#: "Demo request": every contact gives an email, names and a phone.
POPUP = 34567
FOLLOW_STATE_ID = "sandbox:tap-wisepops-follow-to-target-ghl-follow"


def ghl_emails(sandbox: SandboxClient) -> list[str]:
    """Emails of the GHL contacts (a duplicate would show twice)."""
    return [str(c["email"]).lower() for c in sandbox.records("ghl", "contacts") if c.get("email")]


def saved_state(meltano: MeltanoProject) -> dict[str, Any]:
    """The Singer state the file state backend holds for the follow pipeline."""
    path = meltano.home / "state" / FOLLOW_STATE_ID / "state.json"
    return dict(json.loads(path.read_text())["completed"]["singer_state"])


def test_follow_brings_deliveries_within_the_run_and_stops_cleanly_on_sigterm(
    meltano: MeltanoProject, sandbox: SandboxClient, tmp_path: Path
) -> None:
    # GHL's rate scaled ten times up, as in the other GHL tests: only run time changes.
    sandbox.settings("ghl", rate_limit_max=100, rate_limit_window_ms=1000)
    spool = tmp_path / "relay-spool.sqlite"
    meltano.extra_env["TAP_WISEPOPS_FOLLOW_WEBHOOK_SPOOL"] = str(spool)
    with running_relay(spool, {"wisepops": ("wisepops", KEY)}) as relay:
        HooksClient(KEY, sandbox.api_url("wisepops")).register(
            relay.hook_url("wisepops", "wisepops"), ("email",), None
        )
        calls = sandbox.records("wisepops", "usage")["used"]
        process, log = meltano.start("follow-wisepops-to-ghl")
        try:
            collected = sandbox.action("wisepops", "collect", contacts=3, wisepop_id=POPUP)
            wanted = {c["fields"]["Email address"].lower() for c in collected["contacts"]}
            deadline = time.monotonic() + 180
            while not wanted <= set(ghl_emails(sandbox)):
                assert process.poll() is None, log.read_text()[-4000:]
                assert time.monotonic() < deadline, "the leads did not reach GHL"
                time.sleep(0.2)
            assert process.poll() is None  # still following
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=120)
    assert process.returncode == 128 + signal.SIGTERM, log.read_text()[-4000:]
    assert sorted(ghl_emails(sandbox)) == sorted(wanted)
    # The live path spent no Wisepops API call.
    assert sandbox.records("wisepops", "usage")["used"] == calls
    bookmark = saved_state(meltano)["bookmarks"]["contacts"][SPOOL_SEQS]["wisepops"]
    assert bookmark >= len(wanted)
