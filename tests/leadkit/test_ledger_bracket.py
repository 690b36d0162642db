"""The ledger bracket of a write that is not idempotent, and a vendor's rule for one in doubt."""

from __future__ import annotations

from typing import Any

import pytest

from leadkit.writer import Ledger, Reject


def _send_again(_pending: dict[str, Any]) -> dict[str, Any] | None:
    return None


def test_a_write_never_tried_is_sent_and_remembered_as_done() -> None:
    ledger = Ledger(None)
    write = ledger.bracket("notes", "k", earlier=_send_again)
    assert write.settled() is None
    write.pending()
    assert ledger.get("notes", "k") == {"state": "pending", "run": ledger.run}
    write.done(id="n1")
    assert ledger.bracket("notes", "k", earlier=_send_again).settled() == {
        "state": "done",
        "id": "n1",
    }


def test_an_earlier_try_in_doubt_found_to_have_landed_is_done_without_sending() -> None:
    ledger = Ledger(None)
    ledger.put("notes", "k", {"state": "pending"})
    write = ledger.bracket("notes", "k", earlier=lambda _pending: {"id": "n1"})
    assert write.in_doubt
    assert write.settled() == {"state": "done", "id": "n1"}
    assert ledger.get("notes", "k") == {"state": "done", "id": "n1"}


def test_an_earlier_try_in_doubt_that_did_not_land_is_sent_again() -> None:
    ledger = Ledger(None)
    ledger.put("notes", "k", {"state": "pending"})
    assert ledger.bracket("notes", "k", earlier=_send_again).settled() is None


def test_a_vendor_that_cannot_be_asked_refuses_an_earlier_try_in_doubt() -> None:
    ledger = Ledger(None)
    ledger.put("captures", "k", {"state": "pending"})

    def refuse(_pending: dict[str, Any]) -> dict[str, Any] | None:
        raise Reject("outcome unknown from an earlier run")

    with pytest.raises(Reject):
        ledger.bracket("captures", "k", earlier=refuse).settled()
    assert ledger.get("captures", "k") == {"state": "pending"}


def test_a_pending_entry_names_the_run_that_left_it() -> None:
    ledger = Ledger(None)
    ledger.bracket("captures", "k", earlier=_send_again).pending(sent_at="t")
    seen: list[dict[str, Any]] = []

    def rule(pending: dict[str, Any]) -> dict[str, Any] | None:
        seen.append(pending)
        return None

    ledger.bracket("captures", "k", earlier=rule).settled()
    assert ledger.left_by_this_run(seen[0])
    assert not Ledger(None).left_by_this_run(seen[0])


def test_a_done_write_is_never_ruled_on_again() -> None:
    ledger = Ledger(None)
    ledger.put("notes", "k", {"state": "done", "id": "n1"})

    def unreachable(_pending: dict[str, Any]) -> dict[str, Any] | None:
        raise AssertionError("a done write needs no rule")

    write = ledger.bracket("notes", "k", earlier=unreachable)
    assert not write.in_doubt
    assert write.settled() == {"state": "done", "id": "n1"}


def test_a_write_that_certainly_did_not_apply_is_forgotten() -> None:
    ledger = Ledger(None)
    write = ledger.bracket("captures", "k", earlier=_send_again)
    write.pending(time="Thu, 25 Sep 2025 03:15 PM")
    write.forget()
    assert ledger.get("captures", "k") is None
