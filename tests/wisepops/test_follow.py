"""tap-wisepops in follow mode: contacts as the relay stores them, until a clean stop."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from leadkit.spool import open_spool
from sandbox.control import DEMO_KEYS
from tap_wisepops.spooled import SPOOL_SEQS
from tests.relay.harness import contact

SOURCE = "shop"
TAP = Path(sys.executable).parent / "tap-wisepops"


class FollowingTap:
    """`tap-wisepops --config` with `follow`, its stdout read line by line."""

    def __init__(self, spool: Path, folder: Path) -> None:
        config = {
            "api_key": DEMO_KEYS["wisepops"],
            "webhook_spool": str(spool),
            "webhook_source": SOURCE,
            "follow": True,
        }
        (folder / "config.json").write_text(json.dumps(config))
        self.stderr = folder / "stderr.txt"
        with self.stderr.open("wb") as err:
            self.process = subprocess.Popen(
                [str(TAP), "--config", str(folder / "config.json")],
                stdout=subprocess.PIPE,
                stderr=err,
            )
        self.lines: queue.Queue[bytes] = queue.Queue()
        self.messages: list[dict[str, Any]] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def until(self, records: int, timeout: float = 60) -> None:
        """Read messages until `records` RECORDs and a STATE after the last of them."""
        while True:
            message = json.loads(self.lines.get(timeout=timeout))
            self.messages.append(message)
            if message["type"] == "STATE" and len(self.records()) >= records:
                return

    def records(self) -> list[dict[str, Any]]:
        return [m["record"] for m in self.messages if m["type"] == "RECORD"]

    def last_state(self) -> dict[str, Any]:
        return [m["value"] for m in self.messages if m["type"] == "STATE"][-1]

    def stop(self, signum: int) -> tuple[int, str]:
        """Signal the tap; its exit code and stderr once it is gone, and the rest of stdout."""
        self.process.send_signal(signum)
        self.process.wait(timeout=60)
        self.reader.join(timeout=60)
        while not self.lines.empty():
            # Every line is whole: the stop was noticed between messages.
            self.messages.append(json.loads(self.lines.get()))
        return self.process.returncode, self.stderr.read_text()


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_follow_mode_emits_deliveries_as_they_come_and_stops_cleanly(
    tmp_path: Path, signum: int, code: int
) -> None:
    path = tmp_path / "spool.db"
    with open_spool(str(path)) as spool:
        spool.append(SOURCE, "wisepops", [contact(1), contact(2)])
        tap = FollowingTap(path, tmp_path)
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
    tap = FollowingTap(path, tmp_path)
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
