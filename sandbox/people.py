"""Deterministic, realistically messy people shared by the source emulators."""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

import phonenumbers
from faker import Faker

# Locales with their phone regions: names in several scripts, phones in several plans.
LOCALES = (
    ("en_US", "US"),
    ("en_GB", "GB"),
    ("de_DE", "DE"),
    ("fr_FR", "FR"),
    ("es_ES", "ES"),
    ("pt_BR", "BR"),
    ("ja_JP", "JP"),
    ("en_IN", "IN"),
    ("pl_PL", "PL"),
    ("en_AU", "AU"),
)


@dataclass(frozen=True)
class Person:
    """One human, as the sources might hold them."""

    index: int
    first_name: str
    last_name: str
    email: str | None  # None: the person gave no email
    phone_e164: str | None  # None: the person gave no phone
    phone_as_typed: str | None  # what the form or the card holds (may be local format)
    region: str
    company: str
    job_title: str
    city: str

    @property
    def full_name(self) -> str:
        """First and last name."""
        return f"{self.first_name} {self.last_name}"

    def to_json(self) -> dict[str, Any]:
        """Plain fields."""
        return asdict(self)


def _mobile(rng: random.Random, region: str) -> phonenumbers.PhoneNumber:
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    assert example is not None
    digits = str(example.national_number)
    for _ in range(50):
        tail = "".join(rng.choice("0123456789") for _ in range(4))
        candidate = phonenumbers.PhoneNumber(
            country_code=example.country_code, national_number=int(digits[:-4] + tail)
        )
        if phonenumbers.is_valid_number(candidate):
            return candidate
    return example


def _as_typed(rng: random.Random, number: phonenumbers.PhoneNumber) -> str:
    style = rng.random()
    if style < 0.55:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if style < 0.8:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    # Local format: only readable with the right default region.
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def _ascii_local_part(fake: Faker, rng: random.Random, first: str, last: str) -> str:
    text = f"{first}.{last}".lower()
    if not text.isascii() or " " in text:
        text = fake.user_name()
    return f"{text}{rng.randint(1, 999)}"


@lru_cache(maxsize=8)
def people(seed: int = 42, count: int = 500) -> tuple[Person, ...]:
    """`count` people, always the same for the same seed."""
    rng = random.Random(seed)
    fakers = {locale: Faker(locale) for locale, _ in LOCALES}
    for index, fake in enumerate(fakers.values()):
        fake.seed_instance(seed * 1000 + index)
    result = []
    for index in range(count):
        locale, region = LOCALES[rng.randrange(len(LOCALES))]
        fake = fakers[locale]
        first, last = fake.first_name(), fake.last_name()
        email: str | None = (
            f"{_ascii_local_part(fake, rng, first, last)}@{fake.free_email_domain()}"
        )
        if rng.random() < 0.08:
            email = None
        number = _mobile(rng, region) if rng.random() < 0.9 else None
        result.append(
            Person(
                index=index,
                first_name=first,
                last_name=last,
                email=email,
                phone_e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
                if number
                else None,
                phone_as_typed=_as_typed(rng, number) if number else None,
                region=region,
                company=fake.company(),
                job_title=fake.job(),
                city=fake.city(),
            )
        )
    return tuple(result)
