"""tap-ghl: HighLevel contacts (incremental) with their notes, tasks and appointments, custom
field definitions and business contacts, within the location's request budget."""

from __future__ import annotations

import typing as t
from decimal import Decimal
from functools import cached_property

from singer_sdk import typing as th
from typing_extensions import override

from leadkit.cli import run as run_cli
from leadkit.errors import ConfigError
from leadkit.ghl import BURST_REQUESTS, BURST_WINDOW_SECONDS, DEFAULT_API_URL, api_properties
from leadkit.oauth import BearerAuth, build_auth, check_auth_settings, oauth_properties
from leadkit.ratelimit import RateLimiter
from leadkit.settings import http_properties, is_whole_number, request_timeout, retry_policy
from leadkit.tap import VendorTap
from leadkit.timestamps import parse_start_date
from leadkit.urls import require_safe_url
from tap_ghl.budget import RequestBudget
from tap_ghl.registry import EmittedContacts
from tap_ghl.streams import (
    DEFAULT_LOOKBACK_WINDOW_MINUTES,
    DEFAULT_SEARCH_LAG_SECONDS,
    MAX_PAGE_LIMIT,
    AppointmentsStream,
    BusinessContactsStream,
    ContactsStream,
    CustomFieldsStream,
    NotesStream,
    TasksStream,
)

if t.TYPE_CHECKING:
    from singer_sdk import Stream

#: Streams synced before the others, in this order (the SDK would sync by name).
SYNCED_FIRST = ("custom_fields", "contacts")


class TapGhl(VendorTap):
    """Reads one HighLevel location: contacts changed since the last run and their children."""

    name = "tap-ghl"
    secret_settings = ("access_token", "client_secret", "refresh_token")
    config_jsonschema = th.PropertiesList(
        th.Property(
            "access_token",
            th.StringType,
            secret=True,
            description="Private Integration Token (pit-...) with contacts.readonly and "
            "locations/customFields.readonly scopes. Or use the OAuth settings instead.",
        ),
        *oauth_properties(),
        th.Property(
            "location_id",
            th.StringType,
            required=True,
            description="The sub-account (location) to read.",
        ),
        *api_properties(),
        th.Property(
            "start_date",
            th.DateTimeType,
            description="Earliest `dateUpdated` the first run reads (and a floor after). "
            "Without it, the first run reads every contact.",
        ),
        th.Property(
            "page_limit",
            th.IntegerType(minimum=1, maximum=MAX_PAGE_LIMIT),
            default=MAX_PAGE_LIMIT,
            description=f"Contacts per search page, 1 to {MAX_PAGE_LIMIT}. Keep "
            f"{MAX_PAGE_LIMIT}: two requests per 1,000 contacts.",
        ),
        th.Property(
            "search_lag_seconds",
            th.NumberType(minimum=0),
            default=DEFAULT_SEARCH_LAG_SECONDS,
            description="Contacts updated this recently are left for the next run, and the "
            "bookmark never comes closer to now: GHL's search shows writes a few seconds "
            "late, so a bookmark at now would pass contacts it has not shown yet. The "
            "default (2 minutes) is far past that lag and a plausible clock skew.",
        ),
        th.Property(
            "lookback_window_minutes",
            th.IntegerType(minimum=0),
            default=DEFAULT_LOOKBACK_WINDOW_MINUTES,
            description="Each run searches from the bookmark minus this window: contacts "
            "near the bookmark are read again (same `id`), never skipped.",
        ),
        th.Property(
            "business_ids",
            th.ArrayType(th.StringType),
            description="Businesses whose contacts the `business_contacts` stream reads.",
        ),
        th.Property(
            "max_requests_per_run",
            th.IntegerType(minimum=1),
            description="Cap on the requests one run sends (retries and child streams "
            "included). Reaching it stops the run cleanly; the next one continues.",
        ),
        th.Property(
            "daily_budget_reserve",
            th.IntegerType(minimum=0),
            description="Requests of the location's daily budget (shared by every token "
            "and app of the location) left for its other integrations: the run stops "
            "before X-RateLimit-Daily-Remaining would fall below it. Unset: a tenth of the "
            "location's own daily limit, read from GHL's X-RateLimit-Limit-Daily header "
            "(20,000 of 200,000; 1,000 of 10,000). A number set here replaces it.",
        ),
        *http_properties(),
    ).to_dict()

    @cached_property
    def auth(self) -> BearerAuth:
        """The Private Integration Token, or the OAuth token pair in `token_store`."""
        return build_auth(
            self.config,
            base_url=str(self.config.get("api_url") or DEFAULT_API_URL),
            policy=retry_policy(dict(self.config)),
            timeout=request_timeout(self.config),
        )

    @cached_property
    def limiter(self) -> RateLimiter:
        """GHL's burst pacing, adopting the location's limits from every answer."""
        return RateLimiter(BURST_REQUESTS, BURST_WINDOW_SECONDS)

    @cached_property
    def budget(self) -> RequestBudget:
        """The run's request cap and the daily reserve."""
        reserve = self.config.get("daily_budget_reserve")
        return RequestBudget(
            self.config.get("max_requests_per_run"), None if reserve is None else int(reserve)
        )

    @cached_property
    def emitted(self) -> EmittedContacts:
        """The contacts emitted in this run, for the streams that read per contact."""
        return EmittedContacts()

    @property
    @override
    def streams(self) -> dict[str, Stream]:
        """The SDK's streams (which it syncs in this order) with custom fields and contacts
        first: contacts look fields up, and the streams read per contact take the ids
        `contacts` emitted."""
        found = super().streams
        return {name: found[name] for name in sorted(found, key=_sync_rank)}

    @override
    def discover_streams(self) -> list[Stream]:
        """Contacts with their children, custom fields, and business contacts if configured."""
        streams: list[Stream] = [
            CustomFieldsStream(self),
            ContactsStream(self),
            NotesStream(self),
            TasksStream(self),
            AppointmentsStream(self),
        ]
        if self.config.get("business_ids"):
            streams.append(BusinessContactsStream(self))
        return streams

    @staticmethod
    @override
    def check_settings(config: t.Mapping[str, t.Any]) -> None:
        """Refuse a configuration that cannot work, before any request."""
        check_auth_settings(config)
        require_safe_url(str(config.get("api_url") or DEFAULT_API_URL), "api_url")
        if not str(config.get("location_id") or "").strip():
            raise ConfigError("`location_id` is required: the sub-account to read")
        if config.get("start_date") and parse_start_date(config["start_date"]) is None:
            raise ConfigError("`start_date` must be an ISO-8601 date or date-time")
        limit = config.get("page_limit", MAX_PAGE_LIMIT)
        if not is_whole_number(limit) or not 1 <= limit <= MAX_PAGE_LIMIT:
            raise ConfigError(f"`page_limit` must be a whole number from 1 to {MAX_PAGE_LIMIT}")
        lag = config.get("search_lag_seconds", DEFAULT_SEARCH_LAG_SECONDS)
        if isinstance(lag, bool) or not isinstance(lag, (int, float, Decimal)) or lag < 0:
            raise ConfigError("`search_lag_seconds` must be a number of seconds, 0 or more")
        for name in ("lookback_window_minutes", "daily_budget_reserve"):
            if name in config and not is_whole_number(config[name]):
                raise ConfigError(f"`{name}` must be a whole number, 0 or more")
        cap = config.get("max_requests_per_run")
        if cap is not None and (not is_whole_number(cap) or cap < 1):
            raise ConfigError("`max_requests_per_run` must be a whole number of at least 1")
        ids = config.get("business_ids")
        if ids is not None and (
            not isinstance(ids, list) or not all(isinstance(i, str) and i.strip() for i in ids)
        ):
            raise ConfigError("`business_ids` must be a list of business ids")


def _sync_rank(name: str) -> int:
    return SYNCED_FIRST.index(name) if name in SYNCED_FIRST else len(SYNCED_FIRST)


def main() -> None:
    """The `tap-ghl` console script."""
    run_cli(TapGhl)


if __name__ == "__main__":
    main()
