"""The GHL emulator's bulk tag update (`POST /contacts/bulk/tags/update/{type}`): UpdateTagsDTO
in, one UpdateTagsResponseDTO result per contact out, and a chunk limit GHL leaves undocumented."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.control import DEMO_KEYS, SandboxClient
from tests.sandbox.test_ghl_api import Ghl, seed_contact

LOCATION = DEMO_KEYS["ghl_location"]
ADD = "/contacts/bulk/tags/update/add"


@pytest.fixture
def ghl(sandbox: SandboxClient) -> Ghl:
    return Ghl(sandbox)


def bulk(ghl: Ghl, contacts: list[str], tags: list[str], kind: str = "add", **extra: Any) -> Any:
    body = {"locationId": LOCATION, "contacts": contacts, "tags": tags, **extra}
    return ghl.call("POST", f"/contacts/bulk/tags/update/{kind}", body)


def test_bulk_add_adds_the_tags_to_every_contact_named(sandbox: SandboxClient, ghl: Ghl) -> None:
    ada = seed_contact(sandbox, email="ada@example.com", tags=["customer"])
    bob = seed_contact(sandbox, email="bob@example.com")
    response = bulk(ghl, [ada["id"], bob["id"]], ["Expo", "vip"])
    assert response.status_code == 201
    assert ghl.contact(ada["id"])["tags"] == ["customer", "expo", "vip"]
    assert ghl.contact(bob["id"])["tags"] == ["expo", "vip"]


def test_bulk_add_answers_one_success_per_contact_with_old_and_added_tags(
    sandbox: SandboxClient, ghl: Ghl
) -> None:
    ada = seed_contact(sandbox, email="ada@example.com", tags=["vip"])
    answer = bulk(ghl, [ada["id"]], ["vip", "expo"]).json()
    assert answer == {
        "succeded": True,
        "errorCount": 0,
        "responses": [
            {
                "contactId": ada["id"],
                "message": "Tags updated",
                "type": "success",
                "oldTags": ["vip"],
                "tagsAdded": ["expo"],
                "tagsRemoved": [],
            }
        ],
    }


def test_an_unknown_contact_is_a_per_contact_error_and_the_others_are_tagged(
    sandbox: SandboxClient, ghl: Ghl
) -> None:
    ada = seed_contact(sandbox, email="ada@example.com")
    answer = bulk(ghl, ["no-such-contact", ada["id"]], ["expo"]).json()
    assert (answer["succeded"], answer["errorCount"]) == (False, 1)
    assert answer["responses"][0] == {
        "contactId": "no-such-contact",
        "message": "contact id is not a valid firebase id",
        "type": "error",
    }
    assert ghl.contact(ada["id"])["tags"] == ["expo"]


def test_another_locations_contact_is_a_per_contact_error(sandbox: SandboxClient, ghl: Ghl) -> None:
    sandbox.action("ghl", "add_location", token="pit-other", location_id="loc-other")
    seeded = sandbox.seed("ghl", location_id="loc-other", contacts=[{"email": "x@example.com"}])
    other = seeded["contacts"][0]
    [result] = bulk(ghl, [other["id"]], ["expo"]).json()["responses"]
    assert (result["type"], result["message"]) == ("error", "contact does not belong to location")


def test_a_busy_contact_is_a_per_contact_error_of_the_bulk_call_only(
    sandbox: SandboxClient, ghl: Ghl
) -> None:
    sandbox.settings("ghl", bulk_tags_busy_emails=["ada@example.com"])
    ada = seed_contact(sandbox, email="ada@example.com")
    [result] = bulk(ghl, [ada["id"]], ["expo"]).json()["responses"]
    assert result["type"] == "error"
    assert ghl.call("POST", f"/contacts/{ada['id']}/tags", {"tags": ["expo"]}).status_code == 201


def test_more_contacts_than_the_chunk_limit_is_a_422_that_names_the_limit(
    sandbox: SandboxClient, ghl: Ghl
) -> None:
    ada = seed_contact(sandbox, email="ada@example.com")
    response = bulk(ghl, [ada["id"]] * 101, ["expo"])
    assert response.status_code == 422
    assert response.json()["message"] == ["contacts must contain no more than 100 elements"]
    assert ghl.contact(ada["id"])["tags"] == []


def test_the_chunk_limit_is_a_setting(sandbox: SandboxClient, ghl: Ghl) -> None:
    sandbox.settings("ghl", bulk_tags_max_contacts=2)
    ada = seed_contact(sandbox, email="ada@example.com")
    assert bulk(ghl, [ada["id"]] * 3, ["expo"]).status_code == 422
    assert bulk(ghl, [ada["id"]] * 2, ["expo"]).status_code == 201


def test_bulk_remove_takes_the_tags_off(sandbox: SandboxClient, ghl: Ghl) -> None:
    ada = seed_contact(sandbox, email="ada@example.com", tags=["a", "b"])
    [result] = bulk(ghl, [ada["id"]], ["a"], kind="remove").json()["responses"]
    assert result["tagsRemoved"] == ["a"]
    assert ghl.contact(ada["id"])["tags"] == ["b"]


def test_remove_all_tags_empties_the_contacts_tags(sandbox: SandboxClient, ghl: Ghl) -> None:
    ada = seed_contact(sandbox, email="ada@example.com", tags=["a", "b"])
    assert bulk(ghl, [ada["id"]], [], kind="remove", removeAllTags=True).status_code == 201
    assert ghl.contact(ada["id"])["tags"] == []


def test_remove_all_tags_is_refused_with_the_add_type(sandbox: SandboxClient, ghl: Ghl) -> None:
    ada = seed_contact(sandbox, email="ada@example.com", tags=["a"])
    assert bulk(ghl, [ada["id"]], [], removeAllTags=True).status_code == 400


def test_a_type_other_than_add_or_remove_is_a_400(sandbox: SandboxClient, ghl: Ghl) -> None:
    ada = seed_contact(sandbox, email="ada@example.com")
    assert bulk(ghl, [ada["id"]], ["a"], kind="replace").status_code == 400


def test_another_locations_id_in_the_body_is_a_403(sandbox: SandboxClient, ghl: Ghl) -> None:
    ada = seed_contact(sandbox, email="ada@example.com")
    body = {"locationId": "loc-other", "contacts": [ada["id"]], "tags": ["a"]}
    assert ghl.call("POST", ADD, body).status_code == 403
