"""OAuth with rotating refresh tokens: every new pair is stored before use, refreshes are
single-flight, and a crash between refresh and store never goes unexplained."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from leadkit.errors import ConfigError
from leadkit.oauth import OAuthTokens
from leadkit.retry import RetryPolicy
from leadkit.token_store import FileTokenStore
from sandbox.control import SandboxClient
from sandbox.ghl.oauth import CLIENT_ID, CLIENT_SECRET
from tests.ghl_tap.conftest import SEARCH_ROUTE, ago, cli, route_count, run_tap, seed


def token_manager(sandbox: SandboxClient, oauth_config: dict[str, Any]) -> OAuthTokens:
    """A token manager on the configured store, as a run of the tap makes one."""
    return OAuthTokens(
        token_url=f"{sandbox.api_url('ghl')}/oauth/token",
        client_id=oauth_config["client_id"],
        client_secret=oauth_config["client_secret"],
        store=FileTokenStore(oauth_config["token_store"]),
        seed_refresh_token=oauth_config["refresh_token"],
        policy=RetryPolicy(),
        timeout=10,
    )


def refreshes(sandbox: SandboxClient) -> int:
    return int(sandbox.records("ghl", "oauth")["refreshes"])


def stored(config: dict[str, Any]) -> dict[str, Any]:
    return dict(json.loads(Path(config["token_store"]).read_text()))


def test_a_run_refreshes_once_and_stores_the_new_pair_owner_only(
    sandbox: SandboxClient, oauth_config: dict[str, Any]
) -> None:
    contact = seed(sandbox, {"email": "a@example.com", "dateUpdated": ago(hours=1)})[0]
    run = run_tap(oauth_config)
    assert run.ids() == [contact["id"]]
    assert refreshes(sandbox) == 1
    pair = stored(oauth_config)
    assert pair["refresh_token"] != oauth_config["refresh_token"]
    assert pair["location_id"] == oauth_config["location_id"]
    assert stat.S_IMODE(os.stat(oauth_config["token_store"]).st_mode) == 0o600
    # The next run uses the stored pair: its access token is good for a day.
    run_tap(oauth_config)
    assert refreshes(sandbox) == 1


def test_a_token_near_expiry_is_refreshed_before_it_is_used(
    sandbox: SandboxClient, oauth_config: dict[str, Any]
) -> None:
    # Tokens that live 2 s (GHL's live a day), so that one nears expiry between two runs.
    sandbox.settings("ghl", access_token_ttl_seconds=2)
    run_tap(oauth_config)
    time.sleep(1.9)
    run_tap(oauth_config)
    assert refreshes(sandbox) == 2
    assert "401" not in sandbox.counters("ghl")["by_status"]


def test_a_token_refused_mid_run_is_refreshed_once_and_the_run_goes_on(
    sandbox: SandboxClient, oauth_config: dict[str, Any]
) -> None:
    seed(sandbox, {"email": "a@example.com", "dateUpdated": ago(hours=1)})
    run_tap(oauth_config)
    pair = stored(oauth_config)
    sandbox.revoke("ghl", [pair["access_token"]])  # as if it had expired early
    run = run_tap(oauth_config)
    assert len(run.ids()) == 1
    assert sandbox.counters("ghl")["by_status"]["401"] == 1
    assert stored(oauth_config)["access_token"] != pair["access_token"]


def test_refresh_is_single_flight_across_processes_sharing_a_store(
    sandbox: SandboxClient, oauth_config: dict[str, Any]
) -> None:
    # Two token managers on one store behave as two processes: each has its own lock file
    # descriptor, so only flock keeps them apart. Under the sandbox's harsh rotation a
    # second exchange of the same refresh token would fail.
    sandbox.settings("ghl", oauth_token_delay_ms=300)
    tokens: list[str] = []
    managers = [token_manager(sandbox, oauth_config), token_manager(sandbox, oauth_config)]

    def take(tokens_of: OAuthTokens) -> None:
        tokens.append(tokens_of.access_token())

    threads = [threading.Thread(target=take, args=(m,)) for m in managers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(tokens) == 2
    assert tokens[0] == tokens[1]
    assert refreshes(sandbox) == 1


def test_threads_sharing_one_token_manager_refresh_once(
    sandbox: SandboxClient, oauth_config: dict[str, Any]
) -> None:
    # Under the sandbox's harsh rotation, a second exchange of one refresh token would fail.
    sandbox.settings("ghl", oauth_token_delay_ms=300)
    tokens = token_manager(sandbox, oauth_config)
    taken: list[str] = []
    threads = [
        threading.Thread(target=lambda: taken.append(tokens.access_token())) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(taken)) == 1
    assert len(taken) == 8
    assert refreshes(sandbox) == 1


def start_tap(config: dict[str, Any], folder: Path) -> subprocess.Popen[str]:
    path = folder / "config.json"
    path.write_text(json.dumps(config))
    command = [str(Path(sys.executable).parent / "tap-ghl"), "--config", str(path)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def kill_while_the_token_answer_is_on_its_way(
    sandbox: SandboxClient, config: dict[str, Any], folder: Path
) -> None:
    """SIGKILL the tap after GHL rotated the refresh token and before its answer arrived."""
    sandbox.settings("ghl", oauth_token_delay_ms=2000)
    process = start_tap(config, folder)
    deadline = time.monotonic() + 30
    while refreshes(sandbox) == 0:
        assert time.monotonic() < deadline, "the tap never asked for a token"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=10)
    # The sandbox counts the token request once its (late) answer has gone out.
    while route_count(sandbox, "POST /oauth/token") == 0:
        assert time.monotonic() < deadline, "the token answer never went out"
        time.sleep(0.05)
    sandbox.settings("ghl", oauth_token_delay_ms=0)


def test_a_crash_between_refresh_and_store_fails_the_next_run_before_any_read_saying_what_to_do(
    sandbox: SandboxClient, oauth_config: dict[str, Any], tmp_path: Path
) -> None:
    seed(sandbox, {"email": "a@example.com", "dateUpdated": ago(hours=1)})
    kill_while_the_token_answer_is_on_its_way(sandbox, oauth_config, tmp_path)
    done = cli(oauth_config, tmp_path)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert "refresh token was refused" in last
    assert "Re-authorise the app" in last
    assert "`refresh_token`" in last
    assert route_count(sandbox, SEARCH_ROUTE) == 0
    assert done.stdout.count('"type":"RECORD"') == 0
    for secret in (oauth_config["refresh_token"], oauth_config["client_secret"]):
        assert secret not in done.stderr
    # What the line says to do works: a new authorisation, set as `refresh_token`.
    fresh = sandbox.action("ghl", "oauth_authorize")["refresh_token"]
    assert len(run_tap({**oauth_config, "refresh_token": fresh}).ids()) == 1


def test_with_a_lenient_grace_period_the_next_run_after_a_crash_still_authenticates(
    sandbox: SandboxClient, oauth_config: dict[str, Any], tmp_path: Path
) -> None:
    seed(sandbox, {"email": "a@example.com", "dateUpdated": ago(hours=1)})
    sandbox.settings("ghl", refresh_token_grace_seconds=60)
    kill_while_the_token_answer_is_on_its_way(sandbox, oauth_config, tmp_path)
    done = cli(oauth_config, tmp_path)
    assert done.returncode == 0, done.stderr[-1000:]
    assert done.stdout.count('"type":"RECORD"') >= 1


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"access_token": "pit-also-set"}, "`access_token`"),
        ({"client_secret": None}, "`client_secret`"),
        ({"token_store": None}, "`token_store`"),
        ({"refresh_token": None}, "`refresh_token`"),
    ],
    ids=["both-kinds", "no-secret", "no-store", "empty-store-no-seed"],
)
def test_incomplete_or_mixed_auth_settings_fail_before_any_request(
    sandbox: SandboxClient, oauth_config: dict[str, Any], change: dict[str, Any], named: str
) -> None:
    config = {k: v for k, v in {**oauth_config, **change}.items() if v is not None}
    with pytest.raises(ConfigError, match=named):
        run_tap(config)
    assert sandbox.counters("ghl")["requests"] == 0


def test_wrong_client_credentials_are_named(
    sandbox: SandboxClient, oauth_config: dict[str, Any]
) -> None:
    run = run_tap({**oauth_config, "client_secret": "not-the-secret"}, expect_error=True)
    assert "`client_id` and `client_secret`" in str(run.error)
    assert route_count(sandbox, SEARCH_ROUTE) == 0


def test_the_token_endpoint_is_the_documented_form_post(
    sandbox: SandboxClient, oauth_config: dict[str, Any]
) -> None:
    form = {
        "grant_type": "refresh_token",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "refresh_token": oauth_config["refresh_token"],
    }
    url = f"{sandbox.api_url('ghl')}/oauth/token"
    answer = requests.post(url, data=form, timeout=10)
    assert answer.status_code == 200
    assert {"access_token", "refresh_token", "expires_in", "locationId"} <= set(answer.json())
    assert requests.post(url, data=form, timeout=10).json()["error"] == "invalid_grant"
