"""A run spends at most `max_requests_per_run` and never eats into `daily_budget_reserve`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from leadkit.errors import QuotaExhausted
from sandbox.control import SandboxClient
from tests.ghl_tap.conftest import SEARCH_ROUTE, cli, route_count, run_tap


def seed_many(sandbox: SandboxClient, count: int) -> None:
    sandbox.action(
        "ghl",
        "seed_contacts",
        count=count,
        start="2025-01-01T00:00:00Z",
        end="2025-02-01T00:00:00Z",
    )


def test_max_requests_per_run_stops_cleanly_and_the_next_run_continues(
    sandbox: SandboxClient, config: dict[str, Any]
) -> None:
    seed_many(sandbox, 1000)
    # Pages of 100 instead of 500, so that a cap of a few requests falls mid-way.
    settings = {**config, "page_limit": 100, "max_requests_per_run": 4}
    first = run_tap(settings, expect_error=True)
    assert isinstance(first.error, QuotaExhausted)
    assert "`max_requests_per_run` (4)" in str(first.error)
    assert sandbox.counters("ghl")["requests"] == 4  # custom fields, then three pages
    assert len(first.ids()) == 300
    assert first.bookmark == first.records()[-1]["dateUpdated"]
    seen = set(first.ids())
    state = first.state
    for _ in range(10):
        run = run_tap({**settings, "max_requests_per_run": 20}, state=state)
        seen |= set(run.ids())
        state = run.state
        if run.error is None:
            break
    assert len(seen) == 1000


def test_the_daily_budget_reserve_is_left_to_the_location_other_integrations(
    sandbox: SandboxClient, config: dict[str, Any]
) -> None:
    seed_many(sandbox, 1000)
    sandbox.settings("ghl", daily_limit=1000)
    # A reserve near the sandbox's (shrunk) daily budget; the default is tested below.
    run = run_tap({**config, "page_limit": 100, "daily_budget_reserve": 995}, expect_error=True)
    assert "`daily_budget_reserve`" in str(run.error)
    assert sandbox.counters("ghl")["requests"] == 5  # the last left 995 requests
    assert run.bookmark == run.records()[-1]["dateUpdated"]


def test_at_default_settings_a_location_with_10000_requests_a_day_is_read(
    sandbox: SandboxClient, config: dict[str, Any]
) -> None:
    seed_many(sandbox, 10)
    sandbox.settings("ghl", daily_limit=10_000)
    run = run_tap(config)
    assert len(run.ids()) == 10


def test_at_default_settings_a_tenth_of_the_location_daily_limit_is_kept(
    sandbox: SandboxClient, config: dict[str, Any]
) -> None:
    seed_many(sandbox, 100)
    # A daily limit of 50 and pages of one contact, so that the reserve is met in a few
    # requests; the default reserve at a real-sized limit is tested above.
    sandbox.settings("ghl", daily_limit=50)
    run = run_tap({**config, "page_limit": 1}, expect_error=True)
    assert "`daily_budget_reserve` reached" in str(run.error)
    assert "5 are kept" in str(run.error)
    assert "a tenth of its daily limit of 50" in str(run.error)
    assert sandbox.counters("ghl")["requests"] == 45
    assert run.bookmark == run.records()[-1]["dateUpdated"]


def test_a_configured_reserve_replaces_the_tenth_of_the_daily_limit(
    sandbox: SandboxClient, config: dict[str, Any]
) -> None:
    seed_many(sandbox, 10)
    sandbox.settings("ghl", daily_limit=10_000)
    run = run_tap({**config, "daily_budget_reserve": 9_999}, expect_error=True)
    assert "9999 are kept" in str(run.error)
    assert "a tenth" not in str(run.error)
    assert sandbox.counters("ghl")["requests"] == 1
    assert route_count(sandbox, SEARCH_ROUTE) == 0


def test_the_closing_line_names_the_limit_and_the_exit_code_is_a_stop(
    sandbox: SandboxClient, config: dict[str, Any], tmp_path: Path
) -> None:
    seed_many(sandbox, 10)
    done = cli({**config, "max_requests_per_run": 1}, tmp_path)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert "Run stopped: `max_requests_per_run` (1) reached" in last
    assert "continues from the bookmark" in last
