"""Faults at default timeouts, retries and backoff: they cost retries and waits, never minutes
per fault, never the run, never a duplicate, and never a wrong created/updated count."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from leadkit.errors import QuotaExhausted
from sandbox.control import SandboxClient
from tests.ghl.conftest import RunTarget, contacts, messages


@pytest.fixture(autouse=True)
def _scaled_rate(sandbox: SandboxClient) -> None:
    """GHL's 100 requests per 10 s, scaled to per 1 s on the sandbox's side, so each test
    takes seconds; the target keeps every setting at its default."""
    sandbox.settings("ghl", rate_limit_max=100, rate_limit_window_ms=1000)


def _leads(count: int, *, notes: bool = True) -> list[dict]:
    return [
        {"email": f"lead{n}@example.com", **({"notes": f"Met lead {n}"} if notes else {})}
        for n in range(count)
    ]


def _assert_each_once(sandbox: SandboxClient, count: int, *, notes: bool = True) -> None:
    held = contacts(sandbox)
    assert sorted(c["email"] for c in held) == sorted(f"lead{n}@example.com" for n in range(count))
    if notes:
        for contact in held:
            n = contact["email"].removeprefix("lead").removesuffix("@example.com")
            assert [note["body"] for note in contact["notes"]] == [f"Met lead {n}"]


def test_ten_percent_server_errors_and_drops_write_each_contact_and_note_once(
    sandbox: SandboxClient, run_with_defaults: RunTarget
) -> None:
    sandbox.faults("ghl", rate=0.1, kinds=["502", "503", "drop"], seed=7)
    run = run_with_defaults(messages(_leads(150)))
    _assert_each_once(sandbox, 150)
    assert run.states[-1] == {"done": 150}


def test_lost_note_answers_are_read_back_and_neither_lost_nor_doubled(
    sandbox: SandboxClient, run_with_defaults: RunTarget
) -> None:
    # The note is stored, then its answer is cut: only reading back can tell.
    sandbox.faults("ghl", rate=0.1, kinds=["truncate"], paths=r"POST .*/notes$", seed=3)
    run = run_with_defaults(messages(_leads(150)))
    _assert_each_once(sandbox, 150)
    assert "notes_reconciled=" in run.summary
    assert run.states[-1] == {"done": 150}


def test_a_write_in_doubt_never_holds_back_the_other_records(
    sandbox: SandboxClient, run_with_defaults: RunTarget
) -> None:
    # The first note's connection drops before GHL stores it. One request at a time makes
    # the order observable: the other leads are written before that note is read back.
    sandbox.faults("ghl", queue=["drop"], paths=r"POST .*/notes$")
    run_with_defaults(messages(_leads(4)), max_concurrency=1)
    _assert_each_once(sandbox, 4)
    first = next(c["id"] for c in contacts(sandbox) if c["email"] == "lead0@example.com")
    writes = [r["path"] for r in sandbox.records("ghl", "requests")]
    assert writes[-1] == f"/contacts/{first}/notes"
    assert len(writes) == 8


def test_twenty_percent_headerless_429s_cost_waits_and_the_run_succeeds(
    sandbox: SandboxClient, default_config: dict, tmp_path: Path
) -> None:
    sandbox.faults("ghl", rate=0.2, kinds=["429-bare"], seed=11)
    config = tmp_path / "config.json"
    config.write_text(json.dumps(default_config))
    result = subprocess.run(
        [sys.executable, "-m", "target_ghl.target", "--config", str(config)],
        input=messages(_leads(200)),
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    _assert_each_once(sandbox, 200)
    assert json.loads(result.stdout.splitlines()[-1]) == {"done": 200}


def test_a_note_refused_with_429_as_many_times_as_it_has_tries_still_lands(
    sandbox: SandboxClient, run_with_defaults: RunTarget
) -> None:
    sandbox.faults("ghl", queue=["429-bare"] * 5, paths=r"POST .*/notes$")
    run = run_with_defaults(messages(_leads(2)))
    _assert_each_once(sandbox, 2)
    assert "throttled=5" in run.summary
    assert run.states[-1] == {"done": 2}


def test_ghls_own_429s_without_any_rate_limit_header_are_waited_out(
    sandbox: SandboxClient, run_with_defaults: RunTarget, default_config: dict, demo_keys: dict
) -> None:
    # A small window so that another client can spend it; the 429s then carry no headers.
    sandbox.settings(
        "ghl", rate_limit_max=5, rate_limit_window_ms=1000, rate_limit_headers_on_429=False
    )
    for _ in range(5):
        requests.get(
            f"{default_config['api_url']}/locations/{demo_keys['ghl_location']}/customFields",
            headers={"Authorization": f"Bearer {demo_keys['ghl']}", "Version": "2021-07-28"},
            timeout=5,
        )
    run = run_with_defaults(messages(_leads(20)))
    _assert_each_once(sandbox, 20)
    assert run.target is not None
    assert run.target.writer_run.client.throttled >= 1
    assert run.states[-1] == {"done": 20}


def test_lost_upsert_answers_still_count_every_new_contact_as_created(
    sandbox: SandboxClient, run_with_defaults: RunTarget
) -> None:
    # The contact is stored, then the answer is cut; the retry's answer says `new: false`.
    sandbox.faults("ghl", rate=0.1, kinds=["truncate"], paths=r"POST /contacts/upsert$", seed=5)
    run = run_with_defaults(messages(_leads(200, notes=False)))
    _assert_each_once(sandbox, 200, notes=False)
    assert "created=200; updated=0;" in run.summary
    assert sandbox.counters("ghl")["faults"]["truncate"] > 0


def test_lost_upsert_answers_for_existing_contacts_count_them_as_updated(
    sandbox: SandboxClient, run_with_defaults: RunTarget
) -> None:
    sandbox.seed("ghl", contacts=[{"email": f"lead{n}@example.com"} for n in range(0, 60, 2)])
    sandbox.faults("ghl", rate=0.15, kinds=["truncate"], paths=r"POST /contacts/upsert$", seed=9)
    run = run_with_defaults(messages(_leads(60, notes=False)))
    _assert_each_once(sandbox, 60, notes=False)
    assert "created=30; updated=30;" in run.summary


def test_a_run_that_stops_while_a_note_is_in_doubt_does_not_acknowledge_its_record(
    sandbox: SandboxClient, run_with_defaults: RunTarget
) -> None:
    # The first note's connection drops before GHL stores it; the daily budget then runs
    # out (2 requests), so the run stops before that note is read back. One request at a
    # time keeps that order.
    sandbox.faults("ghl", queue=["drop"], paths=r"POST .*/notes$")
    sandbox.settings("ghl", daily_limit=2)
    lines = messages(_leads(2), state_every=1)
    run = run_with_defaults(lines, expect_error=True, max_concurrency=1)
    assert isinstance(run.error, QuotaExhausted)
    assert run.states == []
    sandbox.settings("ghl", daily_limit=200_000)
    rerun = run_with_defaults(lines)
    _assert_each_once(sandbox, 2)
    assert rerun.states[-1] == {"done": 2}
