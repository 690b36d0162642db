"""tap-popl: event leads from the Popl Open API v2."""

from __future__ import annotations

import typing as t

from singer_sdk import typing as th
from typing_extensions import override

from leadkit.cli import run as run_cli
from leadkit.errors import ConfigError
from leadkit.settings import http_properties, is_whole_number
from leadkit.tap import VendorTap
from leadkit.timestamps import parse_instant, parse_start_date
from leadkit.urls import require_safe_url
from tap_popl.client import DEFAULT_API_URL
from tap_popl.streams import (
    DEFAULT_CURSOR_RESTARTS,
    DEFAULT_INCLUDE_DEFAULT_LEADS,
    DEFAULT_LOOKBACK_WINDOW_MINUTES,
    LeadsStream,
)

if t.TYPE_CHECKING:
    from singer_sdk import Stream

SCOPE_SETTINGS = ("team_id", "subteam_ids", "member_ids")
AUTH_SCHEMES = ("raw", "bearer")
DEFAULT_AUTH_SCHEME = "raw"
STREAM_TYPES: tuple[type[Stream], ...] = (LeadsStream,)


class TapPopl(VendorTap):
    """Reads Popl event leads incrementally, with a lookback for leads that sync late."""

    name = "tap-popl"
    config_jsonschema = th.PropertiesList(
        th.Property(
            "api_key",
            th.StringType,
            required=True,
            secret=True,
            description="Popl Open API key (Popl Teams > Admin > API Keys). Team-wide leads "
            "need a key created by a Full Team Admin.",
        ),
        th.Property(
            "api_url",
            th.StringType,
            default=DEFAULT_API_URL,
            description="API root. Must be https, except on a loopback host (the sandbox).",
        ),
        th.Property(
            "auth_scheme",
            th.StringType,
            default=DEFAULT_AUTH_SCHEME,
            allowed_values=list(AUTH_SCHEMES),
            description="How the key is sent: `raw` (`Authorization: <key>`, as the API "
            "reference says) or `bearer` (`Authorization: Bearer <key>`).",
        ),
        th.Property(
            "team_id",
            th.IntegerType,
            description="Read the whole team's leads. Set exactly one of `team_id`, "
            "`subteam_ids`, `member_ids`.",
        ),
        th.Property(
            "subteam_ids",
            th.ArrayType(th.IntegerType),
            description="Read the leads of these subteams (instead of `team_id`).",
        ),
        th.Property(
            "member_ids",
            th.ArrayType(th.IntegerType),
            description="Read the leads assigned to these members (instead of `team_id`).",
        ),
        th.Property(
            "start_date",
            th.DateTimeType,
            description="Earliest capture time to read on the first run (and a floor after).",
        ),
        th.Property(
            "lookback_window_minutes",
            th.IntegerType,
            default=DEFAULT_LOOKBACK_WINDOW_MINUTES,
            description="Each run re-reads leads captured this long before the bookmark, "
            "to catch leads captured offline that sync late. Re-read leads are emitted again "
            "(same `leadId`), so the target must upsert.",
        ),
        th.Property(
            "cursor_restarts",
            th.IntegerType,
            default=DEFAULT_CURSOR_RESTARTS,
            description="When Popl refuses a page cursor (expired, or its lead deleted), the "
            "run searches again from the last emitted capture time, at most this many times "
            "per run; then it fails with Popl's reason. 0 fails at the first refusal.",
        ),
        th.Property(
            "lead_sources",
            th.ArrayType(th.StringType),
            description="Only leads from these capture methods, e.g. BADGE_SCAN, QR_CODE_SCAN.",
        ),
        th.Property(
            "include_default_leads",
            th.BooleanType,
            default=DEFAULT_INCLUDE_DEFAULT_LEADS,
            description="Include the default sample leads Popl adds to accounts.",
        ),
        *http_properties(),
    ).to_dict()

    @override
    def discover_streams(self) -> list[Stream]:
        """One stream per documented endpoint."""
        return [stream_type(tap=self) for stream_type in STREAM_TYPES]

    @staticmethod
    @override
    def check_settings(config: t.Mapping[str, t.Any]) -> None:
        """Refuse a config that cannot work, before any request is sent."""
        if not config.get("api_key"):
            msg = "`api_key` is required: create one in Popl under Admin > API Keys"
            raise ConfigError(msg)
        require_safe_url(str(config.get("api_url") or DEFAULT_API_URL), "api_url")
        scheme = config.get("auth_scheme", DEFAULT_AUTH_SCHEME)
        if scheme not in AUTH_SCHEMES:
            msg = f"`auth_scheme` must be one of {', '.join(AUTH_SCHEMES)}"
            raise ConfigError(msg)
        scopes = [name for name in SCOPE_SETTINGS if config.get(name) not in (None, [], "")]
        if len(scopes) != 1:
            given = ", ".join(f"`{s}`" for s in scopes) or "none"
            msg = (
                "set exactly one of `team_id`, `subteam_ids` or `member_ids` "
                f"(the lead search takes one scope); given: {given}"
            )
            raise ConfigError(msg)
        if config.get("start_date") and parse_start_date(config["start_date"]) is None:
            msg = "`start_date` must be an ISO-8601 date or date-time, e.g. 2025-01-01T00:00:00Z"
            raise ConfigError(msg)
        lookback = config.get("lookback_window_minutes", DEFAULT_LOOKBACK_WINDOW_MINUTES)
        if not is_whole_number(lookback):
            msg = "`lookback_window_minutes` must be a whole number of minutes, 0 or more"
            raise ConfigError(msg)
        if not is_whole_number(config.get("cursor_restarts", DEFAULT_CURSOR_RESTARTS)):
            msg = "`cursor_restarts` must be a whole number, 0 or more"
            raise ConfigError(msg)

    @override
    def load_state(self, state: dict[str, t.Any]) -> None:
        """Load the state, dropping a bookmark that is not a date (an older version wrote it)."""
        super().load_state(state)
        bookmark = self.state.get("bookmarks", {}).get(LeadsStream.name, {})
        value = bookmark.get("replication_key_value")
        if value is not None and parse_instant(value) is None:
            del bookmark["replication_key_value"]
            self.logger.warning(
                "The saved `%s` bookmark is not an ISO-8601 date and time (an older tap-popl "
                "could save one); it is ignored and this run reads from %s.",
                LeadsStream.name,
                "`start_date`" if self.config.get("start_date") else "the beginning",
            )


def main() -> None:
    """The `tap-popl` console script."""
    run_cli(TapPopl)


if __name__ == "__main__":
    main()
