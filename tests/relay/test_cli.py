"""`lead-relay serve` refuses a configuration it cannot honour before it listens."""

from __future__ import annotations

import pytest

from lead_relay.cli import main, parse_source


def refusal(argv: list[str]) -> str:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    return str(stopped.value.code)


def test_a_wisepops_source_without_its_secret_variable_is_refused() -> None:
    message = refusal(["serve", "--spool", "unused.db", "--source", "shop=wisepops:UNSET_VAR_X"])
    assert "UNSET_VAR_X" in message


def test_an_unknown_kind_is_refused_naming_the_known_ones() -> None:
    message = refusal(["serve", "--spool", "unused.db", "--source", "shop=mailchimp:VAR"])
    assert "wisepops" in message


def test_a_malformed_source_is_refused() -> None:
    assert "NAME=KIND:ENV_VAR" in refusal(["serve", "--spool", "unused.db", "--source", "shop"])


def test_a_postgres_spool_is_refused_until_it_exists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEY_VAR", "website-key-1")
    message = refusal(
        ["serve", "--spool", "postgresql://db/relay", "--source", "shop=wisepops:KEY_VAR"]
    )
    assert "postgresql" in message


def test_the_secret_is_read_from_the_named_variable() -> None:
    source = parse_source("shop-fr=wisepops:SHOP_KEY", {"SHOP_KEY": "website-key-1"})
    assert (source.name, source.kind.name, source.secret) == (
        "shop-fr",
        "wisepops",
        "website-key-1",
    )
    assert "website-key-1" not in repr(source)
