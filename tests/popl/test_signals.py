"""A tap asked to stop unwinds with 128 + the signal number, never a successful exit."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from sandbox.control import DEMO_KEYS, SandboxClient
from sandbox.popl import TEAM_ID
from tests.writer.harness import BIN, wait_until_handling


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signalled_tap_exits_with_128_plus_the_signal_and_says_so(
    signum: int, sandbox: SandboxClient, tmp_path: Path
) -> None:
    # Popl answering in 300 ms keeps the tap mid-run when the signal comes.
    sandbox.latency("popl", 300)
    config = {"api_key": DEMO_KEYS["popl"], "team_id": TEAM_ID, "api_url": sandbox.api_url("popl")}
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    process = subprocess.Popen(
        [str(BIN / "tap-popl"), "--config", str(config_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    wait_until_handling(process)
    time.sleep(3)
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 128 + signum
    stops = [line for line in stderr.decode().splitlines() if "Stopped by" in line]
    assert len(stops) == 1
    assert signal.Signals(signum).name in stops[0]
    for line in stdout.decode().splitlines():
        json.loads(line)
