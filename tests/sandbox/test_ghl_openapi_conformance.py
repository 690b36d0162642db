"""The GHL emulator accepts exactly the request bodies GHL's official OpenAPI schemas accept.

The reference verdict is `jsonschema` on the official request schema ($refs resolved), read
from ../shared/ghl-openapi, with two documented adjustments (see tests/ghl_spec.py):
- the specs never say `additionalProperties: false`, but GHL's DTOs are whitelists (an
  undeclared property is a 422 "property X should not exist"), so every object schema that
  declares properties is treated as closed, nested ones included;
- a named list of errata fixes defects of the spec itself (e.g. `dateOfBirth` typed "object",
  numeric custom-field values typed "object", the empty search DTO). Each erratum is checked
  to still describe the official file, so an upstream fix shows up here.
"Accepted" by the emulator means a 2xx answer; "refused" means 422 with a message array.
Every sample body is domain-valid (existing ids, real phone numbers, picklist values), so no
other status can blur the verdict.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from sandbox.control import DEMO_KEYS, SandboxClient
from sandbox.ghl import DTO_FILE
from tests import ghl_spec

LOCATION = DEMO_KEYS["ghl_location"]
HEADERS = {
    "Authorization": f"Bearer {DEMO_KEYS['ghl']}",
    "Version": "2021-07-28",
    "Accept": "application/json",
}
WRONG_TYPE = {
    "string": 12345,
    "boolean": "true",
    "number": "12",
    "integer": 1.5,
    "array": "not-a-list",
    "object": "not-an-object",
}
CONTACT_VALUES: dict[str, Any] = {
    "firstName": "Ann",
    "lastName": "Lee",
    "name": "Ann Lee",
    "email": "Ann.Lee@Example.com",
    "locationId": LOCATION,
    "gender": "female",
    "phone": "+1 415-555-2671",
    "address1": "1 Main St",
    "city": "Oslo",
    "state": "CA",
    "postalCode": "94105",
    "website": "https://example.com",
    "timezone": "America/Chicago",
    "dnd": True,
    "dndSettings": {"Email": {"status": "active", "message": "asked", "code": "x"}},
    "inboundDndSettings": {"all": {"status": "inactive"}},
    "tags": ["Expo", "vip"],
    "source": "conformance",
    "dateOfBirth": "09/25/1990",
    "country": "US",
    "companyName": "Acme",
    "assignedTo": "user-1",
    "createNewIfDuplicateAllowed": False,
}


def _primary_type(schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        return next((name for name in kind if name != "null"), None)
    return kind


def generated(
    schema: dict[str, Any], base: dict[str, Any], values: dict[str, Any]
) -> Iterator[tuple[str, Any]]:
    """The base body, then one change at a time: valid value, wrong type, null, unknown
    property, each required property left out."""
    yield "base", base
    yield "unknown property", {**base, "bogusField": "x"}
    yield "array instead of object", [base]
    for name in schema.get("required", []):
        yield f"without {name}", {key: val for key, val in base.items() if key != name}
    for name, sub in schema["properties"].items():
        if name in values:
            yield f"{name}: valid", {**base, name: values[name]}
        wrong = WRONG_TYPE.get(_primary_type(sub) or "")
        if wrong is not None:
            yield f"{name}: wrong type", {**base, name: wrong}
        yield f"{name}: null", {**base, name: None}


class Emulator:
    """Sends bodies to the running sandbox and reports the verdict."""

    def __init__(self, sandbox: SandboxClient) -> None:
        self.base = sandbox.api_url("ghl")
        self.sandbox = sandbox

    def send(self, method: str, path: str, body: Any) -> requests.Response:
        return requests.request(method, self.base + path, json=body, headers=HEADERS, timeout=5)

    def accepts(self, method: str, path: str, body: Any) -> bool:
        response = self.send(method, path, body)
        if response.status_code == 422:
            message = response.json()["message"]
            assert isinstance(message, list)
            assert all(isinstance(item, str) for item in message)
            return False
        assert 200 <= response.status_code < 300, (path, body, response.text)
        return True


@pytest.fixture
def emulator(sandbox: SandboxClient) -> Emulator:
    sandbox.settings("ghl", rate_limit_max=100_000, allow_duplicate_contacts=True, search_lag_ms=0)
    return Emulator(sandbox)


@pytest.fixture
def field_ids(sandbox: SandboxClient) -> dict[str, str]:
    return {
        item["fieldKey"]: item["id"]
        for item in sandbox.records("ghl", "custom_fields")
        if item["locationId"] == LOCATION
    }


@pytest.fixture
def contact_id(sandbox: SandboxClient) -> str:
    seeded = sandbox.seed("ghl", contacts=[{"email": "held@example.com", "tags": ["a"]}])
    return str(seeded["contacts"][0]["id"])


def custom_field_cases(ids: dict[str, str]) -> list[tuple[str, Any]]:
    """Nested customFields items: id or key, each value shape, and what no variant allows."""
    return [
        ("text by id", [{"id": ids["contact.event_name"], "field_value": "Expo"}]),
        ("text by key", [{"key": "contact.campaign", "field_value": "Spring"}]),
        ("number", [{"id": ids["contact.lead_score"], "field_value": 42}]),
        ("money as string", [{"id": ids["contact.deal_value"], "field_value": "99.5"}]),
        ("options", [{"id": ids["contact.interests"], "field_value": ["Pricing"]}]),
        ("date", [{"key": "contact.met_on", "field_value": "2025-03-01"}]),
        ("no value clears", [{"id": ids["contact.campaign"]}]),
        ("neither id nor key", [{"field_value": "x"}]),
        ("value instead of field_value", [{"id": ids["contact.campaign"], "value": "x"}]),
        ("fieldValue (v3 spelling)", [{"id": ids["contact.campaign"], "fieldValue": "x"}]),
        ("boolean value", [{"id": ids["contact.campaign"], "field_value": True}]),
        ("numbers in a list", [{"id": ids["contact.interests"], "field_value": [1, 2]}]),
        ("numeric id", [{"id": 7, "field_value": "x"}]),
        ("item not an object", ["contact.campaign"]),
        ("object instead of list", {"contact.campaign": "x"}),
    ]


NESTED_DND: list[tuple[str, Any, Any]] = [
    ("dnd channel", {"SMS": {"status": "permanent"}}, None),
    ("dnd unknown status", {"Email": {"status": "maybe"}}, None),
    ("dnd missing status", {"Email": {"message": "x"}}, None),
    ("dnd unknown channel", {"Fax": {"status": "active"}}, None),
    ("dnd unknown nested key", {"Call": {"status": "active", "reason": "x"}}, None),
    ("inbound dnd", None, {"all": {"status": "inactive", "message": "x"}}),
    ("inbound dnd permanent", None, {"all": {"status": "permanent"}}),
]


def contact_cases(
    method: str, path: str, shared_dir: Path, ids: dict[str, str], base: dict[str, Any]
) -> list[tuple[str, Any]]:
    schema = ghl_spec.request_schema(shared_dir, method, path)
    cases = list(generated(schema, base, CONTACT_VALUES))
    cases += [
        (f"customFields {label}", {**base, "customFields": value})
        for label, value in custom_field_cases(ids)
    ]
    for label, dnd, inbound in NESTED_DND:
        key, value = ("dndSettings", dnd) if dnd is not None else ("inboundDndSettings", inbound)
        cases.append((label, {**base, key: value}))
    cases += [
        ("tags with a number", {**base, "tags": ["ok", 3]}),
        ("dateOfBirth ISO", {**base, "dateOfBirth": "1990-09-25"}),
        ("dateOfBirth in words", {**base, "dateOfBirth": "Sept 25th 1990"}),
        ("dateOfBirth as object", {**base, "dateOfBirth": {"year": 1990}}),
        ("malformed email", {**base, "email": "ann-at-example"}),
    ]
    return cases


def assert_same_verdicts(
    emulator: Emulator,
    shared_dir: Path,
    method: str,
    template: str,
    concrete: str,
    cases: list[tuple[str, Any]],
) -> None:
    mismatches = []
    verdicts = set()
    for label, body in cases:
        expected = not ghl_spec.validate_request(shared_dir, method, template, body)
        actual = emulator.accepts(method, concrete, body)
        verdicts.add(expected)
        if expected != actual:
            mismatches.append(f"{label}: schema {'accepts' if expected else 'refuses'} {body!r}")
    assert mismatches == []
    assert verdicts == {True, False}, "the sample must hold both valid and invalid bodies"


def test_upsert_accepts_what_the_schema_accepts(
    emulator: Emulator, shared_dir: Path, field_ids: dict[str, str]
) -> None:
    base = {"locationId": LOCATION, "email": "someone@example.com"}
    cases = contact_cases("POST", "/contacts/upsert", shared_dir, field_ids, base)
    assert_same_verdicts(
        emulator, shared_dir, "POST", "/contacts/upsert", "/contacts/upsert", cases
    )


def test_create_accepts_what_the_schema_accepts(
    emulator: Emulator, shared_dir: Path, field_ids: dict[str, str]
) -> None:
    base = {"locationId": LOCATION, "firstName": "Ann"}
    cases = contact_cases("POST", "/contacts/", shared_dir, field_ids, base)
    assert_same_verdicts(emulator, shared_dir, "POST", "/contacts/", "/contacts/", cases)


def test_update_accepts_what_the_schema_accepts(
    emulator: Emulator, shared_dir: Path, field_ids: dict[str, str], contact_id: str
) -> None:
    base = {"firstName": "Ann"}
    cases = contact_cases("PUT", "/contacts/{contactId}", shared_dir, field_ids, base)
    cases.append(("locationId is not updatable", {**base, "locationId": LOCATION}))
    assert_same_verdicts(
        emulator, shared_dir, "PUT", "/contacts/{contactId}", f"/contacts/{contact_id}", cases
    )


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_tags_accept_what_the_schema_accepts(
    emulator: Emulator, shared_dir: Path, contact_id: str, method: str
) -> None:
    template = "/contacts/{contactId}/tags"
    schema = ghl_spec.request_schema(shared_dir, method, template)
    cases = list(generated(schema, {"tags": ["Expo"]}, {"tags": ["a", "B"]}))
    cases += [("empty list", {"tags": []}), ("numbers", {"tags": [1]})]
    assert_same_verdicts(
        emulator, shared_dir, method, template, f"/contacts/{contact_id}/tags", cases
    )


def test_notes_accept_what_the_schema_accepts(
    emulator: Emulator, shared_dir: Path, contact_id: str
) -> None:
    template = "/contacts/{contactId}/notes"
    schema = ghl_spec.request_schema(shared_dir, "POST", template)
    values = {"userId": "user-1", "body": "text", "title": "t", "color": "#FFAA00", "pinned": True}
    cases = list(generated(schema, {"body": "Met at the booth"}, values))
    assert_same_verdicts(
        emulator, shared_dir, "POST", template, f"/contacts/{contact_id}/notes", cases
    )


def test_tasks_accept_what_the_schema_accepts(
    emulator: Emulator, shared_dir: Path, contact_id: str
) -> None:
    template = "/contacts/{contactId}/tasks"
    schema = ghl_spec.request_schema(shared_dir, "POST", template)
    base = {"title": "Call back", "dueDate": "2025-06-01T09:00:00Z", "completed": False}
    values = {
        "title": "t",
        "body": "b",
        "dueDate": "2025-06-01T09:00:00.000+02:00",
        "completed": True,
        "assignedTo": "user-1",
    }
    cases = list(generated(schema, base, values))
    cases += [
        ("dueDate as a bare date", {**base, "dueDate": "2025-06-01"}),
        ("dueDate in words", {**base, "dueDate": "next Monday"}),
    ]
    assert_same_verdicts(
        emulator, shared_dir, "POST", template, f"/contacts/{contact_id}/tasks", cases
    )


def test_task_completion_accepts_what_the_schema_accepts(
    emulator: Emulator, shared_dir: Path, contact_id: str
) -> None:
    created = emulator.send(
        "POST",
        f"/contacts/{contact_id}/tasks",
        {"title": "t", "dueDate": "2025-06-01T09:00:00Z", "completed": False},
    ).json()["task"]
    template = "/contacts/{contactId}/tasks/{taskId}/completed"
    schema = ghl_spec.request_schema(shared_dir, "PUT", template)
    cases = list(generated(schema, {"completed": True}, {"completed": False}))
    concrete = f"/contacts/{contact_id}/tasks/{created['id']}/completed"
    assert_same_verdicts(emulator, shared_dir, "PUT", template, concrete, cases)


def test_search_accepts_what_the_schema_accepts(emulator: Emulator, shared_dir: Path) -> None:
    schema = ghl_spec.request_schema(shared_dir, "POST", "/contacts/search")
    base = {"locationId": LOCATION, "pageLimit": 20}
    values = {
        "page": 2,
        "filters": [{"field": "email", "operator": "eq", "value": "a@example.com"}],
        "sort": [{"field": "dateAdded", "direction": "desc"}],
    }
    cases = list(generated(schema, base, values))
    cases += [
        ("pageLimit 500", {**base, "pageLimit": 500}),
        ("pageLimit 501", {**base, "pageLimit": 501}),
        ("pageLimit 0", {**base, "pageLimit": 0}),
        ("page and searchAfter", {**base, "page": 1, "searchAfter": [1, "x"]}),
        ("filter without operator", {**base, "filters": [{"field": "email", "value": "a"}]}),
        ("filter with extra key", {**base, "filters": [{"field": "e", "operator": "eq", "x": 1}]}),
        ("sort direction up", {**base, "sort": [{"field": "dateAdded", "direction": "up"}]}),
    ]
    assert_same_verdicts(
        emulator, shared_dir, "POST", "/contacts/search", "/contacts/search", cases
    )


def test_sandbox_dto_file_matches_the_official_spec(shared_dir: Path) -> None:
    held = json.loads(DTO_FILE.read_text(encoding="utf-8"))["operations"]
    for method, path in ghl_spec.BODY_OPERATIONS:
        assert held[f"{method} {path}"]["body"] == ghl_spec.request_schema(
            shared_dir, method, path
        ), f"regenerate with `python -m scripts.extract_ghl_dtos` ({method} {path})"
    for method, path in (*ghl_spec.BODY_OPERATIONS, *ghl_spec.QUERY_OPERATIONS):
        entry = held[f"{method} {path}"]
        assert entry["query"] == ghl_spec.query_schema(shared_dir, method, path)
        assert entry["versions"] == ghl_spec.api_versions(shared_dir, method, path)
        assert entry["operationId"] == ghl_spec.operation_id(shared_dir, method, path)


@pytest.mark.parametrize("erratum", ghl_spec.ERRATA, ids=lambda fix: fix.pointer)
def test_each_erratum_still_describes_the_official_spec(
    shared_dir: Path, erratum: ghl_spec.Erratum
) -> None:
    official = json.loads((shared_dir / "ghl-openapi" / erratum.document).read_text())
    assert ghl_spec.pointer_get(official, erratum.pointer) == erratum.was


def test_errata_are_needed_the_official_schema_refuses_what_ghl_takes(
    shared_dir: Path, field_ids: dict[str, str]
) -> None:
    body = {
        "locationId": LOCATION,
        "dateOfBirth": "1990-09-25",
        "customFields": [{"key": "contact.lead_score", "field_value": 42}],
    }
    official = ghl_spec.official_json_schema(shared_dir, "POST", "/contacts/upsert")
    from jsonschema import Draft202012Validator

    assert not Draft202012Validator(official).is_valid(body)
    assert ghl_spec.validate_request(shared_dir, "POST", "/contacts/upsert", body) == []


def test_validate_request_takes_concrete_paths(shared_dir: Path) -> None:
    errors = ghl_spec.validate_request(shared_dir, "POST", "/contacts/abc123/tags", {"tag": []})
    assert errors == [
        "<body>: 'tags' is a required property",
        "<body>: Additional properties are not allowed ('tag' was unexpected)",
    ]


BULK_TAGS = "/contacts/bulk/tags/update/{type}"


def test_bulk_tags_accept_what_the_schema_accepts(
    emulator: Emulator, shared_dir: Path, contact_id: str
) -> None:
    schema = ghl_spec.request_schema(shared_dir, "POST", BULK_TAGS)
    base = {"locationId": LOCATION, "contacts": [contact_id], "tags": ["expo"]}
    values = {"contacts": [contact_id, contact_id], "tags": ["a", "B"], "locationId": LOCATION}
    cases = list(generated(schema, base, values))
    cases += [("numbers as tags", {**base, "tags": [1]}), ("no contacts", {**base, "contacts": []})]
    assert_same_verdicts(
        emulator, shared_dir, "POST", BULK_TAGS, "/contacts/bulk/tags/update/add", cases
    )


def test_sandbox_dto_file_holds_the_official_bulk_tags_schema(shared_dir: Path) -> None:
    held = json.loads(DTO_FILE.read_text(encoding="utf-8"))["operations"][f"POST {BULK_TAGS}"]
    assert held["body"] == ghl_spec.request_schema(shared_dir, "POST", BULK_TAGS)
    assert held["operationId"] == ghl_spec.operation_id(shared_dir, "POST", BULK_TAGS)
    assert held["versions"] == ghl_spec.api_versions(shared_dir, "POST", BULK_TAGS)


def test_bulk_tags_answers_carry_every_member_update_tags_response_dto_requires(
    emulator: Emulator, shared_dir: Path, contact_id: str
) -> None:
    spec = json.loads((shared_dir / "ghl-openapi" / "apps" / "contacts.json").read_text())
    dto = spec["components"]["schemas"]["UpdateTagsResponseDTO"]
    example = dto["properties"]["responses"]["example"]
    body = {"locationId": LOCATION, "contacts": [contact_id, "unknown-id"], "tags": ["expo"]}
    answer = emulator.send("POST", "/contacts/bulk/tags/update/add", body)
    assert answer.status_code == 201
    payload = answer.json()
    assert set(dto["required"]) <= set(payload)
    # The spec types `responses` as strings but its example (and GHL) answer objects.
    success, error = payload["responses"]
    assert set(success) == set(example[0])
    assert set(error) == set(example[1])
