"""`tap-wisepops-hooks register`: the relay's URL registered once per event, idempotently."""

from __future__ import annotations

import logging

import pytest

from sandbox.control import DEMO_KEYS, SandboxClient
from tap_wisepops.hooks import main

RELAY_URL = "https://relay.leads.test/hooks/wisepops/shop"


@pytest.fixture
def hooks_env(sandbox: SandboxClient, monkeypatch: pytest.MonkeyPatch) -> SandboxClient:
    """The variables Meltano sets for `meltano invoke tap-wisepops:register-hook`."""
    monkeypatch.setenv("TAP_WISEPOPS_API_KEY", DEMO_KEYS["wisepops"])
    monkeypatch.setenv("TAP_WISEPOPS_API_URL", sandbox.api_url("wisepops"))
    monkeypatch.setenv("WISEPOPS_HOOK_URL", RELAY_URL)
    return sandbox


def registered(sandbox: SandboxClient) -> list[tuple[str, str]]:
    return sorted(
        (hook["event"], hook["target_url"])
        for hook in sandbox.records("wisepops", "hooks")
        if hook["target_url"] == RELAY_URL
    )


def test_register_adds_an_email_and_a_phone_hook(hooks_env: SandboxClient) -> None:
    main(["register"])
    assert registered(hooks_env) == [("email", RELAY_URL), ("phone", RELAY_URL)]


def test_registering_again_adds_nothing_and_spends_one_call(
    hooks_env: SandboxClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    main(["register"])
    used = hooks_env.records("wisepops", "usage")["used"]
    main(["register"])
    assert registered(hooks_env) == [("email", RELAY_URL), ("phone", RELAY_URL)]
    assert hooks_env.records("wisepops", "usage")["used"] == used + 1
    assert "email: already registered" in caplog.text


def test_a_refused_key_stops_naming_the_setting(
    hooks_env: SandboxClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("TAP_WISEPOPS_API_KEY", "revoked-website-key")
    with pytest.raises(SystemExit) as stopped:
        main(["register"])
    assert stopped.value.code == 1
    assert "TAP_WISEPOPS_API_KEY" in caplog.text
    assert "revoked-website-key" not in caplog.text


@pytest.mark.parametrize(
    "url",
    ["http://relay.leads.test/hooks/wisepops/shop", "https://relay.leads.test/", ""],
    ids=["plain-http", "not-a-relay-path", "missing"],
)
def test_a_bad_relay_url_is_refused_before_any_call(
    hooks_env: SandboxClient, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("WISEPOPS_HOOK_URL", url)
    with pytest.raises(SystemExit):
        main(["register"])
    assert hooks_env.records("wisepops", "usage")["used"] == 0
