"""Done-when of the orchestration: three sandbox tenants and the three pipelines, run twice by
the Dagster definitions with the multiprocess executor, Meltano's state in a local S3."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from orchestration.definitions import DATA_DIR_VARIABLE, ENVIRONMENT_VARIABLE
from orchestration.jobs import pool_of
from orchestration.pipelines import PIPELINES
from orchestration.tenants import TENANTS_FILE_VARIABLE
from tests.e2e.harness import popl_people, wisepops_people
from tests.orchestration.conftest import BUCKET, s3_client, state_backend_environment
from tests.orchestration.three_tenants import (
    RunRecord,
    SandboxTenant,
    environment,
    run_round,
    sandbox_tenants,
    set_pool_limits,
    write_tenants_file,
)

# One world for the module: under `--dist loadgroup` it is built once, on one worker.
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.xdist_group("orchestration-three-tenants"),
    # The first test builds the world: 18 Dagster runs of `meltano run`, two rounds of nine.
    pytest.mark.timeout(1200),
]

STATE_IDS = (
    "sandbox:tap-popl-to-target-ghl",
    "sandbox:tap-wisepops-to-target-ghl",
    "sandbox:tap-wisepops-to-target-popin",
)


@dataclass
class World:
    """The tenants, both rounds' runs, and what the sandboxes and the bucket held."""

    tenants: list[SandboxTenant]
    first: list[RunRecord]
    second: list[RunRecord]
    contacts: dict[str, list[dict[str, Any]]]
    contacts_after_second: dict[str, list[dict[str, Any]]]
    second_calls: dict[str, dict[str, int]]
    bucket_keys: list[str]
    dagster_text: str
    meltano_logs: str


def _requests(sandbox: Any, api: str) -> int:
    return int(sandbox.counters(api)["requests"])


@pytest.fixture(scope="module")
def world(
    meltano_installed: Path, s3_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    home = tmp_path_factory.mktemp("orchestration")
    (home / "dagster").mkdir()
    with sandbox_tenants() as tenants:
        loaded = write_tenants_file(home / "tenants.yml", tenants)
        patch = environment(
            {
                TENANTS_FILE_VARIABLE: str(home / "tenants.yml"),
                ENVIRONMENT_VARIABLE: "sandbox",
                DATA_DIR_VARIABLE: str(home / "data"),
                "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
                **state_backend_environment(s3_endpoint, "dagster"),
                **{k: v for t in tenants for k, v in t.secrets.items()},
            }
        )
        try:
            with dg.instance_for_test(
                temp_dir=str(home / "dagster"),
                # One slot per pool: one run at a time per GHL location and Wisepops website.
                overrides={"concurrency": {"pools": {"default_limit": 1}}},
            ) as instance:
                set_pool_limits(
                    instance,
                    sorted({pool_of(PIPELINES[p], t) for t in loaded for p in t.pipelines}),
                )
                first = run_round(instance, loaded)
                contacts = {t.name: t.sandbox.records("ghl", "contacts") for t in tenants}
                before = {
                    t.name: {api: _requests(t.sandbox, api) for api in ("popl", "wisepops")}
                    for t in tenants
                }
                second = run_round(instance, loaded)
                runs = [instance.get_run_by_id(r.run_id) for r in first + second]
                dagster_text = "\n".join(
                    [str(e) for r in first + second for e in instance.all_logs(r.run_id)]
                    + [f"{run.tags} {run.run_config}" for run in runs if run]
                )
            listing = s3_client(s3_endpoint).list_objects_v2(Bucket=BUCKET)  # type: ignore[attr-defined]
            yield World(
                tenants=tenants,
                first=first,
                second=second,
                contacts=contacts,
                contacts_after_second={
                    t.name: t.sandbox.records("ghl", "contacts") for t in tenants
                },
                second_calls={
                    t.name: {
                        api: _requests(t.sandbox, api) - before[t.name][api]
                        for api in ("popl", "wisepops")
                    }
                    for t in tenants
                },
                bucket_keys=[item["Key"] for item in listing.get("Contents", [])],
                dagster_text=dagster_text,
                meltano_logs="\n".join(
                    p.read_text(errors="replace") for p in (home / "data").rglob("meltano.log")
                ),
            )
        finally:
            patch.undo()


def test_every_run_of_both_rounds_succeeds(world: World) -> None:
    assert [(r.pipeline, r.tenant) for r in world.first + world.second if not r.success] == []
    assert len(world.first) == len(world.second) == 9


def test_each_location_holds_exactly_its_tenants_contacts(world: World) -> None:
    for tenant in world.tenants:
        people = popl_people(tenant.sandbox) + wisepops_people(tenant.sandbox)
        expected = {p.ghl_identity for p in people if p.ghl_identity}
        contacts = world.contacts[tenant.name]
        held = {i for c in contacts for i in (c.get("email"), c.get("phone")) if i}
        assert {c["locationId"] for c in contacts} == {tenant.location}
        assert expected <= held
        assert len(contacts) <= len(expected)
        others = [t for t in world.tenants if t is not tenant]
        for other in others:
            theirs = popl_people(other.sandbox) + wisepops_people(other.sandbox)
            assert {c.get("email") for c in contacts if c.get("email")}.isdisjoint(
                {p.email for p in theirs if p.email}
            )


def test_the_bucket_holds_each_tenants_state_ids(world: World) -> None:
    for tenant in world.tenants:
        for state_id in STATE_IDS:
            wanted = f"{state_id}:{tenant.name}"
            assert any(wanted in key for key in world.bucket_keys), (wanted, world.bucket_keys)


def _write_window(requests: list[dict[str, Any]], source: str) -> tuple[float, float]:
    """First and last contact upsert of one pipeline (its upserts carry its source name)."""
    times = [
        r["at"]
        for r in requests
        if r["operation"] == "upsert-contact" and (r.get("body") or {}).get("source") == source
    ]
    assert times, f"no upsert from {source}"
    return min(times), max(times)


def test_no_two_runs_for_one_location_overlapped(world: World) -> None:
    # Both GHL pipelines of a tenant write its one location; each round runs each once.
    for tenant in world.tenants:
        requests = [
            r
            for r in tenant.sandbox.records("ghl", "requests")
            if r["location_id"] == tenant.location
        ]
        popl = _write_window(requests, "Popl")
        wisepops = _write_window(requests, "Wisepops")
        assert popl[1] < wisepops[0] or wisepops[1] < popl[0], (tenant.name, popl, wisepops)


def test_second_round_resumes_each_tenant_from_its_own_state(world: World) -> None:
    # One call per source and run: one Popl pipeline, two Wisepops pipelines per tenant.
    assert world.second_calls == {t.name: {"popl": 1, "wisepops": 2} for t in world.tenants}
    for tenant in world.tenants:
        after = world.contacts_after_second[tenant.name]
        assert len(after) == len(world.contacts[tenant.name])


def test_each_run_carries_its_run_summary_counts_as_metadata(world: World) -> None:
    for record in world.first:
        assert record.metadata["tenant"] == record.tenant
        assert record.metadata["exit_code"] == 0
        received = {k: v for k, v in record.metadata.items() if k.endswith(".received")}
        assert received, record
        assert sum(received.values()) > 0


def test_no_secret_reaches_dagster_or_the_run_logs(world: World) -> None:
    for tenant in world.tenants:
        for value in tenant.secrets.values():
            assert value not in world.dagster_text
            assert value not in world.meltano_logs
