"""Tags without a request per contact: skipped when the upsert shows them held, otherwise
sent in bulk per group of identical tags, with records acknowledged only once they landed."""

from __future__ import annotations

from typing import Any

import requests

from leadkit.writer import ApiUnavailable
from sandbox.control import SandboxClient
from tests.ghl.conftest import RunTarget, by_email, messages, rejects, write_requests

BULK = "/contacts/bulk/tags/update/{type}"
SINGLE = "/contacts/{contactId}/tags"


def _people(n: int, tags: list[str], start: int = 0) -> list[dict[str, Any]]:
    return [{"email": f"person{i}@example.com", "tags": tags} for i in range(start, start + n)]


def _sent(sandbox: SandboxClient, template: str) -> list[dict[str, Any]]:
    return [r for r in write_requests(sandbox) if r["template"] == template]


def test_new_contacts_sharing_tags_get_them_in_one_bulk_request(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    run_target(messages(_people(3, ["Expo", "vip"])))
    assert {email: c["tags"] for email, c in by_email(sandbox).items()} == {
        f"person{i}@example.com": ["expo", "vip"] for i in range(3)
    }
    [bulk] = _sent(sandbox, BULK)
    assert (bulk["path"], len(bulk["body"]["contacts"])) == ("/contacts/bulk/tags/update/add", 3)
    assert _sent(sandbox, SINGLE) == []


def test_contacts_are_grouped_by_the_tags_they_lack(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    run_target(messages([*_people(2, ["expo"]), *_people(2, ["webinar"], start=2)]))
    groups = {tuple(r["body"]["tags"]): len(r["body"]["contacts"]) for r in _sent(sandbox, BULK)}
    assert groups == {("expo",): 2, ("webinar",): 2}


def test_many_tag_sets_sharing_their_tags_are_sent_one_request_per_tag(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    # Nine sets of three tags out of seven: nine requests by set, seven by tag.
    people = [
        {"email": f"person{i}@example.com", "tags": ["popl", f"x{i // 3}", f"y{i % 3}"]}
        for i in range(9)
    ]
    run_target(messages(people))
    held = by_email(sandbox)
    assert all(sorted(held[p["email"]]["tags"]) == sorted(p["tags"]) for p in people)
    assert sorted(tuple(r["body"]["tags"]) for r in _sent(sandbox, BULK)) == [
        ("popl",),
        ("x0",),
        ("x1",),
        ("x2",),
        ("y0",),
        ("y1",),
        ("y2",),
    ]


def test_a_contact_already_holding_the_tags_gets_no_tag_request(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    sandbox.seed("ghl", contacts=[{"email": "ada@example.com", "tags": ["vip", "expo"]}])
    run_target(messages([{"email": "ada@example.com", "tags": ["VIP"], "city": "London"}]))
    assert [r["template"] for r in write_requests(sandbox)] == ["/contacts/upsert"]


def test_only_the_tags_a_contact_lacks_are_sent(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    sandbox.seed("ghl", contacts=[{"email": "ada@example.com", "tags": ["vip"]}])
    run_target(messages([{"email": "ada@example.com", "tags": ["vip", "expo"]}]))
    [bulk] = _sent(sandbox, BULK)
    assert bulk["body"]["tags"] == ["expo"]
    assert by_email(sandbox)["ada@example.com"]["tags"] == ["vip", "expo"]


def test_a_contact_the_bulk_request_did_not_tag_is_tagged_through_the_single_endpoint(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    sandbox.settings("ghl", bulk_tags_busy_emails=["person1@example.com"])
    run = run_target(messages(_people(3, ["expo"])))
    assert all(c["tags"] == ["expo"] for c in by_email(sandbox).values())
    [single] = _sent(sandbox, SINGLE)
    assert single["body"] == {"tags": ["expo"]}
    assert "bulk_tag_requests=1" in run.summary
    assert "single_tag_requests=1" in run.summary


def test_a_bulk_request_larger_than_ghl_takes_is_split_after_its_422(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    # Below the target's first chunk, so that five contacts meet the limit.
    sandbox.settings("ghl", bulk_tags_max_contacts=2)
    run_target(messages(_people(5, ["expo"])))
    assert all(c["tags"] == ["expo"] for c in by_email(sandbox).values())
    sizes = [(r["status"], len(r["body"]["contacts"])) for r in _sent(sandbox, BULK)]
    assert sizes == [(422, 5), (201, 2), (201, 2), (201, 1)]


def test_records_waiting_for_their_bulk_request_are_not_acknowledged_when_it_fails(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    sandbox.faults("ghl", rate=1.0, kinds=["503"], paths="bulk/tags")
    run = run_target(messages(_people(2, ["expo"]), state_every=1), expect_error=True)
    assert isinstance(run.error, ApiUnavailable)
    assert run.states == []


def test_a_rerun_after_a_failed_bulk_request_writes_the_tags(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    lines = messages(_people(2, ["expo"]))
    sandbox.faults("ghl", rate=1.0, kinds=["503"], paths="bulk/tags")
    run_target(lines, expect_error=True)
    sandbox.faults("ghl", rate=0.0)
    rerun = run_target(lines)
    assert all(c["tags"] == ["expo"] for c in by_email(sandbox).values())
    assert rerun.states[-1] == {"done": 2}


def test_a_rerun_once_the_tags_landed_sends_nothing(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    lines = messages(_people(3, ["expo"]))
    run_target(lines)
    sent = len(write_requests(sandbox))
    rerun = run_target(lines)
    assert len(write_requests(sandbox)) == sent
    assert "unchanged=3" in rerun.summary


def test_tags_for_a_contact_deleted_in_ghl_reject_the_record_and_the_next_run_recreates_it(
    sandbox: SandboxClient, run_target: RunTarget, ghl_config: dict
) -> None:
    run_target(messages([{"email": "ada@example.com", "tags": ["expo"]}]))
    contact_id = by_email(sandbox)["ada@example.com"]["id"]
    headers = {"Authorization": f"Bearer {ghl_config['access_token']}", "Version": "2021-07-28"}
    url = f"{ghl_config['api_url']}/contacts/{contact_id}"
    assert requests.delete(url, headers=headers, timeout=5).status_code == 200
    lines = messages([{"email": "ada@example.com", "tags": ["expo", "vip"]}])
    refused = run_target(lines)
    assert [r["reason"] for r in rejects(ghl_config["reject_file"])] == ["ghl 400 on tags"]
    assert refused.states[-1] == {"done": 1}
    run_target(lines)
    assert by_email(sandbox)["ada@example.com"]["tags"] == ["expo", "vip"]
