"""The generated people: deterministic and as messy as real exports."""

from __future__ import annotations

from sandbox.people import people


def test_same_seed_gives_the_same_people() -> None:
    assert people(7, 50) == people.__wrapped__(7, 50)


def test_different_seeds_give_different_people() -> None:
    assert people(1, 20) != people(2, 20)


def test_some_people_have_no_email() -> None:
    assert any(p.email is None for p in people(42, 500))


def test_some_phones_are_in_local_format() -> None:
    assert any(p.phone_as_typed and not p.phone_as_typed.startswith("+") for p in people(42, 500))


def test_names_include_non_ascii() -> None:
    assert any(not p.full_name.isascii() for p in people(42, 500))


def test_valid_phones_are_e164() -> None:
    assert all(p.phone_e164 is None or p.phone_e164.startswith("+") for p in people(42, 500))
