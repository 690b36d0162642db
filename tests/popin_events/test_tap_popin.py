"""tap-popin reads the Popin events the relay spooled, bookmarking by spool seq."""

from __future__ import annotations

import io
import json
import signal
import sys
from pathlib import Path
from typing import Any

import pytest
from singer_sdk.exceptions import ConfigValidationError

from leadkit.errors import ConfigError
from leadkit.spool import open_spool
from leadkit.spooled import SPOOL_SEQS
from tap_popin.tap import TapPopin
from tests.relay.following import FollowingTap

SOURCE = "calls"


def event(name: str, user_id: object = 315, **fields: Any) -> dict[str, Any]:
    """A Popin event as the sandbox sends it."""
    return {
        "event": name,
        "user_id": user_id,
        "phone": "+919544510895",
        "agent": {"id": 210, "name": "Ananya Rao", "email": "agent210@seller.example"},
        "timestamp": "2026-11-30T15:00:12+05:30",
        **fields,
    }


def spooled(path: Path, *events: dict[str, Any], source: str = SOURCE) -> list[int | None]:
    """Append events to the spool at `path` as the relay would."""
    with open_spool(str(path)) as spool:
        return spool.append(source, "popin", list(events))


def sync(spool: Path, state: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """One run of the tap in this process: the Singer messages it wrote."""
    tap = TapPopin(config={"webhook_spool": str(spool), "webhook_source": SOURCE}, state=state)
    buffer = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)
    previous, sys.stdout = sys.stdout, buffer
    try:
        tap.sync_all()
    finally:
        sys.stdout = previous
    raw = buffer.buffer.getvalue().decode()
    return [json.loads(line) for line in raw.splitlines() if line.strip()]


def records(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The RECORD payloads."""
    return [m["record"] for m in messages if m["type"] == "RECORD"]


def last_state(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The last STATE value."""
    return [m["value"] for m in messages if m["type"] == "STATE"][-1]


def test_events_are_read_in_seq_order_and_the_bookmark_is_the_last_seq(tmp_path: Path) -> None:
    spool = tmp_path / "spool.sqlite"
    seqs = spooled(
        spool,
        event("popin_user_captured"),
        event("popin_call_missed", call={"duration": 0, "started_at": "2026-11-30T09:30:00Z"}),
    )
    messages = sync(spool)
    assert [r["spool_seq"] for r in records(messages)] == seqs
    assert [r["event"] for r in records(messages)] == ["popin_user_captured", "popin_call_missed"]
    assert last_state(messages)["bookmarks"]["call_events"][SPOOL_SEQS] == {SOURCE: seqs[-1]}


def test_a_second_run_reads_only_events_spooled_since(tmp_path: Path) -> None:
    spool = tmp_path / "spool.sqlite"
    spooled(spool, event("popin_user_captured"))
    first = sync(spool)
    (later,) = spooled(spool, event("popin_remark_added", remark="Call after 6 pm"))
    second = sync(spool, state=last_state(first))
    assert [r["spool_seq"] for r in records(second)] == [later]
    assert records(second)[0]["remark"] == "Call after 6 pm"


def test_the_plain_user_id_and_its_base64_form_read_the_same(tmp_path: Path) -> None:
    spool = tmp_path / "spool.sqlite"
    spooled(spool, event("popin_call_successful"), event("popin_call_missed", user_id="MzE1"))
    read = records(sync(spool))
    assert [(r["user_id"], r["customer_id"]) for r in read] == [(315, "MzE1"), (315, "MzE1")]


def test_the_event_fields_are_flattened_and_its_time_read_as_utc(tmp_path: Path) -> None:
    spool = tmp_path / "spool.sqlite"
    spooled(
        spool,
        event("popin_call_successful", call={"duration": 185, "started_at": "2026-11-30T09:27Z"}),
    )
    (record,) = records(sync(spool))
    assert record["phone"] == "+919544510895"
    assert (record["agent_id"], record["agent_name"]) == (210, "Ananya Rao")
    assert record["call_duration"] == 185
    assert record["occurred_at"] == "2026-11-30T09:30:12.000Z"
    assert record["payload"]["event"] == "popin_call_successful"


def test_a_time_that_does_not_parse_is_kept_as_sent_and_never_guessed(tmp_path: Path) -> None:
    spool = tmp_path / "spool.sqlite"
    spooled(spool, event("popin_call_missed", timestamp="30/11/2026 15:00"))
    (record,) = records(sync(spool))
    assert record["occurred_at"] is None
    assert record["occurred_at_raw"] == "30/11/2026 15:00"


def test_other_sources_in_the_same_spool_are_not_read(tmp_path: Path) -> None:
    spool = tmp_path / "spool.sqlite"
    spooled(spool, event("popin_call_missed"), source="other-seller")
    spooled(spool, event("popin_call_abandoned"))
    assert [r["event"] for r in records(sync(spool))] == ["popin_call_abandoned"]


def test_a_bookmark_that_is_not_a_seq_is_dropped(tmp_path: Path) -> None:
    spool = tmp_path / "spool.sqlite"
    spooled(spool, event("popin_call_missed"))
    state = {"bookmarks": {"call_events": {SPOOL_SEQS: {SOURCE: "not-a-seq"}}}}
    messages = sync(spool, state=state)
    assert len(records(messages)) == 1
    assert last_state(messages)["bookmarks"]["call_events"][SPOOL_SEQS] == {SOURCE: 1}


def test_a_bookmark_of_the_earlier_replication_key_scheme_is_taken_over(tmp_path: Path) -> None:
    spool = tmp_path / "spool.sqlite"
    first, second = spooled(spool, event("popin_call_missed"), event("popin_call_abandoned"))
    earlier = {"replication_key": "spool_seq", "replication_key_value": first}
    messages = sync(spool, state={"bookmarks": {"call_events": earlier}})
    assert [r["spool_seq"] for r in records(messages)] == [second]
    assert last_state(messages)["bookmarks"]["call_events"] == {SPOOL_SEQS: {SOURCE: second}}


def test_follow_mode_emits_events_as_they_come_and_stops_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "spool.sqlite"
    (first,) = spooled(path, event("popin_user_captured"))
    config = {"webhook_spool": str(path), "webhook_source": SOURCE, "follow": True}
    tap = FollowingTap("tap-popin", config, tmp_path)
    try:
        tap.until(records=1)
        (later,) = spooled(path, event("popin_call_missed"))
        tap.until(records=2)
        assert tap.process.poll() is None
    finally:
        returncode, stderr = tap.stop(signal.SIGTERM)
    assert returncode == 143
    assert [r["spool_seq"] for r in tap.records()] == [first, later]
    assert tap.last_state()["bookmarks"]["call_events"][SPOOL_SEQS] == {SOURCE: later}
    assert "Traceback" not in stderr


def test_a_spool_that_does_not_exist_fails_naming_the_setting(tmp_path: Path) -> None:
    with pytest.raises((ConfigError, ConfigValidationError), match="webhook_spool"):
        TapPopin(config={"webhook_spool": str(tmp_path / "nope.sqlite"), "webhook_source": "x"})
