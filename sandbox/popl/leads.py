"""Popl's team and leads as the sandbox seeds them, and the order the API keeps them in."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

from sandbox.people import Person, people

TEAM_ID = 8542
# A key made by a plain member, not a Full Team Admin: it sees only its own leads.
MEMBER_KEY = "sandbox-popl-member-key"

LEAD_SOURCES = (
    "QR_CODE_SCAN",
    "BADGE_SCAN",
    "CARD_SCAN",
    "APP_TO_APP",
    "DIGITAL_CARD",
    "MANUAL_ENTRY",
)
SUBTEAMS = ((301, "Field Sales EMEA"), (302, "Field Sales Americas"), (303, "Partnerships"))
CAMPAIGNS = (
    (101, "CES 2025", "2025-01-07", 4),
    (102, "SaaStr Annual 2025", "2025-03-11", 3),
    (103, "Web Summit Lisbon 2025", "2025-06-10", 3),
    (104, "Dreamforce 2025", "2025-10-14", 3),
)
TAGS = ((12, "Hot lead"), (13, "Follow up"), (14, "Partner"), (15, "Existing customer"))
QUESTIONS = (
    (1, "Buying timeline?", ("This quarter", "Next quarter", "Just browsing")),
    (2, "Team size?", ("1-10", "11-50", "51-200", "200+")),
    (3, "Interested in", ("Lead capture", "CRM sync", "Digital cards")),
)
DEFAULT_LEAD_COUNT = 400
DEFAULT_PENDING_COUNT = 5


def iso_ms(moment: datetime) -> str:
    """The capture-time format the reference shows: UTC, milliseconds, `Z`."""
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def public(lead: dict[str, Any]) -> dict[str, Any]:
    """The lead as the API shows it: sandbox bookkeeping (`_…` keys) removed."""
    return {k: v for k, v in lead.items() if not k.startswith("_")}


def sort_key(lead: dict[str, Any]) -> tuple[str, str]:
    """The order the API keeps leads in: capture time, then id."""
    # Capture times tie often (badge scanners upload in bursts); the id makes order total.
    return (lead["systemFields"]["captureDatetime"], lead["leadId"])


class Team:
    """The account's team: subteams, members and their ids."""

    def __init__(self, seed: int) -> None:
        pool = people(seed)
        self.members: list[dict[str, Any]] = []
        for index, person in enumerate(pool[-12:]):
            self.members.append(
                {
                    "memberId": 4822 + index * 7,
                    "userPid": 7891 + index,
                    "ownerId": str(
                        uuid.UUID(int=random.Random(seed * 31 + index).getrandbits(128))
                    ),
                    "name": person.full_name,
                    "subteamId": SUBTEAMS[index % len(SUBTEAMS)][0],
                }
            )
        self.by_id = {m["memberId"]: m for m in self.members}

    def to_json(self) -> dict[str, Any]:
        """The team as `inspect` shows it."""
        return {
            "teamId": TEAM_ID,
            "subteams": [
                {
                    "subteamId": sid,
                    "name": name,
                    "memberIds": [m["memberId"] for m in self.members if m["subteamId"] == sid],
                }
                for sid, name in SUBTEAMS
            ],
            "members": self.members,
        }


class LeadFactory:
    """Deterministic leads drawn from the shared people pool."""

    def __init__(self, seed: int, team: Team) -> None:
        self.seed = seed
        self.team = team
        self.pool = people(seed)
        self.rng = random.Random(seed * 7919 + 1)
        self.legacy = 1500

    def lead(self, captured: datetime, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """One lead captured at `captured`, with optional flat overrides (see seed_records)."""
        spec = dict(overrides or {})
        rng = self.rng
        person: Person = self.pool[spec.pop("person", rng.randrange(len(self.pool) - 12))]
        member = self.team.by_id.get(spec.pop("member_id", None)) or rng.choice(self.team.members)
        campaign = spec.pop("campaign_id", rng.choice(CAMPAIGNS)[0])
        source = spec.pop("lead_source", rng.choice(LEAD_SOURCES))
        self.legacy += 1
        lead_id = spec.pop("leadId", None) or str(uuid.UUID(int=rng.getrandbits(128), version=4))
        ts = iso_ms(captured)
        email = spec.pop("email", person.email)
        phone = spec.pop("phone", person.phone_as_typed)
        first = spec.pop("first_name", person.first_name)
        last = spec.pop("last_name", person.last_name)
        note = spec.pop("note", rng.choice([None, None, "Met at booth 42", "Wants a demo"]))
        system = {
            "leadId": lead_id,
            "legacyLeadId": str(self.legacy),
            "ownerId": member["ownerId"],
            "captureDatetime": ts,
            "gdprConsentDatetime": ts if rng.random() < 0.3 else None,
            "requestId": None,
            "userPid": member["userPid"],
            "email": email,
            "salutation": None,
            "firstName": first,
            "middleName": None,
            "lastName": last,
            "nickname": None,
            "suffix": None,
            "fullName": f"{first} {last}".strip(),
            "profileImageUrl": None,
            "businessCardImageUrl": (
                f"https://cdn.popl.example/cards/{lead_id}.jpg" if source == "CARD_SCAN" else None
            ),
            "appToAppProfileUrl": (
                f"https://popl.example/p/{lead_id[:8]}" if source == "APP_TO_APP" else None
            ),
            "jobTitle": person.job_title,
            "website": None,
            "note": note,
            "linkedinUrl": None,
            "campaignId": campaign,
            "companyName": person.company,
            "companyEmail": None,
            "companyDescription": None,
            "companyFoundingYear": rng.choice([None, 1998, 2011, 2019]),
            "companyNaicsCode": None,
            "companyType": None,
            "companyLinkedin": None,
            "companySize": rng.choice([None, "11-50", "51-200", "1001-5000"]),
            "companyIndustry": rng.choice([None, "Software", "Manufacturing", "Retail"]),
            "companyAnnualRevenue": None,
            "companyTotalFunding": None,
            "monthlyWebsiteVisitors": None,
            "technologiesUsed": None,
            "companyCountry": person.region,
            "companyFormattedAddress": None,
        }
        system.update(spec.pop("systemFields", {}))
        lead: dict[str, Any] = {
            "leadId": lead_id,
            "legacyLeadId": str(self.legacy),
            "assignedMembers": [member["memberId"]],
            "systemFields": system,
            # Guess: the reference page was cut off before these blocks. The overview says a
            # lead carries its capture method, tags, qualifiers and custom fields; the search
            # filter's `leadSource` values name the capture method. Shapes are invented.
            "leadSource": source,
            "tags": spec.pop(
                "tags",
                [{"tagId": i, "name": n} for i, n in TAGS if rng.random() < 0.2],
            ),
            "qualifiers": [
                {"questionId": qid, "question": q, "answer": rng.choice(answers)}
                for qid, q, answers in QUESTIONS
                if rng.random() < 0.5
            ],
            "phones": [{"type": "mobile", "number": phone}] if phone else [],
            "customFields": [
                {"fieldId": "booth", "label": "Booth", "value": f"B{rng.randint(1, 80)}"}
            ]
            if rng.random() < 0.3
            else [],
            "_default": bool(spec.pop("default", False)),
        }
        lead.update(spec)
        return lead


def burst_times(rng: random.Random, start: datetime, days: int, count: int) -> Iterator[datetime]:
    """Capture times in event hours; about one in six repeats the previous exactly."""
    previous: datetime | None = None
    for _ in range(count):
        if previous is not None and rng.random() < 0.16:
            yield previous
            continue
        offset = timedelta(
            days=rng.randrange(days),
            seconds=rng.randrange(9 * 3600),
            milliseconds=rng.randrange(1000),
        )
        previous = start + offset
        yield previous
