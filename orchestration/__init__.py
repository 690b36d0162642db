"""Dagster definitions that run the pipelines for every tenant of a tenants file.

`dagster dev -m orchestration` loads `defs`; LEAD_CONNECTORS_TENANTS names the tenants file.
"""

from __future__ import annotations

import dagster as dg

from orchestration.definitions import build_definitions
from orchestration.tenants import load_tenants, tenants_path


def job_named(name: str) -> dg.JobDefinition:
    """A job of the current tenants file, rebuilt in each process (`build_reconstructable_job`)."""
    return build_definitions(load_tenants(tenants_path())).get_job_def(name)


defs = build_definitions(load_tenants(tenants_path()))
