"""The Popl emulator over HTTP: what the v2 reference pages document, strictly."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from sandbox.control import SandboxClient
from sandbox.people import people
from sandbox.popl import MEMBER_KEY, TEAM_ID

ASC = {"field": "timestamp", "direction": "ASC"}


def search(
    sandbox: SandboxClient,
    body: dict[str, Any],
    key: str = "sandbox-popl-key",
    scheme: str = "",
) -> requests.Response:
    return requests.post(
        f"{sandbox.api_url('popl')}/leads/search",
        json=body,
        headers={"Authorization": f"{scheme}{key}"},
        timeout=10,
    )


def all_leads(sandbox: SandboxClient, body: dict[str, Any]) -> list[dict[str, Any]]:
    leads: list[dict[str, Any]] = []
    cursor = None
    while True:
        data = search(sandbox, {**body, "cursor": cursor}).json()["data"]
        leads += data["leads"]
        cursor = data["nextCursor"]
        if cursor is None:
            return leads


def captured(lead: dict[str, Any]) -> str:
    return str(lead["systemFields"]["captureDatetime"])


# Auth


def test_raw_key_is_accepted(sandbox: SandboxClient) -> None:
    assert search(sandbox, {"filters": {"teamId": TEAM_ID}}).status_code == 200


def test_bearer_key_is_accepted(sandbox: SandboxClient) -> None:
    response = search(sandbox, {"filters": {"teamId": TEAM_ID}}, scheme="Bearer ")
    assert response.status_code == 200


def test_missing_authorization_is_a_401_json(sandbox: SandboxClient) -> None:
    response = requests.post(
        f"{sandbox.api_url('popl')}/leads/search", json={"filters": {"teamId": TEAM_ID}}, timeout=5
    )
    assert response.status_code == 401
    assert "message" in response.json()


def test_unknown_key_is_a_401(sandbox: SandboxClient) -> None:
    assert search(sandbox, {"filters": {"teamId": TEAM_ID}}, key="nope-nope").status_code == 401


def test_revoked_key_is_a_401(sandbox: SandboxClient) -> None:
    sandbox.revoke("popl", ["sandbox-popl-key"])
    assert search(sandbox, {"filters": {"teamId": TEAM_ID}}).status_code == 401


def test_member_key_cannot_read_team_wide_leads(sandbox: SandboxClient) -> None:
    assert search(sandbox, {"filters": {"teamId": TEAM_ID}}, key=MEMBER_KEY).status_code == 403


def test_member_key_reads_its_own_leads(sandbox: SandboxClient) -> None:
    member = sandbox.records("popl", "team")["members"][0]["memberId"]
    response = search(sandbox, {"filters": {"assignedMemberIds": [member]}}, key=MEMBER_KEY)
    assert response.status_code == 200
    assert all(member in lead["assignedMembers"] for lead in response.json()["data"]["leads"])


def test_other_team_is_forbidden(sandbox: SandboxClient) -> None:
    assert search(sandbox, {"filters": {"teamId": 1}}).status_code == 403


# Body validation


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"teamId": TEAM_ID, "subteamIds": [301]},
        {"subteamIds": [301], "assignedMemberIds": [4822]},
        {"teamId": TEAM_ID, "subteamIds": [301], "assignedMemberIds": [4822]},
    ],
    ids=["no-scope", "team+subteams", "subteams+members", "all-three"],
)
def test_scope_must_be_exactly_one(sandbox: SandboxClient, filters: dict[str, Any]) -> None:
    assert search(sandbox, {"filters": filters}).status_code == 400


def test_filters_are_required(sandbox: SandboxClient) -> None:
    assert search(sandbox, {"sort": ASC}).status_code == 400


@pytest.mark.parametrize(
    "filters",
    [
        {"teamId": str(TEAM_ID)},
        {"teamId": True},
        {"subteamIds": 301},
        {"subteamIds": []},
        {"assignedMemberIds": ["4822"]},
    ],
)
def test_scope_values_are_typed_strictly(sandbox: SandboxClient, filters: dict[str, Any]) -> None:
    assert search(sandbox, {"filters": filters}).status_code == 400


@pytest.mark.parametrize(
    "value", ["2025-01-01T00:00:00", "2025-01-01", "yesterday", 1735689600, "2025-13-01T00:00:00Z"]
)
def test_start_time_needs_iso_8601_with_offset(sandbox: SandboxClient, value: object) -> None:
    body = {"filters": {"teamId": TEAM_ID, "startTime": value}}
    assert search(sandbox, body).status_code == 400


def test_start_time_accepts_z_and_numeric_offsets(sandbox: SandboxClient) -> None:
    for value in ("2025-03-01T00:00:00Z", "2025-03-01T01:00:00+01:00"):
        body = {"filters": {"teamId": TEAM_ID, "startTime": value}}
        assert search(sandbox, body).status_code == 200


@pytest.mark.parametrize(
    "sort",
    [
        {"field": "createdAt", "direction": "ASC"},
        {"field": "timestamp", "direction": "asc"},
        {"field": "timestamp", "direction": "UP"},
    ],
)
def test_sort_is_timestamp_asc_or_desc_only(sandbox: SandboxClient, sort: dict[str, str]) -> None:
    assert search(sandbox, {"filters": {"teamId": TEAM_ID}, "sort": sort}).status_code == 400


def test_unknown_body_fields_are_refused(sandbox: SandboxClient) -> None:
    body = {"filters": {"teamId": TEAM_ID}, "pageSize": 500}
    assert search(sandbox, body).status_code == 400


def test_unknown_lead_source_is_refused(sandbox: SandboxClient) -> None:
    body = {"filters": {"teamId": TEAM_ID, "leadSource": ["CARRIER_PIGEON"]}}
    assert search(sandbox, body).status_code == 400


def test_invalid_json_body_is_a_400(sandbox: SandboxClient) -> None:
    response = requests.post(
        f"{sandbox.api_url('popl')}/leads/search",
        data=b"{not json",
        headers={"Authorization": "sandbox-popl-key"},
        timeout=5,
    )
    assert response.status_code == 400


# Results


def test_response_has_leads_and_next_cursor_under_data(sandbox: SandboxClient) -> None:
    data = search(sandbox, {"filters": {"teamId": TEAM_ID}, "sort": ASC}).json()["data"]
    assert set(data) == {"leads", "nextCursor"}
    assert len(data["leads"]) == sandbox.settings("popl")["page_size"]
    assert isinstance(data["nextCursor"], str)


def test_lead_has_the_documented_fields(sandbox: SandboxClient) -> None:
    lead = search(sandbox, {"filters": {"teamId": TEAM_ID}}).json()["data"]["leads"][0]
    assert {"leadId", "legacyLeadId", "assignedMembers", "systemFields"} <= set(lead)
    assert {"captureDatetime", "email", "firstName", "fullName", "campaignId", "ownerId"} <= set(
        lead["systemFields"]
    )
    assert not any(key.startswith("_") for key in lead)


def test_ascending_sort_orders_by_capture_time(sandbox: SandboxClient) -> None:
    leads = all_leads(sandbox, {"filters": {"teamId": TEAM_ID}, "sort": ASC})
    times = [captured(lead) for lead in leads]
    assert times == sorted(times)


def test_default_sort_is_newest_first(sandbox: SandboxClient) -> None:
    leads = search(sandbox, {"filters": {"teamId": TEAM_ID}}).json()["data"]["leads"]
    times = [captured(lead) for lead in leads]
    assert times == sorted(times, reverse=True)


def test_seed_data_has_capture_time_ties(sandbox: SandboxClient) -> None:
    times = [captured(lead) for lead in sandbox.records("popl", "leads")]
    assert len(set(times)) < len(times)


def test_cursor_pages_cover_every_lead_once_despite_ties(sandbox: SandboxClient) -> None:
    sandbox.settings("popl", page_size=7)
    sandbox.seed("popl", count=40, tie_every=20)
    leads = all_leads(sandbox, {"filters": {"teamId": TEAM_ID}, "sort": ASC})
    ids = [lead["leadId"] for lead in leads]
    assert len(ids) == len(set(ids)) == len(sandbox.records("popl", "leads")) - 1


def test_descending_cursor_pages_cover_every_lead_once(sandbox: SandboxClient) -> None:
    sandbox.settings("popl", page_size=33)
    body = {"filters": {"teamId": TEAM_ID}, "sort": {"field": "timestamp", "direction": "DESC"}}
    ids = [lead["leadId"] for lead in all_leads(sandbox, body)]
    assert len(ids) == len(set(ids)) == len(sandbox.records("popl", "leads")) - 1


def test_last_page_has_null_next_cursor(sandbox: SandboxClient) -> None:
    body = {"filters": {"teamId": TEAM_ID, "startTime": "2025-10-16T12:00:00Z"}, "sort": ASC}
    assert search(sandbox, body).json()["data"]["nextCursor"] is None


def test_tampered_cursor_is_a_400(sandbox: SandboxClient) -> None:
    body = {"filters": {"teamId": TEAM_ID}, "sort": ASC}
    cursor = search(sandbox, body).json()["data"]["nextCursor"]
    forged = ("A" if cursor[0] != "A" else "B") + cursor[1:]
    assert search(sandbox, {**body, "cursor": forged}).status_code == 400


def test_garbage_cursor_is_a_400(sandbox: SandboxClient) -> None:
    body = {"filters": {"teamId": TEAM_ID}, "cursor": "page=2"}
    assert search(sandbox, body).status_code == 400


def test_cursor_from_another_search_is_a_400(sandbox: SandboxClient) -> None:
    cursor = search(sandbox, {"filters": {"teamId": TEAM_ID}, "sort": ASC}).json()["data"][
        "nextCursor"
    ]
    other = {"filters": {"subteamIds": [301]}, "sort": ASC, "cursor": cursor}
    assert search(sandbox, other).status_code == 400


def test_start_time_is_strict_by_default(sandbox: SandboxClient) -> None:
    (lead_id,) = sandbox.seed("popl", leads=[{"captured_at": "2026-01-05T10:00:00.000Z"}])[
        "leadIds"
    ]
    body = {"filters": {"teamId": TEAM_ID, "startTime": "2026-01-05T10:00:00Z"}, "sort": ASC}
    assert lead_id not in [lead["leadId"] for lead in search(sandbox, body).json()["data"]["leads"]]


def test_start_time_can_be_made_inclusive(sandbox: SandboxClient) -> None:
    sandbox.settings("popl", start_time_inclusive=True)
    (lead_id,) = sandbox.seed("popl", leads=[{"captured_at": "2026-01-05T10:00:00.000Z"}])[
        "leadIds"
    ]
    body = {"filters": {"teamId": TEAM_ID, "startTime": "2026-01-05T10:00:00Z"}, "sort": ASC}
    assert lead_id in [lead["leadId"] for lead in search(sandbox, body).json()["data"]["leads"]]


def test_time_window_bounds_capture_times(sandbox: SandboxClient) -> None:
    start, end = "2025-03-01T00:00:00+00:00", "2025-04-01T00:00:00+00:00"
    leads = all_leads(sandbox, {"filters": {"teamId": TEAM_ID, "startTime": start, "endTime": end}})
    assert leads
    assert all("2025-03" in captured(lead) for lead in leads)


def test_subteam_scope_returns_only_its_members_leads(sandbox: SandboxClient) -> None:
    team = sandbox.records("popl", "team")
    members = set(team["subteams"][0]["memberIds"])
    leads = all_leads(sandbox, {"filters": {"subteamIds": [team["subteams"][0]["subteamId"]]}})
    assert leads
    assert all(members & set(lead["assignedMembers"]) for lead in leads)


def test_lead_source_filter(sandbox: SandboxClient) -> None:
    body = {"filters": {"teamId": TEAM_ID, "leadSource": ["BADGE_SCAN"]}}
    leads = all_leads(sandbox, body)
    assert leads
    assert {lead["leadSource"] for lead in leads} == {"BADGE_SCAN"}


def test_default_leads_only_with_include_default_leads(sandbox: SandboxClient) -> None:
    body: dict[str, Any] = {"filters": {"teamId": TEAM_ID}}
    without = all_leads(sandbox, body)
    with_default = all_leads(sandbox, {**body, "includeDefaultLeads": True})
    assert len(with_default) == len(without) + 1


def test_seed_people_include_missing_emails_local_phones_and_unicode(
    sandbox: SandboxClient,
) -> None:
    leads = sandbox.records("popl", "leads")
    assert any(lead["systemFields"]["email"] is None for lead in leads)
    assert any(p["number"][0] != "+" for lead in leads for p in lead["phones"])
    assert any(not lead["systemFields"]["fullName"].isascii() for lead in leads)


def test_leads_come_from_the_shared_people_pool(sandbox: SandboxClient) -> None:
    pool = {p.email for p in people(42) if p.email}
    leads = sandbox.records("popl", "leads")
    assert sum(lead["systemFields"]["email"] in pool for lead in leads) > len(leads) * 0.8


# Offline capture and late sync


def test_offline_lead_is_invisible_until_it_syncs(sandbox: SandboxClient) -> None:
    lead = sandbox.action("popl", "capture_offline", captured_at="2025-10-15T11:00:00Z")
    body = {"filters": {"teamId": TEAM_ID, "startTime": "2025-10-15T00:00:00Z"}, "sort": ASC}
    assert lead["leadId"] not in {x["leadId"] for x in all_leads(sandbox, body)}
    sandbox.action("popl", "sync", leadIds=[lead["leadId"]])
    assert lead["leadId"] in {x["leadId"] for x in all_leads(sandbox, body)}


def test_late_lead_appears_now_with_its_old_capture_time(sandbox: SandboxClient) -> None:
    lead = sandbox.action("popl", "late_lead", captured_at="2025-06-11T10:00:00Z")
    body = {"filters": {"teamId": TEAM_ID, "startTime": "2025-06-11T09:59:00Z"}, "sort": ASC}
    found = [x for x in all_leads(sandbox, body) if x["leadId"] == lead["leadId"]]
    assert captured(found[0]) == "2025-06-11T10:00:00.000Z"


def test_seed_data_has_leads_waiting_to_sync(sandbox: SandboxClient) -> None:
    assert sandbox.records("popl", "pending")


def test_editing_a_lead_keeps_its_capture_time(sandbox: SandboxClient) -> None:
    lead = sandbox.records("popl", "leads")[10]
    edited = sandbox.action("popl", "edit_lead", leadId=lead["leadId"], note="Call back Friday")
    assert edited["systemFields"]["note"] == "Call back Friday"
    assert captured(edited) == captured(lead)


# GET /leads/{leadId}


def test_get_lead_returns_it_with_duplicated_connections(sandbox: SandboxClient) -> None:
    lead = sandbox.records("popl", "leads")[5]
    response = requests.get(
        f"{sandbox.api_url('popl')}/leads/{lead['leadId']}",
        headers={"Authorization": "Bearer sandbox-popl-key"},
        timeout=5,
    )
    data = response.json()["data"]
    assert data["leadId"] == lead["leadId"]
    assert isinstance(data["duplicatedConnections"], list)


def test_get_lead_lists_the_same_person_captured_twice(sandbox: SandboxClient) -> None:
    first, second = sandbox.seed(
        "popl", leads=[{"email": "twice@example.org"}, {"email": "twice@example.org"}]
    )["leadIds"]
    data = requests.get(
        f"{sandbox.api_url('popl')}/leads/{first}",
        headers={"Authorization": "sandbox-popl-key"},
        timeout=5,
    ).json()["data"]
    assert [d["leadId"] for d in data["duplicatedConnections"]] == [second]


def test_get_unknown_lead_is_a_404(sandbox: SandboxClient) -> None:
    response = requests.get(
        f"{sandbox.api_url('popl')}/leads/00000000-0000-4000-8000-000000000000",
        headers={"Authorization": "sandbox-popl-key"},
        timeout=5,
    )
    assert response.status_code == 404


def test_get_lead_still_needs_a_key(sandbox: SandboxClient) -> None:
    lead = sandbox.records("popl", "leads")[5]
    response = requests.get(f"{sandbox.api_url('popl')}/leads/{lead['leadId']}", timeout=5)
    assert response.status_code == 401


def test_page_size_is_a_sandbox_setting(sandbox: SandboxClient) -> None:
    sandbox.settings("popl", page_size=3)
    leads = search(sandbox, {"filters": {"teamId": TEAM_ID}}).json()["data"]["leads"]
    assert len(leads) == 3


def test_seed_with_replace_serves_only_the_new_leads(sandbox: SandboxClient) -> None:
    added = sandbox.seed("popl", replace=True, count=12, tie_every=6)["leadIds"]
    leads = all_leads(sandbox, {"filters": {"teamId": TEAM_ID}, "sort": ASC})
    assert sorted(lead["leadId"] for lead in leads) == sorted(added)
