"""Settings: bad configs fail before any request; both auth schemes work."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from leadkit.errors import ConfigError
from sandbox.control import SandboxClient
from tap_popl.streams import LeadsStream
from tap_popl.tap import TapPopl

from .conftest import ConfigFactory, run_tap

TAP = str(Path(sys.executable).parent / "tap-popl")


@pytest.mark.parametrize(
    ("overrides", "setting"),
    [
        ({"team_id": None}, "team_id"),
        ({"subteam_ids": [301]}, "team_id"),
        ({"member_ids": [4822]}, "member_ids"),
        ({"subteam_ids": [301], "member_ids": [4822]}, "subteam_ids"),
        ({"team_id": None, "subteam_ids": []}, "team_id"),
        ({"start_date": "last tuesday"}, "start_date"),
        ({"start_date": "2025-02-30"}, "start_date"),
        ({"api_key": None}, "api_key"),
        ({"api_key": ""}, "api_key"),
        ({"api_url": "http://api.popl.example/api/pub/v2"}, "api_url"),
        ({"auth_scheme": "basic"}, "auth_scheme"),
        ({"lookback_window_minutes": -5}, "lookback_window_minutes"),
        ({"cursor_restarts": -1}, "cursor_restarts"),
        ({"cursor_restarts": "3"}, "cursor_restarts"),
    ],
    ids=[
        "no-scope",
        "team-and-subteams",
        "team-and-members",
        "subteams-and-members",
        "empty-subteams",
        "unparseable-start-date",
        "impossible-start-date",
        "missing-key",
        "empty-key",
        "plain-http-off-loopback",
        "unknown-auth-scheme",
        "negative-lookback",
        "negative-cursor-restarts",
        "text-cursor-restarts",
    ],
)
def test_bad_config_fails_before_any_request(
    sandbox: SandboxClient, popl_config: ConfigFactory, overrides: dict[str, Any], setting: str
) -> None:
    with pytest.raises(ConfigError, match=f"`{setting}`"):
        TapPopl(config=popl_config(**overrides)).sync_all()
    assert sandbox.counters("popl")["requests"] == 0


def test_cli_reports_a_config_error_and_exits_non_zero(
    sandbox: SandboxClient, popl_config: ConfigFactory, tmp_path: Path
) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps(popl_config(subteam_ids=[301])))
    result = subprocess.run(
        [TAP, "--config", str(config)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "exactly one of `team_id`, `subteam_ids` or `member_ids`" in result.stderr
    assert sandbox.counters("popl")["requests"] == 0


@pytest.mark.parametrize("scheme", ["raw", "bearer"])
def test_both_auth_schemes_are_accepted(popl_config: ConfigFactory, scheme: str) -> None:
    assert run_tap(popl_config(auth_scheme=scheme)).records


def test_bearer_header_carries_the_prefix(popl_config: ConfigFactory) -> None:
    stream = TapPopl(config=popl_config(auth_scheme="bearer")).streams["leads"]
    assert isinstance(stream, LeadsStream)
    assert stream.http_headers["Authorization"] == "Bearer sandbox-popl-key"


def test_raw_header_is_the_bare_key(popl_config: ConfigFactory) -> None:
    stream = TapPopl(config=popl_config()).streams["leads"]
    assert isinstance(stream, LeadsStream)
    assert stream.http_headers["Authorization"] == "sandbox-popl-key"


def test_api_key_is_marked_secret() -> None:
    assert TapPopl.config_jsonschema["properties"]["api_key"].get("secret") is True


def test_about_lists_every_setting() -> None:
    result = subprocess.run(
        [TAP, "--about", "--format=markdown"], capture_output=True, text=True, timeout=60
    )
    for setting in (
        "api_key",
        "api_url",
        "auth_scheme",
        "team_id",
        "subteam_ids",
        "member_ids",
        "start_date",
        "lookback_window_minutes",
        "lead_sources",
        "include_default_leads",
        "request_timeout",
        "max_retries",
    ):
        assert setting in result.stdout


def test_start_date_may_be_a_plain_date(popl_config: ConfigFactory) -> None:
    run = run_tap(popl_config(start_date="2025-10-01"))
    assert run.records
    assert min(r["captured_at"] for r in run.records) >= "2025-10-01"
