"""GHL's refusals as the reject file keeps them."""

from __future__ import annotations

import io
import json

import pytest
import requests

from leadkit.writer import Reject
from target_ghl.client import checked


def _answer(status: int, body: object) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.raw = io.BytesIO(json.dumps(body).encode())
    response.headers["Content-Type"] = "application/json"
    return response


def test_a_refusal_keeps_ghls_messages_without_emails_or_phones() -> None:
    body = {"message": ["email ada@example.com is taken", "phone +14155552671 is invalid"]}
    with pytest.raises(Reject) as caught:
        checked(_answer(422, body), "upsert")
    assert caught.value.reason == "ghl 422 on upsert"
    detail = caught.value.detail or ""
    assert detail.startswith("email [redacted] is taken; phone [redacted]")
    assert "ada@" not in detail
    assert "4155552671" not in detail


def test_a_long_refusal_message_is_cut_short() -> None:
    with pytest.raises(Reject) as caught:
        checked(_answer(400, {"message": "word " * 200}), "note")
    assert len(caught.value.detail or "") <= 160


def test_a_refusal_without_a_message_has_no_detail() -> None:
    with pytest.raises(Reject) as caught:
        checked(_answer(404, {"statusCode": 404}), "contact")
    assert caught.value.detail is None
