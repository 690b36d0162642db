"""Wisepops' popups and contacts as the sandbox seeds them: deterministic per seed, with
many timestamp ties placed across page boundaries."""

from __future__ import annotations

import json
import random
import uuid
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from sandbox.people import Person, people

SEED_START = datetime(2024, 1, 8, 9, 0, tzinfo=timezone.utc)

# id, label, created_at, activated, display_count, click_count, form labels (case kept).
POPUPS: tuple[tuple[int, str, str, bool, int, int, tuple[str, ...]], ...] = (
    (10000, "Optin Wisepop", "2017-02-25 19:10:00", False, 0, 0, ("email",)),
    (12345, "Live Wisepop", "2017-02-27 15:29:43", True, 18250, 2210, ("email", "Gender", "City")),
    (
        23456,
        "Newsletter FR",
        "2021-06-03 08:00:12",
        True,
        40112,
        3015,
        ("E-mail", "Prénom", "Nom", "Téléphone"),
    ),
    (
        34567,
        "Demo request",
        "2022-11-21 17:45:00",
        True,
        9120,
        1480,
        ("Email address", "First name", "Last name", "Phone number", "Company"),
    ),
    (
        45678,
        "SMS club",
        "2023-02-14 10:30:59",
        True,
        7010,
        905,
        ("Mobile", "first_name", "last_name"),
    ),
    (
        56789,
        "Event signup",
        "2023-09-30 23:59:59",
        True,
        12004,
        1999,
        ("Email", "Firstname", "Surname", "Phone", "Job title"),
    ),
)
ACTIVE_POPUPS = tuple(p[0] for p in POPUPS if p[3])


def iso_ms(moment: datetime) -> str:
    """`2019-10-10T10:10:58.389Z`: the API's own timestamp form."""
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_utc(value: str) -> datetime:
    """An ISO-8601 instant; a value without zone is UTC, as the docs say."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed


def is_phone_label(label: str) -> bool:
    """Whether a form field's label names a phone number, in the languages the forms use."""
    text = label.casefold()
    return any(word in text for word in ("phone", "mobile", "téléphone", "tel"))


class ContactFactory:
    """Deterministic contacts from the shared people pool (the same people Popl has)."""

    def __init__(self, seed: int, salt: int) -> None:
        self.pool = people(seed)
        self.rng = random.Random(seed * 104729 + salt)

    def contact(
        self,
        collected_at: datetime,
        wisepop_id: int | None = None,
        person: int | None = None,
        form_session: bool | None = None,
        fields: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """One form submission."""
        rng = self.rng
        popup_id = wisepop_id if wisepop_id is not None else rng.choice(ACTIVE_POPUPS)
        labels = next((p[6] for p in POPUPS if p[0] == popup_id), ("email",))
        who = self.pool[person if person is not None else rng.randrange(len(self.pool))]
        record: dict[str, Any] = {
            "collected_at": iso_ms(collected_at),
            "wisepop_id": popup_id,
            "ip": f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}."
            f"{rng.randint(1, 254)}",
            "country_code": who.region,
            "fields": fields if fields is not None else self._fields(labels, who),
        }
        with_session = rng.random() < 0.85 if form_session is None else form_session
        if with_session:
            record["form_session"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        return record

    def _fields(self, labels: tuple[str, ...], who: Person) -> dict[str, str]:
        values: dict[str, str] = {}
        for label in labels:
            key = label.casefold()
            value: str | None
            if "mail" in key:
                value = who.email
            elif is_phone_label(label):
                value = who.phone_as_typed
            elif key in {"prénom", "first name", "first_name", "firstname"}:
                value = who.first_name
            elif key in {"nom", "last name", "last_name", "surname"}:
                value = who.last_name
            elif key == "company":
                value = who.company
            elif key == "job title":
                value = who.job_title
            elif key == "city":
                value = who.city
            else:
                value = self.rng.choice(["male", "female", ""])
            if value is None:
                # An optional field left blank: some forms send "", most send nothing.
                if self.rng.random() < 0.3:
                    values[label] = ""
                continue
            values[label] = value
        return values


def build_store(seed: int) -> dict[str, Any]:
    """The deterministic data for one seed."""
    factory = ContactFactory(seed, salt=0)
    rng = random.Random(seed * 31 + 7)
    contacts: list[dict[str, Any]] = []
    moment = SEED_START

    def add_group(size: int, wisepop_id: int | None = None) -> None:
        nonlocal moment
        moment += timedelta(seconds=rng.randint(1, 5400), milliseconds=rng.randint(0, 999))
        seen: set[str] = set()
        for _ in range(size):
            contact = factory.contact(moment, wisepop_id)
            content = json.dumps([contact["wisepop_id"], contact["fields"]], sort_keys=True)
            if content in seen and "form_session" not in contact:
                # Two identical sessionless submissions in one millisecond would be
                # indistinguishable; real ones differ by their form session.
                contact["form_session"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            seen.add(content)
            contacts.append(contact)

    # Groups placed so they straddle the default page size (100) and the largest (1000).
    plan: list[tuple[int, int | None]] = []
    straddles = {98: 5, 197: 6, 296: 9, 997: 7}
    position = 0
    while position < 1500:
        if position in straddles:
            size = straddles[position]
        elif rng.random() < 0.08:
            size = rng.randint(2, 6)  # a burst: one click, several submissions
        else:
            size = 1
        size = min(size, next((s - position for s in straddles if s > position), size))
        plan.append((max(size, 1), None))
        position += max(size, 1)
    plan.append((1200, 34567))  # an import: 1,200 contacts share one collected_at
    plan.extend((rng.choice((1, 1, 1, 3)), None) for _ in range(280))
    for size, wisepop_id in plan:
        add_group(size, wisepop_id)
    return {
        "contacts": contacts,
        "wisepops": [
            {
                "id": popup_id,
                "label": label,
                "created_at": created,
                "activated": active,
                "display_count": displays,
                "click_count": clicks,
            }
            for popup_id, label, created, active, displays, clicks, _ in POPUPS
        ],
        "hooks": [
            {
                "id": 1,
                "event": "email",
                "target_url": "https://hooks.example.com/wisepops",
                "wisepop_id": 12345,
            },
            {"id": 2, "event": "phone", "target_url": "https://crm.example.org/in"},
        ],
        "next_hook_id": 3,
        "usage": [],
        "refused": 0,
    }


@lru_cache(maxsize=4)
def seeded_store(seed: int) -> str:
    """`build_store(seed)` as JSON, built once per seed (every test resets the sandbox)."""
    return json.dumps(build_store(seed))


def sort_key(moment: datetime) -> str:
    """The stored order's key for an instant."""
    # Microsecond precision so a `collected_after` finer than the stored ms still compares.
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")


class ContactIndex:
    """Keeps `store["contacts"]` sorted with their keys (a mixin of `WisepopsApi`)."""

    store: dict[str, Any]
    _keys: list[str]

    def _reindex(self) -> None:
        contacts = self.store["contacts"]
        # A stable sort keeps ties in insertion order, which is the order pages show.
        contacts.sort(key=lambda c: c["collected_at"])
        # Stored timestamps all have the `...SS.mmmZ` form: widen them to microseconds.
        self._keys = [c["collected_at"][:23] + "000" for c in contacts]
