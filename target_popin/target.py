"""target-popin: registers leads with Popin and books their video calls, never twice."""

from __future__ import annotations

from decimal import Decimal

from singer_sdk import typing as th
from typing_extensions import override

from leadkit.cli import run as run_cli
from leadkit.errors import ConfigError
from leadkit.settings import http_properties, request_timeout, retry_policy
from leadkit.spool import check_spool_settings
from leadkit.urls import require_safe_url
from leadkit.writer import ApiClient, ApiTarget, WriterRun
from leadkit.writer.settings import writer_properties
from target_popin.client import AUTH_SETTINGS
from target_popin.events import PopinEvents
from target_popin.mapping import is_calling_code
from target_popin.sinks import (
    DEFAULT_WEBHOOK_WAIT_SECONDS,
    MAX_SLOT_REFUSALS,
    PopinServices,
    PopinSink,
    booked_times,
)
from target_popin.slots import Slots

DEFAULT_API_URL = "https://widget01.popin.to/api/v1/external"
SCHEDULES = ("none", "next_available")
DEFAULT_SCHEDULE = "none"


class TargetPopin(ApiTarget[PopinServices]):
    """Singer target for Popin's external "Insta Call" API."""

    name = "target-popin"
    default_sink_class = PopinSink
    secret_settings = ("api_key", "seller_token")
    config_jsonschema = th.PropertiesList(
        th.Property(
            "api_key",
            th.StringType,
            required=True,
            secret=True,
            description="Popin API key (Dashboard > Settings > Developers > Popin API), "
            "sent as X-API-KEY.",
        ),
        th.Property(
            "seller_token",
            th.StringType,
            required=True,
            secret=True,
            description="The seller token sent as X-TOKEN with every call.",
        ),
        th.Property(
            "api_url",
            th.StringType,
            default=DEFAULT_API_URL,
            description="Base URL of Popin's external API. Must be https unless the host "
            "is loopback (the local sandbox).",
        ),
        th.Property(
            "group",
            th.StringType,
            description="Routing group id applied to captures whose record has no `group`.",
        ),
        th.Property(
            "agent",
            th.IntegerType,
            description="Agent id applied to captures whose record has no `agent`.",
        ),
        th.Property(
            "native",
            th.BooleanType,
            description="Sent with every capture when set: false makes Popin return the join "
            "URL configured in the seller's dashboard.",
        ),
        th.Property(
            "campaign",
            th.ObjectType(),
            description="Campaign fields (e.g. utm_source) sent with every capture; a "
            "record's own `campaign` fields win.",
        ),
        th.Property(
            "default_country_code",
            th.StringType,
            description="Calling code (e.g. 91, 44) used to read phones written in local "
            "format when the record has no `country`.",
        ),
        th.Property(
            "schedule",
            th.StringType,
            default=DEFAULT_SCHEDULE,
            allowed_values=list(SCHEDULES),
            description="`none`: capture only (records with `schedule_at` are still booked). "
            "`next_available`: book every captured person the next free slot.",
        ),
        th.Property(
            "max_slot_refusals",
            th.IntegerType,
            default=MAX_SLOT_REFUSALS,
            description="Slots Popin may refuse one person (each refused slot is offered to "
            "nobody else in the run) before the person is rejected as `<n> slots refused`.",
        ),
        th.Property(
            "webhook_spool",
            th.StringType,
            description="The relay's spool (`lead-relay serve --spool`), where Popin's "
            "`popin_user_captured` and `popin_scheduled_created` events settle captures and "
            "bookings whose answer was lost. Without it those are rejected as `capture "
            "outcome unknown` (or `schedule outcome unknown`).",
        ),
        th.Property(
            "webhook_source",
            th.StringType,
            description="The relay source NAME receiving this seller's Popin events "
            "(`--source NAME=popin:ENV_VAR`); required with `webhook_spool`.",
        ),
        th.Property(
            "webhook_wait_seconds",
            th.NumberType,
            default=DEFAULT_WEBHOOK_WAIT_SECONDS,
            description="Seconds a capture or booking whose answer was lost waits for its "
            "event before it is rejected (a later run looks again).",
        ),
        *http_properties(),
        *writer_properties(),
    ).to_dict()

    @override
    def check_settings(self) -> None:
        """Refuse bad settings before any request."""
        config = self.config
        require_safe_url(str(config.get("api_url") or DEFAULT_API_URL), "api_url")
        if config.get("schedule", DEFAULT_SCHEDULE) not in SCHEDULES:
            raise ConfigError(f"`schedule` must be one of: {', '.join(SCHEDULES)}")
        code = config.get("default_country_code")
        if code not in (None, "") and not is_calling_code(code):
            raise ConfigError("`default_country_code` must be a calling code such as 91 or 44")
        refusals = config.get("max_slot_refusals")
        if refusals is not None and int(refusals) < 1:
            raise ConfigError("`max_slot_refusals` must be at least 1")
        check_spool_settings(config)
        wait = config.get("webhook_wait_seconds")
        if wait is not None and (
            isinstance(wait, bool)
            or not isinstance(wait, (int, float, Decimal))
            or not 0 <= wait <= 600
        ):
            raise ConfigError("`webhook_wait_seconds` must be a number from 0 to 600")

    @override
    def build_client(self) -> ApiClient:
        """The run's Popin client: both credentials on every call (`check_settings` has vetted
        `api_url`)."""
        config = self.config
        return ApiClient(
            vendor="Popin",
            base_url=str(config.get("api_url") or DEFAULT_API_URL),
            headers={
                "X-API-KEY": str(config["api_key"]),
                "X-TOKEN": str(config["seller_token"]),
                "Accept": "application/json",
            },
            auth_setting=AUTH_SETTINGS,
            policy=retry_policy(dict(config)),
            timeout=request_timeout(config),
            # Popin reports the failures it acted on as `status: 0`; a 5xx means not done.
            server_errors_ambiguous=False,
        )

    @override
    def build_services(self, run: WriterRun) -> PopinServices:
        """Free slots, read once per run, and Popin's capture events when a spool is set;
        shared by every sink."""
        config = self.config
        events = None
        if config.get("webhook_spool"):
            events = PopinEvents(str(config["webhook_spool"]), str(config["webhook_source"]))
        return PopinServices(Slots(run.client, lambda: booked_times(run.ledger)), events)

    @override
    def process_endofpipe(self) -> None:
        """Drain and report as every writer does, then release the spool of Popin's events."""
        try:
            super().process_endofpipe()
        finally:
            # `services` is built on first use: a run that read no record opened no spool.
            services = self.__dict__.get("services")
            if isinstance(services, PopinServices) and services.events is not None:
                services.events.close()


def main() -> None:
    """The `target-popin` console script."""
    run_cli(TargetPopin)


if __name__ == "__main__":
    main()
