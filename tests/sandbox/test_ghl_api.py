"""The GHL emulator over HTTP: what ../shared/api/ghl.md says a faithful emulator reproduces."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from sandbox.control import DEMO_KEYS, SandboxClient

LOCATION = DEMO_KEYS["ghl_location"]
RATE_HEADERS = (
    "X-RateLimit-Max",
    "X-RateLimit-Remaining",
    "X-RateLimit-Interval-Milliseconds",
    "X-RateLimit-Limit-Daily",
    "X-RateLimit-Daily-Remaining",
)


class Ghl:
    """A bare HTTP client of the emulated API, with GHL's documented headers."""

    def __init__(self, sandbox: SandboxClient, token: str = DEMO_KEYS["ghl"]) -> None:
        self.base = sandbox.api_url("ghl")
        self.headers = {
            "Authorization": f"Bearer {token}",
            "Version": "2021-07-28",
            "Accept": "application/json",
        }

    def call(self, method: str, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return requests.request(
            method, self.base + path, json=body, headers=headers, timeout=5, **kwargs
        )

    def upsert(self, **fields: Any) -> requests.Response:
        return self.call("POST", "/contacts/upsert", {"locationId": LOCATION, **fields})

    def contact(self, contact_id: str) -> dict[str, Any]:
        response = self.call("GET", f"/contacts/{contact_id}")
        assert response.status_code == 200, response.text
        return dict(response.json()["contact"])


@pytest.fixture
def ghl(sandbox: SandboxClient) -> Ghl:
    """The emulator with search lag off unless a test turns it on."""
    sandbox.settings("ghl", search_lag_ms=0)
    return Ghl(sandbox)


def seed_contact(sandbox: SandboxClient, **fields: Any) -> dict[str, Any]:
    contact: dict[str, Any] = sandbox.seed("ghl", contacts=[fields])["contacts"][0]
    return contact


def field_ids(sandbox: SandboxClient) -> dict[str, str]:
    return {
        item["fieldKey"]: item["id"]
        for item in sandbox.records("ghl", "custom_fields")
        if item["locationId"] == LOCATION
    }


# -- connection: auth, Version, Accept ----------------------------------------------------------


def test_missing_token_is_401_with_the_documented_body(ghl: Ghl) -> None:
    response = ghl.call("GET", "/contacts/x", headers={"Authorization": ""})
    assert response.status_code == 401
    assert response.json() == {
        "statusCode": 401,
        "message": "Invalid token: access token is invalid",
        "error": "Unauthorized",
    }


def test_wrong_token_is_401(sandbox: SandboxClient) -> None:
    response = Ghl(sandbox, token="pit-not-a-token").upsert(email="a@example.com")
    assert response.status_code == 401


def test_revoked_token_is_401(ghl: Ghl, sandbox: SandboxClient) -> None:
    assert ghl.upsert(email="a@example.com").status_code == 200
    sandbox.revoke("ghl")
    assert ghl.upsert(email="a@example.com").status_code == 401


def test_token_of_another_location_gets_403_for_its_contacts(
    ghl: Ghl, sandbox: SandboxClient
) -> None:
    contact = seed_contact(sandbox, email="owned@example.com")
    sandbox.action("ghl", "add_location", token="pit-other", location_id="loc-other")
    response = Ghl(sandbox, token="pit-other").call("GET", f"/contacts/{contact['id']}")
    assert response.status_code == 403
    assert response.json() == {
        "statusCode": 403,
        "message": "The token does not have access to this location.",
    }


def test_upsert_into_another_location_is_403(ghl: Ghl, sandbox: SandboxClient) -> None:
    sandbox.action("ghl", "add_location", token="pit-other", location_id="loc-other")
    response = ghl.call(
        "POST", "/contacts/upsert", {"locationId": "loc-other", "email": "a@example.com"}
    )
    assert response.status_code == 403


def test_two_tenants_keep_separate_contacts(ghl: Ghl, sandbox: SandboxClient) -> None:
    sandbox.action("ghl", "add_location", token="pit-other", location_id="loc-other")
    other = Ghl(sandbox, token="pit-other")
    mine = ghl.upsert(email="same@example.com").json()["contact"]
    theirs = other.call(
        "POST", "/contacts/upsert", {"locationId": "loc-other", "email": "same@example.com"}
    ).json()
    assert theirs["new"] is True
    assert theirs["contact"]["id"] != mine["id"]


def test_missing_version_header_is_400(ghl: Ghl) -> None:
    response = ghl.call("GET", "/contacts/x", headers={"Version": None})
    assert response.status_code == 400
    assert response.json()["statusCode"] == 400


def test_unsupported_version_is_400(ghl: Ghl) -> None:
    response = ghl.call(
        "POST",
        "/contacts/upsert",
        {"locationId": LOCATION, "email": "a@example.com"},
        headers={"Version": "2021-04-15"},
    )
    assert response.status_code == 400


def test_accept_that_excludes_json_is_406(ghl: Ghl) -> None:
    response = ghl.call("GET", "/contacts/x", headers={"Accept": "text/html"})
    assert response.status_code == 406


def test_body_without_json_content_type_is_read_as_empty(ghl: Ghl) -> None:
    response = requests.post(
        ghl.base + "/contacts/upsert",
        data='{"locationId": "x"}',
        headers={**ghl.headers, "Content-Type": "text/plain"},
        timeout=5,
    )
    assert response.status_code == 422
    assert "locationId should not be empty" in response.json()["message"]


def test_malformed_json_is_400(ghl: Ghl) -> None:
    response = requests.post(
        ghl.base + "/contacts/upsert",
        data="{not json",
        headers={**ghl.headers, "Content-Type": "application/json"},
        timeout=5,
    )
    assert response.status_code == 400


def test_unknown_path_is_a_json_404(ghl: Ghl) -> None:
    response = ghl.call("GET", "/nothing/here")
    assert response.status_code == 404
    assert response.json()["statusCode"] == 404


# -- DTO whitelists ---------------------------------------------------------------------------


def test_unknown_property_is_422_with_the_documented_body(ghl: Ghl) -> None:
    response = ghl.upsert(email="a@example.com", favouriteColour="blue")
    assert response.status_code == 422
    assert response.json() == {
        "statusCode": 422,
        "message": ["property favouriteColour should not exist"],
        "error": "Unprocessable Entity",
    }


def test_update_dto_has_no_company_name(ghl: Ghl, sandbox: SandboxClient) -> None:
    contact = seed_contact(sandbox, email="a@example.com")
    response = ghl.call("PUT", f"/contacts/{contact['id']}", {"companyName": "Acme"})
    assert response.status_code == 422
    assert response.json()["message"] == ["property companyName should not exist"]


def test_additional_emails_are_not_writable(ghl: Ghl) -> None:
    response = ghl.upsert(email="a@example.com", additionalEmails=["b@example.com"])
    assert response.status_code == 422


def test_wrong_type_is_422_with_class_validator_message(ghl: Ghl) -> None:
    response = ghl.upsert(email="a@example.com", firstName=42, dnd="yes")
    assert response.status_code == 422
    assert sorted(response.json()["message"]) == [
        "dnd must be a boolean value",
        "firstName must be a string",
    ]


def test_missing_required_location_is_422(ghl: Ghl) -> None:
    response = ghl.call("POST", "/contacts/upsert", {"email": "a@example.com"})
    assert response.status_code == 422
    assert response.json()["message"] == ["locationId should not be empty"]


def test_nested_unknown_property_is_422_with_its_path(ghl: Ghl) -> None:
    response = ghl.upsert(
        email="a@example.com", dndSettings={"Email": {"status": "active", "why": "x"}}
    )
    assert response.status_code == 422
    assert response.json()["message"] == ["dndSettings.Email.property why should not exist"]


def test_custom_field_item_with_value_instead_of_field_value_is_422(ghl: Ghl) -> None:
    response = ghl.upsert(
        email="a@example.com", customFields=[{"key": "contact.campaign", "value": "x"}]
    )
    assert response.status_code == 422


def test_malformed_email_is_422(ghl: Ghl) -> None:
    response = ghl.upsert(email="not-an-email")
    assert response.status_code == 422
    assert response.json()["message"] == ["email must be an email"]


def test_unknown_query_parameter_is_422(ghl: Ghl, sandbox: SandboxClient) -> None:
    contact = seed_contact(sandbox, email="a@example.com")
    response = ghl.call("GET", f"/contacts/{contact['id']}", params={"expand": "all"})
    assert response.status_code == 422
    assert response.json()["message"] == ["property expand should not exist"]


def test_duplicate_search_requires_location_id(ghl: Ghl) -> None:
    response = ghl.call("GET", "/contacts/search/duplicate", params={"email": "a@example.com"})
    assert response.status_code == 422


# -- upsert and the duplicate rules -----------------------------------------------------------


def test_upsert_creates_then_updates_the_same_contact(ghl: Ghl) -> None:
    first = ghl.upsert(email="Ann@Example.com", firstName="Ann").json()
    second = ghl.upsert(email="ann@example.com", lastName="Lee").json()
    assert (first["new"], second["new"]) == (True, False)
    assert second["contact"]["id"] == first["contact"]["id"]
    assert (second["contact"]["firstName"], second["contact"]["lastName"]) == ("Ann", "Lee")
    assert isinstance(second["traceId"], str)


def test_upsert_matches_by_phone_when_email_is_absent(ghl: Ghl, sandbox: SandboxClient) -> None:
    existing = seed_contact(sandbox, phone="+14155552671")
    response = ghl.upsert(phone="+1 415-555-2671", firstName="Bo").json()
    assert response["new"] is False
    assert response["contact"]["id"] == existing["id"]


def test_email_first_priority_updates_the_email_match_and_drops_the_phone(
    ghl: Ghl, sandbox: SandboxClient
) -> None:
    by_email = seed_contact(sandbox, email="a@example.com", phone="+14155550100")
    by_phone = seed_contact(sandbox, email="b@example.com", phone="+14155552671")
    response = ghl.upsert(email="a@example.com", phone="+14155552671", firstName="Al").json()
    assert response["new"] is False
    assert response["contact"]["id"] == by_email["id"]
    assert response["contact"]["phone"] == "+14155550100"
    assert ghl.contact(by_phone["id"])["phone"] == "+14155552671"


def test_phone_first_priority_updates_the_phone_match_and_drops_the_email(
    ghl: Ghl, sandbox: SandboxClient
) -> None:
    sandbox.settings("ghl", duplicate_priority="phone")
    seed_contact(sandbox, email="a@example.com")
    by_phone = seed_contact(sandbox, email="b@example.com", phone="+14155552671")
    response = ghl.upsert(email="a@example.com", phone="+14155552671").json()
    assert response["contact"]["id"] == by_phone["id"]
    assert response["contact"]["email"] == "b@example.com"


def test_upsert_sets_a_new_phone_on_the_email_match(ghl: Ghl, sandbox: SandboxClient) -> None:
    existing = seed_contact(sandbox, email="a@example.com")
    response = ghl.upsert(email="a@example.com", phone="+14155552671").json()
    assert response["contact"]["id"] == existing["id"]
    assert response["contact"]["phone"] == "+14155552671"


def test_upsert_with_create_new_when_duplicates_allowed_makes_a_second_contact(
    ghl: Ghl, sandbox: SandboxClient
) -> None:
    sandbox.settings("ghl", allow_duplicate_contacts=True)
    seed_contact(sandbox, email="a@example.com")
    response = ghl.upsert(email="a@example.com", createNewIfDuplicateAllowed=True).json()
    assert response["new"] is True
    assert len(sandbox.records("ghl", "contacts")) == 2


def test_upsert_create_new_is_ignored_when_duplicates_are_not_allowed(
    ghl: Ghl, sandbox: SandboxClient
) -> None:
    seed_contact(sandbox, email="a@example.com")
    response = ghl.upsert(email="a@example.com", createNewIfDuplicateAllowed=True).json()
    assert response["new"] is False


def test_create_with_existing_email_is_400_with_meta(ghl: Ghl, sandbox: SandboxClient) -> None:
    existing = seed_contact(sandbox, email="a@example.com", firstName="Ann", lastName="Lee")
    response = ghl.call("POST", "/contacts/", {"locationId": LOCATION, "email": "A@example.com"})
    assert response.status_code == 400
    assert response.json() == {
        "statusCode": 400,
        "message": "This location does not allow duplicated contacts.",
        "meta": {"contactId": existing["id"], "contactName": "Ann Lee", "matchingField": "email"},
    }


def test_create_with_existing_phone_names_the_phone(ghl: Ghl, sandbox: SandboxClient) -> None:
    seed_contact(sandbox, phone="+14155552671")
    response = ghl.call("POST", "/contacts/", {"locationId": LOCATION, "phone": "+14155552671"})
    assert response.json()["meta"]["matchingField"] == "phone"


def test_create_is_201_and_allowed_duplicates_make_two(ghl: Ghl, sandbox: SandboxClient) -> None:
    sandbox.settings("ghl", allow_duplicate_contacts=True)
    body = {"locationId": LOCATION, "email": "a@example.com"}
    assert ghl.call("POST", "/contacts/", body).status_code == 201
    assert ghl.call("POST", "/contacts", body).status_code == 201
    assert len(sandbox.records("ghl", "contacts")) == 2


def test_update_answers_succeded_sic(ghl: Ghl, sandbox: SandboxClient) -> None:
    contact = seed_contact(sandbox, email="a@example.com")
    response = ghl.call("PUT", f"/contacts/{contact['id']}", {"city": "Lyon"})
    assert response.status_code == 200
    assert response.json()["succeded"] is True
    assert response.json()["contact"]["city"] == "Lyon"


def test_unknown_contact_is_400(ghl: Ghl) -> None:
    response = ghl.call("GET", "/contacts/doesnotexist")
    assert response.status_code == 400
    assert response.json()["message"] == "Contact not found"


# -- normalisation: phones, emails, tags ------------------------------------------------------


def test_phone_is_stored_in_e164(ghl: Ghl) -> None:
    contact = ghl.upsert(email="a@example.com", phone="+44 7911 123456").json()["contact"]
    assert contact["phone"] == "+447911123456"


def test_local_phone_is_read_in_the_location_country(ghl: Ghl) -> None:
    contact = ghl.upsert(email="a@example.com", phone="(415) 555-2671").json()["contact"]
    assert contact["phone"] == "+14155552671"


def test_invalid_phone_is_400(ghl: Ghl) -> None:
    response = ghl.upsert(email="a@example.com", phone="07911 123456")
    assert response.status_code == 400


def test_email_is_kept_with_a_lower_cased_copy_for_matching(ghl: Ghl) -> None:
    contact = ghl.upsert(email="Ann.Lee@Example.com").json()["contact"]
    assert (contact["email"], contact["emailLowerCase"]) == (
        "Ann.Lee@Example.com",
        "ann.lee@example.com",
    )


def test_tags_are_lower_cased_on_save(ghl: Ghl) -> None:
    contact = ghl.upsert(email="a@example.com", tags=["VIP", " Expo 2025 "]).json()["contact"]
    assert contact["tags"] == ["vip", "expo 2025"]


def test_tags_in_an_upsert_body_replace_existing_tags(ghl: Ghl, sandbox: SandboxClient) -> None:
    seed_contact(sandbox, email="a@example.com", tags=["old", "keep"])
    contact = ghl.upsert(email="a@example.com", tags=["new"]).json()["contact"]
    assert contact["tags"] == ["new"]


def test_upsert_without_tags_leaves_tags_alone(ghl: Ghl, sandbox: SandboxClient) -> None:
    seed_contact(sandbox, email="a@example.com", tags=["old"])
    assert ghl.upsert(email="a@example.com", city="Oslo").json()["contact"]["tags"] == ["old"]


def test_add_tags_is_additive_and_idempotent(ghl: Ghl, sandbox: SandboxClient) -> None:
    contact = seed_contact(sandbox, email="a@example.com", tags=["old"])
    path = f"/contacts/{contact['id']}/tags"
    first = ghl.call("POST", path, {"tags": ["New", "old"]})
    second = ghl.call("POST", path, {"tags": ["new"]})
    assert first.status_code == 201
    assert second.json() == {"tags": ["old", "new"]}
    assert ghl.contact(contact["id"])["tags"] == ["old", "new"]


def test_delete_tags_removes_only_those(ghl: Ghl, sandbox: SandboxClient) -> None:
    contact = seed_contact(sandbox, email="a@example.com", tags=["a", "b", "c"])
    response = ghl.call("DELETE", f"/contacts/{contact['id']}/tags", {"tags": ["B"]})
    assert response.status_code == 200
    assert ghl.contact(contact["id"])["tags"] == ["a", "c"]


# -- custom fields ----------------------------------------------------------------------------


def test_custom_field_definitions_are_listed_per_location(ghl: Ghl) -> None:
    response = ghl.call("GET", f"/locations/{LOCATION}/customFields")
    fields = {item["fieldKey"]: item for item in response.json()["customFields"]}
    assert fields["contact.event_name"]["dataType"] == "TEXT"
    assert fields["contact.lead_score"]["dataType"] == "NUMERICAL"
    assert fields["contact.interests"]["picklistOptions"]
    assert {"Met On", "Company Size", "Job Title Detail", "Campaign", "Lead Source Detail"} <= {
        item["name"] for item in fields.values()
    }


def test_custom_fields_of_another_location_are_403(ghl: Ghl) -> None:
    assert ghl.call("GET", "/locations/loc-elsewhere/customFields").status_code == 403


def test_custom_field_written_by_key_reads_back_by_id(ghl: Ghl, sandbox: SandboxClient) -> None:
    ids = field_ids(sandbox)
    contact = ghl.upsert(
        email="a@example.com",
        customFields=[{"key": "contact.event_name", "field_value": "Expo"}],
    ).json()["contact"]
    assert ghl.contact(contact["id"])["customFields"] == [
        {"id": ids["contact.event_name"], "value": "Expo"}
    ]


def test_custom_field_written_by_id(ghl: Ghl, sandbox: SandboxClient) -> None:
    ids = field_ids(sandbox)
    contact = ghl.upsert(
        email="a@example.com",
        customFields=[
            {"id": ids["contact.lead_score"], "field_value": 42},
            {"id": ids["contact.interests"], "field_value": ["Pricing", "Product Demo"]},
        ],
    ).json()["contact"]
    values = {item["id"]: item["value"] for item in contact["customFields"]}
    assert values == {
        ids["contact.lead_score"]: 42,
        ids["contact.interests"]: ["Pricing", "Product Demo"],
    }


def test_custom_fields_merge_per_field_on_update(ghl: Ghl, sandbox: SandboxClient) -> None:
    seed_contact(
        sandbox,
        email="a@example.com",
        customFields=[{"key": "contact.campaign", "field_value": "Spring"}],
    )
    contact = ghl.upsert(
        email="a@example.com", customFields=[{"key": "met_on", "field_value": "2025-03-01"}]
    ).json()["contact"]
    assert len(contact["customFields"]) == 2


def test_unknown_custom_field_is_400(ghl: Ghl) -> None:
    response = ghl.upsert(
        email="a@example.com", customFields=[{"key": "contact.nope", "field_value": "x"}]
    )
    assert response.status_code == 400
    assert "contact.nope" in response.json()["message"]


def test_custom_field_value_outside_the_picklist_is_400(ghl: Ghl) -> None:
    response = ghl.upsert(
        email="a@example.com",
        customFields=[{"key": "contact.company_size", "field_value": "huge"}],
    )
    assert response.status_code == 400


def test_refused_write_changes_nothing(ghl: Ghl, sandbox: SandboxClient) -> None:
    contact = seed_contact(sandbox, email="a@example.com", city="Oslo")
    ghl.upsert(
        email="a@example.com",
        city="Rome",
        customFields=[{"key": "contact.nope", "field_value": "x"}],
    )
    assert ghl.contact(contact["id"])["city"] == "Oslo"


def test_seeded_custom_field_definitions_are_added(ghl: Ghl, sandbox: SandboxClient) -> None:
    sandbox.seed("ghl", custom_fields=[{"name": "Booth Number", "dataType": "TEXT"}])
    assert "contact.booth_number" in field_ids(sandbox)


# -- notes and tasks --------------------------------------------------------------------------


def test_posting_the_same_note_twice_makes_two_notes(ghl: Ghl, sandbox: SandboxClient) -> None:
    contact = seed_contact(sandbox, email="a@example.com")
    path = f"/contacts/{contact['id']}/notes"
    responses = [ghl.call("POST", path, {"body": "Met at booth"}) for _ in range(2)]
    assert [r.status_code for r in responses] == [201, 201]
    notes = ghl.call("GET", path).json()["notes"]
    assert [note["body"] for note in notes] == ["Met at booth", "Met at booth"]
    assert len(sandbox.records("ghl", "notes")) == 2


def test_posting_the_same_task_twice_makes_two_tasks(ghl: Ghl, sandbox: SandboxClient) -> None:
    contact = seed_contact(sandbox, email="a@example.com")
    path = f"/contacts/{contact['id']}/tasks"
    task = {"title": "Call back", "dueDate": "2025-06-01T09:00:00Z", "completed": False}
    created = [ghl.call("POST", path, task) for _ in range(2)]
    assert [r.status_code for r in created] == [201, 201]
    assert len(ghl.call("GET", path).json()["tasks"]) == 2


def test_task_can_be_completed(ghl: Ghl, sandbox: SandboxClient) -> None:
    contact = seed_contact(sandbox, email="a@example.com")
    task = ghl.call(
        "POST",
        f"/contacts/{contact['id']}/tasks",
        {"title": "Call", "dueDate": "2025-06-01T09:00:00Z", "completed": False},
    ).json()["task"]
    response = ghl.call(
        "PUT", f"/contacts/{contact['id']}/tasks/{task['id']}/completed", {"completed": True}
    )
    assert response.json()["task"]["completed"] is True


def test_task_without_due_date_is_422(ghl: Ghl, sandbox: SandboxClient) -> None:
    contact = seed_contact(sandbox, email="a@example.com")
    response = ghl.call(
        "POST", f"/contacts/{contact['id']}/tasks", {"title": "Call", "completed": False}
    )
    assert response.status_code == 422


def test_inspected_contacts_carry_notes_tasks_and_fields_by_key(
    ghl: Ghl, sandbox: SandboxClient
) -> None:
    contact = ghl.upsert(
        email="a@example.com", customFields=[{"key": "contact.campaign", "field_value": "Q3"}]
    ).json()["contact"]
    ghl.call("POST", f"/contacts/{contact['id']}/notes", {"body": "hello"})
    [held] = sandbox.records("ghl", "contacts")
    assert held["customFieldsByKey"] == {"contact.campaign": "Q3"}
    assert [note["body"] for note in held["notes"]] == ["hello"]
    assert held["tasks"] == []


def test_write_requests_are_logged_for_conformance_checks(ghl: Ghl, sandbox: SandboxClient) -> None:
    ghl.upsert(email="a@example.com")
    ghl.call("GET", f"/locations/{LOCATION}/customFields")
    [logged] = sandbox.records("ghl", "requests")
    assert logged["operation"] == "upsert-contact"
    assert (logged["method"], logged["path"], logged["status"]) == ("POST", "/contacts/upsert", 200)
    assert logged["body"] == {"locationId": LOCATION, "email": "a@example.com"}
    sandbox.reset()
    assert sandbox.records("ghl", "requests") == []


def test_logged_write_requests_carry_the_time_they_were_answered(
    ghl: Ghl, sandbox: SandboxClient
) -> None:
    before = time.time()
    ghl.upsert(email="a@example.com")
    ghl.upsert(email="b@example.com")
    first, second = sandbox.records("ghl", "requests")
    assert before <= first["at"] <= second["at"] <= time.time()


# -- rate limits ------------------------------------------------------------------------------


def test_every_response_carries_the_five_rate_limit_headers(ghl: Ghl) -> None:
    for response in (ghl.upsert(email="a@example.com"), ghl.upsert(bogus=1)):
        assert all(name in response.headers for name in RATE_HEADERS)
    assert response.headers["X-RateLimit-Max"] == "100"
    assert response.headers["X-RateLimit-Interval-Milliseconds"] == "10000"
    assert response.headers["X-RateLimit-Limit-Daily"] == "200000"
    assert response.headers["X-RateLimit-Remaining"] == "98"


def test_sliding_window_answers_429_past_the_limit(ghl: Ghl, sandbox: SandboxClient) -> None:
    sandbox.settings("ghl", rate_limit_max=3, rate_limit_window_ms=60_000)
    statuses = [ghl.call("GET", f"/locations/{LOCATION}/customFields") for _ in range(4)]
    assert [r.status_code for r in statuses] == [200, 200, 200, 429]
    assert statuses[-1].json()["message"] == "Too Many Requests - Rate limit exceeded"
    assert statuses[-1].headers["X-RateLimit-Remaining"] == "0"
    assert "Retry-After" not in statuses[-1].headers


def test_window_slides_open_again(ghl: Ghl, sandbox: SandboxClient) -> None:
    sandbox.settings("ghl", rate_limit_max=2, rate_limit_window_ms=300)
    for _ in range(2):
        ghl.call("GET", f"/locations/{LOCATION}/customFields")
    assert ghl.call("GET", f"/locations/{LOCATION}/customFields").status_code == 429
    time.sleep(0.4)
    assert ghl.call("GET", f"/locations/{LOCATION}/customFields").status_code == 200


def test_retry_after_on_429_can_be_switched_on(ghl: Ghl, sandbox: SandboxClient) -> None:
    sandbox.settings("ghl", rate_limit_max=1, rate_limit_window_ms=5_000, retry_after_on_429=True)
    ghl.call("GET", f"/locations/{LOCATION}/customFields")
    response = ghl.call("GET", f"/locations/{LOCATION}/customFields")
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 5


def test_429_without_any_rate_limit_header_can_be_switched_on(
    ghl: Ghl, sandbox: SandboxClient
) -> None:
    sandbox.settings(
        "ghl", rate_limit_max=1, rate_limit_window_ms=60_000, rate_limit_headers_on_429=False
    )
    allowed = ghl.call("GET", f"/locations/{LOCATION}/customFields")
    refused = ghl.call("GET", f"/locations/{LOCATION}/customFields")
    assert all(name in allowed.headers for name in RATE_HEADERS)
    assert refused.status_code == 429
    assert refused.json()["message"] == "Too Many Requests - Rate limit exceeded"
    assert not [name for name in refused.headers if name.lower().startswith("x-ratelimit")]
    assert "Retry-After" not in refused.headers


def test_windows_are_per_location(ghl: Ghl, sandbox: SandboxClient) -> None:
    sandbox.settings("ghl", rate_limit_max=1, rate_limit_window_ms=60_000)
    sandbox.action("ghl", "add_location", token="pit-other", location_id="loc-other")
    assert ghl.call("GET", f"/locations/{LOCATION}/customFields").status_code == 200
    other = Ghl(sandbox, token="pit-other")
    assert other.call("GET", "/locations/loc-other/customFields").status_code == 200


def test_spent_daily_budget_is_429_with_daily_remaining_zero(
    ghl: Ghl, sandbox: SandboxClient
) -> None:
    sandbox.settings("ghl", daily_limit=2)
    first, second, third = (ghl.call("GET", f"/locations/{LOCATION}/customFields") for _ in "abc")
    assert second.headers["X-RateLimit-Daily-Remaining"] == "0"
    assert third.status_code == 429
    assert third.headers["X-RateLimit-Daily-Remaining"] == "0"
    assert first.headers["X-RateLimit-Daily-Remaining"] == "1"


# -- search -----------------------------------------------------------------------------------


def search(ghl: Ghl, **extra: Any) -> dict[str, Any]:
    response = ghl.call(
        "POST", "/contacts/search", {"locationId": LOCATION, "pageLimit": 20, **extra}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_search_sees_a_write_only_after_the_lag(ghl: Ghl, sandbox: SandboxClient) -> None:
    sandbox.settings("ghl", search_lag_ms=400)
    ghl.upsert(email="a@example.com")
    assert search(ghl)["total"] == 0
    time.sleep(0.5)
    assert search(ghl)["total"] == 1


def test_search_shows_the_previous_version_during_the_lag(ghl: Ghl, sandbox: SandboxClient) -> None:
    seed_contact(sandbox, email="a@example.com", city="Oslo")
    sandbox.settings("ghl", search_lag_ms=60_000)
    ghl.upsert(email="a@example.com", city="Rome")
    assert [c["city"] for c in search(ghl)["contacts"]] == ["Oslo"]


def test_search_filters_and_pages_with_search_after(ghl: Ghl, sandbox: SandboxClient) -> None:
    for index in range(5):
        seed_contact(sandbox, email=f"p{index}@example.com", tags=["expo"] if index % 2 else [])
    tagged = search(ghl, filters=[{"field": "tags", "operator": "eq", "value": "expo"}])
    assert tagged["total"] == 2
    first = search(ghl, pageLimit=2)
    rest = search(ghl, pageLimit=10, searchAfter=first["contacts"][-1]["searchAfter"])
    assert len(first["contacts"]) + len(rest["contacts"]) == 5


def test_search_page_limit_above_500_is_422(ghl: Ghl) -> None:
    response = ghl.call("POST", "/contacts/search", {"locationId": LOCATION, "pageLimit": 501})
    assert response.status_code == 422


def test_duplicate_lookup_finds_by_email_and_number(ghl: Ghl, sandbox: SandboxClient) -> None:
    contact = seed_contact(sandbox, email="a@example.com", phone="+14155552671")
    by_email = ghl.call(
        "GET",
        "/contacts/search/duplicate",
        params={"locationId": LOCATION, "email": "A@example.com"},
    ).json()
    by_number = ghl.call(
        "GET",
        "/contacts/search/duplicate",
        params={"locationId": LOCATION, "number": "+14155552671"},
    ).json()
    assert by_email["contact"]["id"] == by_number["contact"]["id"] == contact["id"]
    none = ghl.call(
        "GET", "/contacts/search/duplicate", params={"locationId": LOCATION, "email": "z@x.io"}
    ).json()
    assert none == {"contact": None}


def test_flush_search_makes_pending_writes_searchable(ghl: Ghl, sandbox: SandboxClient) -> None:
    sandbox.settings("ghl", search_lag_ms=60_000)
    ghl.upsert(email="a@example.com")
    sandbox.action("ghl", "flush_search")
    assert search(ghl)["total"] == 1


def test_granted_key_acts_for_the_demo_location(ghl: Ghl, sandbox: SandboxClient) -> None:
    sandbox.grant("ghl", ["pit-extra"])
    assert Ghl(sandbox, token="pit-extra").upsert(email="a@example.com").status_code == 200
