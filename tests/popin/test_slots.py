"""Slot strings and slot allocation, as pure functions."""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from target_popin.slot_book import SlotBook
from target_popin.slot_times import (
    SlotsUnreadable,
    format_slot,
    parse_availability,
    parse_slot,
    parse_slot_text,
)

KOLKATA = ZoneInfo("Asia/Kolkata")
NEW_YORK = ZoneInfo("America/New_York")


def test_format_matches_the_documented_example() -> None:
    moment = datetime(2025, 9, 25, 15, 15, tzinfo=KOLKATA)
    assert format_slot(moment, KOLKATA) == "Thu, 25 Sep 2025 03:15 PM"


def test_format_converts_to_the_slots_timezone() -> None:
    moment = datetime(2025, 9, 25, 9, 45, tzinfo=timezone.utc)
    assert format_slot(moment, KOLKATA) == "Thu, 25 Sep 2025 03:15 PM"


@pytest.mark.parametrize(
    ("hour", "expected"), [(0, "12:00 AM"), (9, "09:00 AM"), (12, "12:00 PM"), (23, "11:00 PM")]
)
def test_format_uses_a_zero_padded_12_hour_clock(hour: int, expected: str) -> None:
    moment = datetime(2025, 1, 6, hour, 0, tzinfo=KOLKATA)
    assert format_slot(moment, KOLKATA) == f"Mon, 06 Jan 2025 {expected}"


def test_format_follows_daylight_saving_time() -> None:
    winter = datetime(2025, 1, 15, 15, 0, tzinfo=timezone.utc)
    summer = datetime(2025, 7, 15, 15, 0, tzinfo=timezone.utc)
    assert format_slot(winter, NEW_YORK).endswith("10:00 AM")
    assert format_slot(summer, NEW_YORK).endswith("11:00 AM")


def test_parse_and_format_round_trip() -> None:
    moment = parse_slot("Wed, 24 Sep 2025", "01:15 PM", KOLKATA)
    assert moment == datetime(2025, 9, 24, 13, 15, tzinfo=KOLKATA)
    assert format_slot(moment, KOLKATA) == "Wed, 24 Sep 2025 01:15 PM"


def test_parse_availability_reads_the_documented_example() -> None:
    body = {
        "availability": [
            {"date": "Wed, 24 Sep 2025", "slots": ["01:00 PM", "01:15 PM"]},
            {"date": "Thu, 25 Sep 2025", "slots": ["10:00 AM"]},
        ],
        "slotDiff": 15,
        "timezone": "Asia/Kolkata",
    }
    zone, moments = parse_availability(body)
    assert zone == KOLKATA
    assert [format_slot(m, zone) for m in moments] == [
        "Wed, 24 Sep 2025 01:00 PM",
        "Wed, 24 Sep 2025 01:15 PM",
        "Thu, 25 Sep 2025 10:00 AM",
    ]


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"timezone": "Asia/Kolkata"},
        {"availability": [], "timezone": "Nowhere/Else"},
        {"availability": [{"date": "2025-09-24", "slots": ["13:00"]}], "timezone": "UTC"},
        {"availability": [{"date": "Wed, 31 Sep 2025", "slots": ["01:00 PM"]}], "timezone": "UTC"},
    ],
    ids=["not-object", "no-availability", "bad-zone", "bad-format", "no-such-date"],
)
def test_malformed_availability_is_unreadable(body: object) -> None:
    with pytest.raises(SlotsUnreadable):
        parse_availability(body)


def _book(count: int) -> SlotBook:
    start = datetime(2025, 9, 24, 10, 0, tzinfo=KOLKATA)
    return SlotBook(KOLKATA, [start.replace(minute=15 * i) for i in range(count)])


def test_each_claim_gets_a_distinct_slot_until_none_is_left() -> None:
    book = _book(3)
    claims = [book.claim() for _ in range(4)]
    assert len(set(claims[:3])) == 3
    assert claims[3] is None


def test_concurrent_claims_never_share_a_slot() -> None:
    book = _book(4)
    results: list[datetime | None] = []
    threads = [threading.Thread(target=lambda: results.append(book.claim())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    slots = [r for r in results if r is not None]
    assert len(slots) == len(set(slots)) == 4


def test_claim_not_before_skips_earlier_slots() -> None:
    book = _book(4)
    wanted = datetime(2025, 9, 24, 4, 50, tzinfo=timezone.utc)  # 10:20 in Kolkata
    assert book.text(book.claim(wanted) or wanted) == "Wed, 24 Sep 2025 10:30 AM"


def test_naive_not_before_is_read_in_the_slots_timezone() -> None:
    book = _book(4)
    slot = book.claim(datetime(2025, 9, 24, 10, 15))
    assert slot == datetime(2025, 9, 24, 10, 15, tzinfo=KOLKATA)


def test_a_refused_slot_is_never_offered_again_even_after_a_refresh() -> None:
    book = _book(2)
    first = book.claim()
    assert first is not None
    book.refuse(first)
    book.release(first)
    book.replace(KOLKATA, list(book.listed))
    assert book.claim() != first
    assert book.claim() is None


def test_a_released_slot_is_offered_again() -> None:
    book = _book(1)
    slot = book.claim()
    assert slot is not None
    book.release(slot)
    assert book.claim() == slot


def test_a_booked_slot_is_never_offered_again_even_if_a_refresh_lists_it() -> None:
    book = _book(2)
    first = book.claim()
    assert first is not None
    book.booked(first)
    book.replace(KOLKATA, list(book.listed))
    assert book.claim() != first
    assert book.claim() is None


def test_a_whole_schedule_time_string_reads_back_to_its_moment() -> None:
    moment = parse_slot_text("Thu, 25 Sep 2025 03:15 PM", KOLKATA)
    assert moment == datetime(2025, 9, 25, 15, 15, tzinfo=KOLKATA)


def test_a_malformed_schedule_time_string_is_unreadable() -> None:
    with pytest.raises(SlotsUnreadable):
        parse_slot_text("2025-09-25 15:15", KOLKATA)
