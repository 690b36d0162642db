"""Email checks shared by the targets."""

from __future__ import annotations

import pytest

from leadkit.emails import clean_email, is_email


def test_clean_email_trims_and_lower_cases() -> None:
    assert clean_email("  Ann.Lee@Example.COM ") == "ann.lee@example.com"


@pytest.mark.parametrize("raw", ["", "ann", "ann@example", "a b@example.com", None, 42])
def test_clean_email_refuses_what_is_not_an_email(raw: object) -> None:
    assert clean_email(raw) is None


def test_clean_email_refuses_addresses_longer_than_254_characters() -> None:
    assert clean_email("a" * 250 + "@x.io") is None


def test_is_email_keeps_case() -> None:
    assert is_email("Ann@Example.com")
