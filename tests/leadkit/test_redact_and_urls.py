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


def test_url_encoded_emails_and_phones_are_masked() -> None:
    text = redact.redact("GET /contacts/search?email=ann%40example.com&phone=%2B14155552671")
    assert "ann" not in text
    assert "14155552671" not in text


def test_query_values_are_masked_but_parameter_names_kept() -> None:
    text = redact.redact('"GET /contacts/search/duplicate?locationId=L1&name=Ann%20Lee HTTP/1.1"')
    assert "Ann" not in text
    assert "locationId=[redacted]&name=[redacted]" in text


def test_tracebacks_logged_with_exc_info_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    redact.install()
    try:
        raise ValueError("bad line {'email': 'ann@example.com'}")
    except ValueError:
        with caplog.at_level(logging.ERROR):
            logging.getLogger("some.library").exception("failed")
    assert "ann@example.com" not in caplog.text
    assert "ValueError" in caplog.text
