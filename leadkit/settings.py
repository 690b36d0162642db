"""Settings every connector shares: request timeout and retry bounds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from singer_sdk import typing as th

from leadkit.retry import RetryPolicy

# Whole numbers, though the settings take fractions: Meltano presents them as integers
# (scripts/meltano_settings.py says why), and a default should fit the kind it is shown as.
DEFAULT_REQUEST_TIMEOUT: float = 60
DEFAULT_MAX_RETRIES = RetryPolicy.max_tries
DEFAULT_BACKOFF_BASE_SECONDS = RetryPolicy.base_seconds
DEFAULT_MAX_RETRY_WAIT_SECONDS = RetryPolicy.cap_seconds


def http_properties() -> list[th.Property]:
    """Tuning knobs for HTTP behaviour; the defaults suit production."""
    return [
        th.Property(
            "request_timeout",
            th.NumberType,
            default=DEFAULT_REQUEST_TIMEOUT,
            description="Seconds to wait for one HTTP response before retrying it.",
        ),
        th.Property(
            "max_retries",
            th.IntegerType,
            default=DEFAULT_MAX_RETRIES,
            description="Tries per request before giving up (429, 5xx, timeouts, dropped "
            "connections and truncated bodies are retried; other errors are not).",
        ),
        th.Property(
            "backoff_base_seconds",
            th.NumberType,
            default=DEFAULT_BACKOFF_BASE_SECONDS,
            description="First wait of the exponential backoff used when the API sends no "
            "Retry-After header.",
        ),
        th.Property(
            "max_retry_wait_seconds",
            th.NumberType,
            default=DEFAULT_MAX_RETRY_WAIT_SECONDS,
            description="Cap on any single wait, including one asked for by Retry-After.",
        ),
    ]


def _given(config: Mapping[str, Any], name: str, default: float) -> float:
    value = config.get(name)
    return default if value is None else value


def request_timeout(config: Mapping[str, Any]) -> float:
    """`request_timeout` in seconds, as a float (JSON config files give Decimal)."""
    # `or`, not `is None`: a timeout of 0 would make every request fail at once.
    return float(config.get("request_timeout") or DEFAULT_REQUEST_TIMEOUT)


def retry_policy(config: Mapping[str, Any]) -> RetryPolicy:
    """The retry policy the shared HTTP settings describe."""
    return RetryPolicy(
        max_tries=max(1, int(_given(config, "max_retries", DEFAULT_MAX_RETRIES))),
        base_seconds=float(_given(config, "backoff_base_seconds", DEFAULT_BACKOFF_BASE_SECONDS)),
        cap_seconds=float(_given(config, "max_retry_wait_seconds", DEFAULT_MAX_RETRY_WAIT_SECONDS)),
    )


def is_whole_number(value: object) -> bool:
    """An int of 0 or more (a boolean is not a number here)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
