"""Dagster definitions that run the pipelines for every tenant of a tenants file.

`dagster dev -m orchestration` loads `defs`; LEAD_CONNECTORS_TENANTS names the tenants file.
"""

from __future__ import annotations

import dagster as dg

from orchestration.definitions import build_definitions
from orchestration.pipelines import PIPELINES
from orchestration.tenants import load_tenants, tenants_path


def job_named(pipeline: str) -> dg.JobDefinition:
    """A pipeline's job for the current tenants file, rebuilt in each process that runs it
    (`build_reconstructable_job("orchestration", "job_named", reconstructable_args=...)`)."""
    job_name = PIPELINES[pipeline].job_name
    return build_definitions(load_tenants(tenants_path())).resolve_job_def(job_name)


defs = build_definitions(load_tenants(tenants_path()))
