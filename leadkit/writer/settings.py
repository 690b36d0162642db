"""Settings every API-writing target shares."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from singer_sdk import typing as th

from leadkit.errors import ConfigError

DEFAULT_MAX_CONCURRENCY = 16


def max_concurrency(config: Mapping[str, Any]) -> int:
    """The cap on requests in flight (`check_writer_settings` has refused values below 1)."""
    value = config.get("max_concurrency")
    return DEFAULT_MAX_CONCURRENCY if value is None else int(value)


def check_writer_settings(config: Mapping[str, Any], secret_settings: Iterable[str]) -> None:
    """Refuse empty credentials and a concurrency cap below 1, before any request."""
    for setting in secret_settings:
        if not str(config.get(setting) or "").strip():
            raise ConfigError(f"`{setting}` must not be empty")
    if max_concurrency(config) < 1:
        raise ConfigError("`max_concurrency` must be at least 1")


def writer_properties() -> list[th.Property]:
    """Concurrency cap, dry run, reject file and ledger location."""
    return [
        th.Property(
            "max_concurrency",
            th.IntegerType,
            default=DEFAULT_MAX_CONCURRENCY,
            description="Upper bound on requests in flight. Below it the pool sizes itself "
            "from the allowed rate and the observed latency.",
        ),
        th.Property(
            "dry_run",
            th.BooleanType,
            default=False,
            description="Validate, normalise and read, but send no write; the summary says "
            "what would have been written.",
        ),
        th.Property(
            "reject_file",
            th.StringType,
            description="Path of a JSON-lines file receiving every rejected record with its "
            "reason. Without it rejects are only counted and logged by key.",
        ),
        th.Property(
            "ledger_path",
            th.StringType,
            description="Path of the SQLite ledger of notes/tasks already posted, which makes "
            "re-runs idempotent. Without it the ledger lives in memory for one run.",
        ),
    ]
