"""Reading Popin's refusals."""

from __future__ import annotations

import io
import json

import requests

from target_popin.client import names_the_customer


def _answer(message: str) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response.raw = io.BytesIO(json.dumps({"status": 0, "message": message}).encode())
    response.headers["Content-Type"] = "application/json"
    return response


def test_a_refusal_about_the_customer_is_told_from_one_about_the_slot() -> None:
    assert names_the_customer(_answer("Customer already has a call booked"))
    assert not names_the_customer(_answer("Slot is no longer available"))
