"""tap-wisepops in follow mode: contacts as the relay stores them, until a clean stop."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from leadkit.spool import open_spool
from leadkit.spooled import SPOOL_SEQS
from sandbox.control import DEMO_KEYS
from tests.relay.following import FollowingTap
from tests.relay.harness import contact

SOURCE = "shop"


def following_tap(spool: Path, folder: Path) -> FollowingTap:
    """tap-wisepops in follow mode on `spool`."""
    config = {
        "api_key": DEMO_KEYS["wisepops"],
        "webhook_spool": str(spool),
        "webhook_source": SOURCE,
        "follow": True,
    }
    return FollowingTap("tap-wisepops", config, folder)


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_follow_mode_emits_deliveries_as_they_come_and_stops_cleanly(
    tmp_path: Path, signum: int, code: int
) -> None:
    path = tmp_path / "spool.db"
    with open_spool(str(path)) as spool:
        spool.append(SOURCE, "wisepops", [contact(1), contact(2)])
        tap = following_tap(path, tmp_path)
        try:
            tap.until(records=2)
            assert tap.last_state()["bookmarks"]["contacts"][SPOOL_SEQS] == {SOURCE: 2}
            # Still running: a later delivery is emitted, with a STATE after it.
            (seq,) = spool.append(SOURCE, "wisepops", [contact(3)])
            tap.until(records=3)
            assert tap.process.poll() is None
        finally:
            returncode, stderr = tap.stop(signum)
    assert returncode == code
    assert [r["email"] for r in tap.records()] == [f"lead{n}@relay.example.com" for n in (1, 2, 3)]
    assert tap.last_state()["bookmarks"]["contacts"][SPOOL_SEQS] == {SOURCE: seq}
    assert f"Stopped by {signal.Signals(signum).name}" in stderr
    assert "Traceback" not in stderr


def test_a_stop_amid_a_backlog_leaves_state_covering_exactly_the_records_emitted(
    tmp_path: Path,
) -> None:
    path = tmp_path / "spool.db"
    contacts = [contact(n) for n in range(3000)]
    with open_spool(str(path)) as spool:
        seqs = spool.append(SOURCE, "wisepops", contacts)
    seq_of = {c["fields"]["email"]: seq for c, seq in zip(contacts, seqs, strict=True)}
    tap = following_tap(path, tmp_path)
    while True:  # the first record: the tap is under way
        message = json.loads(tap.lines.get(timeout=60))
        tap.messages.append(message)
        if message["type"] == "RECORD":
            break
    returncode, _ = tap.stop(signal.SIGTERM)
    assert returncode == 143
    emitted = tap.records()
    assert emitted
    last_state = tap.last_state()["bookmarks"]["contacts"][SPOOL_SEQS][SOURCE]
    assert last_state == seq_of[emitted[-1]["email"]]
