"""What an operator reads at INFO: progress every ten seconds on long runs, one line saying
how the run ended, no traceback for a known stop, none of the SDK's routine chatter."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from sandbox.control import DEMO_KEYS, SandboxClient
from sandbox.popl import TEAM_ID
from tests.writer.harness import BIN, ghl_config, ghl_lead, run_target, singer_lines

CHATTER = ("Skipping parse of env var settings", "METRIC", "Target sink for", "Reader '")


def _run_tap(sandbox: SandboxClient, tmp_path: Path, **settings: object) -> tuple[int, str]:
    config = {"api_key": DEMO_KEYS["popl"], "team_id": TEAM_ID, "api_url": sandbox.api_url("popl")}
    path = tmp_path / "tap.json"
    path.write_text(json.dumps({**config, **settings}))
    done = subprocess.run(
        [str(BIN / "tap-popl"), "--config", str(path)], capture_output=True, text=True, timeout=120
    )
    return done.returncode, done.stderr


def test_a_successful_run_ends_with_one_line_saying_so(
    sandbox: SandboxClient, tmp_path: Path
) -> None:
    code, stderr = _run_tap(sandbox, tmp_path)
    assert code == 0
    assert "Run succeeded in" in stderr.strip().splitlines()[-1]


def test_the_sdks_routine_lines_are_not_shown_at_info(
    sandbox: SandboxClient, tmp_path: Path
) -> None:
    _, tap_log = _run_tap(sandbox, tmp_path)
    leads = [ghl_lead(seq) for seq in range(1, 11)]
    target = run_target("target-ghl", ghl_config(sandbox, tmp_path), tmp_path, singer_lines(leads))
    for log in (tap_log, target.stderr):
        assert [line for line in log.splitlines() if any(c in line for c in CHATTER)] == []


def test_a_refused_key_is_one_line_without_traceback(
    sandbox: SandboxClient, tmp_path: Path
) -> None:
    code, stderr = _run_tap(sandbox, tmp_path, api_key="not-the-key-1234")
    assert code == 1
    assert "Traceback" not in stderr
    last = stderr.strip().splitlines()[-1]
    assert "Run stopped: HTTP 401" in last
    assert "`api_key`" in last


def test_a_target_that_stops_early_says_so_in_its_summary(
    sandbox: SandboxClient, tmp_path: Path
) -> None:
    config = ghl_config(sandbox, tmp_path, access_token="not-the-token-1234")
    run = run_target("target-ghl", config, tmp_path, singer_lines([ghl_lead(1)]))
    assert run.returncode == 1
    assert "Run summary (the run stopped early)" in run.stderr
    assert "Run stopped: HTTP 401" in run.stderr.strip().splitlines()[-1]


def test_rejects_are_named_a_few_times_then_counted(sandbox: SandboxClient, tmp_path: Path) -> None:
    leads = [{**ghl_lead(seq), "email": f"broken-{seq}"} for seq in range(1, 41)]
    run = run_target("target-ghl", ghl_config(sandbox, tmp_path), tmp_path, singer_lines(leads))
    assert run.stderr.count("Rejected record") == 5
    assert "rejected=40" in run.stderr


def test_a_long_run_logs_progress_at_most_every_ten_seconds(
    sandbox: SandboxClient, tmp_path: Path
) -> None:
    # GHL's rate scaled to 100 requests per 1 s: 1,000 leads (1,250 requests) take about 13 s,
    # long enough for one progress line, the target's settings all at their defaults.
    sandbox.settings("ghl", rate_limit_max=100, rate_limit_window_ms=1000)
    leads = [ghl_lead(seq) for seq in range(1, 1001)]
    run = run_target("target-ghl", ghl_config(sandbox, tmp_path), tmp_path, singer_lines(leads))
    progress = [line for line in run.stderr.splitlines() if "Progress:" in line]
    assert len(progress) >= 1
    assert len(progress) <= run.seconds / 10 + 1
    assert "records written or rejected" in progress[0]
    assert "requests" in progress[0]
    assert "x 429" in progress[0]


def test_key_properties_a_mapping_sends_on_purpose_are_not_called_ignored(
    sandbox: SandboxClient, tmp_path: Path
) -> None:
    leads = [ghl_lead(seq) for seq in range(1, 4)]
    payload = singer_lines(leads, key_properties=["seq"])
    run = run_target("target-ghl", ghl_config(sandbox, tmp_path), tmp_path, payload)
    assert run.returncode == 0
    assert "ignored properties" not in run.stderr


def test_the_same_person_twice_in_a_first_run_is_repeated_not_unchanged(
    sandbox: SandboxClient, tmp_path: Path
) -> None:
    leads = [ghl_lead(1), {**ghl_lead(1), "seq": 2}]
    payload = singer_lines(leads, key_properties=["seq"])
    run = run_target("target-ghl", ghl_config(sandbox, tmp_path), tmp_path, payload)
    assert "created=1; updated=0; unchanged=0" in run.stderr
    assert "repeated=1" in run.stderr


def test_a_long_tap_run_logs_progress_with_its_requests(
    sandbox: SandboxClient, tmp_path: Path
) -> None:
    # Five pages at 3 s each: a run of about 15 s.
    sandbox.latency("popl", 3000)
    code, stderr = _run_tap(sandbox, tmp_path)
    assert code == 0
    progress = [line for line in stderr.splitlines() if "Progress:" in line]
    assert 1 <= len(progress) <= 2
    assert "records read" in progress[0]
    assert "requests" in progress[0]


def test_refused_settings_are_named_on_the_closing_line(tmp_path: Path) -> None:
    # `meltano config test` shows a plugin's last line only.
    path = tmp_path / "tap.json"
    path.write_text(json.dumps({"api_url": "http://127.0.0.1:9/x"}))
    done = subprocess.run(
        [str(BIN / "tap-wisepops"), "--config", str(path)], capture_output=True, text=True
    )
    assert done.returncode == 1
    assert "Run stopped: settings refused: `api_key` is required" in done.stderr.splitlines()[-1]
