"""The client-side limiter: sliding window, server headers, shared pauses."""

from __future__ import annotations

import threading

import pytest

from leadkit.ratelimit import RateLimiter


class FakeClock:
    """Time that only moves when somebody sleeps."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def limiter(max_requests: int = 3, window: float = 1.0, safety: float = 0.0) -> tuple:
    clock = FakeClock()
    return RateLimiter(max_requests, window, safety=safety, clock=clock, sleep=clock.sleep), clock


def test_a_tenth_of_the_limit_starts_back_to_back() -> None:
    pacer, clock = limiter(max_requests=30)
    for _ in range(3):
        pacer.acquire()
    assert clock.now == 100.0


def test_starts_past_the_burst_are_spread_evenly_over_the_window() -> None:
    pacer, clock = limiter(max_requests=20, window=1.0)
    starts = []
    for _ in range(6):
        pacer.acquire()
        starts.append(clock.now)
    assert starts == pytest.approx([100.0, 100.0, 100.05, 100.1, 100.15, 100.2])


def test_the_request_past_the_limit_waits_for_the_oldest_to_leave_the_window() -> None:
    pacer, clock = limiter()
    for _ in range(3):
        pacer.acquire()
    pacer.acquire()
    assert clock.now == pytest.approx(101.0)


def test_no_window_ever_holds_more_than_the_limit() -> None:
    pacer, clock = limiter(max_requests=5, window=2.0)
    starts = []
    for _ in range(40):
        pacer.acquire()
        starts.append(clock.now)
        clock.now += 0.07
    for start in starts:
        assert sum(1 for s in starts if start <= s < start + 2.0) <= 5


def test_the_safety_margin_stretches_the_window() -> None:
    pacer, clock = limiter(max_requests=1, window=1.0, safety=0.1)
    pacer.acquire()
    pacer.acquire()
    assert clock.now == pytest.approx(101.1)


def test_server_headers_replace_the_configured_limit_and_window() -> None:
    pacer, _ = limiter(max_requests=3, window=1.0)
    pacer.observe({"X-RateLimit-Max": "100", "X-RateLimit-Interval-Milliseconds": "10000"})
    assert (pacer.max_requests, pacer.window_seconds) == (100, 10.0)
    assert pacer.rate == pytest.approx(10.0)


def test_an_empty_server_budget_makes_the_next_request_wait_a_window() -> None:
    pacer, clock = limiter(max_requests=3, window=1.0)
    pacer.acquire()
    pacer.observe({"X-RateLimit-Remaining": "0"})
    pacer.acquire()
    assert clock.now == pytest.approx(101.0)


def test_remaining_budget_on_the_server_does_not_slow_us_down() -> None:
    pacer, clock = limiter(max_requests=30, window=1.0)
    pacer.acquire()
    pacer.observe({"X-RateLimit-Remaining": "1"})
    pacer.acquire()
    assert clock.now == 100.0


def test_malformed_headers_are_ignored() -> None:
    pacer, _ = limiter(max_requests=3, window=1.0)
    pacer.observe({"X-RateLimit-Max": "lots", "X-RateLimit-Interval-Milliseconds": "-5"})
    assert (pacer.max_requests, pacer.window_seconds) == (3, 1.0)


def test_a_pause_holds_every_caller() -> None:
    pacer, clock = limiter(max_requests=10)
    pacer.pause(2.5)
    pacer.acquire()
    assert clock.now == pytest.approx(102.5)


def test_a_shorter_pause_does_not_cut_a_longer_one() -> None:
    pacer, clock = limiter(max_requests=10)
    pacer.pause(2.0)
    pacer.pause(0.5)
    pacer.acquire()
    assert clock.now == pytest.approx(102.0)


def test_threads_share_one_budget() -> None:
    pacer = RateLimiter(50, 600.0)
    started: list[int] = []

    def worker(n: int) -> None:
        pacer.acquire()
        started.append(n)

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=0.3)
    assert len(started) == 5


def test_a_limit_needs_a_positive_window() -> None:
    with pytest.raises(ValueError, match="positive window"):
        RateLimiter(10, 0)
