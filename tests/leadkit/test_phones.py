"""Phone normalisation."""

from __future__ import annotations

import pytest

from leadkit.phones import split_calling_code, to_e164


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+1 415-555-2671", None, "+14155552671"),
        ("(415) 555-2671", "US", "+14155552671"),
        ("07911 123456", "GB", "+447911123456"),
        ("0044 7911 123456", None, "+447911123456"),
        ("+91 98765 43210", "US", "+919876543210"),
    ],
)
def test_to_e164(raw: str, region: str | None, expected: str) -> None:
    assert to_e164(raw, region) == expected


@pytest.mark.parametrize("raw", ["", "abc", "123", None, 5.5, True, "+1" + "9" * 40])
def test_invalid_phones_are_none(raw: object) -> None:
    assert to_e164(raw, "US") is None


def test_local_number_without_region_is_none() -> None:
    assert to_e164("(415) 555-2671", None) is None


@pytest.mark.parametrize(
    ("raw", "default", "expected"),
    [
        ("+919876543210", "1", ("91", "9876543210")),
        ("9876543210", "91", ("91", "9876543210")),
        ("+44 7911 123456", "91", ("44", "7911123456")),
        ("(415) 555-2671", "+1", ("1", "4155552671")),
    ],
)
def test_split_calling_code(raw: str, default: str, expected: tuple[str, str]) -> None:
    assert split_calling_code(raw, default) == expected
