"""What a lead record looks like once the tap has read it."""

from __future__ import annotations

from typing import Any

from sandbox.control import SandboxClient

from .conftest import ConfigFactory, run_tap

LIFTED = {
    "email": "email",
    "first_name": "firstName",
    "last_name": "lastName",
    "full_name": "fullName",
    "company_name": "companyName",
    "job_title": "jobTitle",
    "note": "note",
}


def by_id(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["leadId"]: r for r in records}


def test_capture_time_is_lifted_to_captured_at(popl_config: ConfigFactory) -> None:
    for record in run_tap(popl_config()).records:
        assert record["captured_at"] == record["systemFields"]["captureDatetime"]


def test_contact_fields_are_lifted_to_the_top_level(popl_config: ConfigFactory) -> None:
    for record in run_tap(popl_config()).records:
        for field, source in LIFTED.items():
            assert record[field] == record["systemFields"][source]


def test_phone_is_lifted_as_captured_when_present(
    sandbox: SandboxClient, popl_config: ConfigFactory
) -> None:
    with_phone, without = sandbox.seed("popl", leads=[{"phone": "030 1234567"}, {"phone": None}])[
        "leadIds"
    ]
    records = by_id(run_tap(popl_config()).records)
    assert records[with_phone]["phone"] == "030 1234567"
    assert records[without]["phone"] is None


def test_missing_email_stays_null(sandbox: SandboxClient, popl_config: ConfigFactory) -> None:
    (lead_id,) = sandbox.seed("popl", leads=[{"email": None}])["leadIds"]
    assert by_id(run_tap(popl_config()).records)[lead_id]["email"] is None


def test_unicode_names_arrive_intact(sandbox: SandboxClient, popl_config: ConfigFactory) -> None:
    (lead_id,) = sandbox.seed("popl", leads=[{"first_name": "Zoë", "last_name": "Åström-山田"}])[
        "leadIds"
    ]
    assert by_id(run_tap(popl_config()).records)[lead_id]["full_name"] == "Zoë Åström-山田"


def test_undocumented_blocks_pass_through_untouched(
    sandbox: SandboxClient, popl_config: ConfigFactory
) -> None:
    lead = next(
        lead
        for lead in sandbox.records("popl", "leads")
        if lead["tags"] and lead["qualifiers"] and lead["customFields"]
    )
    record = by_id(run_tap(popl_config()).records)[lead["leadId"]]
    for block in ("tags", "qualifiers", "phones", "customFields", "leadSource"):
        assert record[block] == lead[block]


def test_unknown_fields_anywhere_are_kept(
    sandbox: SandboxClient, popl_config: ConfigFactory
) -> None:
    extra = {"enrichment": {"score": 87, "signals": ["hiring"]}, "address": None}
    (lead_id,) = sandbox.seed(
        "popl", leads=[{**extra, "systemFields": {"preferredLanguage": "pt-BR"}}]
    )["leadIds"]
    record = by_id(run_tap(popl_config()).records)[lead_id]
    assert record["enrichment"] == extra["enrichment"]
    assert "address" in record
    assert record["systemFields"]["preferredLanguage"] == "pt-BR"


def test_lead_sources_filter_is_sent(popl_config: ConfigFactory) -> None:
    records = run_tap(popl_config(lead_sources=["BADGE_SCAN", "CARD_SCAN"])).records
    assert records
    assert {r["leadSource"] for r in records} == {"BADGE_SCAN", "CARD_SCAN"}


def test_default_leads_are_included_unless_turned_off(popl_config: ConfigFactory) -> None:
    included = run_tap(popl_config()).ids
    excluded = run_tap(popl_config(include_default_leads=False)).ids
    assert len(included) == len(excluded) + 1


def test_subteam_scope_reads_only_those_subteams(
    sandbox: SandboxClient, popl_config: ConfigFactory
) -> None:
    subteam = sandbox.records("popl", "team")["subteams"][1]
    run = run_tap(popl_config(team_id=None, subteam_ids=[subteam["subteamId"]]))
    assert run.records
    assert all(set(r["assignedMembers"]) & set(subteam["memberIds"]) for r in run.records)


def test_member_scope_reads_only_their_leads(
    sandbox: SandboxClient, popl_config: ConfigFactory
) -> None:
    member = sandbox.records("popl", "team")["members"][3]["memberId"]
    run = run_tap(popl_config(team_id=None, member_ids=[member]))
    assert run.records
    assert all(member in r["assignedMembers"] for r in run.records)


def test_capture_time_ties_across_pages_lose_nothing(
    sandbox: SandboxClient, popl_config: ConfigFactory
) -> None:
    sandbox.settings("popl", page_size=9)
    sandbox.seed("popl", replace=True, count=50, tie_every=25)
    run = run_tap(popl_config())
    assert sorted(run.ids) == sorted(lead["leadId"] for lead in sandbox.records("popl", "leads"))
