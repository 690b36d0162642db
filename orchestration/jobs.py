"""One Dagster job per pipeline, partitioned by tenant; each run holds its vendor's pool."""
# No `from __future__ import annotations`: Dagster reads the ops' annotations at runtime.

import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from orchestration.meltano import (
    CHECKOUT,
    RunFiles,
    default_meltano,
    meltano_command,
    run_environment,
    run_meltano,
)
from orchestration.pipelines import Pipeline
from orchestration.tenants import Tenant

#: Run tags naming the shared accounts, for the run queue's per-value limits (docs).
GHL_LOCATION_TAG = "lead-connectors/ghl-location"
WISEPOPS_WEBSITE_TAG = "lead-connectors/wisepops-website"
TENANT_TAG = "lead-connectors/tenant"
ROUTE = "pick_account"
#: Steps run in processes forked from a server that has Dagster and these definitions loaded
#: already: a step then starts in a fraction of a second instead of importing everything.
EXECUTOR = dg.multiprocess_executor.configured(
    {"start_method": {"forkserver": {"preload_modules": ["dagster", "orchestration"]}}}
)


class MeltanoProject(dg.ConfigurableResource):
    """Where meltano.yml and Meltano are, the Meltano environment, and the tenants' files.

    It holds no secret: those come from the variables the tenants file names, and the state
    backend's settings from the orchestrator's environment (MELTANO_STATE_BACKEND_*).
    """

    project_dir: str = str(CHECKOUT)
    meltano: str = default_meltano()
    environment: str = "prod"
    data_dir: str = str(CHECKOUT / "output" / "tenants")
    timeout_seconds: int = 6 * 3600


class RunOptions(dg.Config):
    """What a run does besides its tenant's incremental sync."""

    full_refresh: bool = False  # reconcile: ignore the bookmark, re-read and re-upsert all


def pool_of(pipeline: Pipeline, tenant: Tenant) -> str:
    """The vendor budget a run draws on first: the GHL location it writes, else the Wisepops
    website it reads."""
    if pipeline.writes_ghl:
        return f"ghl-location-{tenant.ghl_location}"
    return f"wisepops-website-{tenant.wisepops_website}"


def run_tags(pipeline: Pipeline, tenant: Tenant) -> dict[str, str]:
    """The tenant and the accounts a run touches (names and ids, never secrets)."""
    tags = {TENANT_TAG: tenant.id}
    if pipeline.writes_ghl:
        tags[GHL_LOCATION_TAG] = tenant.ghl_location
    if pipeline.reads_wisepops and tenant.wisepops_website:
        tags[WISEPOPS_WEBSITE_TAG] = tenant.wisepops_website
    return tags


def _slug(text: str) -> str:
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    return f"{re.sub(r'[^A-Za-z0-9]+', '_', text)[:40]}_{digest}"


def _route_op(pipeline: Pipeline, outputs: dict[str, str]) -> dg.OpDefinition:
    """Sends the run down the branch of its tenant's pool; the other branches are skipped."""

    @dg.op(
        name=f"{pipeline.job_name}__{ROUTE}",
        out={name: dg.Out(bool, is_required=False) for name in sorted(set(outputs.values()))},
    )
    def route(context: dg.OpExecutionContext, config: RunOptions) -> Iterator[dg.Output[bool]]:
        yield dg.Output(config.full_refresh, output_name=outputs[context.partition_key])

    return route


def _run_op(pipeline: Pipeline, pool: str, tenants: dict[str, Tenant]) -> dg.OpDefinition:
    """`meltano run` for the run's tenant, holding one slot of `pool`."""

    @dg.op(name=f"{pipeline.job_name}__{_slug(pool)}", pool=pool)
    def run_pipeline(
        context: dg.OpExecutionContext, meltano: MeltanoProject, full_refresh: bool
    ) -> dg.Output[None]:
        tenant = tenants[context.partition_key]
        files = RunFiles(Path(meltano.data_dir) / tenant.id, context.run_id)
        env = run_environment(
            tenant, files, Path(meltano.project_dir), meltano.environment, os.environ
        )
        secrets = [env[variable] for variable in tenant.secrets]
        command = meltano_command(meltano.meltano, pipeline, tenant, full_refresh=full_refresh)
        context.log.info(f"{tenant.id}: {' '.join(command[1:])}")
        outcome = run_meltano(command, env, files, secrets, meltano.timeout_seconds)
        metadata: dict[str, dg.RawMetadataValue] = {
            "tenant": tenant.id,
            "exit_code": outcome.returncode,
            "full_refresh": full_refresh,
            "log": str(outcome.log),
            **outcome.counts,
        }
        if outcome.returncode != 0:
            raise dg.Failure(description=outcome.closing_line, metadata=metadata)
        return dg.Output(None, metadata=metadata)

    return run_pipeline


def build_job(pipeline: Pipeline, tenants: list[Tenant]) -> dg.JobDefinition:
    """The pipeline's job: partitions are the tenants that run it."""
    by_id = {t.id: t for t in tenants}
    pools = {t.id: pool_of(pipeline, t) for t in tenants}
    outputs = {tenant: _slug(pool) for tenant, pool in pools.items()}
    route = _route_op(pipeline, outputs)
    runners = {outputs[t]: _run_op(pipeline, pools[t], by_id) for t in sorted(pools)}

    @dg.static_partitioned_config(
        partition_keys=sorted(by_id),
        tags_for_partition_key_fn=lambda key: run_tags(pipeline, by_id[key]),
    )
    def partition_config(partition_key: str) -> dict[str, object]:
        return {}

    @dg.job(
        name=pipeline.job_name,
        description=f"`meltano run {' '.join(pipeline.blocks)}` for one tenant.",
        config=partition_config,
        executor_def=EXECUTOR,
        tags={"lead-connectors/pipeline": pipeline.name},
    )
    def pipeline_job() -> None:
        branches = route()
        if len(runners) == 1:  # a single output comes back as itself, not a tuple
            next(iter(runners.values()))(branches)
            return
        for name, runner in runners.items():
            runner(getattr(branches, name))

    return pipeline_job
