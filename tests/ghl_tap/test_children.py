"""Notes, tasks and appointments are read only for the contacts a run emits."""

from __future__ import annotations

from typing import Any

from leadkit.errors import ConfigError, QuotaExhausted
from sandbox.control import SandboxClient
from tests.ghl_tap.conftest import ago, child_requests, route_count, run_tap, seed

CHILDREN = ("contacts", "notes", "tasks", "appointments")


def with_children(email: str, updated: str) -> dict[str, Any]:
    return {
        "email": email,
        "dateUpdated": updated,
        "notes": [{"body": f"note of {email}"}],
        "tasks": [{"title": f"call {email}", "completed": False}],
        "appointments": [{"title": f"demo with {email}", "startTime": "2025-05-01 10:00:00"}],
    }


def test_children_are_read_only_for_contacts_changed_since_the_bookmark(
    sandbox: SandboxClient, config: dict[str, Any]
) -> None:
    old = seed(
        sandbox,
        with_children("a@example.com", ago(hours=3)),
        with_children("b@example.com", ago(hours=2)),
    )
    first = run_tap(config, streams=CHILDREN)
    assert len(first.records("notes")) == len(first.records("appointments")) == 2
    changed = seed(sandbox, with_children("c@example.com", ago(minutes=30)))[0]
    unchanged, at_bookmark = old
    before = child_requests(sandbox, unchanged["id"])
    second = run_tap(config, state=first.state, streams=CHILDREN)
    # The contact at the bookmark is searched again by design (never skip one).
    assert second.ids() == [at_bookmark["id"], changed["id"]]
    for stream in ("notes", "tasks", "appointments"):
        assert [r["contactId"] for r in second.records(stream)] == second.ids()
    assert child_requests(sandbox, unchanged["id"]) == before
    assert child_requests(sandbox, changed["id"]) == 3


def test_children_not_selected_cost_no_request(
    sandbox: SandboxClient, config: dict[str, Any]
) -> None:
    seed(sandbox, with_children("a@example.com", ago(hours=1)))
    run = run_tap(config, streams=("contacts", "notes"))
    assert len(run.records("notes")) == 1
    assert route_count(sandbox, "GET /contacts/") == 1


def test_each_stream_sends_one_schema_per_run(
    sandbox: SandboxClient, config: dict[str, Any]
) -> None:
    seed(sandbox, *(with_children(f"{n}@example.com", ago(hours=n + 1)) for n in range(3)))
    run = run_tap(config, streams=CHILDREN)
    schemas = [m["stream"] for m in run.messages if m["type"] == "SCHEMA"]
    assert sorted(schemas) == sorted(CHILDREN)
    assert len(run.records("tasks")) == 3


def test_a_run_stopped_among_the_children_is_resumed_by_the_next_for_the_rest(
    sandbox: SandboxClient, config: dict[str, Any]
) -> None:
    seed(sandbox, with_children("old@example.com", ago(hours=5)))
    first = run_tap(config, streams=("contacts", "notes"))
    changed = seed(
        sandbox, *(with_children(f"{n}@example.com", ago(hours=4 - n)) for n in range(3))
    )
    # Custom fields, one search page, then the notes of one contact: the cap falls among them.
    capped = {**config, "max_requests_per_run": 3}
    second = run_tap(capped, state=first.state, streams=("contacts", "notes"), expect_error=True)
    assert isinstance(second.error, QuotaExhausted)
    assert {c["id"] for c in changed} <= set(second.ids())
    missed = {c["id"] for c in changed} - {n["contactId"] for n in second.records("notes")}
    assert len(missed) >= 2
    third = run_tap(config, state=second.state, streams=("contacts", "notes"))
    assert missed <= {n["contactId"] for n in third.records("notes")}


def test_children_selected_without_contacts_fail_naming_the_stream_to_select(
    sandbox: SandboxClient, config: dict[str, Any]
) -> None:
    seed(sandbox, with_children("a@example.com", ago(hours=1)))
    run = run_tap(config, streams=("notes",), expect_error=True)
    assert isinstance(run.error, ConfigError)
    assert "`notes`" in str(run.error)
    assert "select `contacts`" in str(run.error)
    assert run.records("notes") == []
    assert route_count(sandbox, "GET /contacts/") == 0


def test_custom_fields_and_business_contacts_are_read_whole(
    sandbox: SandboxClient, config: dict[str, Any]
) -> None:
    members = seed(
        sandbox,
        {"email": "a@example.com", "businessId": "biz-1"},
        {"email": "b@example.com", "businessId": "biz-1"},
        {"email": "c@example.com", "businessId": "biz-2"},
    )
    run = run_tap(
        {**config, "business_ids": ["biz-1"]}, streams=("custom_fields", "business_contacts")
    )
    assert sorted(run.ids("business_contacts")) == sorted(m["id"] for m in members[:2])
    held = {f["id"] for f in sandbox.records("ghl", "custom_fields")}
    assert set(run.ids("custom_fields")) == held
