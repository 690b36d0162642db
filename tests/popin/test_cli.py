"""The `target-popin` command as users run it: killed mid-run, and what it prints."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import phonenumbers

from leadkit.writer import Ledger
from leadkit.writer.ledger import PENDING
from leadkit.writer.settings import DEFAULT_MAX_CONCURRENCY
from sandbox.control import DEMO_KEYS, SandboxClient
from sandbox.people import people
from target_popin.sinks import BOOKINGS, CAPTURES
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


CAPTURE = "POST /api/v1/external/capture"
SCHEDULE = "POST /api/v1/external/schedule"


def _pending(ledger_path: str, namespace: str) -> set[str]:
    ledger = Ledger(ledger_path)
    try:
        return {
            k
            for k in ledger.keys(namespace)
            if (ledger.get(namespace, k) or {}).get("state") == PENDING
        }
    finally:
        ledger.close()


def _kill_once_the_in_flight_cap_is_reached(
    sandbox: SandboxClient, process: Any, kind: str, route: str
) -> None:
    """SIGKILL the run while as many writes as allowed hang at Popin and the rest wait; then
    let Popin finish answering them, so that no late request lands in the next test."""
    try:
        _wait_for(lambda: len(sandbox.records("popin", kind)) >= DEFAULT_MAX_CONCURRENCY)
        time.sleep(0.5)  # the waiting workers get every chance to touch the ledger
    finally:
        process.kill()
        process.wait()
    held = len(sandbox.records("popin", kind))
    _wait_for(lambda: sandbox.counters("popin")["by_route"].get(route, 0) >= held)


def _default_limits(popin_config: dict[str, Any]) -> dict[str, Any]:
    """The fixture's settings with the default in-flight cap and timeout."""
    return {
        k: v for k, v in popin_config.items() if k not in {"max_concurrency", "request_timeout"}
    }


def test_a_capture_waiting_for_its_turn_when_the_run_is_killed_is_not_marked_pending(
    sandbox: SandboxClient, popin_config: dict[str, Any], tmp_path: Path
) -> None:
    # Popin acts at once but answers late, so every in-flight slot stays taken.
    sandbox.settings("popin", answer_delay_ms=3000)
    process = start_cli(_default_limits(popin_config), tmp_path, [person(i) for i in range(30)])
    _kill_once_the_in_flight_cap_is_reached(sandbox, process, "customers", CAPTURE)
    received = {f"+{c['country']}{c['mobile']}" for c in sandbox.records("popin", "customers")}
    pending = _pending(popin_config["ledger_path"], CAPTURES)
    assert pending
    assert pending <= received


def test_a_schedule_waiting_for_its_turn_when_the_run_is_killed_is_not_marked_pending(
    sandbox: SandboxClient, run_target: RunTarget, popin_config: dict[str, Any], tmp_path: Path
) -> None:
    records = [person(i) for i in range(30)]
    run_target(records)  # everyone is captured; the next run only schedules
    by_customer = {
        c["customer_id"]: f"+{c['country']}{c['mobile']}"
        for c in sandbox.records("popin", "customers")
    }
    sandbox.settings("popin", answer_delay_ms=3000)
    config = {**_default_limits(popin_config), "schedule": "next_available"}
    process = start_cli(config, tmp_path, records)
    _kill_once_the_in_flight_cap_is_reached(sandbox, process, "bookings", SCHEDULE)
    received = {by_customer[b["customer_id"]] for b in sandbox.records("popin", "bookings")}
    pending = _pending(popin_config["ledger_path"], BOOKINGS)
    assert pending
    assert pending <= received


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
        national = phonenumbers.national_significant_number(phonenumbers.parse(str(p.phone_e164)))
        assert national not in output
    assert len(sandbox.records("popin", "bookings")) == len(seeded)
