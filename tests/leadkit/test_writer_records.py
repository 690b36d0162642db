"""Reject file, ledger and run summary: the bookkeeping every writer shares."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from leadkit.writer import Ledger, Reject, RejectFile, RunSummary


def test_a_reject_carries_a_stable_reason_and_the_vendor_detail() -> None:
    reject = Reject("ghl 422", "property x should not exist")
    assert (reject.reason, reject.detail) == ("ghl 422", "property x should not exist")


def test_reject_file_writes_one_json_line_per_record(tmp_path: Path) -> None:
    rejects = RejectFile(tmp_path / "out" / "rejects.jsonl")
    rejects.write(stream="leads", key="k1", reason="no valid email or phone", record={"a": 1})
    rejects.write(stream="leads", key="k2", reason="ghl 422", record={"b": 2}, detail="bad")
    lines = rejects.read()
    assert [(line["key"], line["reason"], line["detail"]) for line in lines] == [
        ("k1", "no valid email or phone", None),
        ("k2", "ghl 422", "bad"),
    ]
    assert lines[0]["record"] == {"a": 1}


def test_reject_file_without_a_path_only_counts() -> None:
    rejects = RejectFile(None)
    rejects.write(stream="s", key="k", reason="r", record={})
    assert rejects.count == 1
    assert rejects.read() == []


def test_ledger_survives_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    ledger = Ledger(path)
    ledger.put("notes", "c1:abc", {"state": "pending"})
    ledger.put("notes", "c1:abc", {"state": "done", "id": "n1"})
    ledger.close()
    assert Ledger(path).get("notes", "c1:abc") == {"state": "done", "id": "n1"}


def test_ledger_is_a_plain_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    Ledger(path).put("tasks", "k", {"state": "done"})
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT namespace, key FROM ledger").fetchall() == [("tasks", "k")]


def test_ledger_without_a_path_lives_in_memory() -> None:
    ledger = Ledger(None)
    assert ledger.get("notes", "missing") is None
    ledger.put("notes", "k", {"state": "done"})
    assert ledger.keys("notes") == ["k"]
    ledger.delete("notes", "k")
    assert ledger.get("notes", "k") is None


def test_summary_line_lists_counts_rejects_with_keys_and_names() -> None:
    summary = RunSummary()
    summary.count("leads", "received", 5)
    summary.count("leads", "created", 2)
    summary.count("leads", "notes_posted")
    for key in ["k1", "k2", "k3", "k4"]:
        summary.reject("leads", "no valid email or phone", key)
    summary.ignored_property("leads", "favourite_colour")
    summary.ignored_property("leads", "favourite_colour")
    line = summary.lines()[0]
    assert line.startswith("leads: received=5; created=2; updated=0; unchanged=0; rejected=4")
    assert "no valid email or phone: 4 (e.g. k1 k2 k3)" in line
    assert "notes_posted=1" in line
    assert line.endswith("ignored properties: favourite_colour")


def test_summary_names_a_thing_once() -> None:
    summary = RunSummary()
    assert summary.name_once("s", "unknown custom fields", "shoe size")
    assert not summary.name_once("s", "unknown custom fields", "shoe size")
    assert summary.named("s", "unknown custom fields") == ["shoe size"]


def test_summary_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    summary = RunSummary()
    summary.count("a", "received")
    logger = logging.getLogger("test-summary")
    with caplog.at_level(logging.INFO, logger="test-summary"):
        summary.log_once(logger)
        summary.log_once(logger)
    assert len([r for r in caplog.records if "Run summary" in r.getMessage()]) == 1
