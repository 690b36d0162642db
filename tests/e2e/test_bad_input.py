"""Bad input: 100+ malformed source records; the run completes, the good records land and
every bad one is in a reject file with its reason."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sandbox.control import SandboxClient
from tests.e2e.harness import (
    POPL_TO_GHL,
    WISEPOPS_TO_GHL,
    WISEPOPS_TO_POPIN,
    MeltanoProject,
    RunResult,
    SourcePerson,
    ghl_contacts,
    popin_customers,
    popin_key_of,
    popl_people,
    wisepops_people,
)

LONG = "x" * 10_000
# Wisepops form fields as a broken form (or a hostile visitor) might send them.
BAD_WISEPOPS_FIELDS: list[dict[str, Any]] = [
    {"Gender": "male"},  # no email, no phone
    {"Email": "not-an-email", "Phone": "12"},  # both unusable
    {"Email": "", "Phone": ""},
    {"Email": None, "Phone": None},
    {"Email": 12345, "Phone": 67890},  # wrong types
    {"Email": ["a@b.c"], "Phone": {"n": 1}},
    {"Email": "@@", "Phone": "+999 000"},
    {"Email": LONG, "Phone": LONG},  # 10 kB fields
    {"Email": "<b>bold</b>", "Phone": "call me"},
    {"Email": "zoë@", "Phone": "☎☎☎"},
]
# Good people with awkward but valid content: they must land.
GOOD_WISEPOPS_FIELDS: list[dict[str, Any]] = [
    {"Email": "zoe.unicode@example.org", "Firstname": "Zoë", "Surname": "Ñúñez 李"},
    {"Email": "html.name@example.org", "Firstname": "<script>x</script>", "Surname": "O'Neil"},
    {"Email": "long.name@example.org", "Firstname": "L" * 200, "Phone": "+14155552671"},
    {"Email": "nulls@example.org", "Firstname": None, "Surname": None, "Phone": None},
]
BAD_POPL_LEADS: list[dict[str, Any]] = [
    {"email": None, "phone": None},
    {"email": "nope", "phone": "000"},
    {"email": LONG, "phone": LONG, "first_name": LONG},
    {"email": "", "phone": "", "first_name": "<img src=x onerror=alert(1)>"},
]
COPIES = 10  # each malformed variant is seeded this many times


@dataclass
class BadRun:
    """The runs' results, the bad and good source records, and what landed or was refused."""

    results: list[RunResult]
    bad: list[SourcePerson]
    good: list[SourcePerson]
    contacts: list[dict[str, Any]]
    customers: list[dict[str, Any]]
    ghl_rejects: list[dict[str, Any]]
    popin_rejects: list[dict[str, Any]]


@pytest.fixture(scope="module")
def bad_run(
    meltano_installed: Path, sandbox_server: SandboxClient, tmp_path_factory: pytest.TempPathFactory
) -> BadRun:
    sandbox = sandbox_server
    sandbox.reset()
    sandbox.settings("ghl", rate_limit_max=5000, rate_limit_window_ms=1000)
    sandbox.seed("wisepops", replace=True, contacts=0)
    sandbox.seed("popl", replace=True)
    for fields in BAD_WISEPOPS_FIELDS:
        sandbox.seed("wisepops", contacts=COPIES, wisepop_id=56789, fields=fields)
    for fields in GOOD_WISEPOPS_FIELDS:
        sandbox.seed("wisepops", contacts=1, wisepop_id=56789, fields=fields)
    sandbox.seed("popl", leads=[dict(lead) for lead in BAD_POPL_LEADS for _ in range(COPIES)])
    bad_emails = {str(f.get("Email")) for f in BAD_WISEPOPS_FIELDS}
    people = wisepops_people(sandbox)
    project = MeltanoProject(sandbox, tmp_path_factory.mktemp("bad-input"))
    results = [project.run(*blocks) for blocks in (POPL_TO_GHL, WISEPOPS_TO_GHL, WISEPOPS_TO_POPIN)]
    return BadRun(
        results=results,
        bad=popl_people(sandbox) + [p for p in people if str(p.email) in bad_emails],
        good=[p for p in people if str(p.email) not in bad_emails],
        contacts=ghl_contacts(sandbox),
        customers=popin_customers(sandbox),
        ghl_rejects=project.rejects("ghl"),
        popin_rejects=project.rejects("popin"),
    )


def rejected_keys(rejects: list[dict[str, Any]]) -> dict[str, str]:
    """Source key -> reason, from a reject file."""
    return {
        str(r["record"].get("contact_key") or r["record"].get("leadId")): r["reason"]
        for r in rejects
    }


def test_over_a_hundred_malformed_records_were_seeded(bad_run: BadRun) -> None:
    assert len(bad_run.bad) >= 100


def test_every_pipeline_completes_despite_bad_input(bad_run: BadRun) -> None:
    for result in bad_run.results:
        result.check()


def test_every_malformed_record_is_in_the_ghl_reject_file_with_a_reason(bad_run: BadRun) -> None:
    rejected = rejected_keys(bad_run.ghl_rejects)
    missing = [p.key for p in bad_run.bad if p.key not in rejected]
    assert missing == []
    assert all(reason.strip() for reason in rejected.values())


def test_no_malformed_record_reaches_ghl(bad_run: BadRun) -> None:
    assert len(bad_run.contacts) == len(bad_run.good)


def test_good_records_with_awkward_content_land_in_ghl(bad_run: BadRun) -> None:
    by_email = {c.get("email"): c for c in bad_run.contacts}
    for person in bad_run.good:
        assert person.email in by_email
    assert by_email["zoe.unicode@example.org"]["lastName"] == "Ñúñez 李"
    assert by_email["zoe.unicode@example.org"]["firstName"] == "Zoë"


def test_malformed_phones_are_in_the_popin_reject_file_with_a_reason(bad_run: BadRun) -> None:
    # Contacts without a phone (a non-text phone is none) are not sent to Popin: the
    # mapping filters them out.
    sent = [
        p
        for p in bad_run.bad
        if p.source == "wisepops" and isinstance(p.phone, str) and p.phone.strip()
    ]
    rejected = rejected_keys(bad_run.popin_rejects)
    assert sent
    assert [p.key for p in sent if p.key not in rejected] == []
    assert all(reason.strip() for reason in rejected.values())


def test_the_good_phone_is_captured_by_popin(bad_run: BadRun) -> None:
    assert [popin_key_of(c) for c in bad_run.customers] == ["+14155552671"]
