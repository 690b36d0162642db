"""Free text as both targets read it from a record."""

from __future__ import annotations

import pytest

from leadkit.text import clean_text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("  Ada  ", "Ada"),
        (42, "42"),
        ("   ", None),
        (None, None),
        (True, None),
        ({}, None),
        ([], None),
    ],
)
def test_scalars_become_trimmed_text_and_anything_else_none(
    value: object, expected: str | None
) -> None:
    assert clean_text(value) == expected
