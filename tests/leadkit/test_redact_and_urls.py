"""Log redaction and endpoint URL checks."""

from __future__ import annotations

import logging

import pytest

from leadkit import redact
from leadkit.errors import ConfigError
from leadkit.urls import require_safe_url


def test_redact_masks_registered_secrets_emails_and_phones() -> None:
    redact.register_secrets(["s3cret-token-value"])
    text = redact.redact("token s3cret-token-value for ann@example.com at +14155552671")
    assert text == "token [redacted] for [redacted] at [redacted]"


def test_installed_redaction_applies_to_every_logger(caplog: pytest.LogCaptureFixture) -> None:
    redact.install(["another-secret-123"])
    with caplog.at_level(logging.INFO):
        logging.getLogger("some.library").info("calling with %s", "another-secret-123")
    assert "another-secret-123" not in caplog.text
    assert "[redacted]" in caplog.text


def test_https_urls_are_accepted_without_trailing_slash() -> None:
    assert (
        require_safe_url("https://api.example.com/v2/", "api_url") == "https://api.example.com/v2"
    )


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8765/x", "http://localhost/x", "http://[::1]:9/x"]
)
def test_plain_http_is_allowed_on_loopback(url: str) -> None:
    assert require_safe_url(url, "api_url")


@pytest.mark.parametrize("url", ["http://api.example.com", "ftp://x", "not a url"])
def test_other_urls_are_refused_naming_the_setting(url: str) -> None:
    with pytest.raises(ConfigError, match="`api_url`"):
        require_safe_url(url, "api_url")
