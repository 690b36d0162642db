"""Scaling out: two tenants run in parallel, sharing one state backend, each with its own
state id suffix; neither sees the other's data or bookmarks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sandbox.control import SandboxClient, running_sandbox
from tests.e2e.harness import (
    WISEPOPS_TO_GHL,
    MeltanoProject,
    duplicates,
    ghl_contacts,
    small_sources,
    wisepops_people,
)

TENANTS = ("tenant-a", "tenant-b")


@dataclass
class Tenant:
    """One account: its own sandbox (seeded differently) and its own project files."""

    name: str
    sandbox: SandboxClient
    project: MeltanoProject


@pytest.fixture(scope="module")
def tenants(
    meltano_installed: Path, sandbox_server: SandboxClient, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[Tenant]]:
    shared_state = tmp_path_factory.mktemp("shared-state")
    with running_sandbox("--seed", "7") as second:
        sandbox_server.reset()
        found = []
        for name, sandbox, size in zip(TENANTS, (sandbox_server, second), (30, 45), strict=True):
            small_sources(sandbox, contacts=size)
            home = tmp_path_factory.mktemp(name)
            found.append(Tenant(name, sandbox, MeltanoProject(sandbox, home, shared_state)))
        yield found


def run_in_parallel(tenants: list[Tenant]) -> None:
    """One `meltano run` per tenant, at the same time, each with its own state id suffix."""
    started = [(t, *t.project.start(*WISEPOPS_TO_GHL, state_id_suffix=t.name)) for t in tenants]
    for tenant, process, log in started:
        assert process.wait(timeout=300) == 0, f"{tenant.name}:\n{log.read_text()[-4000:]}"


@pytest.fixture(scope="module")
def after_two_rounds(tenants: list[Tenant]) -> dict[str, Any]:
    run_in_parallel(tenants)
    first = {t.name: ghl_contacts(t.sandbox) for t in tenants}
    calls_before = {t.name: t.sandbox.counters("wisepops")["requests"] for t in tenants}
    run_in_parallel(tenants)
    return {
        "first": first,
        "second": {t.name: ghl_contacts(t.sandbox) for t in tenants},
        "second_calls": {
            t.name: t.sandbox.counters("wisepops")["requests"] - calls_before[t.name]
            for t in tenants
        },
    }


def test_each_tenant_has_its_own_state_in_the_shared_backend(
    tenants: list[Tenant], after_two_rounds: dict[str, Any]
) -> None:
    ids = tenants[0].project.state_ids()
    assert ids == sorted(f"sandbox:tap-wisepops-to-target-ghl:{name}" for name in TENANTS)


def test_each_tenant_location_holds_exactly_its_own_contacts(
    tenants: list[Tenant], after_two_rounds: dict[str, Any]
) -> None:
    for tenant in tenants:
        expected = {p.ghl_identity for p in wisepops_people(tenant.sandbox) if p.ghl_identity}
        contacts = after_two_rounds["first"][tenant.name]
        held = {i for c in contacts for i in (c.get("email"), c.get("phone")) if i}
        assert expected <= held
        assert duplicates([c["email"] for c in contacts if c.get("email")]) == []
        assert len(contacts) <= len(expected)


def test_tenants_do_not_share_contacts(after_two_rounds: dict[str, Any]) -> None:
    a, b = (after_two_rounds["first"][name] for name in TENANTS)
    assert {c.get("email") for c in a if c.get("email")}.isdisjoint(
        {c.get("email") for c in b if c.get("email")}
    )


def test_second_parallel_round_resumes_each_tenant_from_its_own_state(
    after_two_rounds: dict[str, Any],
) -> None:
    assert after_two_rounds["second_calls"] == {name: 1 for name in TENANTS}
    for name in TENANTS:
        assert len(after_two_rounds["second"][name]) == len(after_two_rounds["first"][name])
