"""tap-wisepops: Wisepops contacts (incremental, quota-frugal, tie-safe), popups and hooks."""

from __future__ import annotations

import typing as t
from functools import cached_property

from singer_sdk import Stream
from singer_sdk import typing as th
from typing_extensions import override

from leadkit.budget import RequestCap
from leadkit.cli import run as run_cli
from leadkit.errors import ConfigError
from leadkit.settings import http_properties
from leadkit.spool import check_spool_settings
from leadkit.tap import VendorTap
from leadkit.timestamps import parse_start_date
from leadkit.urls import require_safe_url
from tap_wisepops.client import MAX_API_CALLS
from tap_wisepops.spooled import SpoolContactsStream
from tap_wisepops.streams import MAX_PAGE_SIZE, ContactsStream, HooksStream, WisepopsListStream

DEFAULT_API_URL = "https://app.wisepops.com/api2"


class TapWisepops(VendorTap):
    """Reads contacts, popups and webhooks from the Wisepops api2."""

    name = "tap-wisepops"
    # Measured faster than the default writer (benchmarks/tap_wisepops.md).
    config_jsonschema = th.PropertiesList(
        th.Property(
            "api_key",
            th.StringType,
            required=True,
            secret=True,
            description="The website's Wisepops API key. One key per website.",
        ),
        th.Property(
            "api_url",
            th.StringType,
            default=DEFAULT_API_URL,
            description="Base URL of api2. Must be https, except on a loopback host (the "
            "local sandbox).",
        ),
        th.Property(
            "start_date",
            th.DateTimeType,
            description="ISO-8601 instant (UTC when no zone is given): the first run reads "
            "contacts collected from then on. Without it, the first run reads them all.",
        ),
        th.Property(
            "page_size",
            th.IntegerType(minimum=1, maximum=MAX_PAGE_SIZE),
            default=MAX_PAGE_SIZE,
            description=f"Contacts per call, 1 to {MAX_PAGE_SIZE}. Keep {MAX_PAGE_SIZE}: every "
            "call counts against the 1,500 calls a month the plan allows.",
        ),
        th.Property(
            "wisepop_ids",
            th.ArrayType(th.IntegerType),
            description="Read only these popups (each gets its own bookmark).",
        ),
        th.Property(
            "max_api_calls",
            th.IntegerType(minimum=1),
            description="Hard cap on the API calls one run may spend, retries included. "
            "The run stops cleanly before exceeding it; the next run resumes.",
        ),
        th.Property(
            "webhook_spool",
            th.StringType,
            description="The spool of `lead-relay serve` (a SQLite file path or "
            "sqlite:///path). When set, the `contacts` stream reads the webhook deliveries "
            "stored there instead of calling the API (no API call is spent), and popups and "
            "hooks are not read. Run the API mode daily too, to reconcile.",
        ),
        th.Property(
            "webhook_source",
            th.StringType,
            description="With `webhook_spool`: the relay source NAME whose deliveries to "
            "read (`--source NAME=wisepops:ENV_VAR`).",
        ),
        th.Property(
            "follow",
            th.BooleanType,
            default=False,
            description="With `webhook_spool`: keep running, emitting contacts and STATE as "
            "the relay stores them, until SIGTERM or SIGINT (exit 143 or 130).",
        ),
        *http_properties(),
    ).to_dict()

    @cached_property
    def call_budget(self) -> RequestCap:
        """API calls this run may spend, shared by every stream."""
        return RequestCap(MAX_API_CALLS, self.config.get(MAX_API_CALLS))

    @override
    def discover_streams(self) -> list[Stream]:
        """Contacts, popups and hooks, sharing one call budget; or contacts from the spool."""
        if self.config.get("webhook_spool"):
            return [SpoolContactsStream(self)]
        budget = self.call_budget
        return [
            ContactsStream(self, budget=budget),
            WisepopsListStream(self, budget=budget),
            HooksStream(self, budget=budget),
        ]

    @staticmethod
    @override
    def check_settings(config: t.Mapping[str, t.Any]) -> None:
        """Refuse a configuration that would fail or leak; runs before any request."""
        key = config.get("api_key")
        if not isinstance(key, str) or not key.strip():
            raise ConfigError("`api_key` is required: the website's Wisepops API key")
        require_safe_url(str(config.get("api_url") or DEFAULT_API_URL), "api_url")
        page_size = config.get("page_size", MAX_PAGE_SIZE)
        if not isinstance(page_size, int) or not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ConfigError(f"`page_size` must be an integer from 1 to {MAX_PAGE_SIZE}")
        start_date = config.get("start_date")
        if start_date is not None and parse_start_date(start_date) is None:
            raise ConfigError("`start_date` must be an ISO-8601 date or date-time")
        limit = config.get("max_api_calls")
        if limit is not None and (not isinstance(limit, int) or limit < 1):
            raise ConfigError("`max_api_calls` must be a whole number of at least 1")
        ids = config.get("wisepop_ids")
        if ids is not None and (
            not isinstance(ids, list) or not all(isinstance(i, int) for i in ids)
        ):
            raise ConfigError("`wisepop_ids` must be a list of popup ids (integers)")
        check_spool_settings(config)


def main() -> None:
    """The `tap-wisepops` console script."""
    run_cli(TapWisepops)


if __name__ == "__main__":
    main()
