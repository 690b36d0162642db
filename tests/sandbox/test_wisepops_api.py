"""The Wisepops emulator over real HTTP: what ../shared/api/wisepops.md documents."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import pytest
import requests

from sandbox.control import DEMO_KEYS, SandboxClient
from sandbox.people import people

KEY = DEMO_KEYS["wisepops"]
HEADERS = {"Authorization": f'WISEPOPS-API key="{KEY}"'}


def url(sandbox: SandboxClient, path: str) -> str:
    return f"{sandbox.api_url('wisepops')}{path}"


def get(sandbox: SandboxClient, path: str, **params: Any) -> requests.Response:
    return requests.get(url(sandbox, path), params=params, headers=HEADERS, timeout=10)


def contacts(sandbox: SandboxClient, **params: Any) -> list[dict[str, Any]]:
    response = get(sandbox, "/contacts", **params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body, list)
    return body


# Authentication


@pytest.mark.parametrize(
    "header",
    [
        None,
        f"Bearer {KEY}",
        f"WISEPOPS-API key={KEY}",
        f'wisepops-api key="{KEY}"',
        'WISEPOPS-API key="not-the-key"',
    ],
)
def test_anything_but_the_exact_header_with_a_known_key_is_401(
    sandbox: SandboxClient, header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}
    response = requests.get(url(sandbox, "/contacts"), headers=headers, timeout=10)
    assert response.status_code == 401
    assert "error" in response.json()


def test_revoked_key_is_401(sandbox: SandboxClient) -> None:
    sandbox.revoke("wisepops")
    assert get(sandbox, "/contacts").status_code == 401


def test_account_without_api_access_is_403(sandbox: SandboxClient) -> None:
    sandbox.settings("wisepops", api_access=False)
    assert get(sandbox, "/wisepops").status_code == 403


# GET /contacts


def test_contacts_are_a_bare_array_of_100_by_default(sandbox: SandboxClient) -> None:
    assert len(contacts(sandbox)) == 100


def test_contacts_have_the_documented_shape(sandbox: SandboxClient) -> None:
    for record in contacts(sandbox, page_size=1000):
        assert set(record) - {"form_session"} == {
            "collected_at",
            "wisepop_id",
            "ip",
            "country_code",
            "fields",
        }
        assert datetime.strptime(record["collected_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
        assert len(record["collected_at"]) == 24  # milliseconds and Z
        assert all(isinstance(v, str) for v in record["fields"].values())


def test_form_session_is_on_most_but_not_all_contacts(sandbox: SandboxClient) -> None:
    records = sandbox.records("wisepops", "contacts")
    with_session = sum("form_session" in r for r in records)
    assert len(records) * 0.7 < with_session < len(records)


def test_contacts_are_sorted_oldest_first(sandbox: SandboxClient) -> None:
    stamps = [r["collected_at"] for r in contacts(sandbox, page_size=1000)]
    assert stamps == sorted(stamps)


@pytest.mark.parametrize("size", ["0", "1001", "-5", "abc"])
def test_page_size_outside_1_to_1000_is_400(sandbox: SandboxClient, size: str) -> None:
    assert get(sandbox, "/contacts", page_size=size).status_code == 400


@pytest.mark.parametrize("size", [1, 1000])
def test_page_size_bounds_are_accepted(sandbox: SandboxClient, size: int) -> None:
    assert len(contacts(sandbox, page_size=size)) == size


def test_unparseable_collected_after_is_400(sandbox: SandboxClient) -> None:
    assert get(sandbox, "/contacts", collected_after="last tuesday").status_code == 400


def test_bad_page_is_400(sandbox: SandboxClient) -> None:
    assert get(sandbox, "/contacts", page="0").status_code == 400


def test_page_parameter_offsets_within_the_same_query(sandbox: SandboxClient) -> None:
    everything = contacts(sandbox, page_size=300)
    second = contacts(sandbox, page_size=100, page=2)
    assert second == everything[100:200]


def test_strict_mode_excludes_contacts_at_collected_after(sandbox: SandboxClient) -> None:
    seeded = sandbox.seed(
        "wisepops", contacts=3, collected_at="2030-01-01T00:00:00.500Z", same_timestamp=True
    )
    after = contacts(sandbox, collected_after=seeded["first_collected_at"])
    assert after == []


def test_inclusive_mode_includes_contacts_at_collected_after(sandbox: SandboxClient) -> None:
    sandbox.settings("wisepops", collected_after_mode="inclusive")
    seeded = sandbox.seed(
        "wisepops", contacts=3, collected_at="2030-01-01T00:00:00.500Z", same_timestamp=True
    )
    after = contacts(sandbox, collected_after=seeded["first_collected_at"])
    assert after == seeded["contacts"]


def test_strict_is_the_default_mode(sandbox: SandboxClient) -> None:
    assert sandbox.settings("wisepops")["collected_after_mode"] == "strict"


def test_collected_after_accepts_offsets_and_finer_precision(sandbox: SandboxClient) -> None:
    sandbox.seed("wisepops", contacts=1, collected_at="2030-01-01T00:00:00.500Z")
    assert len(contacts(sandbox, collected_after="2030-01-01T01:00:00.4999+01:00")) == 1
    assert contacts(sandbox, collected_after="2030-01-01T00:00:00.5001Z") == []


def test_wisepop_id_filters_contacts(sandbox: SandboxClient) -> None:
    records = contacts(sandbox, wisepop_id=45678, page_size=1000)
    assert records
    assert {r["wisepop_id"] for r in records} == {45678}


def test_unknown_wisepop_id_is_404(sandbox: SandboxClient) -> None:
    assert get(sandbox, "/contacts", wisepop_id=999).status_code == 404


def test_seed_data_has_a_tie_group_larger_than_1000(sandbox: SandboxClient) -> None:
    stamps = Counter(r["collected_at"] for r in sandbox.records("wisepops", "contacts"))
    assert max(stamps.values()) > 1000
    assert sum(1 for n in stamps.values() if n > 1) > 20


@pytest.mark.parametrize("boundary", [100, 200, 1000])
def test_seed_ties_straddle_page_boundaries(sandbox: SandboxClient, boundary: int) -> None:
    first = contacts(sandbox, page_size=boundary)
    following = contacts(sandbox, page_size=boundary, page=2)
    assert first[-1]["collected_at"] == following[0]["collected_at"]


def test_form_labels_vary_in_case_and_spelling(sandbox: SandboxClient) -> None:
    labels = {label for r in sandbox.records("wisepops", "contacts") for label in r["fields"]}
    assert {"email", "Email", "E-mail", "Email address", "Phone", "First name"} <= labels
    assert {"last_name", "Company", "Prénom"} <= labels


def test_seed_data_is_messy_like_real_exports(sandbox: SandboxClient) -> None:
    records = sandbox.records("wisepops", "contacts")
    emails = [v for r in records for k, v in r["fields"].items() if "mail" in k.lower()]
    assert any(v == "" for v in emails) or any(
        not any("mail" in k.lower() for k in r["fields"]) for r in records
    )
    phones = [v for r in records for k, v in r["fields"].items() if k in {"Phone", "Mobile"}]
    assert any(not v.startswith("+") for v in phones if v)
    names = [v for r in records for k, v in r["fields"].items() if "name" in k.lower()]
    assert any(not v.isascii() for v in names)


def test_contacts_are_people_the_popl_emulator_also_has(sandbox: SandboxClient) -> None:
    pool = {p.email for p in people(42) if p.email}
    emails = {v for r in sandbox.records("wisepops", "contacts") for v in r["fields"].values()}
    assert len(pool & emails) > 100


def test_seed_records_adds_a_same_timestamp_group(sandbox: SandboxClient) -> None:
    added = sandbox.seed(
        "wisepops",
        contacts=5,
        collected_at="2031-05-05T05:05:05.005Z",
        same_timestamp=True,
        wisepop_id=12345,
    )
    assert added["added"] == 5
    assert {c["collected_at"] for c in added["contacts"]} == {"2031-05-05T05:05:05.005Z"}
    assert {c["wisepop_id"] for c in added["contacts"]} == {12345}
    assert contacts(sandbox, collected_after="2031-01-01T00:00:00Z") == added["contacts"]


# GET /wisepops


def test_wisepops_list_uses_the_space_separated_created_at(sandbox: SandboxClient) -> None:
    response = get(sandbox, "/wisepops")
    assert response.status_code == 200
    popups = response.json()
    assert {p["id"] for p in popups} >= {10000, 12345}
    for popup in popups:
        assert datetime.strptime(popup["created_at"], "%Y-%m-%d %H:%M:%S")
        assert set(popup) == {
            "id",
            "label",
            "created_at",
            "activated",
            "display_count",
            "click_count",
            "email_count",
        }


# /hooks


def test_hooks_can_be_listed_created_and_deleted(sandbox: SandboxClient) -> None:
    created = requests.post(
        url(sandbox, "/hooks"),
        json={"event": "survey", "target_url": "https://example.com/h", "wisepop_id": 12345},
        headers=HEADERS,
        timeout=10,
    )
    assert created.status_code == 200
    hook_id = created.json()["id"]
    assert hook_id in {h["id"] for h in get(sandbox, "/hooks").json()}
    deleted = requests.delete(
        url(sandbox, "/hooks"), params={"hook_id": hook_id}, headers=HEADERS, timeout=10
    )
    assert deleted.status_code == 200
    assert hook_id not in {h["id"] for h in get(sandbox, "/hooks").json()}


@pytest.mark.parametrize(
    "body",
    [
        {"event": "click", "target_url": "https://example.com/h"},
        {"event": "email"},
        {"event": "email", "target_url": "not a url"},
        {"event": "email", "target_url": "ftp://example.com/h"},
        {"event": "email", "target_url": "https://example.com/h", "wisepop_id": "12345"},
        {"event": "email", "target_url": "https://example.com/h", "wisepop_id": 1},
        {"event": "email", "target_url": "https://example.com/h", "colour": "red"},
    ],
)
def test_invalid_hooks_are_400(sandbox: SandboxClient, body: dict[str, Any]) -> None:
    response = requests.post(url(sandbox, "/hooks"), json=body, headers=HEADERS, timeout=10)
    assert response.status_code == 400


def test_deleting_an_unknown_hook_is_404(sandbox: SandboxClient) -> None:
    response = requests.delete(
        url(sandbox, "/hooks"), params={"hook_id": 999}, headers=HEADERS, timeout=10
    )
    assert response.status_code == 404


def test_deleting_a_hook_without_hook_id_is_400(sandbox: SandboxClient) -> None:
    assert requests.delete(url(sandbox, "/hooks"), headers=HEADERS, timeout=10).status_code == 400


# DELETE /data-privacy


def privacy(sandbox: SandboxClient, body: Any) -> requests.Response:
    return requests.delete(url(sandbox, "/data-privacy"), json=body, headers=HEADERS, timeout=10)


def test_data_privacy_deletes_every_contact_with_the_email(sandbox: SandboxClient) -> None:
    sandbox.seed("wisepops", contacts=2, fields={"Email": "Erase.Me@example.com"})
    response = privacy(sandbox, {"email": "erase.me@example.com"})
    assert (response.status_code, response.json()) == (200, {"deleted": 2})
    remaining = sandbox.records("wisepops", "contacts")
    assert all("Erase.Me@example.com" not in r["fields"].values() for r in remaining)


def test_data_privacy_matches_local_format_phones(sandbox: SandboxClient) -> None:
    american = next(p.index for p in people(42) if p.region == "US")
    sandbox.seed("wisepops", contacts=1, fields={"Phone": "(415) 555-2671"}, person=american)
    assert privacy(sandbox, {"phone": "+14155552671"}).json() == {"deleted": 1}


@pytest.mark.parametrize(
    "body",
    [{}, {"phone": "+1 415 555 2671"}, {"phone": "4155552671"}, {"email": 42}, [1]],
)
def test_data_privacy_rejects_bad_bodies(sandbox: SandboxClient, body: Any) -> None:
    assert privacy(sandbox, body).status_code == 400


def test_data_privacy_with_no_match_deletes_nothing(sandbox: SandboxClient) -> None:
    before = len(sandbox.records("wisepops", "contacts"))
    assert privacy(sandbox, {"email": "nobody@nowhere.invalid"}).json() == {"deleted": 0}
    assert len(sandbox.records("wisepops", "contacts")) == before


# Call budget


def test_every_authenticated_call_counts_against_the_budget(sandbox: SandboxClient) -> None:
    get(sandbox, "/contacts")
    get(sandbox, "/contacts", page_size=0)  # served as a 400: it still counts
    requests.get(url(sandbox, "/contacts"), timeout=10)  # 401: not a call of this account
    usage = sandbox.records("wisepops", "usage")
    assert (usage["used"], usage["limit"], usage["remaining"]) == (2, 1500, 1498)


def test_budget_exhausted_is_429_with_retry_after(sandbox: SandboxClient) -> None:
    sandbox.settings("wisepops", monthly_call_budget=2)
    assert get(sandbox, "/wisepops").status_code == 200
    assert get(sandbox, "/hooks").status_code == 200
    refused = get(sandbox, "/contacts")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 29 * 86400
    usage = sandbox.records("wisepops", "usage")
    assert (usage["used"], usage["refused"]) == (2, 1)


def test_budget_defaults_to_1500_calls_per_30_days(sandbox: SandboxClient) -> None:
    settings = sandbox.settings("wisepops")
    assert (settings["monthly_call_budget"], settings["budget_window_days"]) == (1500, 30)


def test_unknown_mode_setting_is_refused(sandbox: SandboxClient) -> None:
    with pytest.raises(RuntimeError):
        sandbox.settings("wisepops", collected_after_mode="sometimes")


# Faults


@pytest.mark.parametrize("kind", ["500", "502", "503", "429", "429-date", "429-bare"])
def test_injected_faults_reach_wisepops_clients(sandbox: SandboxClient, kind: str) -> None:
    sandbox.faults("wisepops", queue=[kind])
    assert get(sandbox, "/contacts").status_code == int(kind[:3])
    assert get(sandbox, "/contacts").status_code == 200


def test_truncated_contacts_body_is_not_valid_json(sandbox: SandboxClient) -> None:
    sandbox.faults("wisepops", queue=["truncate"])
    response = get(sandbox, "/contacts")
    with pytest.raises(ValueError):  # noqa: PT011 - requests raises its JSONDecodeError
        response.json()


# Malformed collected_at (setting `malformed_collected_at`)


def seed_seconds_apart(sandbox: SandboxClient, count: int) -> list[dict[str, Any]]:
    """Only `count` contacts, each with a form session, a second apart."""
    added = sandbox.seed(
        "wisepops",
        contacts=count,
        collected_at="2030-01-01T00:00:00.000Z",
        step_ms=1000,
        form_session=True,
        replace=True,
    )
    return list(added["contacts"])


@pytest.mark.parametrize("shown", ["garbage", None, "2025-03-01 08:08:20"])
def test_a_malformed_collected_at_is_served_as_set(sandbox: SandboxClient, shown: Any) -> None:
    seeded = seed_seconds_apart(sandbox, 3)
    sandbox.settings("wisepops", malformed_collected_at={seeded[1]["collected_at"]: shown})
    served = contacts(sandbox)
    assert [c["collected_at"] for c in served] == [
        seeded[0]["collected_at"],
        shown,
        seeded[2]["collected_at"],
    ]
    assert [c["form_session"] for c in served] == [c["form_session"] for c in seeded]


def test_contacts_with_a_malformed_collected_at_still_sort_and_filter_by_true_time(
    sandbox: SandboxClient,
) -> None:
    seeded = seed_seconds_apart(sandbox, 4)
    sandbox.settings("wisepops", malformed_collected_at={seeded[2]["collected_at"]: "garbage"})
    after = contacts(sandbox, collected_after=seeded[1]["collected_at"])
    assert [c["form_session"] for c in after] == [c["form_session"] for c in seeded[2:]]
    assert contacts(sandbox, collected_after=seeded[2]["collected_at"]) == [seeded[3]]


def test_malformed_collected_at_is_off_by_default(sandbox: SandboxClient) -> None:
    assert sandbox.settings("wisepops")["malformed_collected_at"] == {}


@pytest.mark.parametrize(
    "rules", [["garbage"], {"not a time": "garbage"}, {"2030-01-01T00:00:00Z": 42}]
)
def test_bad_malformed_collected_at_rules_are_refused(sandbox: SandboxClient, rules: Any) -> None:
    with pytest.raises(RuntimeError):
        sandbox.settings("wisepops", malformed_collected_at=rules)


# Deletions during paging (action `delete_contacts`, setting `page_snapshots`)


def test_delete_contacts_erases_by_form_session_or_position_at_once(
    sandbox: SandboxClient,
) -> None:
    seeded = seed_seconds_apart(sandbox, 5)
    done = sandbox.action(
        "wisepops", "delete_contacts", form_sessions=[seeded[0]["form_session"]], positions=[3]
    )
    assert done == {"deleted": 2}
    assert sandbox.records("wisepops", "contacts") == [seeded[1], seeded[2], seeded[4]]


def test_a_scheduled_deletion_happens_right_after_the_kth_contacts_request(
    sandbox: SandboxClient,
) -> None:
    seeded = seed_seconds_apart(sandbox, 5)
    sandbox.action("wisepops", "delete_contacts", after_requests=2, positions=[0])
    assert len(contacts(sandbox)) == 5
    assert len(sandbox.records("wisepops", "contacts")) == 5
    assert len(contacts(sandbox)) == 5
    assert contacts(sandbox) == seeded[1:]


def test_deleting_contacts_already_served_shifts_later_pages_by_default(
    sandbox: SandboxClient,
) -> None:
    sandbox.seed(
        "wisepops",
        contacts=30,
        collected_at="2030-01-01T00:00:00.500Z",
        same_timestamp=True,
        form_session=True,
        replace=True,
    )
    everything = contacts(sandbox)
    first = contacts(sandbox, page_size=10)
    sandbox.action("wisepops", "delete_contacts", positions=[0, 1, 2])
    second = contacts(sandbox, page_size=10, page=2)
    assert first == everything[:10]
    assert second == everything[13:23]  # three contacts never appear on any page


def test_page_snapshots_keep_the_pages_of_one_query_in_place(sandbox: SandboxClient) -> None:
    sandbox.settings("wisepops", page_snapshots=True)
    sandbox.seed(
        "wisepops",
        contacts=30,
        collected_at="2030-01-01T00:00:00.500Z",
        same_timestamp=True,
        form_session=True,
        replace=True,
    )
    everything = contacts(sandbox)
    contacts(sandbox, page_size=10)
    sandbox.action("wisepops", "delete_contacts", positions=[0, 1, 2])
    assert contacts(sandbox, page_size=10, page=2) == everything[10:20]
    assert contacts(sandbox, page_size=10) == everything[3:13]


def test_pages_follow_live_data_by_default(sandbox: SandboxClient) -> None:
    assert sandbox.settings("wisepops")["page_snapshots"] is False
