"""The per-run request cap both taps with a quota share (tap-wisepops, tap-ghl)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from leadkit.budget import RequestCap, RequestCapReached
from leadkit.errors import QuotaExhausted


def test_the_request_past_the_cap_is_refused_naming_the_setting() -> None:
    cap = RequestCap("max_api_calls", 2)
    cap.spend()
    cap.spend()
    with pytest.raises(RequestCapReached, match=r"`max_api_calls` \(2\) reached.*request 3"):
        cap.spend()
    assert cap.spent == 2


def test_reaching_the_cap_is_a_quota_stop_not_a_retriable_error() -> None:
    assert issubclass(RequestCapReached, QuotaExhausted)


def test_without_a_limit_every_request_is_counted_and_none_refused() -> None:
    cap = RequestCap("max_requests_per_run", None)
    for _ in range(1000):
        cap.spend()
    assert cap.spent == 1000


def test_threads_sharing_a_cap_never_pass_it() -> None:
    cap = RequestCap("max_requests_per_run", 500)

    def spend() -> bool:
        try:
            cap.spend()
        except RequestCapReached:
            return False
        return True

    with ThreadPoolExecutor(8) as pool:
        allowed = sum(pool.map(lambda _: spend(), range(2000)))
    assert allowed == cap.spent == 500
