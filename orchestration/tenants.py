"""The tenants file: who runs which pipeline, with which secrets, on which schedule."""

from __future__ import annotations

import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from orchestration.cron import max_runs_per_day
from orchestration.pipelines import PIPELINES

#: Where the definitions read the tenants file from; the example when unset.
TENANTS_FILE_VARIABLE = "LEAD_CONNECTORS_TENANTS"
EXAMPLE = Path(__file__).with_name("tenants.example.yml")

#: Wisepops allows 1,500 calls per 30 days per website (50 a day); each poll costs at least
#: one call, so 48 polls a day leave a margin for reconcile runs and retries.
WISEPOPS_POLLS_PER_DAY = 48

MELTANO_VARIABLE = r"^(TAP|TARGET)_[A-Z0-9_]+$"
#: Settings that name a secret belong under `secrets` (read from the environment at run time).
SECRET_LOOKING = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD)")

SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["tenants"],
    "additionalProperties": False,
    "properties": {
        "tenants": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["id", "pipelines", "secrets", "ghl_location"],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,62}$"},
                    "pipelines": {
                        "type": "array",
                        "minItems": 1,
                        "uniqueItems": True,
                        "items": {"enum": sorted(PIPELINES)},
                    },
                    "secrets": {
                        "type": "object",
                        "propertyNames": {"pattern": MELTANO_VARIABLE},
                        "additionalProperties": {
                            "type": "string",
                            "pattern": "^[A-Za-z_][A-Za-z0-9_]*$",
                        },
                    },
                    "settings": {
                        "type": "object",
                        "propertyNames": {"pattern": MELTANO_VARIABLE},
                        "additionalProperties": {"type": ["string", "integer", "boolean"]},
                    },
                    "ghl_location": {"type": "string", "minLength": 1},
                    "wisepops_website": {"type": "string", "minLength": 1},
                    "schedules": {
                        "type": "object",
                        "propertyNames": {"enum": sorted(PIPELINES)},
                        "additionalProperties": {"type": "string", "minLength": 1},
                    },
                    "reconcile": {"type": "string", "minLength": 1},
                },
            },
        }
    },
}


class TenantsFileError(ValueError):
    """The tenants file is malformed; the message names the file and the field."""


@dataclass(frozen=True)
class Tenant:
    """One account: its pipelines, the variables holding its secrets, its schedules."""

    id: str
    pipelines: tuple[str, ...]
    secrets: dict[str, str]  # Meltano variable -> environment variable holding the value
    ghl_location: str
    wisepops_website: str | None = None
    settings: dict[str, str] = field(default_factory=dict)  # non-secret Meltano variables
    schedules: dict[str, str] = field(default_factory=dict)  # pipeline -> cron
    reconcile: str | None = None  # cron of the full-refresh runs of every pipeline

    def wisepops_polls_per_day(self) -> int:
        """The most Wisepops reads this tenant's schedules start in one day."""
        readers = [p for p in self.pipelines if PIPELINES[p].reads_wisepops]
        polls = sum(max_runs_per_day(self.schedules[p]) for p in readers if p in self.schedules)
        if self.reconcile:
            polls += max_runs_per_day(self.reconcile) * len(readers)
        return polls


def _field_path(path: Any) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text or "(top level)"


def _check_schema(data: Any, source: str) -> None:
    errors = sorted(Draft202012Validator(SCHEMA).iter_errors(data), key=lambda e: list(e.path))
    if errors:
        lines = [f"{_field_path(e.absolute_path)}: {e.message}" for e in errors]
        raise TenantsFileError(f"{source}: " + "; ".join(lines))


def _tenant(raw: dict[str, Any], where: str) -> Tenant:
    tenant = Tenant(
        id=raw["id"],
        pipelines=tuple(raw["pipelines"]),
        secrets=dict(raw["secrets"]),
        ghl_location=raw["ghl_location"],
        wisepops_website=raw.get("wisepops_website"),
        settings={k: str(v) for k, v in raw.get("settings", {}).items()},
        schedules=dict(raw.get("schedules", {})),
        reconcile=raw.get("reconcile"),
    )
    for name in tenant.settings:
        if SECRET_LOOKING.search(name):
            raise TenantsFileError(
                f"{where}.settings.{name}: looks like a secret; name the environment variable "
                f"that holds it under secrets instead"
            )
    if "TARGET_GHL_LOCATION_ID" in tenant.settings:
        raise TenantsFileError(f"{where}.settings.TARGET_GHL_LOCATION_ID: set ghl_location")
    for pipeline in tenant.schedules:
        if pipeline not in tenant.pipelines:
            raise TenantsFileError(f"{where}.schedules.{pipeline}: not one of its pipelines")
    if tenant.wisepops_website is None and any(
        PIPELINES[p].reads_wisepops for p in tenant.pipelines
    ):
        raise TenantsFileError(f"{where}.wisepops_website: required by its Wisepops pipelines")
    crons = {f"schedules.{p}": c for p, c in tenant.schedules.items()}
    if tenant.reconcile:
        crons["reconcile"] = tenant.reconcile
    for name, cron in crons.items():
        try:
            max_runs_per_day(cron)
        except ValueError as exc:
            raise TenantsFileError(f"{where}.{name}: {exc}") from None
    return tenant


def _check_wisepops_quota(tenants: list[Tenant], source: str) -> None:
    """Refuse schedules that would poll one Wisepops website more than its daily share."""
    per_website: dict[str, list[Tenant]] = defaultdict(list)
    for tenant in tenants:
        if tenant.wisepops_website:
            per_website[tenant.wisepops_website].append(tenant)
    for website, sharing in per_website.items():
        polls = sum(t.wisepops_polls_per_day() for t in sharing)
        if polls > WISEPOPS_POLLS_PER_DAY:
            names = ", ".join(t.id for t in sharing)
            raise TenantsFileError(
                f"{source}: the schedules of {names} poll Wisepops website {website!r} up to "
                f"{polls} times a day; at most {WISEPOPS_POLLS_PER_DAY} fit its quota of "
                f"1,500 calls per 30 days"
            )


def parse_tenants(data: Any, source: str = "tenants file") -> list[Tenant]:
    """Validate the file's contents and build the tenants; errors name the field."""
    _check_schema(data, source)
    tenants = [_tenant(raw, f"{source}: tenants[{i}]") for i, raw in enumerate(data["tenants"])]
    seen: set[str] = set()
    for i, tenant in enumerate(tenants):
        if tenant.id in seen:
            raise TenantsFileError(f"{source}: tenants[{i}].id: {tenant.id!r} is listed twice")
        seen.add(tenant.id)
    _check_wisepops_quota(tenants, source)
    return tenants


def load_tenants(path: Path) -> list[Tenant]:
    """Read and validate a tenants file."""
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise TenantsFileError(f"{path.name}: cannot be read: {exc}") from None
    return parse_tenants(data, path.name)


def tenants_path() -> Path:
    """The tenants file named by LEAD_CONNECTORS_TENANTS, else the example."""
    return Path(os.environ.get(TENANTS_FILE_VARIABLE) or EXAMPLE)
