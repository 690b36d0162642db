"""The whole output of real CLI runs never holds the key or people's data outside RECORDs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from leadkit.redact import E164, EMAIL
from sandbox.control import SandboxClient


def cli(config: dict[str, Any], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`tap-wisepops --config FILE`, as Meltano runs it."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    tap = Path(sys.executable).parent / "tap-wisepops"
    return subprocess.run(
        [str(tap), "--config", str(path)], capture_output=True, text=True, timeout=240
    )


def seeded_secrets(sandbox: SandboxClient) -> set[str]:
    """Every email and international phone the sandbox's contacts hold."""
    values = {
        value
        for contact in sandbox.records("wisepops", "contacts")
        for value in contact["fields"].values()
    }
    return {v for v in values if EMAIL.search(v) or E164.fullmatch(v)}


def assert_no_leak(done: subprocess.CompletedProcess[str], key: str, secrets: set[str]) -> None:
    assert key not in done.stdout
    assert key not in done.stderr
    leaked = {s for s in secrets if s in done.stderr}
    assert not leaked, f"{len(leaked)} seeded values appear in the logs"
    for line in done.stdout.splitlines():
        message = json.loads(line)
        if message["type"] != "RECORD":
            assert not EMAIL.search(line), f"a {message['type']} message holds an email"


@pytest.mark.timeout(280)
def test_a_run_through_every_kind_of_fault_leaks_nothing(
    sandbox: SandboxClient, config: dict[str, Any], tmp_path: Path
) -> None:
    sandbox.faults("wisepops", rate=0.35, seed=7, slow_seconds=0.8, retry_after=0.05)
    settings = {
        **config,
        "page_size": 250,
        "max_retries": 8,
        "request_timeout": 0.4,
        "max_retry_wait_seconds": 0.1,
    }
    done = cli(settings, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert sum(sandbox.counters("wisepops")["faults"].values()) >= 5
    assert "retry 1 of 7" in done.stderr
    assert_no_leak(done, config["api_key"], seeded_secrets(sandbox))


def test_a_run_refused_with_401_leaks_nothing(
    sandbox: SandboxClient, config: dict[str, Any], tmp_path: Path
) -> None:
    sandbox.revoke("wisepops")
    done = cli(config, tmp_path)
    assert done.returncode != 0
    assert "`api_key`" in done.stderr
    assert_no_leak(done, config["api_key"], seeded_secrets(sandbox))


def test_a_failing_run_with_truncated_bodies_leaks_nothing(
    sandbox: SandboxClient, config: dict[str, Any], tmp_path: Path
) -> None:
    sandbox.faults("wisepops", rate=1.0, kinds=["truncate"], paths="contacts")
    done = cli({**config, "max_retries": 2}, tmp_path)
    assert done.returncode != 0
    assert "not valid JSON" in done.stderr
    assert_no_leak(done, config["api_key"], seeded_secrets(sandbox))
