"""The GHL emulator's DTO checks (jsonschema) answer in class-validator's words and order."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.ghl.dto import dto_errors, operations


def _body(operation: str) -> dict[str, Any]:
    schema: dict[str, Any] = operations()[operation]["body"]
    return schema


def test_a_valid_upsert_body_has_no_errors() -> None:
    body = {
        "locationId": "loc",
        "email": "ann@example.com",
        "tags": ["a"],
        "customFields": [{"key": "campaign", "field_value": "CES"}],
        "dndSettings": {"Email": {"status": "active"}},
    }
    assert dto_errors(_body("POST /contacts/upsert"), body) == []


def test_whitelist_then_missing_members_then_members_in_schema_order() -> None:
    body = {"zeta": 1, "firstName": 3, "dnd": "yes"}
    assert dto_errors(_body("POST /contacts/upsert"), body) == [
        "property zeta should not exist",
        "locationId should not be empty",
        "dnd must be a boolean value",
        "firstName must be a string",
    ]


def test_a_wrong_type_is_the_only_complaint_about_that_value() -> None:
    body = {"locationId": "loc", "dndSettings": {"Email": {"status": 7}}}
    assert dto_errors(_body("POST /contacts/upsert"), body) == [
        "dndSettings.Email.status must be a string"
    ]


def test_null_passes_where_the_type_allows_it() -> None:
    assert dto_errors(_body("POST /contacts/upsert"), {"locationId": "loc", "email": None}) == []


def test_a_list_of_scalars_is_refused_once_for_the_list() -> None:
    body = {"locationId": "loc", "tags": ["ok", 1, 2]}
    assert dto_errors(_body("POST /contacts/upsert"), body) == [
        "each value in tags must be a string"
    ]


def test_a_union_reports_the_branch_that_came_closest() -> None:
    body = {"locationId": "loc", "customFields": [{"field_value": "x"}]}
    assert dto_errors(_body("POST /contacts/upsert"), body) == [
        "customFields.0.id should not be empty"
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"locationId": "loc", "pageLimit": 10, "page": 1, "searchAfter": []},
            ["page and searchAfter cannot be used together"],
        ),
        ({"locationId": "loc", "pageLimit": 501}, ["pageLimit must not be greater than 500"]),
        ({"locationId": "loc", "pageLimit": 0}, ["pageLimit must not be less than 1"]),
        ({"locationId": "loc", "pageLimit": 2.0}, []),
    ],
)
def test_search_body_constraints(body: dict[str, Any], expected: list[str]) -> None:
    assert dto_errors(_body("POST /contacts/search"), body) == expected


def test_a_body_of_the_wrong_type_is_named_body() -> None:
    assert dto_errors(_body("POST /contacts/upsert"), []) == ["body must be an object"]
