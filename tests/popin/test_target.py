"""target-popin against the sandbox: what Popin holds after each run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import phonenumbers
import pytest
import requests
from singer_sdk.exceptions import ConfigValidationError

from leadkit.errors import AuthFailure
from leadkit.writer import ApiUnavailable, Ledger
from leadkit.writer.settings import DEFAULT_MAX_CONCURRENCY
from sandbox.control import SandboxClient
from sandbox.people import people
from target_popin.sinks import CAPTURES
from target_popin.target import TargetPopin
from tests.popin.conftest import RunTarget, person


def customers(sandbox: SandboxClient) -> list[dict[str, Any]]:
    return list(sandbox.records("popin", "customers"))


def bookings(sandbox: SandboxClient) -> list[dict[str, Any]]:
    return list(sandbox.records("popin", "bookings"))


def route_count(sandbox: SandboxClient, route: str) -> int:
    return int(sandbox.counters("popin")["by_route"].get(f"{route}", 0))


CAPTURE = "POST /api/v1/external/capture"
SLOTS = "GET /api/v1/external/slots"
SCHEDULE = "POST /api/v1/external/schedule"


# --- captures --------------------------------------------------------------------------


def test_captures_carry_the_mapped_fields_and_defaults(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    record = {
        "firstName": "Zoë",
        "lastName": "Núñez",
        "phone": "+91 98765 00001",
        "email": "zoe@example.com",
        "pincode": "221007",
        "campaign": {"utm_source": "popl"},
    }
    run_target([record], group="5211", agent=210, native=True, campaign={"utm_medium": "event"})
    [customer] = customers(sandbox)
    assert {k: customer[k] for k in record.keys() - {"firstName", "lastName", "phone"}} == {
        "email": "zoe@example.com",
        "pincode": "221007",
        "campaign": {"utm_source": "popl", "utm_medium": "event"},
    }
    assert (customer["name"], customer["country"], customer["mobile"]) == (
        "Zoë Núñez",
        "91",
        "9876500001",
    )
    assert (customer["group"], customer["agent"], customer["native"]) == ("5211", 210, True)


def test_customer_id_and_join_url_are_kept_in_the_ledger(
    sandbox: SandboxClient, run_target: RunTarget, popin_config: dict[str, Any]
) -> None:
    run_target([person(1)])
    [customer] = customers(sandbox)
    entry = Ledger(popin_config["ledger_path"]).get(CAPTURES, "+919876500001")
    assert entry == {
        "state": "done",
        "customer_id": customer["customer_id"],
        "url": customer["url"],
    }


@pytest.mark.parametrize("field", ["pin_code", "pincode"])
def test_either_pin_code_spelling_reaches_popin(
    sandbox: SandboxClient, run_target: RunTarget, field: str
) -> None:
    run_target([person(1, **{field: "110001"})])
    assert customers(sandbox)[0]["pincode"] == "110001"


def test_phones_of_many_countries_are_split_into_code_and_national_mobile(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    seeded = [p for p in people(42) if p.phone_as_typed and p.email][:40]
    records = [
        {
            "name": p.full_name,
            "phone": p.phone_as_typed,
            "country": str(phonenumbers.country_code_for_region(p.region)),
            "email": p.email,
        }
        for p in seeded
    ]
    run = run_target(records)
    assert run.rejects == []
    held = {(c["country"], c["mobile"]) for c in customers(sandbox)}
    expected = set()
    for p in seeded:
        number = phonenumbers.parse(str(p.phone_e164))
        expected.add((str(number.country_code), phonenumbers.national_significant_number(number)))
    assert held == expected
    assert len({p.region for p in seeded}) >= 5


def test_local_phones_use_the_default_country_code(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    run_target([{"name": "A", "mobile": "07911 123456"}], default_country_code="44")
    assert (customers(sandbox)[0]["country"], customers(sandbox)[0]["mobile"]) == (
        "44",
        "7911123456",
    )


def test_an_unparseable_phone_is_rejected_and_the_run_goes_on(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    run = run_target([person(1, mobile="call me maybe"), person(2)])
    assert [r["reason"] for r in run.rejects] == ["unparseable mobile"]
    assert run.rejects[0]["record"]["mobile"] == "call me maybe"
    assert len(customers(sandbox)) == 1
    assert route_count(sandbox, CAPTURE) == 1


def test_status_0_with_http_200_is_a_reject_with_popins_message(
    sandbox: SandboxClient, run_target: RunTarget, popin_config: dict[str, Any]
) -> None:
    run = run_target([person(1, group="9999"), person(2)])
    [reject] = run.rejects
    assert (reject["reason"], reject["detail"]) == ("capture refused (HTTP 200)", "Invalid group.")
    assert len(customers(sandbox)) == 1
    # Nothing was created, so the ledger holds nothing that would block a corrected re-run.
    assert Ledger(popin_config["ledger_path"]).get(CAPTURES, "+919876500001") is None


def test_the_same_person_twice_in_one_input_is_captured_once(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    run = run_target([person(1), person(1, mobile="+91 98765-00001", name="Lead One")])
    assert len(customers(sandbox)) == 1
    # The second is this run's own repeat, not an earlier run's work.
    assert (run.count("created"), run.count("repeated"), run.count("unchanged")) == (1, 1, 0)


def test_properties_outside_the_contract_are_named_in_the_summary(
    run_target: RunTarget,
) -> None:
    run = run_target([person(1, company="Acme")])
    assert run.target.writer_run.summary.named("leads", "ignored properties") == ["company"]


def test_state_is_emitted_once_the_records_are_settled(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    run = run_target([person(i) for i in range(5)])
    assert run.states[-1] == {"bookmarks": {"leads": {"done": True}}}
    assert len(customers(sandbox)) == 5


# --- scheduling ------------------------------------------------------------------------


def test_distinct_customers_get_distinct_slots_from_one_slots_read(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    run = run_target([person(i) for i in range(8)], schedule="next_available")
    held = bookings(sandbox)
    assert len(held) == 8
    assert len({b["time"] for b in held}) == 8
    assert len({b["customer_id"] for b in held}) == 8
    assert route_count(sandbox, SLOTS) == 1
    assert run.count("scheduled") == 8


def test_booked_times_are_the_earliest_free_slots_in_the_documented_format(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    sandbox.settings("popin", timezone="America/New_York")
    first_three = [s["time"] for s in sandbox.records("popin", "slots")][:3]
    run_target([person(i) for i in range(3)], schedule="next_available", max_concurrency=1)
    assert sorted(b["time"] for b in bookings(sandbox)) == sorted(first_three)


def test_no_schedule_setting_books_nothing(sandbox: SandboxClient, run_target: RunTarget) -> None:
    run_target([person(1)])
    assert bookings(sandbox) == []
    assert route_count(sandbox, SLOTS) == 0


def test_schedule_at_books_the_first_free_slot_at_or_after_it(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    slots = sandbox.records("popin", "slots")
    wanted = slots[5]
    run_target([person(1, schedule_at=wanted["start"])])
    assert [b["time"] for b in bookings(sandbox)] == [wanted["time"]]


def test_a_refused_slot_moves_on_to_the_next(sandbox: SandboxClient, run_target: RunTarget) -> None:
    first, second = [s["time"] for s in sandbox.records("popin", "slots")][:2]
    taken: list[str] = []

    def someone_books_right_after_our_read(response: requests.Response, **_: Any) -> None:
        if response.request.method == "GET" and not taken:
            taken.append(sandbox.action("popin", "take_slot")["time"])

    def prepare(target: TargetPopin) -> None:
        target.writer_run.client.session.hooks["response"].append(
            someone_books_right_after_our_read
        )

    run = run_target([person(1)], schedule="next_available", prepare=prepare)
    assert taken == [first]
    assert [b["time"] for b in bookings(sandbox)] == [second]
    assert route_count(sandbox, SLOTS) == 2  # read once, re-read after the refusal
    assert (run.count("slots_refused"), run.rejects) == (1, [])


def test_running_out_of_slots_rejects_the_rest_and_goes_on(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    sandbox.settings("popin", free_slots=2)
    run = run_target([person(i) for i in range(4)], schedule="next_available")
    assert len(bookings(sandbox)) == 2
    assert len(customers(sandbox)) == 4
    assert sorted(r["reason"] for r in run.rejects) == ["no free slot", "no free slot"]


def test_a_schedule_refused_for_another_reason_is_rejected_without_trying_more_slots(
    sandbox: SandboxClient, run_target: RunTarget, popin_config: dict[str, Any]
) -> None:
    # Forge a ledger whose customer Popin does not know: the refusal is not about the slot.
    Ledger(popin_config["ledger_path"]).put(
        CAPTURES, "+919876500001", {"state": "done", "customer_id": "bm9wZQ", "url": None}
    )
    run = run_target([person(1)], schedule="next_available")
    [reject] = run.rejects
    assert (reject["reason"], reject["detail"]) == (
        "schedule refused (HTTP 200)",
        "Invalid customer.",
    )
    assert route_count(sandbox, SCHEDULE) == 1


def test_thirty_people_get_thirty_slots_when_the_first_is_refused_and_booked_ones_stay_listed(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    sandbox.settings("popin", refuse_first_slot=True, booked_slots_listed=True)
    first = sandbox.records("popin", "slots")[0]["time"]
    # The default cap, so that twenty workers share one slot book.
    run = run_target(
        [person(i) for i in range(30)],
        schedule="next_available",
        max_concurrency=DEFAULT_MAX_CONCURRENCY,
    )
    held = bookings(sandbox)
    assert len(held) == 30
    assert len({b["time"] for b in held}) == 30
    assert first not in {b["time"] for b in held}
    # The refused slot was tried once in the whole run, and no booked slot was offered again.
    assert route_count(sandbox, SCHEDULE) == 31
    assert (run.count("scheduled"), run.count("slots_refused"), run.rejects) == (30, 1, [])


def test_a_person_refused_fewer_times_than_the_limit_moves_on_and_is_booked(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    sandbox.settings("popin", refuse_first_slot=True, booked_slots_listed=True)
    second, third = [s["time"] for s in sandbox.records("popin", "slots")][1:3]
    sandbox.action("popin", "take_slot", time=second)  # taken, yet still listed
    run = run_target([person(1)], schedule="next_available")
    assert [b["time"] for b in bookings(sandbox)] == [third]
    assert (run.count("slots_refused"), run.rejects) == (2, [])


def test_a_person_is_rejected_naming_the_refusals_after_max_slot_refusals_by_default_three(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    sandbox.settings("popin", refused_slot_rate=1.0)
    run = run_target([person(1)], schedule="next_available")
    [reject] = run.rejects
    assert reject["reason"] == "3 slots refused"
    assert route_count(sandbox, SCHEDULE) == 3
    assert bookings(sandbox) == []
    assert len(customers(sandbox)) == 1


def test_max_slot_refusals_is_a_setting(sandbox: SandboxClient, run_target: RunTarget) -> None:
    sandbox.settings("popin", refused_slot_rate=1.0)
    run = run_target([person(1)], schedule="next_available", max_slot_refusals=5)
    assert [r["reason"] for r in run.rejects] == ["5 slots refused"]
    assert route_count(sandbox, SCHEDULE) == 5


def test_no_free_slot_once_every_slot_left_was_refused(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    sandbox.settings("popin", refused_slot_rate=1.0, free_slots=2)
    run = run_target([person(1), person(2)], schedule="next_available")
    assert [r["reason"] for r in run.rejects] == ["no free slot", "no free slot"]
    # Each slot was tried once: the second person was not offered a slot refused to the first.
    assert route_count(sandbox, SCHEDULE) == 2


def test_a_rerun_never_offers_the_slots_it_booked_before_even_if_still_listed(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    sandbox.settings("popin", booked_slots_listed=True)
    run_target([person(i) for i in range(5)], schedule="next_available")
    second = run_target([person(i) for i in range(5, 10)], schedule="next_available")
    assert (second.count("scheduled"), second.count("slots_refused")) == (5, 0)
    assert len({b["time"] for b in bookings(sandbox)}) == 10
    assert route_count(sandbox, SCHEDULE) == 10


# --- never twice -----------------------------------------------------------------------


def test_a_rerun_of_the_same_input_sends_nothing(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    records = [person(i) for i in range(6)]
    run_target(records, schedule="next_available")
    before = sandbox.counters("popin")["by_route"]
    second = run_target(records, schedule="next_available")
    after = sandbox.counters("popin")["by_route"]
    assert after == before
    assert (second.count("unchanged"), second.count("already_scheduled")) == (6, 6)
    assert len(customers(sandbox)) == 6
    assert len(bookings(sandbox)) == 6


def test_a_person_captured_earlier_is_only_scheduled_later(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    run_target([person(1)])
    run_target([person(1)], schedule="next_available")
    assert route_count(sandbox, CAPTURE) == 1
    assert [b["customer_id"] for b in bookings(sandbox)] == [customers(sandbox)[0]["customer_id"]]


def test_a_pending_capture_from_an_interrupted_run_is_reported_not_repeated(
    sandbox: SandboxClient, run_target: RunTarget, popin_config: dict[str, Any]
) -> None:
    Ledger(popin_config["ledger_path"]).put(CAPTURES, "+919876500001", {"state": "pending"})
    run = run_target([person(1), person(2)])
    assert [r["reason"] for r in run.rejects] == ["capture outcome unknown from an earlier run"]
    assert [c["mobile"] for c in customers(sandbox)] == ["9876500002"]


def test_a_capture_whose_answer_was_lost_is_never_sent_again(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    sandbox.faults("popin", queue=["truncate"], paths="^POST .*/capture")
    first = run_target([person(1)])
    assert [r["reason"] for r in first.rejects] == ["capture outcome unknown"]
    second = run_target([person(1)])
    assert len(customers(sandbox)) == 1  # Popin did capture it; the answer was cut
    # The reject file is appended to by both runs.
    assert [r["reason"] for r in second.rejects] == [
        "capture outcome unknown",
        "capture outcome unknown from an earlier run",
    ]
    assert route_count(sandbox, CAPTURE) == 1


def test_a_repeat_of_a_person_whose_capture_answer_this_run_lost_is_rejected_not_resent(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    sandbox.faults("popin", queue=["drop"], paths="^POST .*/capture")
    run = run_target([person(1), person(1, name="Lead One")])
    # Both records name the same doubt, and neither says it came from an earlier run.
    assert [r["reason"] for r in run.rejects] == ["capture outcome unknown"] * 2
    assert "in this run" in run.rejects[1]["detail"]
    assert route_count(sandbox, CAPTURE) == 1


# --- faults and errors -----------------------------------------------------------------


def test_throttling_and_server_errors_are_retried_to_one_capture_each(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    sandbox.faults("popin", queue=["429", "500", "502", "503", "429-bare"], retry_after=0.01)
    run = run_target([person(i) for i in range(3)], max_concurrency=1, max_retries=6)
    assert run.rejects == []
    assert sorted(c["mobile"] for c in customers(sandbox)) == [f"98765{i:05d}" for i in range(3)]
    assert run.target.writer_run.client.throttled == 2


@pytest.mark.parametrize("fault", ["drop", "timeout", "truncate", "503"])
def test_faults_on_reading_slots_are_retried(
    sandbox: SandboxClient, run_target: RunTarget, fault: str
) -> None:
    sandbox.faults("popin", queue=[fault], paths="^GET .*/slots", slow_seconds=3)
    run = run_target([person(1)], schedule="next_available", request_timeout=1)
    assert run.rejects == []
    assert len(bookings(sandbox)) == 1


def test_a_capture_failing_every_try_stops_the_run_and_is_retried_by_the_next(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    sandbox.faults("popin", queue=["503"] * 4, paths="^POST .*/capture")
    with pytest.raises(ApiUnavailable):
        run_target([person(1)])
    run = run_target([person(1)])
    assert run.rejects == []
    assert len(customers(sandbox)) == 1


def test_a_capture_cut_off_mid_answer_is_not_repeated(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    sandbox.faults("popin", queue=["drop"], paths="^POST .*/capture")
    run = run_target([person(1), person(2)], max_concurrency=1)
    assert [r["reason"] for r in run.rejects] == ["capture outcome unknown"]
    assert len(customers(sandbox)) == 1


def test_revoked_credentials_stop_the_run_naming_both_settings(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    sandbox.revoke("popin")
    with pytest.raises(AuthFailure, match="`api_key` and `seller_token`"):
        run_target([person(i) for i in range(3)])
    assert customers(sandbox) == []
    counters = sandbox.counters("popin")
    assert set(counters["by_status"]) == {"401"}
    assert counters["requests"] <= 4  # at most the requests already in flight


def test_after_a_401_is_fixed_the_next_run_captures_everyone(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    sandbox.revoke("popin")
    with pytest.raises(AuthFailure):
        run_target([person(i) for i in range(3)])
    sandbox.reset(apis=["popin"])
    run = run_target([person(i) for i in range(3)])
    assert (run.rejects, len(customers(sandbox))) == ([], 3)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"api_url": "http://popin.example.com/api/v1/external"}, "https"),
        ({"schedule": "sometimes"}, "schedule"),
        ({"default_country_code": "India"}, "default_country_code"),
        ({"seller_token": ""}, "seller_token"),
        ({"max_slot_refusals": 0}, "max_slot_refusals"),
    ],
)
def test_a_bad_setting_fails_before_any_request(
    sandbox: SandboxClient, popin_config: dict[str, Any], settings: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigValidationError) as caught:
        TargetPopin(config={**popin_config, **settings})
    assert message in " ".join([str(caught.value), *caught.value.errors])
    assert sandbox.counters("popin")["requests"] == 0


def test_dry_run_reads_slots_but_writes_nothing(
    sandbox: SandboxClient, run_target: RunTarget, tmp_path: Path
) -> None:
    run = run_target([person(i) for i in range(3)], schedule="next_available", dry_run=True)
    assert (customers(sandbox), bookings(sandbox)) == ([], [])
    assert (run.count("would_capture"), run.count("would_schedule")) == (3, 3)
    assert route_count(sandbox, CAPTURE) + route_count(sandbox, SCHEDULE) == 0


def test_meltano_test_stream_writes_nothing(sandbox: SandboxClient, run_target: RunTarget) -> None:
    run = run_target([{"test": "value"}], stream="meltano_test_stream")
    assert sandbox.counters("popin")["requests"] == 0
    assert run.rejects == []
