"""Three sandbox tenants (each its own sandbox, keys and GHL location) run by the Dagster
definitions with the multiprocess executor and an instance whose pools allow one run each."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml

from orchestration.jobs import run_tags
from orchestration.pipelines import PIPELINES
from orchestration.tenants import Tenant, load_tenants
from sandbox.control import DEMO_KEYS, SandboxClient, running_sandbox
from tests.e2e.harness import small_sources

NAMES = ("tenant-a", "tenant-b", "tenant-c")
SEEDS = (11, 12, 13)


@dataclass
class SandboxTenant:
    """One tenant: its sandbox, its secrets (by variable name) and its location."""

    name: str
    sandbox: SandboxClient
    secrets: dict[str, str] = field(default_factory=dict)  # environment variable -> value

    @property
    def prefix(self) -> str:
        """The prefix of the environment variables holding this tenant's secrets."""
        return self.name.upper().replace("-", "_")

    @property
    def location(self) -> str:
        """Its own GHL location."""
        return f"loc-{self.name}"

    def provision(self) -> None:
        """Small sources, Popl, Wisepops and GHL keys of its own (the demo keys revoked),
        a location of its own."""
        small_sources(self.sandbox, popl_leads=20, contacts=20)
        keys = {
            "POPL_API_KEY": f"popl-key-{self.name}-7f3a",
            "WISEPOPS_API_KEY": f"wisepops-key-{self.name}-91c2",
            "GHL_TOKEN": f"pit-{self.name}-5d08",
            # The Popin emulator knows one seller only: its demo credentials.
            "POPIN_API_KEY": DEMO_KEYS["popin_api_key"],
            "POPIN_SELLER_TOKEN": DEMO_KEYS["popin_token"],
        }
        self.secrets = {f"{self.prefix}_{name}": value for name, value in keys.items()}
        self.sandbox.grant("popl", [keys["POPL_API_KEY"]])
        self.sandbox.grant("wisepops", [keys["WISEPOPS_API_KEY"]])
        self.sandbox.revoke("popl", [DEMO_KEYS["popl"]])
        self.sandbox.revoke("wisepops", [DEMO_KEYS["wisepops"]])
        self.sandbox.action(
            "ghl", "add_location", token=keys["GHL_TOKEN"], location_id=self.location
        )

    def entry(self) -> dict[str, Any]:
        """Its entry in the tenants file."""
        p = self.prefix
        return {
            "id": self.name,
            "pipelines": sorted(PIPELINES),
            "ghl_location": self.location,
            "wisepops_website": f"{self.name}.example.com",
            "secrets": {
                "TAP_POPL_API_KEY": f"{p}_POPL_API_KEY",
                "TAP_WISEPOPS_API_KEY": f"{p}_WISEPOPS_API_KEY",
                "TARGET_GHL_ACCESS_TOKEN": f"{p}_GHL_TOKEN",
                "TARGET_POPIN_API_KEY": f"{p}_POPIN_API_KEY",
                "TARGET_POPIN_SELLER_TOKEN": f"{p}_POPIN_SELLER_TOKEN",
            },
            "settings": {
                "TAP_POPL_API_URL": self.sandbox.api_url("popl"),
                "TAP_WISEPOPS_API_URL": self.sandbox.api_url("wisepops"),
                "TARGET_GHL_API_URL": self.sandbox.api_url("ghl"),
                "TARGET_POPIN_API_URL": self.sandbox.api_url("popin"),
                "TARGET_POPIN_SCHEDULE": "next_available",
            },
            "schedules": {"sync-wisepops-to-ghl": "0 * * * *"},
            "reconcile": "0 3 * * 0",
        }


@contextmanager
def sandbox_tenants() -> Iterator[list[SandboxTenant]]:
    """One sandbox process per tenant, seeded differently, provisioned."""
    with ExitStack() as stack:
        tenants = [
            SandboxTenant(name, stack.enter_context(running_sandbox("--seed", str(seed))))
            for name, seed in zip(NAMES, SEEDS, strict=True)
        ]
        for tenant in tenants:
            tenant.provision()
        yield tenants


def write_tenants_file(path: Path, tenants: list[SandboxTenant]) -> list[Tenant]:
    """The tenants file of these tenants, read back through its validation."""
    path.write_text(yaml.safe_dump({"tenants": [t.entry() for t in tenants]}, sort_keys=False))
    return load_tenants(path)


@dataclass
class RunRecord:
    """One finished Dagster run of one pipeline for one tenant."""

    pipeline: str
    tenant: str
    run_id: str
    success: bool
    metadata: dict[str, Any]


def _execute(instance_ref: dg.InstanceRef, pipeline: str, tenant: Tenant) -> RunRecord:
    job = dg.build_reconstructable_job(
        "orchestration", "job_named", reconstructable_args=(pipeline,)
    )
    tags = {"dagster/partition": tenant.id, **run_tags(PIPELINES[pipeline], tenant)}
    with (
        dg.DagsterInstance.from_ref(instance_ref) as instance,
        dg.execute_job(job, instance, tags=tags) as result,
    ):
        metadata: dict[str, Any] = {}
        for event in result.all_events:
            if event.is_successful_output and event.step_output_data.metadata:
                metadata.update({k: v.value for k, v in event.step_output_data.metadata.items()})
        return RunRecord(pipeline, tenant.id, result.run_id, result.success, metadata)


def run_round(instance: dg.DagsterInstance, tenants: list[Tenant]) -> list[RunRecord]:
    """Every pipeline of every tenant launched at once; the instance's pools queue them.

    One process per run, as a run launcher would: `execute_job` configures logging and is not
    safe to call from several threads of one process. They are forked from a server that has
    imported Dagster once (a plain fork of a pytest-xdist worker would copy its threads' locks).
    """
    work = [(p, t) for t in tenants for p in t.pipelines]
    forkserver = multiprocessing.get_context("forkserver")
    forkserver.set_forkserver_preload(["dagster", "orchestration", __name__])
    with ProcessPoolExecutor(len(work), mp_context=forkserver) as pool:
        futures = [pool.submit(_execute, instance.get_ref(), p, t) for p, t in work]
        return [f.result(timeout=600) for f in futures]


def set_pool_limits(instance: dg.DagsterInstance, pools: list[str]) -> None:
    """One slot per pool, set before the runs claim any: the call behind
    `dagster instance concurrency set <pool> 1`, without a process per pool."""
    for pool in pools:
        instance.event_log_storage.set_concurrency_slots(pool, 1)


def environment(values: dict[str, str]) -> pytest.MonkeyPatch:
    """Set process-wide variables (the executor's step processes inherit them)."""
    patch = pytest.MonkeyPatch()
    for name, value in values.items():
        patch.setenv(name, value)
    for name in [n for n in os.environ if n.startswith(("TAP_", "TARGET_"))]:
        patch.delenv(name)
    return patch
