"""No token reaches any output: the complete output of OAuth runs, at INFO and at DEBUG,
through a refresh and a 401, holds no access token, refresh token or client secret."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sandbox.control import DEMO_KEYS, SandboxClient
from tests.ghl_tap.conftest import ago, seed


def run_cli(config: dict[str, Any], folder: Path, level: str) -> str:
    """`tap-ghl --config FILE` at `level`; stdout and stderr together."""
    path = folder / "config.json"
    path.write_text(json.dumps(config))
    done = subprocess.run(
        [str(Path(sys.executable).parent / "tap-ghl"), "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "LOGLEVEL": level},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout + done.stderr


def issued_tokens(sandbox: SandboxClient) -> set[str]:
    oauth = sandbox.records("ghl", "oauth")
    return set(oauth["access"]) | set(oauth["refresh"])


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
def test_oauth_runs_print_no_token_at_any_level(
    level: str, sandbox: SandboxClient, oauth_config: dict[str, Any], tmp_path: Path
) -> None:
    seed(
        sandbox,
        {"email": "a@example.com", "dateUpdated": ago(hours=1), "notes": [{"body": "hi"}]},
    )
    first = run_cli(oauth_config, tmp_path, level)
    stored = json.loads(Path(oauth_config["token_store"]).read_text())
    sandbox.revoke("ghl", [stored["access_token"]])  # the next run meets a 401 and refreshes
    second = run_cli(oauth_config, tmp_path, level)
    assert sandbox.counters("ghl")["by_status"]["401"] == 1
    secrets = issued_tokens(sandbox) | {oauth_config["client_secret"], DEMO_KEYS["ghl"]}
    assert len(secrets) >= 6
    output = first + second
    leaked = sorted(secret for secret in secrets if secret in output)
    assert not leaked, f"{len(leaked)} token(s) printed at {level}"
    if level == "DEBUG":
        assert "/oauth/token" in output  # the refreshes were logged, masked
