"""The contacts record shape, popups and hooks."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.control import SandboxClient
from tap_wisepops.streams import contact_key, lift_fields, normalise_label
from tests.wisepops.conftest import run_tap


@pytest.mark.parametrize(
    ("label", "column"),
    [
        ("email", "email"),
        ("Email", "email"),
        ("E-mail", "email"),
        ("Email address", "email"),
        ("EMAIL_ADDRESS", "email"),
        ("Phone", "phone"),
        ("Phone number", "phone"),
        ("mobile", "phone"),
        ("Téléphone", "phone"),
        ("telephone", "phone"),
        ("First name", "first_name"),
        ("firstname", "first_name"),
        ("first_name", "first_name"),
        ("Prénom", "first_name"),
        ("Last name", "last_name"),
        ("last_name", "last_name"),
        ("Surname", "last_name"),
        ("Nom", "last_name"),
    ],
)
def test_common_fields_are_lifted_from_label_variants(label: str, column: str) -> None:
    assert lift_fields({label: " value "})[column] == "value"


def test_unknown_labels_and_blank_values_lift_nothing() -> None:
    lifted = lift_fields({"Gender": "male", "email": "  ", "Full name": "Ada Lovelace"})
    assert lifted == {"email": None, "phone": None, "first_name": None, "last_name": None}


def test_a_blank_label_gives_way_to_a_filled_variant() -> None:
    assert lift_fields({"email": "", "E-mail": "b@x.io"})["email"] == "b@x.io"


def test_the_first_matching_label_wins() -> None:
    assert lift_fields({"Email": "a@x.io", "E-mail": "b@x.io"})["email"] == "a@x.io"


def test_labels_are_compared_without_case_accents_or_punctuation() -> None:
    assert normalise_label("  Prénom_ ") == "prenom"
    assert normalise_label("E-MAIL") == "e mail"


def test_contact_key_uses_form_session_and_collected_at() -> None:
    record = {"collected_at": "2024-01-01T00:00:00.000Z", "form_session": "abc", "fields": {}}
    assert contact_key(record) == "abc/2024-01-01T00:00:00.000Z"


def test_contact_key_without_session_is_a_stable_hash_of_the_submission() -> None:
    record = {
        "collected_at": "2024-01-01T00:00:00Z",
        "wisepop_id": 1,
        "fields": {"b": "2", "a": "1"},
    }
    same = {
        "collected_at": "2024-01-01T00:00:00.000Z",
        "wisepop_id": 1,
        "fields": {"a": "1", "b": "2"},
    }
    other = {**same, "wisepop_id": 2}
    assert contact_key(record) == contact_key(same) != contact_key(other)
    assert contact_key(record).startswith("sha256:")


def test_contacts_keep_fields_and_gain_the_lifted_columns(
    sandbox: SandboxClient, config: dict[str, Any]
) -> None:
    added = sandbox.seed(
        "wisepops",
        contacts=1,
        form_session=False,
        fields={"E-mail": "ana@example.com", "Prénom": "Ana", "Gender": "female"},
    )["contacts"][0]
    record = run_tap(config).records()[-1]
    assert record["fields"] == added["fields"]
    assert (record["email"], record["first_name"], record["last_name"]) == (
        "ana@example.com",
        "Ana",
        None,
    )
    assert "form_session" not in record or record["form_session"] is None


def test_popups_have_created_at_in_rfc_3339(sandbox: SandboxClient, config: dict[str, Any]) -> None:
    popups = run_tap(config, streams=("wisepops",)).records("wisepops")
    first = next(p for p in popups if p["id"] == 12345)
    assert first["created_at"] == "2017-02-27T15:29:43Z"
    assert len(popups) == len(sandbox.records("wisepops", "wisepops"))


def test_wisepop_ids_limit_the_popups_stream(config: dict[str, Any]) -> None:
    run = run_tap({**config, "wisepop_ids": [12345]}, streams=("wisepops",))
    assert [p["id"] for p in run.records("wisepops")] == [12345]


def test_hooks_are_read_in_full(sandbox: SandboxClient, config: dict[str, Any]) -> None:
    hooks = run_tap(config, streams=("hooks",)).records("hooks")
    stored = sandbox.records("wisepops", "hooks")
    assert [(h["id"], h["event"], h["target_url"]) for h in hooks] == [
        (h["id"], h["event"], h["target_url"]) for h in stored
    ]
