"""HighLevel API v2 facts both GHL connectors (tap-ghl and target-ghl) rely on."""

from __future__ import annotations

from singer_sdk import typing as th

DEFAULT_API_URL = "https://services.leadconnectorhq.com"

#: The API version both connectors are written against, sent as the `Version` header.
API_VERSION = "2021-07-28"
#: The location's requests left today (every token and app of the location shares them).
DAILY_REMAINING_HEADER = "X-RateLimit-Daily-Remaining"
#: The location's requests per day (200,000 on most plans; some locations have 10,000).
DAILY_LIMIT_HEADER = "X-RateLimit-Limit-Daily"
#: GHL's documented burst limit; the server's headers replace it after the first answer.
BURST_REQUESTS = 100
BURST_WINDOW_SECONDS = 10.0


def api_properties() -> list[th.Property]:
    """The `api_url` and `api_version` settings of both GHL connectors."""
    return [
        th.Property(
            "api_url",
            th.StringType,
            default=DEFAULT_API_URL,
            description="API base URL; must be https unless the host is loopback.",
        ),
        th.Property(
            "api_version",
            th.StringType,
            default=API_VERSION,
            description="Value of the `Version` header every request carries.",
        ),
    ]
