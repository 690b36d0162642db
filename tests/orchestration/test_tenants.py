"""The tenants file: what it must say, and the schedules it may not have."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from orchestration.cron import max_runs_per_day
from orchestration.tenants import EXAMPLE, TenantsFileError, load_tenants, parse_tenants

TENANT: dict[str, Any] = {
    "id": "acme",
    "pipelines": ["sync-wisepops-to-ghl", "sync-wisepops-to-popin"],
    "ghl_location": "loc-acme",
    "wisepops_website": "acme.example.com",
    "secrets": {"TAP_WISEPOPS_API_KEY": "ACME_WISEPOPS_KEY"},
    "schedules": {"sync-wisepops-to-ghl": "0 * * * *"},
}


def tenants(*changes: dict[str, Any]) -> dict[str, Any]:
    """A tenants file of one tenant per change, each the base tenant updated."""
    listed = []
    for i, change in enumerate(changes or ({},)):
        tenant = copy.deepcopy(TENANT) | {"id": f"acme-{i}"} | change
        listed.append({k: v for k, v in tenant.items() if v is not None})
    return {"tenants": listed}


def error_of(data: dict[str, Any]) -> str:
    with pytest.raises(TenantsFileError) as caught:
        parse_tenants(data, "tenants.yml")
    return str(caught.value)


def test_the_example_file_is_valid() -> None:
    assert [t.id for t in load_tenants(EXAMPLE)] == ["acme", "globex"]


def test_a_missing_field_is_named() -> None:
    assert "tenants[0]: 'ghl_location' is a required property" in error_of(
        tenants({"ghl_location": None})
    )


def test_an_unknown_pipeline_is_named() -> None:
    message = error_of(tenants({"pipelines": ["sync-popl-to-hubspot"]}))
    assert "tenants[0].pipelines[0]" in message
    assert "sync-popl-to-hubspot" in message


def test_a_secret_among_the_plain_settings_is_refused() -> None:
    message = error_of(tenants({"settings": {"TAP_WISEPOPS_API_KEY": "wp-live-123"}}))
    assert "tenants[0].settings.TAP_WISEPOPS_API_KEY: looks like a secret" in message


def test_a_secret_names_a_variable_not_a_value() -> None:
    message = error_of(tenants({"secrets": {"TAP_WISEPOPS_API_KEY": "wp live 123"}}))
    assert "tenants[0].secrets.TAP_WISEPOPS_API_KEY" in message


def test_wisepops_pipelines_need_a_website() -> None:
    assert "tenants[0].wisepops_website: required" in error_of(tenants({"wisepops_website": None}))


def test_a_tenant_listed_twice_is_refused() -> None:
    data = tenants({}, {})
    data["tenants"][1]["id"] = data["tenants"][0]["id"]
    assert "tenants[1].id: 'acme-0' is listed twice" in error_of(data)


def test_a_schedule_of_a_pipeline_the_tenant_does_not_run_is_refused() -> None:
    message = error_of(tenants({"schedules": {"sync-popl-to-ghl": "0 * * * *"}}))
    assert "tenants[0].schedules" in message


def test_a_malformed_cron_is_named() -> None:
    message = error_of(tenants({"schedules": {"sync-wisepops-to-ghl": "0 25 * * *"}}))
    assert "tenants[0].schedules.sync-wisepops-to-ghl" in message


def test_48_wisepops_polls_a_day_per_website_are_allowed() -> None:
    schedules = {"sync-wisepops-to-ghl": "0 * * * *", "sync-wisepops-to-popin": "30 * * * *"}
    assert [t.id for t in parse_tenants(tenants({"schedules": schedules}))] == ["acme-0"]


def test_more_than_48_wisepops_polls_a_day_per_website_are_refused_at_load() -> None:
    message = error_of(tenants({"schedules": {"sync-wisepops-to-ghl": "*/20 * * * *"}}))
    assert "poll Wisepops website 'acme.example.com' up to 72 times a day" in message
    assert "at most 48" in message


def test_the_wisepops_quota_counts_every_tenant_reading_one_website() -> None:
    # Each tenant alone polls the website 24 times a day; the three together 72.
    hourly = {"sync-wisepops-to-ghl": "0 * * * *"}
    message = error_of(tenants({"schedules": hourly}, {"schedules": hourly}, {"schedules": hourly}))
    assert "acme-0, acme-1, acme-2" in message


def test_reconcile_runs_count_against_the_wisepops_quota() -> None:
    schedules = {"sync-wisepops-to-ghl": "0 * * * *", "sync-wisepops-to-popin": "30 * * * *"}
    message = error_of(tenants({"schedules": schedules, "reconcile": "0 3 * * *"}))
    assert "up to 50 times a day" in message


@pytest.mark.parametrize(
    ("cron", "runs"),
    [
        ("*/30 * * * *", 48),
        ("0 * * * *", 24),
        ("0,30 8-17 * * 1-5", 20),
        ("0 */6 * * *", 4),
        ("@daily", 1),
        ("@hourly", 24),
    ],
)
def test_the_busiest_day_of_a_cron_schedule(cron: str, runs: int) -> None:
    assert max_runs_per_day(cron) == runs
