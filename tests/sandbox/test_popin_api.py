"""The Popin emulator over HTTP: what ../shared/api/popin.md documents, strictly."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from sandbox.control import DEMO_KEYS, SandboxClient

HEADERS = {
    "X-API-KEY": DEMO_KEYS["popin_api_key"],
    "X-TOKEN": DEMO_KEYS["popin_token"],
    "Accept": "application/json",
}
# A valid Indian mobile (calling code 91, Popin's default country).
INDIAN_MOBILE = "9544510895"


def call(
    sandbox: SandboxClient,
    method: str,
    endpoint: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> requests.Response:
    return requests.request(
        method,
        f"{sandbox.api_url('popin')}/{endpoint}",
        json=body,
        headers=HEADERS if headers is None else headers,
        timeout=5,
    )


def capture(sandbox: SandboxClient, **fields: Any) -> requests.Response:
    body = {"name": "Vijith", "mobile": INDIAN_MOBILE, **fields}
    return call(sandbox, "POST", "capture", {k: v for k, v in body.items() if v is not None})


def free_times(sandbox: SandboxClient) -> list[str]:
    data = call(sandbox, "GET", "slots").json()
    return [f"{day['date']} {clock}" for day in data["availability"] for clock in day["slots"]]


# --- authentication -------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-API-KEY": DEMO_KEYS["popin_api_key"]},
        {"X-TOKEN": DEMO_KEYS["popin_token"]},
        {"X-API-KEY": "wrong", "X-TOKEN": DEMO_KEYS["popin_token"]},
        {"X-API-KEY": DEMO_KEYS["popin_token"], "X-TOKEN": DEMO_KEYS["popin_api_key"]},
    ],
    ids=["none", "key-only", "token-only", "wrong-key", "swapped"],
)
def test_requests_without_both_credentials_get_401(
    sandbox: SandboxClient, headers: dict[str, str]
) -> None:
    response = call(sandbox, "GET", "slots", headers=headers)
    assert response.status_code == 401
    assert response.json()["status"] == 0


def test_revoked_token_gets_401(sandbox: SandboxClient) -> None:
    sandbox.revoke("popin", [DEMO_KEYS["popin_token"]])
    response = capture(sandbox)
    assert (response.status_code, response.json()["status"]) == (401, 0)
    assert sandbox.records("popin", "customers") == []


# --- capture ---------------------------------------------------------------------------


def test_capture_returns_customer_id_and_join_url(sandbox: SandboxClient) -> None:
    body = capture(sandbox, email="vijith@popin.to").json()
    assert body["status"] == 1
    assert body["message"] == "User captured successfully"
    assert body["customer_id"]
    assert body["url"].startswith("https://live.popin.to/")


def test_capture_stores_every_documented_field(sandbox: SandboxClient) -> None:
    capture(
        sandbox,
        email="vijith@popin.to",
        country="91",
        group="5211",
        agent=210,
        pincode="221007",
        campaign={"utm_source": "google"},
        native=True,
    )
    [customer] = sandbox.records("popin", "customers")
    assert customer | {"customer_id": None, "url": None} == {
        "customer_id": None,
        "url": None,
        "name": "Vijith",
        "mobile": INDIAN_MOBILE,
        "country": "91",
        "email": "vijith@popin.to",
        "group": "5211",
        "agent": 210,
        "pincode": "221007",
        "native": True,
        "campaign": {"utm_source": "google"},
    }


def test_country_defaults_to_india(sandbox: SandboxClient) -> None:
    capture(sandbox)
    assert sandbox.records("popin", "customers")[0]["country"] == "91"


@pytest.mark.parametrize("field", ["pincode", "pin_code"])
def test_both_pin_code_spellings_are_accepted(sandbox: SandboxClient, field: str) -> None:
    assert capture(sandbox, **{field: "221007"}).json()["status"] == 1
    assert sandbox.records("popin", "customers")[0]["pincode"] == "221007"


def test_disagreeing_pin_code_spellings_are_refused(sandbox: SandboxClient) -> None:
    response = capture(sandbox, pincode="221007", pin_code="110001")
    assert (response.status_code, response.json()["status"]) == (422, 0)


@pytest.mark.parametrize("missing", ["name", "mobile"])
def test_name_and_mobile_are_required(sandbox: SandboxClient, missing: str) -> None:
    body = {"name": "Vijith", "mobile": INDIAN_MOBILE}
    del body[missing]
    response = call(sandbox, "POST", "capture", body)
    assert (response.status_code, response.json()["status"]) == (422, 0)
    assert missing in response.json()["message"]
    assert sandbox.records("popin", "customers") == []


@pytest.mark.parametrize(
    ("mobile", "country"),
    [
        ("12345", "91"),  # too short
        ("+919544510895", "91"),  # E.164, not the national number
        ("919544510895", "91"),  # calling code repeated in the mobile
        ("95445 10895", "91"),  # spaces
        ("09544510895", "91"),  # trunk prefix
        ("9544510895", "44"),  # an Indian number under the UK code
    ],
)
def test_invalid_mobile_for_the_country_is_status_0_with_http_200(
    sandbox: SandboxClient, mobile: str, country: str
) -> None:
    response = capture(sandbox, mobile=mobile, country=country)
    assert response.status_code == 200
    assert response.json() == {"status": 0, "message": "Invalid mobile number."}
    assert sandbox.records("popin", "customers") == []


@pytest.mark.parametrize(("mobile", "country"), [("7911123456", "44"), ("2015550123", "1")])
def test_mobiles_of_other_countries_are_accepted_with_their_code(
    sandbox: SandboxClient, mobile: str, country: str
) -> None:
    assert capture(sandbox, mobile=mobile, country=country).json()["status"] == 1


@pytest.mark.parametrize("country", ["+91", "999", 91])
def test_country_must_be_a_known_calling_code_string(sandbox: SandboxClient, country: Any) -> None:
    response = capture(sandbox, country=country)
    assert response.json() == {"status": 0, "message": "Invalid country code."}


@pytest.mark.parametrize(
    "fields",
    [
        {"email": "not-an-email"},
        {"group": "9999"},
        {"agent": "210"},
        {"agent": 999},
        {"native": "false"},
        {"campaign": "google"},
        {"company": "Popin"},
    ],
    ids=["email", "group", "agent-string", "agent-unknown", "native", "campaign", "unknown-field"],
)
def test_invalid_optional_fields_are_refused_with_status_0(
    sandbox: SandboxClient, fields: dict[str, Any]
) -> None:
    response = capture(sandbox, **fields)
    assert response.json()["status"] == 0
    assert response.json()["message"]
    assert sandbox.records("popin", "customers") == []


def test_body_that_is_not_a_json_object_is_a_400(sandbox: SandboxClient) -> None:
    response = call(sandbox, "POST", "capture", ["name"])
    assert (response.status_code, response.json()["status"]) == (400, 0)


def test_native_false_gives_the_dashboard_join_url(sandbox: SandboxClient) -> None:
    url = capture(sandbox, native=False).json()["url"]
    assert url.startswith(sandbox.settings("popin")["dashboard_join_url"])


def test_capturing_the_same_mobile_twice_creates_two_customers(sandbox: SandboxClient) -> None:
    first = capture(sandbox).json()
    second = capture(sandbox).json()
    assert first["customer_id"] != second["customer_id"]
    assert first["url"] != second["url"]
    assert len(sandbox.records("popin", "customers")) == 2


def test_capture_only_accepts_post(sandbox: SandboxClient) -> None:
    assert call(sandbox, "GET", "capture").status_code == 405


# --- slots -----------------------------------------------------------------------------


def test_slots_have_the_documented_shape(sandbox: SandboxClient) -> None:
    data = call(sandbox, "GET", "slots").json()
    assert set(data) == {"availability", "slotDiff", "timezone"}
    assert (data["slotDiff"], data["timezone"]) == (15, "Asia/Kolkata")
    first = data["availability"][0]
    datetime.strptime(first["date"], "%a, %d %b %Y")
    datetime.strptime(first["slots"][0], "%I:%M %p")


def test_slots_are_15_minutes_apart_in_the_future_of_the_slot_timezone(
    sandbox: SandboxClient,
) -> None:
    # Round-the-clock hours, so the first two slots never straddle a closing time.
    sandbox.settings("popin", opening_hour=0, closing_hour=24)
    zone = ZoneInfo("Asia/Kolkata")
    moments = [
        datetime.strptime(t, "%a, %d %b %Y %I:%M %p").replace(tzinfo=zone)
        for t in free_times(sandbox)
    ]
    assert moments[0] > datetime.now(zone)
    assert moments[1] - moments[0] == timedelta(minutes=15)
    assert all(m.minute % 15 == 0 for m in moments)


def test_slots_follow_the_timezone_setting(sandbox: SandboxClient) -> None:
    sandbox.settings("popin", timezone="America/New_York", opening_hour=0, closing_hour=24)
    data = call(sandbox, "GET", "slots").json()
    assert data["timezone"] == "America/New_York"
    zone = ZoneInfo("America/New_York")
    first = datetime.strptime(
        f"{data['availability'][0]['date']} {data['availability'][0]['slots'][0]}",
        "%a, %d %b %Y %I:%M %p",
    ).replace(tzinfo=zone)
    now = datetime.now(zone)
    assert now < first <= now + timedelta(minutes=46)


def test_free_slot_count_is_a_setting(sandbox: SandboxClient) -> None:
    sandbox.settings("popin", free_slots=3)
    assert len(free_times(sandbox)) == 3


def test_unknown_timezone_setting_is_refused(sandbox: SandboxClient) -> None:
    with pytest.raises(RuntimeError, match="unknown timezone"):
        sandbox.settings("popin", timezone="Mars/Olympus")


# --- schedule --------------------------------------------------------------------------


def test_scheduling_books_the_slot_and_removes_it_from_slots(sandbox: SandboxClient) -> None:
    customer_id = capture(sandbox).json()["customer_id"]
    time = free_times(sandbox)[0]
    response = call(sandbox, "POST", "schedule", {"customer_id": customer_id, "time": time})
    assert response.json()["status"] == 1
    assert time not in free_times(sandbox)
    [booking] = sandbox.records("popin", "bookings")
    assert (booking["customer_id"], booking["time"]) == (customer_id, time)


@pytest.mark.parametrize(
    "reshape",
    [
        lambda t: t.lower(),
        lambda t: t.replace(", ", " ", 1),
        lambda t: datetime.strptime(t, "%a, %d %b %Y %I:%M %p").isoformat(),
        lambda t: datetime.strptime(t, "%a, %d %b %Y %I:%M %p").strftime("%a, %d %b %Y %H:%M"),
        lambda t: datetime.strptime(t, "%a, %d %b %Y %I:%M %p").strftime("%A, %d %B %Y %I:%M %p"),
    ],
    ids=["lowercase", "no-comma", "iso", "24-hour", "long-names"],
)
def test_schedule_time_must_match_the_documented_format_exactly(
    sandbox: SandboxClient, reshape: Any
) -> None:
    customer_id = capture(sandbox).json()["customer_id"]
    time = reshape(free_times(sandbox)[0])
    response = call(sandbox, "POST", "schedule", {"customer_id": customer_id, "time": time})
    assert response.status_code == 200
    assert response.json()["status"] == 0
    assert sandbox.records("popin", "bookings") == []


def test_schedule_with_a_wrong_weekday_is_refused(sandbox: SandboxClient) -> None:
    customer_id = capture(sandbox).json()["customer_id"]
    time = free_times(sandbox)[0]
    wrong = ("Mon" if not time.startswith("Mon") else "Tue") + time[3:]
    body = call(sandbox, "POST", "schedule", {"customer_id": customer_id, "time": wrong}).json()
    assert body["status"] == 0


def test_schedule_for_an_unknown_customer_is_refused(sandbox: SandboxClient) -> None:
    time = free_times(sandbox)[0]
    body = call(sandbox, "POST", "schedule", {"customer_id": "bm9wZQ", "time": time}).json()
    assert body == {"status": 0, "message": "Invalid customer."}


def test_schedule_for_an_unlisted_time_is_refused(sandbox: SandboxClient) -> None:
    customer_id = capture(sandbox).json()["customer_id"]
    first = datetime.strptime(free_times(sandbox)[0], "%a, %d %b %Y %I:%M %p")
    odd = (first + timedelta(minutes=7)).strftime("%a, %d %b %Y %I:%M %p")
    body = call(sandbox, "POST", "schedule", {"customer_id": customer_id, "time": odd}).json()
    assert body == {"status": 0, "message": "The selected slot is not available."}


def test_a_slot_taken_behind_the_clients_back_is_refused(sandbox: SandboxClient) -> None:
    customer_id = capture(sandbox).json()["customer_id"]
    time = free_times(sandbox)[0]
    assert sandbox.action("popin", "take_slot") == {"time": time}
    body = call(sandbox, "POST", "schedule", {"customer_id": customer_id, "time": time}).json()
    assert body["status"] == 0
    assert time not in free_times(sandbox)


def test_a_booked_slot_cannot_be_booked_by_another_customer(sandbox: SandboxClient) -> None:
    first = capture(sandbox).json()["customer_id"]
    second = capture(sandbox).json()["customer_id"]
    time = free_times(sandbox)[0]
    call(sandbox, "POST", "schedule", {"customer_id": first, "time": time})
    body = call(sandbox, "POST", "schedule", {"customer_id": second, "time": time}).json()
    assert body["status"] == 0


def test_a_customer_gets_one_scheduled_call(sandbox: SandboxClient) -> None:
    customer_id = capture(sandbox).json()["customer_id"]
    first, second = free_times(sandbox)[:2]
    call(sandbox, "POST", "schedule", {"customer_id": customer_id, "time": first})
    body = call(sandbox, "POST", "schedule", {"customer_id": customer_id, "time": second}).json()
    assert body["status"] == 0
    assert len(sandbox.records("popin", "bookings")) == 1


@pytest.mark.parametrize("missing", ["customer_id", "time"])
def test_schedule_requires_customer_id_and_time(sandbox: SandboxClient, missing: str) -> None:
    body = {"customer_id": "MzAw", "time": "Thu, 25 Sep 2025 03:15 PM"}
    del body[missing]
    response = call(sandbox, "POST", "schedule", body)
    assert (response.status_code, response.json()["status"]) == (422, 0)


# --- control ---------------------------------------------------------------------------


def test_seeded_customers_can_be_inspected(sandbox: SandboxClient) -> None:
    added = sandbox.seed("popin", count=5)["customers"]
    assert added
    assert sandbox.records("popin", "customers") == added


def test_slots_can_be_inspected_with_their_state(sandbox: SandboxClient) -> None:
    sandbox.settings("popin", free_slots=2)
    taken = sandbox.action("popin", "take_slot")["time"]
    states = {s["time"]: s["state"] for s in sandbox.records("popin", "slots")}
    assert states[taken] == "taken"
    assert list(states.values()).count("free") == 1


def test_taking_a_slot_when_none_is_free_is_a_control_error(sandbox: SandboxClient) -> None:
    sandbox.settings("popin", free_slots=0)
    with pytest.raises(RuntimeError, match="no such free slot"):
        sandbox.action("popin", "take_slot")


# --- harsher variants (settings) -------------------------------------------------------


def schedule(sandbox: SandboxClient, customer_id: str, time: str) -> dict[str, Any]:
    body = {"customer_id": customer_id, "time": time}
    return dict(call(sandbox, "POST", "schedule", body).json())


def test_booked_and_taken_slots_stay_listed_when_the_listing_is_stale(
    sandbox: SandboxClient,
) -> None:
    sandbox.settings("popin", booked_slots_listed=True)
    customer_id = capture(sandbox).json()["customer_id"]
    first, second = free_times(sandbox)[:2]
    assert schedule(sandbox, customer_id, first)["status"] == 1
    assert sandbox.action("popin", "take_slot")["time"] == second
    assert free_times(sandbox)[:2] == [first, second]


def test_a_booked_slot_still_listed_is_refused_to_another_customer(
    sandbox: SandboxClient,
) -> None:
    sandbox.settings("popin", booked_slots_listed=True)
    first = capture(sandbox).json()["customer_id"]
    second = capture(sandbox, mobile="9544510896").json()["customer_id"]
    time = free_times(sandbox)[0]
    schedule(sandbox, first, time)
    assert schedule(sandbox, second, time) == {
        "status": 0,
        "message": "The selected slot is not available.",
    }
    assert [b["customer_id"] for b in sandbox.records("popin", "bookings")] == [first]


def test_the_first_listed_slot_can_refuse_every_booking_and_stay_listed(
    sandbox: SandboxClient,
) -> None:
    sandbox.settings("popin", refuse_first_slot=True)
    customer_id = capture(sandbox).json()["customer_id"]
    first, second = free_times(sandbox)[:2]
    assert schedule(sandbox, customer_id, first)["status"] == 0
    assert free_times(sandbox)[0] == first
    assert schedule(sandbox, customer_id, second)["status"] == 1


def test_a_share_of_slots_refuses_every_booking_and_stays_listed(
    sandbox: SandboxClient,
) -> None:
    sandbox.settings("popin", refused_slot_rate=0.5)
    times = free_times(sandbox)[:40]
    refused = []
    for index, time in enumerate(times):
        customer_id = capture(sandbox, mobile=f"95445109{index:02d}").json()["customer_id"]
        if schedule(sandbox, customer_id, time)["status"] == 0:
            refused.append(time)
    assert 8 <= len(refused) <= 32
    listed = set(free_times(sandbox))
    assert set(refused) <= listed
    assert not (set(times) - set(refused)) & listed


def test_the_refused_share_is_the_same_slots_for_the_same_seed(sandbox: SandboxClient) -> None:
    def refusals() -> list[bool]:
        sandbox.reset(apis=["popin"])
        sandbox.settings("popin", refused_slot_rate=0.3)
        outcome = []
        for index, time in enumerate(free_times(sandbox)[:12]):
            customer_id = capture(sandbox, mobile=f"95445109{index:02d}").json()["customer_id"]
            outcome.append(schedule(sandbox, customer_id, time)["status"] == 0)
        return outcome

    first = refusals()
    assert refusals() == first
    assert any(first)


def test_a_refused_slot_rate_of_one_refuses_every_slot(sandbox: SandboxClient) -> None:
    sandbox.settings("popin", refused_slot_rate=1.0, free_slots=5)
    customer_id = capture(sandbox).json()["customer_id"]
    assert [schedule(sandbox, customer_id, t)["status"] for t in free_times(sandbox)] == [0] * 5
    assert sandbox.records("popin", "bookings") == []


def test_by_default_no_slot_refuses_and_booked_slots_leave_the_listing(
    sandbox: SandboxClient,
) -> None:
    settings = sandbox.settings("popin")
    assert (settings["booked_slots_listed"], settings["refuse_first_slot"]) == (False, False)
    assert (settings["refused_slot_rate"], settings["answer_delay_ms"]) == (0.0, 0)
    customer_id = capture(sandbox).json()["customer_id"]
    first = free_times(sandbox)[0]
    assert schedule(sandbox, customer_id, first)["status"] == 1
    assert first not in free_times(sandbox)


def test_a_slow_answer_comes_after_popin_acted(sandbox: SandboxClient) -> None:
    sandbox.settings("popin", answer_delay_ms=1500)
    with pytest.raises(requests.Timeout):
        requests.post(
            f"{sandbox.api_url('popin')}/capture",
            json={"name": "Vijith", "mobile": INDIAN_MOBILE},
            headers=HEADERS,
            timeout=0.5,
        )
    # The client gave up, but the customer exists.
    assert [c["mobile"] for c in sandbox.records("popin", "customers")] == [INDIAN_MOBILE]


@pytest.mark.parametrize(
    "changes",
    [
        {"refused_slot_rate": 1.5},
        {"refused_slot_rate": "half"},
        {"refuse_first_slot": "yes"},
        {"booked_slots_listed": 1},
        {"answer_delay_ms": -1},
    ],
    ids=["rate-above-1", "rate-not-number", "first-not-bool", "listed-not-bool", "delay-negative"],
)
def test_malformed_refusal_settings_are_a_control_error(
    sandbox: SandboxClient, changes: dict[str, Any]
) -> None:
    with pytest.raises(RuntimeError, match=next(iter(changes))):
        sandbox.settings("popin", **changes)
