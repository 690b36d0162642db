"""Settings every connector shares: request timeout and retry bounds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from singer_sdk import typing as th

from leadkit.retry import RetryPolicy


def http_properties() -> list[th.Property]:
    """Tuning knobs for HTTP behaviour; the defaults suit production."""
    return [
        th.Property(
            "request_timeout",
            th.NumberType,
            default=60,
            description="Seconds to wait for one HTTP response before retrying it.",
        ),
        th.Property(
            "max_retries",
            th.IntegerType,
            default=5,
            description="Tries per request before giving up (429, 5xx, timeouts, dropped "
            "connections and truncated bodies are retried; other errors are not).",
        ),
        th.Property(
            "backoff_base_seconds",
            th.NumberType,
            default=1.0,
            description="First wait of the exponential backoff used when the API sends no "
            "Retry-After header.",
        ),
        th.Property(
            "max_retry_wait_seconds",
            th.NumberType,
            default=60,
            description="Cap on any single wait, including one asked for by Retry-After.",
        ),
    ]


def request_timeout(config: Mapping[str, Any]) -> float:
    """`request_timeout` in seconds, as a float (JSON config files give Decimal)."""
    return float(config.get("request_timeout") or 60)


def retry_policy(config: dict) -> RetryPolicy:
    """The retry policy the shared HTTP settings describe."""
    return RetryPolicy(
        max_tries=max(1, int(config.get("max_retries", 5))),
        base_seconds=float(config.get("backoff_base_seconds", 1.0)),
        cap_seconds=float(config.get("max_retry_wait_seconds", 60)),
    )
