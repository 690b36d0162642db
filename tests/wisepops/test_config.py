"""A bad configuration fails before any request, with a message naming the setting."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from singer_sdk.exceptions import ConfigValidationError

from sandbox.control import SandboxClient
from tap_wisepops.tap import TapWisepops


@pytest.mark.parametrize(
    ("change", "setting"),
    [
        ({"api_url": "http://app.wisepops.com/api2"}, "api_url"),
        ({"api_url": "ftp://127.0.0.1/api2"}, "api_url"),
        ({"page_size": 0}, "page_size"),
        ({"page_size": 1001}, "page_size"),
        ({"start_date": "next tuesday"}, "start_date"),
        ({"max_api_calls": 0}, "max_api_calls"),
        ({"api_key": ""}, "api_key"),
        ({"wisepop_ids": ["12345"]}, "wisepop_ids"),
    ],
)
def test_bad_setting_fails_before_any_request(
    sandbox: SandboxClient, config: dict[str, Any], change: dict[str, Any], setting: str
) -> None:
    with pytest.raises(ConfigValidationError) as raised:
        TapWisepops(config={**config, **change})
    assert setting in str(raised.value) + " ".join(raised.value.errors)
    assert sandbox.counters("wisepops")["requests"] == 0


def test_missing_api_key_fails_before_any_request(
    sandbox: SandboxClient, config: dict[str, Any]
) -> None:
    without_key = {k: v for k, v in config.items() if k != "api_key"}
    with pytest.raises(ConfigValidationError) as raised:
        TapWisepops(config=without_key)
    assert "api_key" in " ".join(raised.value.errors)
    assert sandbox.counters("wisepops")["requests"] == 0


def test_https_and_loopback_urls_are_accepted(config: dict[str, Any]) -> None:
    TapWisepops(config={**config, "api_url": "https://app.wisepops.com/api2/"})
    TapWisepops(config={**config, "api_url": "http://localhost:8765/wisepops/api2"})


def test_cli_with_a_bad_setting_exits_non_zero_without_calling(
    sandbox: SandboxClient, config: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({**config, "page_size": 5000}))
    tap = Path(sys.executable).parent / "tap-wisepops"
    done = subprocess.run(
        [str(tap), "--config", str(path)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0
    assert "page_size" in done.stderr
    assert sandbox.counters("wisepops")["requests"] == 0
