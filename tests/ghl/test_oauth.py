"""target-ghl with OAuth instead of a Private Integration Token: same settings and code as
tap-ghl (leadkit.oauth), refreshed during a run without losing a write."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sandbox.control import DEMO_KEYS, SandboxClient
from sandbox.ghl.oauth import CLIENT_ID, CLIENT_SECRET
from tests.ghl.conftest import RunTarget, by_email, messages


@pytest.fixture
def oauth(sandbox: SandboxClient, tmp_path: Path) -> dict[str, Any]:
    """OAuth settings replacing `access_token`: a fresh authorisation and an empty store."""
    return {
        "access_token": None,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "refresh_token": sandbox.action("ghl", "oauth_authorize")["refresh_token"],
        "token_store": str(tmp_path / "ghl-tokens.json"),
    }


def leads(count: int) -> str:
    return messages({"email": f"oauth{i}@example.com", "name": f"Lead {i}"} for i in range(count))


def test_it_writes_with_oauth_through_token_rotations_mid_run(
    sandbox: SandboxClient, run_target: RunTarget, oauth: dict[str, Any]
) -> None:
    # Tokens that live 1 s and a pace of 20 requests a second, so that a run of 40 contacts
    # outlives several tokens (GHL's live a day).
    sandbox.settings(
        "ghl", access_token_ttl_seconds=1, rate_limit_max=20, rate_limit_window_ms=1000
    )
    run = run_target(leads(40), **oauth)
    assert run.error is None
    assert len(by_email(sandbox)) == 40
    oauth_tokens = sandbox.records("ghl", "oauth")
    assert oauth_tokens["refreshes"] >= 2
    assert "401" not in sandbox.counters("ghl")["by_status"]
    issued = {*oauth_tokens["access"], *oauth_tokens["refresh"], oauth["client_secret"]}
    assert not [line for line in run.logs if any(token in line for token in issued)]
    assert any("OAuth access token refreshed" in line for line in run.logs)


def test_a_token_refused_mid_run_is_refreshed_once_and_the_write_goes_through(
    sandbox: SandboxClient, run_target: RunTarget, oauth: dict[str, Any]
) -> None:
    run_target(leads(1), **oauth)
    stored = json.loads(Path(oauth["token_store"]).read_text())
    sandbox.revoke("ghl", [stored["access_token"]])
    run = run_target(leads(3), **oauth)
    assert run.error is None
    assert len(by_email(sandbox)) == 3
    assert sandbox.counters("ghl")["by_status"]["401"] == 1


def test_mixed_credentials_are_refused_before_any_request(
    sandbox: SandboxClient, run_target: RunTarget, oauth: dict[str, Any]
) -> None:
    run = run_target(leads(1), expect_error=True, **{**oauth, "access_token": DEMO_KEYS["ghl"]})
    assert "`access_token`" in str(run.error)
    assert "`client_id`" in str(run.error)
    assert sandbox.counters("ghl")["requests"] == 0
