"""Settings every API-writing target shares."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from singer_sdk import typing as th

from leadkit.errors import ConfigError

DEFAULT_MAX_CONCURRENCY = 16
#: Seconds requests under way get to finish after SIGTERM or SIGINT (Kubernetes' default
#: grace period is 30 s too, so an orchestrator's stop is rarely cut short). A whole number
#: because Meltano presents the setting as an integer (see leadkit.settings).
DEFAULT_SHUTDOWN_TIMEOUT: float = 30
#: A batch is written once its first record is this old, however few it holds: STATE, which
#: follows each batch, then lags the input by about a minute at most. Follow-mode pipelines
#: set a second or two, so that a lead is written and acknowledged within seconds.
DEFAULT_MAX_BATCH_AGE_SECONDS: float = 60


def max_concurrency(config: Mapping[str, Any]) -> int:
    """The cap on requests in flight (`check_writer_settings` has refused values below 1)."""
    value = config.get("max_concurrency")
    return DEFAULT_MAX_CONCURRENCY if value is None else int(value)


def shutdown_grace(config: Mapping[str, Any]) -> float:
    """`shutdown_timeout` in seconds, as a float."""
    value = config.get("shutdown_timeout")
    return max(0.0, float(DEFAULT_SHUTDOWN_TIMEOUT if value is None else value))


def max_batch_age(config: Mapping[str, Any]) -> float:
    """`max_batch_age_seconds` as a float."""
    value = config.get("max_batch_age_seconds")
    return float(DEFAULT_MAX_BATCH_AGE_SECONDS if value is None else value)


def check_writer_settings(config: Mapping[str, Any], secret_settings: Iterable[str]) -> None:
    """Refuse empty credentials and a concurrency cap below 1, before any request."""
    for setting in secret_settings:
        if not str(config.get(setting) or "").strip():
            raise ConfigError(f"`{setting}` must not be empty")
    if max_concurrency(config) < 1:
        raise ConfigError("`max_concurrency` must be at least 1")
    if shutdown_grace(config) <= 0 and config.get("shutdown_timeout") is not None:
        raise ConfigError("`shutdown_timeout` must be more than 0 seconds")
    age = config.get("max_batch_age_seconds")
    if age is not None and (isinstance(age, bool) or not isinstance(age, (int, float)) or age <= 0):
        raise ConfigError("`max_batch_age_seconds` must be a number of seconds above 0")


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
            "shutdown_timeout",
            th.NumberType,
            default=DEFAULT_SHUTDOWN_TIMEOUT,
            description="Seconds that requests under way get to finish after SIGTERM or "
            "SIGINT. STATE then acknowledges only records written or rejected, and the "
            "exit code is 128 + the signal number.",
        ),
        th.Property(
            "max_batch_age_seconds",
            th.NumberType,
            default=DEFAULT_MAX_BATCH_AGE_SECONDS,
            description="A batch is written, and its STATE acknowledged, once its first "
            "record is this many seconds old, also when no more input comes. Set 1 or 2 "
            "behind a tap in follow mode, so that each lead arrives within seconds.",
        ),
        th.Property(
            "dry_run",
            th.BooleanType,
            default=False,
            description="Validate, normalise and read, but send no write; the summary says "
            "what would have been written, and its rejects are marked `dry_run: true`.",
        ),
        th.Property(
            "reject_file",
            th.StringType,
            description="Path of a JSON-lines file receiving every rejected record with its "
            "reason (a dry run's lines carry `dry_run: true`). Without it rejects are only "
            "counted and logged by key.",
        ),
        th.Property(
            "ledger_path",
            th.StringType,
            description="Path of the SQLite ledger of notes/tasks already posted, which makes "
            "re-runs idempotent. Without it the ledger lives in memory for one run.",
        ),
    ]
