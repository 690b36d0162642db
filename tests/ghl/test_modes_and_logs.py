"""Dry runs, the meltano test stream, request-body conformance and what logs never hold."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sandbox.control import SandboxClient
from tests.ghl.conftest import RunTarget, contacts, messages, write_requests
from tests.ghl_spec import validate_request

RICH = [
    {
        "email": "ada@example.com",
        "phone": "415-555-2671",
        "firstName": "Ada",
        "lastName": "Lovelace",
        "country": "gb",
        "dateOfBirth": "1815-12-10",
        "tags": ["vip", "event"],
        "customFields": {"lead_score": 7, "Interests": ["Pricing"], "met_on": "2025-03-01"},
        "notes": ["Met at booth"],
        "tasks": [{"title": "Call", "dueDate": "2025-03-04", "body": "pricing"}],
    },
    {"phone": "+44 20 7946 0958", "companyName": "Engines Ltd", "tags": ["partner"]},
]


def test_a_dry_run_sends_no_write_and_says_what_it_would_do(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    sandbox.seed("ghl", contacts=[{"email": "grace@example.org"}])
    run = run_target(messages([*RICH, {"email": "grace@example.org"}]), dry_run=True)
    assert write_requests(sandbox) == []
    assert len(contacts(sandbox)) == 1
    assert "would_create=2" in run.summary
    assert "would_update=1" in run.summary
    assert "would_post_notes=1" in run.summary
    assert "would_post_tasks=1" in run.summary


def test_the_meltano_test_stream_never_writes(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    run = run_target(messages(RICH, stream="meltano_test_stream"))
    assert write_requests(sandbox) == []
    assert contacts(sandbox) == []
    assert "meltano_test_stream: received=2" in run.summary


def test_every_request_body_sent_validates_against_the_official_schema(
    sandbox: SandboxClient, run_target: RunTarget, shared_dir: Path
) -> None:
    run_target(messages(RICH))
    run_target(messages(RICH[:1]), tags_mode="replace", ledger_path=None)
    sent = write_requests(sandbox)
    assert {r["template"] for r in sent} >= {
        "/contacts/upsert",
        "/contacts/bulk/tags/update/{type}",
        "/contacts/{contactId}/notes",
        "/contacts/{contactId}/tasks",
    }
    for request in sent:
        problems = validate_request(shared_dir, request["method"], request["path"], request["body"])
        assert problems == [], f"{request['method']} {request['template']}: {problems}"


def test_a_cli_run_logs_neither_the_token_nor_any_email_or_phone(
    sandbox: SandboxClient, ghl_config: dict, tmp_path: Path
) -> None:
    sandbox.seed("ghl", contacts=[{"email": "seeded.person@example.net", "phone": "+14155550100"}])
    records = [
        {"email": "seeded.person@example.net", "phone": "+14155550100", "notes": "x"},
        {"email": "rejected@@example", "firstName": "Bad"},
        {"email": "new.person@example.com", "customFields": {"no such field": "v"}},
    ]
    config = tmp_path / "config.json"
    config.write_text(json.dumps(ghl_config))
    result = subprocess.run(
        [sys.executable, "-m", "target_ghl.target", "--config", str(config)],
        input=messages(records),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    output = result.stdout + result.stderr
    assert "Run summary" in output
    for secret in (
        ghl_config["access_token"],
        "seeded.person@example.net",
        "new.person@example.com",
        "rejected@@example",
        "+14155550100",
        "4155550100",
    ):
        assert secret not in output
