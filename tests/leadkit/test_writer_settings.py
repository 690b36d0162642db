"""The settings every API-writing target shares, checked once for all of them."""

from __future__ import annotations

import pytest

from leadkit.errors import ConfigError
from leadkit.writer.settings import DEFAULT_MAX_CONCURRENCY, check_writer_settings, max_concurrency


def test_max_concurrency_defaults_when_unset() -> None:
    assert max_concurrency({}) == DEFAULT_MAX_CONCURRENCY


@pytest.mark.parametrize("value", [0, -1])
def test_max_concurrency_below_one_is_refused(value: int) -> None:
    with pytest.raises(ConfigError, match="`max_concurrency`"):
        check_writer_settings({"token": "t0ken-value", "max_concurrency": value}, ["token"])


@pytest.mark.parametrize("value", [None, "", "   "])
def test_an_empty_credential_is_refused_by_name(value: str | None) -> None:
    with pytest.raises(ConfigError, match="`seller_token`"):
        check_writer_settings(
            {"api_key": "k3y-value", "seller_token": value}, ["api_key", "seller_token"]
        )


def test_good_writer_settings_pass() -> None:
    check_writer_settings({"api_key": "k3y-value", "max_concurrency": 4}, ["api_key"])
