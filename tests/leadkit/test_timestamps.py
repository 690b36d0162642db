"""One ISO-8601 reader for every connector: strict, UTC, never raises on junk."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from leadkit.timestamps import format_instant, parse_instant, require_instant


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-04-15T03:00:00Z", datetime(2025, 4, 15, 3, tzinfo=timezone.utc)),
        ("2025-04-15T05:00:00+02:00", datetime(2025, 4, 15, 3, tzinfo=timezone.utc)),
        ("2025-04-15T03:00:00", datetime(2025, 4, 15, 3, tzinfo=timezone.utc)),
        (
            "2025-04-15T03:00:00.123456789Z",
            datetime(2025, 4, 15, 3, 0, 0, 123456, tzinfo=timezone.utc),
        ),
    ],
)
def test_an_iso_instant_parses_to_utc(text: str, expected: datetime) -> None:
    assert parse_instant(text) == expected


@pytest.mark.parametrize(
    "junk",
    [
        "not-a-date",
        "2025-13-45T99:00:00Z",
        "1744686000",
        "15/04/2025 03:00",
        "2025-03-01 08:08:20",
        "",
        None,
        1744686000,
    ],
)
def test_anything_else_is_none_rather_than_an_error(junk: object) -> None:
    assert parse_instant(junk) is None


def test_require_instant_names_the_field_not_the_value() -> None:
    with pytest.raises(ValueError, match="captured_at") as caught:
        require_instant("15/04/2025 03:00", "captured_at")
    assert "15/04" not in str(caught.value)


def test_format_instant_is_the_vendors_millisecond_form() -> None:
    moment = datetime(2019, 10, 10, 10, 10, 58, 389000, tzinfo=timezone.utc)
    assert format_instant(moment) == "2019-10-10T10:10:58.389Z"
