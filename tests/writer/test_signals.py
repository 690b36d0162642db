"""SIGTERM and SIGINT: stop reading, let requests under way finish, acknowledge only what
was written or rejected, exit with 128 + the signal number. Default settings throughout."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

from sandbox.control import SandboxClient
from tests.writer.harness import (
    BIN,
    ghl_config,
    ghl_contacts_by_email,
    ghl_lead,
    ghl_notes_by_contact,
    popin_config,
    popin_customers_by_mobile,
    popin_lead,
    run_target,
    singer_lines,
    wait_until_handling,
)


def test_sigterm_mid_batch_acknowledges_only_written_records_and_exits_143(
    ghl_sandbox: SandboxClient, tmp_path: Path
) -> None:
    leads = [ghl_lead(seq) for seq in range(1, 601)]
    run = run_target(
        "target-ghl",
        ghl_config(ghl_sandbox, tmp_path),
        tmp_path,
        singer_lines(leads),
        signal_after=2.5,
    )
    assert run.returncode == 128 + signal.SIGTERM
    written = ghl_contacts_by_email(ghl_sandbox)
    assert 0 < run.acknowledged < len(leads)
    assert all(f"lead{seq}@example.com" in written for seq in range(1, run.acknowledged + 1))
    stop_lines = [line for line in run.stderr.splitlines() if "Stopped by SIGTERM" in line]
    assert len(stop_lines) == 1
    assert f"acknowledges {run.acknowledged} of" in stop_lines[0]


def test_sigint_stops_target_popin_with_exit_130_and_honest_state(
    sandbox: SandboxClient, tmp_path: Path
) -> None:
    sandbox.latency("popin", 300)
    leads = [popin_lead(seq) for seq in range(1, 201)]
    run = run_target(
        "target-popin",
        popin_config(sandbox, tmp_path),
        tmp_path,
        singer_lines(leads),
        signal_after=3,
        signum=signal.SIGINT,
    )
    assert run.returncode == 128 + signal.SIGINT
    captured = popin_customers_by_mobile(sandbox)
    assert run.acknowledged < len(leads)
    assert all(captured.get(f"98765{seq:05d}") == 1 for seq in range(1, run.acknowledged + 1))


def test_a_rerun_after_sigterm_leaves_every_lead_written_once(
    ghl_sandbox: SandboxClient, tmp_path: Path
) -> None:
    leads = [ghl_lead(seq) for seq in range(1, 601)]
    config = ghl_config(ghl_sandbox, tmp_path)
    first = run_target("target-ghl", config, tmp_path, singer_lines(leads), signal_after=2.5)
    rest = leads[first.acknowledged :]
    second = run_target("target-ghl", config, tmp_path, singer_lines(rest))
    assert second.returncode == 0
    written = ghl_contacts_by_email(ghl_sandbox)
    assert sorted(written) == sorted(lead["email"] for lead in leads)
    assert all(len(found) == 1 for found in written.values())
    notes = ghl_notes_by_contact(ghl_sandbox)
    assert sum(len(bodies) for bodies in notes.values()) == len([x for x in leads if "notes" in x])
    assert all(len(bodies) == 1 for bodies in notes.values())


def test_requests_under_way_finish_before_the_stop(sandbox: SandboxClient, tmp_path: Path) -> None:
    # Popin answering in 2 s: every capture sent before the signal gets its answer and is
    # recorded, so nothing acknowledged is left in doubt.
    sandbox.latency("popin", 2000)
    leads = [popin_lead(seq) for seq in range(1, 61)]
    run = run_target(
        "target-popin",
        popin_config(sandbox, tmp_path),
        tmp_path,
        singer_lines(leads),
        signal_after=4,
    )
    assert run.returncode == 128 + signal.SIGTERM
    assert run.seconds < 4 + 30
    captured = popin_customers_by_mobile(sandbox)
    assert (
        "outcome unknown" not in (tmp_path / "rejects.jsonl").read_text(errors="replace")
        if (tmp_path / "rejects.jsonl").exists()
        else True
    )
    assert all(captured.get(f"98765{seq:05d}") == 1 for seq in range(1, run.acknowledged + 1))


def test_a_target_waiting_for_input_stops_at_once(
    ghl_sandbox: SandboxClient, tmp_path: Path
) -> None:
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(ghl_config(ghl_sandbox, tmp_path)))
    leads = [ghl_lead(seq) for seq in range(1, 11)]
    process = subprocess.Popen(
        [str(BIN / "target-ghl"), "--config", str(config_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdin is not None
    process.stdin.write(singer_lines(leads))
    process.stdin.flush()
    # The tap is now silent (a slow API, say) but has not closed the pipe.
    wait_until_handling(process)
    time.sleep(3)
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    stdout, _ = process.communicate(timeout=30)
    assert process.returncode == 128 + signal.SIGTERM
    assert time.monotonic() - started < 5
    # The ten records were staged for a batch, not sent: nothing may be acknowledged.
    assert stdout.decode().strip() == ""
    assert ghl_contacts_by_email(ghl_sandbox) == {}
