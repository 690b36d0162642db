"""The spool: durable, append-only, de-duplicated per source, read in seq order."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from leadkit.spool import SpoolError, content_key, open_spool


def test_append_numbers_items_in_order_and_read_returns_them(tmp_path: Path) -> None:
    with open_spool(str(tmp_path / "spool.db")) as spool:
        seqs = spool.append("shop", "wisepops", [{"email": "a@example.com"}, {"n": 2}])
        entries = spool.read("shop", after=0)
    assert seqs == [1, 2]
    assert [entry.seq for entry in entries] == [1, 2]
    assert entries[0].payload == {"email": "a@example.com"}
    assert entries[0].kind == "wisepops"
    assert entries[0].key == content_key({"email": "a@example.com"})
    assert entries[0].received_at.endswith("Z")


def test_an_item_already_stored_gets_none_and_is_stored_once(tmp_path: Path) -> None:
    with open_spool(str(tmp_path / "spool.db")) as spool:
        spool.append("shop", "wisepops", [{"a": 1, "b": 2}])
        # Same content, keys in another order: the same delivery.
        again = spool.append("shop", "wisepops", [{"b": 2, "a": 1}, {"a": 3}, {"a": 3}])
        assert again[0] is None
        assert again[2] is None
        assert [entry.seq for entry in spool.read("shop", after=0)] == [1, again[1]]


def test_sources_are_separate(tmp_path: Path) -> None:
    with open_spool(f"sqlite:///{tmp_path}/spool.db") as spool:
        spool.append("fr", "wisepops", [{"a": 1}])
        assert spool.append("de", "wisepops", [{"a": 1}]) == [2]
        assert [entry.seq for entry in spool.read("de", after=0)] == [2]
        assert spool.last_seq("fr") == 1
        assert spool.last_seq("nowhere") == 0


def test_read_resumes_after_a_seq_and_honours_the_limit(tmp_path: Path) -> None:
    with open_spool(str(tmp_path / "spool.db")) as spool:
        spool.append("shop", "wisepops", [{"n": n} for n in range(10)])
        page = spool.read("shop", after=3, limit=4)
    assert [entry.seq for entry in page] == [4, 5, 6, 7]


def test_entries_survive_reopening(tmp_path: Path) -> None:
    path = str(tmp_path / "spool.db")
    with open_spool(path) as spool:
        spool.append("shop", "wisepops", [{"n": 1}])
    with open_spool(path) as spool:
        assert spool.last_seq("shop") == 1
        first, second = spool.append("shop", "wisepops", [{"n": 1}, {"n": 2}])
        assert first is None
        assert second is not None
        assert second > 1


def test_wait_returns_when_another_connection_appends(tmp_path: Path) -> None:
    path = str(tmp_path / "spool.db")
    with open_spool(path) as reader, open_spool(path) as writer:
        assert reader.wait("shop", after=0, timeout=0.05) is False
        timer = threading.Timer(0.2, writer.append, ("shop", "wisepops", [{"n": 1}]))
        timer.start()
        try:
            assert reader.wait("shop", after=0, timeout=30) is True
        finally:
            timer.join()


def test_unknown_locations_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SpoolError, match="spool location"):
        open_spool("mysql://host/db")
    with pytest.raises(SpoolError, match="empty"):
        open_spool("")
