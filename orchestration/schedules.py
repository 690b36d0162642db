"""Each tenant's schedules from the tenants file, and its reconcile (full-refresh) runs."""
# No `from __future__ import annotations`: Dagster reads the ops' annotations at runtime.

from collections.abc import Iterator

import dagster as dg

from orchestration.jobs import ROUTE, run_tags
from orchestration.pipelines import PIPELINES
from orchestration.tenants import Tenant


def _name(*parts: str) -> str:
    return "__".join(part.replace("-", "_") for part in parts)


def _schedule(
    tenant: Tenant, pipeline_name: str, cron: str, job: dg.JobDefinition, *, reconcile: bool
) -> dg.ScheduleDefinition:
    pipeline = PIPELINES[pipeline_name]
    config = {"ops": {f"{pipeline.job_name}__{ROUTE}": {"config": {"full_refresh": reconcile}}}}

    @dg.schedule(
        name=_name("reconcile" if reconcile else "sync", pipeline.job_name, tenant.id),
        cron_schedule=cron,
        job=job,
        description=(
            f"Full refresh of {pipeline_name} for {tenant.id}"
            if reconcile
            else f"{pipeline_name} for {tenant.id}"
        ),
    )
    def tick(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        return dg.RunRequest(
            partition_key=tenant.id,
            run_config=config,
            tags={**run_tags(pipeline, tenant), "lead-connectors/reconcile": str(reconcile)},
        )

    return tick


def build_schedules(
    tenants: list[Tenant], jobs: dict[str, dg.JobDefinition]
) -> Iterator[dg.ScheduleDefinition]:
    """One schedule per tenant and scheduled pipeline, one reconcile per tenant and pipeline."""
    for tenant in tenants:
        for pipeline_name, cron in tenant.schedules.items():
            yield _schedule(tenant, pipeline_name, cron, jobs[pipeline_name], reconcile=False)
        for pipeline_name in tenant.pipelines if tenant.reconcile else ():
            yield _schedule(
                tenant, pipeline_name, tenant.reconcile or "", jobs[pipeline_name], reconcile=True
            )
