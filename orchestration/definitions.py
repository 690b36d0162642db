"""The Definitions built from a tenants file: jobs, schedules and the Meltano resource."""

from __future__ import annotations

import os

import dagster as dg

from orchestration.jobs import MeltanoProject, build_job
from orchestration.pipelines import PIPELINES
from orchestration.schedules import build_schedules
from orchestration.tenants import Tenant

#: Deployment settings that are not secrets (see docs/orchestration.md).
ENVIRONMENT_VARIABLE = "LEAD_CONNECTORS_MELTANO_ENVIRONMENT"
DATA_DIR_VARIABLE = "LEAD_CONNECTORS_DATA_DIR"


def build_jobs(tenants: list[Tenant]) -> dict[str, dg.JobDefinition]:
    """One job per pipeline that at least one tenant runs."""
    jobs = {}
    for name, pipeline in PIPELINES.items():
        running = [t for t in tenants if name in t.pipelines]
        if running:
            jobs[name] = build_job(pipeline, running)
    return jobs


def meltano_resource() -> MeltanoProject:
    """The resource, with the Meltano environment and data directory of the deployment."""
    project = MeltanoProject()
    return MeltanoProject(
        project_dir=os.environ.get("MELTANO_PROJECT_ROOT") or project.project_dir,
        environment=os.environ.get(ENVIRONMENT_VARIABLE) or project.environment,
        data_dir=os.environ.get(DATA_DIR_VARIABLE) or project.data_dir,
    )


def build_definitions(tenants: list[Tenant]) -> dg.Definitions:
    """Everything Dagster loads for these tenants."""
    jobs = build_jobs(tenants)
    return dg.Definitions(
        jobs=list(jobs.values()),
        schedules=list(build_schedules(tenants, jobs)),
        resources={"meltano": meltano_resource()},
    )
