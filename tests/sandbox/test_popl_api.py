"""The Popl emulator over HTTP: what the v2 reference pages document, strictly."""

from __future__ import annotations

import time
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


# Malformed capture times


def test_lead_can_be_sent_with_a_junk_capture_time(sandbox: SandboxClient) -> None:
    (lead_id,) = sandbox.seed(
        "popl", leads=[{"captured_at": "2026-02-01T10:00:00Z", "capture_sent_as": "not-a-date"}]
    )["leadIds"]
    body = {"filters": {"teamId": TEAM_ID, "startTime": "2026-01-01T00:00:00Z"}, "sort": ASC}
    (lead,) = search(sandbox, body).json()["data"]["leads"]
    assert lead["leadId"] == lead_id
    assert captured(lead) == "not-a-date"


def test_junk_capture_times_are_still_sorted_by_the_true_time(sandbox: SandboxClient) -> None:
    early, junk, late = sandbox.seed(
        "popl",
        leads=[
            {"captured_at": "2026-02-01T10:00:00Z"},
            {"captured_at": "2026-02-01T11:00:00Z", "capture_sent_as": "2025-13-45T99:00:00Z"},
            {"captured_at": "2026-02-01T12:00:00Z"},
        ],
    )["leadIds"]
    body = {"filters": {"teamId": TEAM_ID, "startTime": "2026-02-01T10:30:00Z"}, "sort": ASC}
    assert [lead["leadId"] for lead in all_leads(sandbox, body)] == [junk, late]
    assert early not in [lead["leadId"] for lead in all_leads(sandbox, body)]


def test_capture_times_are_well_formed_by_default(sandbox: SandboxClient) -> None:
    leads = all_leads(sandbox, {"filters": {"teamId": TEAM_ID}, "sort": ASC})
    assert all(captured(lead).endswith("Z") for lead in leads)


def test_malformed_capture_every_mangles_some_leads_on_the_wire_only(
    sandbox: SandboxClient,
) -> None:
    sandbox.settings("popl", malformed_capture_every=10)
    sent = all_leads(sandbox, {"filters": {"teamId": TEAM_ID}, "sort": ASC})
    shown = [lead["systemFields"]["captureDatetime"] for lead in sent]
    junk = [value for value in shown if not str(value).endswith("Z")]
    assert 10 < len(junk) < 80
    assert set(junk) <= {
        "not-a-date",
        "2025-13-45T99:00:00Z",
        1744686000,
        "15/04/2025 03:00",
    }
    assert all(captured(lead).endswith("Z") for lead in sandbox.records("popl", "leads"))


# Deletions while a search is being paged


def _first_page(sandbox: SandboxClient, body: dict[str, Any]) -> dict[str, Any]:
    return dict(search(sandbox, body).json()["data"])


def _pages_from(sandbox: SandboxClient, body: dict[str, Any], cursor: str) -> list[dict[str, Any]]:
    leads: list[dict[str, Any]] = []
    while cursor is not None:
        data = search(sandbox, {**body, "cursor": cursor}).json()["data"]
        leads += data["leads"]
        cursor = data["nextCursor"]
    return leads


def test_deleting_a_lead_on_a_later_page_does_not_break_paging(sandbox: SandboxClient) -> None:
    body = {"filters": {"teamId": TEAM_ID}, "sort": ASC}
    page = _first_page(sandbox, body)
    victim = all_leads(sandbox, body)[150]["leadId"]
    sandbox.action("popl", "delete_lead", leadId=victim)
    rest = _pages_from(sandbox, body, page["nextCursor"])
    seen = [lead["leadId"] for lead in page["leads"] + rest]
    assert victim not in seen
    assert len(seen) == len(set(seen)) == len(sandbox.records("popl", "leads")) - 1


def test_cursor_at_a_deleted_lead_is_refused_by_default(sandbox: SandboxClient) -> None:
    body = {"filters": {"teamId": TEAM_ID}, "sort": ASC}
    page = _first_page(sandbox, body)
    sandbox.action("popl", "delete_lead", leadId=page["leads"][-1]["leadId"])
    response = search(sandbox, {**body, "cursor": page["nextCursor"]})
    assert response.status_code == 400
    assert "deleted" in response.json()["message"]


def test_cursor_at_a_deleted_lead_can_skip_ahead_instead(sandbox: SandboxClient) -> None:
    sandbox.settings("popl", deleted_anchor="skip")
    body = {"filters": {"teamId": TEAM_ID}, "sort": ASC}
    before = [lead["leadId"] for lead in all_leads(sandbox, body)]
    page = _first_page(sandbox, body)
    sandbox.action("popl", "delete_lead", leadId=page["leads"][-1]["leadId"])
    rest = _pages_from(sandbox, body, page["nextCursor"])
    assert [lead["leadId"] for lead in page["leads"] + rest] == before


# Expiring cursors


def test_cursor_can_be_reused_by_default(sandbox: SandboxClient) -> None:
    body = {"filters": {"teamId": TEAM_ID}, "sort": ASC}
    cursor = _first_page(sandbox, body)["nextCursor"]
    for _ in range(3):
        assert search(sandbox, {**body, "cursor": cursor}).status_code == 200


def test_cursor_is_refused_after_its_allowed_uses(sandbox: SandboxClient) -> None:
    sandbox.settings("popl", cursor_max_uses=1)
    body = {"filters": {"teamId": TEAM_ID}, "sort": ASC}
    cursor = _first_page(sandbox, body)["nextCursor"]
    assert search(sandbox, {**body, "cursor": cursor}).status_code == 200
    refused = search(sandbox, {**body, "cursor": cursor})
    assert refused.status_code == 400
    assert refused.json() == {"statusCode": 400, "message": "Cursor expired. Start a new search."}


def test_same_search_run_twice_gets_distinct_cursors(sandbox: SandboxClient) -> None:
    """Uses are counted per issued cursor, not per position."""
    sandbox.settings("popl", cursor_max_uses=1)
    body = {"filters": {"teamId": TEAM_ID}, "sort": ASC}
    first = _first_page(sandbox, body)["nextCursor"]
    second = _first_page(sandbox, body)["nextCursor"]
    assert first != second
    assert search(sandbox, {**body, "cursor": first}).status_code == 200
    assert search(sandbox, {**body, "cursor": second}).status_code == 200


def test_cursor_dies_after_fifteen_minutes_by_default(sandbox: SandboxClient) -> None:
    assert sandbox.settings("popl")["cursor_ttl_seconds"] == 900


def test_cursor_is_refused_once_its_lifetime_is_over(sandbox: SandboxClient) -> None:
    # A lifetime of a fraction of a second, so that the test need not wait 15 minutes.
    sandbox.settings("popl", cursor_ttl_seconds=0.3)
    body = {"filters": {"teamId": TEAM_ID}, "sort": ASC}
    fresh = _first_page(sandbox, body)["nextCursor"]
    assert search(sandbox, {**body, "cursor": fresh}).status_code == 200
    stale = _first_page(sandbox, body)["nextCursor"]
    time.sleep(0.5)
    assert search(sandbox, {**body, "cursor": stale}).status_code == 400


def test_cursors_never_expire_when_lifetime_is_null(sandbox: SandboxClient) -> None:
    sandbox.settings("popl", cursor_ttl_seconds=None)
    body = {"filters": {"teamId": TEAM_ID}, "sort": ASC}
    cursor = _first_page(sandbox, body)["nextCursor"]
    time.sleep(0.2)
    assert search(sandbox, {**body, "cursor": cursor}).status_code == 200


def pages_until_refused(sandbox: SandboxClient, body: dict[str, Any]) -> tuple[int, int]:
    """Pages served before a refusal (or the end), and the final status."""
    cursor, pages = None, 0
    while True:
        response = search(sandbox, {**body, "cursor": cursor})
        if response.status_code != 200:
            return pages, response.status_code
        pages += 1
        cursor = response.json()["data"]["nextCursor"]
        if cursor is None:
            return pages, 200


def test_cursor_for_a_given_page_is_refused_every_time(sandbox: SandboxClient) -> None:
    sandbox.settings("popl", page_size=20, cursor_expire_at_page=7)
    body = {"filters": {"teamId": TEAM_ID}, "sort": ASC}
    assert pages_until_refused(sandbox, body) == (6, 400)
    assert pages_until_refused(sandbox, body) == (6, 400)


def test_refusals_can_be_limited_to_a_number_of_times(sandbox: SandboxClient) -> None:
    sandbox.settings("popl", page_size=20, cursor_expire_at_page=7, cursor_refusals=1)
    body = {"filters": {"teamId": TEAM_ID}, "sort": ASC}
    assert pages_until_refused(sandbox, body) == (6, 400)
    assert pages_until_refused(sandbox, body) == (20, 200)
    assert sandbox.settings("popl")["cursor_refusals"] == 0


@pytest.mark.parametrize("status", [404, 410])
def test_refusal_status_and_message_are_settings(sandbox: SandboxClient, status: int) -> None:
    sandbox.settings(
        "popl",
        page_size=50,
        cursor_expire_at_page=2,
        cursor_refusal_status=status,
        cursor_refusal_message="Cursor gone",
    )
    body = {"filters": {"teamId": TEAM_ID}, "sort": ASC}
    response = search(sandbox, {**body, "cursor": _first_page(sandbox, body)["nextCursor"]})
    assert response.status_code == status
    assert response.json() == {"statusCode": status, "message": "Cursor gone"}


@pytest.mark.parametrize(
    "changes",
    [
        {"cursor_max_uses": -1},
        {"cursor_expire_at_page": 1},
        {"cursor_refusal_status": 401},
        {"cursor_refusal_status": 500},
        {"deleted_anchor": "maybe"},
        {"malformed_capture_values": []},
    ],
)
def test_cursor_and_capture_settings_are_checked(
    sandbox: SandboxClient, changes: dict[str, Any]
) -> None:
    with pytest.raises(RuntimeError):
        sandbox.settings("popl", **changes)
