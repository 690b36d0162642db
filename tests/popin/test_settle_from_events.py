"""Captures whose answer was lost are settled from Popin's `popin_user_captured` events."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from leadkit.popin_events import user_number
from leadkit.spool import open_spool
from leadkit.writer import Ledger
from sandbox.control import SandboxClient
from target_popin.sinks import CAPTURE_UNKNOWN_EARLIER, CAPTURES
from tests.popin.conftest import RunTarget, person, start_cli
from tests.popin_events.relay import SOURCE, PopinRelay, popin_relay, send_events_to

CAPTURE_ROUTE = "POST /api/v1/external/capture"
LEAD = person(7)
KEY = "+919876500007"


@pytest.fixture
def relay(sandbox: SandboxClient, tmp_path: Path) -> Iterator[PopinRelay]:
    """A relay receiving the sandbox Popin's events (no duplicates: counts stay exact)."""
    with popin_relay(tmp_path) as running:
        send_events_to(sandbox, running, webhook_duplicate_rate=0)
        yield running


def lose_the_next_capture_answer(sandbox: SandboxClient) -> None:
    """Popin captures, but its answer comes back cut in half (the client cannot read it)."""
    sandbox.faults("popin", queue=["truncate"], paths=CAPTURE_ROUTE)


def ledger_entry(tmp_path: Path) -> dict[str, object] | None:
    """What the target's ledger holds about the lead's capture."""
    ledger = Ledger(tmp_path / "ledger.sqlite")
    try:
        return ledger.get(CAPTURES, KEY)
    finally:
        ledger.close()


def test_a_lost_answer_is_settled_by_the_event_and_the_call_booked(
    sandbox: SandboxClient, relay: PopinRelay, run_target: RunTarget, tmp_path: Path
) -> None:
    lose_the_next_capture_answer(sandbox)
    # webhook_wait_seconds at its default.
    run = run_target(
        [LEAD],
        schedule="next_available",
        webhook_spool=str(relay.spool),
        webhook_source=SOURCE,
    )
    assert run.rejects == []
    assert run.count("settled_from_events") == 1
    (customer,) = sandbox.records("popin", "customers")
    # The event's plain user id became the customer_id /schedule needs.
    assert [b["customer_id"] for b in sandbox.records("popin", "bookings")] == [
        customer["customer_id"]
    ]
    assert ledger_entry(tmp_path) == {
        "state": "done",
        "customer_id": customer["customer_id"],
        "url": None,
        "settled_by": "popin_user_captured",
    }


def store_capture_event_once_in_popin(
    sandbox: SandboxClient, spool: Path, waiting: str, written: str
) -> None:
    """Once Popin holds the customer of mobile `written`, store in the spool the capture
    event of the one of mobile `waiting` (as the relay would)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        customers = {c["mobile"]: c for c in sandbox.records("popin", "customers")}
        if written in customers and waiting in customers:
            event = {
                "event": "popin_user_captured",
                "user_id": user_number(customers[waiting]["customer_id"]),
                "phone": f"+91{waiting}",
                "agent": None,
                "timestamp": "2026-11-30T15:00:12+05:30",
            }
            with open_spool(str(spool)) as store:
                store.append(SOURCE, "popin", [event])
            return
        time.sleep(0.05)


def test_a_second_person_is_written_while_the_first_waits_for_its_event(
    sandbox: SandboxClient, relay: PopinRelay, run_target: RunTarget
) -> None:
    # Popin sends nothing by itself: the first person's event is stored only once the second
    # person is in Popin, which a writer parked on the first (one writer: max_concurrency 1)
    # would let happen only after `webhook_wait_seconds` (default), too late to settle it.
    sandbox.settings("popin", webhook_url=None)
    lose_the_next_capture_answer(sandbox)
    second = person(8)
    helper = threading.Thread(
        target=store_capture_event_once_in_popin,
        args=(sandbox, relay.spool, KEY.removeprefix("+91"), "9876500008"),
        daemon=True,
    )
    helper.start()
    run = run_target(
        [LEAD, second], max_concurrency=1, webhook_spool=str(relay.spool), webhook_source=SOURCE
    )
    helper.join(timeout=60)
    assert run.rejects == []
    assert run.count("settled_from_events") == 1
    assert run.count("created") == 1
    assert len(sandbox.records("popin", "customers")) == 2


@pytest.mark.parametrize("user_id_form", ["number", "customer_id"])
def test_an_earlier_runs_capture_in_doubt_is_settled_on_the_next_run_once(
    sandbox: SandboxClient,
    relay: PopinRelay,
    run_target: RunTarget,
    tmp_path: Path,
    user_id_form: str,
) -> None:
    sandbox.settings("popin", webhook_user_id=user_id_form)
    lose_the_next_capture_answer(sandbox)
    first = run_target([LEAD])  # no spool: the capture stays in doubt
    assert [r["reason"] for r in first.rejects] == ["capture outcome unknown"]
    relay.wait_for_events(1)
    settings = {"webhook_spool": str(relay.spool), "webhook_source": SOURCE}
    second = run_target([LEAD], **settings)
    third = run_target([LEAD], **settings)
    assert second.count("settled_from_events") == 1
    assert third.count("unchanged") == 1
    assert len(first.rejects) == len(third.rejects) == 1  # the file holds run 1's only
    (customer,) = sandbox.records("popin", "customers")
    entry = ledger_entry(tmp_path)
    assert entry is not None
    assert entry["customer_id"] == customer["customer_id"]


def test_without_an_event_a_capture_in_doubt_is_still_rejected(
    sandbox: SandboxClient, relay: PopinRelay, run_target: RunTarget
) -> None:
    sandbox.settings("popin", webhook_url=None)  # Popin sends nothing
    lose_the_next_capture_answer(sandbox)
    settings = {"webhook_spool": str(relay.spool), "webhook_source": SOURCE}
    # A short wait: the event never comes, so the default 10 s would only slow the test.
    run_target([LEAD], webhook_wait_seconds=0.5, **settings)
    second = run_target([LEAD], **settings)
    # One reject file for both runs: run 1's line, then run 2's.
    assert [r["reason"] for r in second.rejects] == [
        "capture outcome unknown",
        CAPTURE_UNKNOWN_EARLIER,
    ]
    assert len(sandbox.records("popin", "customers")) == 1


def test_a_spool_setting_without_its_source_fails_naming_it(
    run_target: RunTarget, tmp_path: Path
) -> None:
    spool = tmp_path / "spool.sqlite"
    spool.touch()
    with pytest.raises(Exception, match="webhook_source"):
        run_target([LEAD], webhook_spool=str(spool))


SCHEDULE_ROUTE = "POST /api/v1/external/schedule"


def test_a_lost_booking_answer_is_settled_by_its_event_and_not_booked_again(
    sandbox: SandboxClient, relay: PopinRelay, run_target: RunTarget
) -> None:
    sandbox.faults("popin", queue=["truncate"], paths=SCHEDULE_ROUTE)
    settings = {"webhook_spool": str(relay.spool), "webhook_source": SOURCE}
    first = run_target([LEAD], schedule="next_available", **settings)
    second = run_target([LEAD], schedule="next_available", **settings)
    assert first.rejects == []
    assert first.count("schedule_settled_from_events") == 1
    assert second.count("already_scheduled") == 1
    assert len(sandbox.records("popin", "bookings")) == 1


def test_an_earlier_runs_booking_in_doubt_is_settled_on_the_next_run(
    sandbox: SandboxClient, relay: PopinRelay, run_target: RunTarget
) -> None:
    sandbox.faults("popin", queue=["truncate"], paths=SCHEDULE_ROUTE)
    first = run_target([LEAD], schedule="next_available")  # no spool: the booking in doubt
    assert [r["reason"] for r in first.rejects] == ["schedule outcome unknown"]
    relay.wait_for_events(2)  # captured, then scheduled
    settings = {"webhook_spool": str(relay.spool), "webhook_source": SOURCE}
    second = run_target([LEAD], schedule="next_available", **settings)
    assert second.count("schedule_settled_from_events") == 1
    assert len(second.rejects) == 1  # run 1's line only
    assert len(sandbox.records("popin", "bookings")) == 1


def test_a_stop_while_a_capture_waits_for_its_event_acknowledges_nothing_past_it(
    sandbox: SandboxClient,
    relay: PopinRelay,
    popin_config: dict[str, Any],
    tmp_path: Path,
) -> None:
    sandbox.settings("popin", webhook_url=None)  # the event never comes
    lose_the_next_capture_answer(sandbox)
    config = {
        **popin_config,
        "max_concurrency": 1,
        "webhook_spool": str(relay.spool),
        "webhook_source": SOURCE,
        # Far beyond the stop: the record is still waiting when SIGTERM comes.
        "webhook_wait_seconds": 120,
    }
    process = start_cli(config, tmp_path, [LEAD, person(8)])
    try:
        deadline = time.monotonic() + 60
        while len(sandbox.records("popin", "customers")) < 2:  # the second is written
            assert time.monotonic() < deadline, "the second person was never captured"
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 143
    finally:
        if process.poll() is None:
            process.kill()
    output = (tmp_path / "run.log").read_text()
    # The input's one STATE follows both records: the first is still open, so it is not
    # acknowledged; the capture stays pending for the next run to settle from the spool.
    assert '{"bookmarks"' not in output
    assert "Stopped by SIGTERM" in output
    entry = ledger_entry(tmp_path)
    assert entry is not None
    assert entry["state"] == "pending"
