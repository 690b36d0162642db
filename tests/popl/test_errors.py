"""Refused keys, retries of transient failures, and logs free of secrets and PII."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from leadkit.errors import AuthFailure
from sandbox.control import DEMO_KEYS, SandboxClient
from sandbox.popl import MEMBER_KEY

from .conftest import ConfigFactory, run_tap, run_tap_until_error, search_calls

TAP = str(Path(sys.executable).parent / "tap-popl")


def test_revoked_key_fails_at_once_naming_api_key(
    sandbox: SandboxClient, popl_config: ConfigFactory
) -> None:
    sandbox.revoke("popl")
    _, error = run_tap_until_error(popl_config())
    assert isinstance(error, AuthFailure)
    assert "`api_key`" in str(error)
    assert search_calls(sandbox) == 1


def test_forbidden_key_fails_at_once_naming_api_key(
    sandbox: SandboxClient, popl_config: ConfigFactory
) -> None:
    _, error = run_tap_until_error(popl_config(api_key=MEMBER_KEY))
    assert isinstance(error, AuthFailure)
    assert "403" in str(error)
    assert "`api_key`" in str(error)
    assert search_calls(sandbox) == 1


@pytest.mark.parametrize("fault", ["429", "429-date", "429-bare", "500", "502", "503"])
def test_transient_status_is_retried(
    sandbox: SandboxClient, popl_config: ConfigFactory, fault: str
) -> None:
    sandbox.faults("popl", queue=[fault, fault], retry_after=0.2)
    run = run_tap(popl_config())
    assert len(run.records) == len(sandbox.records("popl", "leads"))
    assert sandbox.counters("popl")["faults"] == {fault: 2}


@pytest.mark.parametrize("fault", ["timeout", "drop", "truncate"])
def test_broken_response_is_retried(
    sandbox: SandboxClient, popl_config: ConfigFactory, fault: str
) -> None:
    sandbox.faults("popl", queue=[fault], slow_seconds=1.5)
    run = run_tap(popl_config(request_timeout=0.5))
    assert len(run.records) == len(sandbox.records("popl", "leads"))
    served = requests.get(f"{sandbox.base_url}/_sandbox/popl/faults", timeout=5).json()
    assert served["queue"] == []


def test_retry_after_seconds_is_waited_exactly(
    sandbox: SandboxClient, popl_config: ConfigFactory, caplog: pytest.LogCaptureFixture
) -> None:
    sandbox.faults("popl", queue=["429"], retry_after=0.3)
    run_tap(popl_config())
    assert any("in 0.30 s after HTTP 429" in r.getMessage() for r in caplog.records)


def test_retry_after_is_capped(
    sandbox: SandboxClient, popl_config: ConfigFactory, caplog: pytest.LogCaptureFixture
) -> None:
    sandbox.faults("popl", queue=["429"], retry_after=3600)
    run_tap(popl_config(max_retry_wait_seconds=0.2))
    assert any("in 0.20 s after HTTP 429" in r.getMessage() for r in caplog.records)


def test_a_failure_mid_pagination_resumes_the_same_search(
    sandbox: SandboxClient, popl_config: ConfigFactory
) -> None:
    """A retried page repeats its cursor; the emulator refuses cursors from other searches."""
    sandbox.settings("popl", page_size=50)
    sandbox.faults("popl", rate=0.2, kinds=["500", "drop", "truncate"], seed=3)
    run = run_tap(popl_config(max_retries=10))
    assert sorted(run.ids) == sorted(lead["leadId"] for lead in sandbox.records("popl", "leads"))


def test_persistent_server_error_fails_without_echoing_the_body(
    sandbox: SandboxClient, popl_config: ConfigFactory
) -> None:
    sandbox.faults("popl", rate=1.0, kinds=["500"])
    _, error = run_tap_until_error(popl_config(max_retries=2))
    assert "HTTP 500 from Popl POST" in str(error)
    assert "Injected" not in str(error)
    assert search_calls(sandbox) == 2


def test_cli_output_holds_no_key_and_logs_hold_no_email(
    sandbox: SandboxClient, popl_config: ConfigFactory, tmp_path: Path
) -> None:
    emails = [lead["systemFields"]["email"] for lead in sandbox.records("popl", "leads")]
    emails = [e for e in emails if e]
    sandbox.settings("popl", page_size=40)
    sandbox.faults(
        "popl", rate=0.3, kinds=["429", "500", "drop", "truncate"], seed=7, retry_after=0.05
    )
    config = tmp_path / "config.json"
    config.write_text(json.dumps(popl_config(max_retries=10)))
    result = subprocess.run(
        [TAP, "--config", str(config)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "retry" in result.stderr  # faults were met and logged
    assert sum('"type":"RECORD"' in line.replace(" ", "") for line in result.stdout.splitlines())
    assert DEMO_KEYS["popl"] not in result.stdout + result.stderr
    assert not [email for email in emails if email in result.stderr]


def test_cli_auth_failure_output_holds_no_key(
    sandbox: SandboxClient, popl_config: ConfigFactory, tmp_path: Path
) -> None:
    sandbox.revoke("popl")
    config = tmp_path / "config.json"
    config.write_text(json.dumps(popl_config(auth_scheme="bearer")))
    result = subprocess.run(
        [TAP, "--config", str(config)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "`api_key`" in result.stderr
    assert DEMO_KEYS["popl"] not in result.stdout + result.stderr
