"""The `target-popin` command as users run it: killed mid-run, and what it prints."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import phonenumbers

from sandbox.control import DEMO_KEYS, SandboxClient
from sandbox.people import people
from tests.popin.conftest import RunTarget, person, start_cli


def _wait_for(condition: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_run_killed_after_some_captures_then_rerun_captures_and_books_nobody_twice(
    sandbox: SandboxClient, run_target: RunTarget, popin_config: dict[str, Any], tmp_path: Path
) -> None:
    records = [person(i) for i in range(30)]
    config = {**popin_config, "schedule": "next_available", "max_concurrency": 2}
    sandbox.latency("popin", 100)
    process = start_cli(config, tmp_path, records)
    try:
        _wait_for(lambda: len(sandbox.records("popin", "customers")) >= 4)
    finally:
        process.kill()
        process.wait()
    killed_with = len(sandbox.records("popin", "customers"))
    assert 4 <= killed_with < 30
    sandbox.latency("popin", 0)
    time.sleep(0.3)  # requests the dead process left in flight finish server-side

    run = run_target(records, schedule="next_available", max_concurrency=2)

    held = sandbox.records("popin", "customers")
    mobiles = Counter(c["mobile"] for c in held)
    assert max(mobiles.values()) == 1
    unknown = [r for r in run.rejects if "outcome unknown" in r["reason"]]
    assert len(unknown) <= 4  # at most the writes in flight when the process died
    captured_or_reported = set(mobiles) | {r["record"]["mobile"] for r in unknown}
    assert captured_or_reported == {r["mobile"] for r in records}
    booked = sandbox.records("popin", "bookings")
    assert len({b["customer_id"] for b in booked}) == len(booked)
    assert len({b["time"] for b in booked}) == len(booked)


def test_a_cli_run_logs_no_secret_email_or_phone(
    sandbox: SandboxClient, popin_config: dict[str, Any], tmp_path: Path
) -> None:
    seeded = [p for p in people(42) if p.email and p.phone_e164][:12]
    records = [{"name": p.full_name, "phone": p.phone_e164, "email": p.email} for p in seeded]
    records.append({"name": "No Phone", "email": seeded[0].email})  # a reject
    records.append(person(1, group="9999"))  # refused by Popin with status 0
    sandbox.faults("popin", queue=["429", "503"], retry_after=0.01)
    config = {**popin_config, "schedule": "next_available"}
    process = start_cli(config, tmp_path, records)
    assert process.wait(timeout=60) == 0
    output = (tmp_path / "run.log").read_text()

    assert "Run summary: leads:" in output
    assert "capture refused (HTTP 200): 1" in output
    assert "retry 1 of" in output  # the faults were met and logged
    assert "lead1@example.com" not in output
    for secret in (DEMO_KEYS["popin_api_key"], DEMO_KEYS["popin_token"]):
        assert secret not in output
    for p in seeded:
        assert str(p.email) not in output
        assert str(p.phone_e164) not in output
        national = phonenumbers.national_significant_number(phonenumbers.parse(p.phone_e164))
        assert national not in output
    assert len(sandbox.records("popin", "bookings")) == len(seeded)
