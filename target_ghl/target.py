"""target-ghl: records into HighLevel contacts, tags, notes and tasks, at the rate ceiling."""

from __future__ import annotations

import phonenumbers
from singer_sdk import typing as th
from typing_extensions import override

from leadkit.cli import run as run_cli
from leadkit.errors import ConfigError
from leadkit.ghl import api_properties
from leadkit.oauth import check_auth_settings, oauth_properties
from leadkit.settings import http_properties
from leadkit.urls import require_safe_url
from leadkit.writer import ApiClient, ApiTarget, WriterRun, writer_properties
from target_ghl.client import GhlClient, build_api_client
from target_ghl.precedence import Precedence, parse_precedence
from target_ghl.services import GhlServices
from target_ghl.sinks import ContactsSink

TAGS_MODES = ("add", "replace")
DEFAULT_TAGS_MODE = "add"


class TargetGHL(ApiTarget[GhlServices]):
    """Upserts contacts into one HighLevel location (API v2)."""

    name = "target-ghl"
    secret_settings = ("access_token", "client_secret", "refresh_token")
    #: A token or the OAuth settings: `check_auth_settings` says which are missing.
    required_secrets = ()
    default_sink_class = ContactsSink
    config_jsonschema = th.PropertiesList(
        th.Property(
            "access_token",
            th.StringType,
            secret=True,
            description="Private Integration Token (pit-...) or sub-account OAuth access token "
            "with contacts.write and locations/customFields.readonly scopes. Or use the OAuth "
            "settings instead, which refresh the token.",
        ),
        *oauth_properties(),
        th.Property(
            "location_id",
            th.StringType,
            required=True,
            description="The sub-account (location) the contacts belong to.",
        ),
        *api_properties(),
        th.Property(
            "tags_mode",
            th.StringType,
            default=DEFAULT_TAGS_MODE,
            allowed_values=list(TAGS_MODES),
            description="`add` adds the record's tags to the contact's; `replace` makes them "
            "the contact's only tags.",
        ),
        th.Property(
            "field_precedence",
            th.ObjectType(),
            description="Per contact field (or `*`): `{streams: [strongest, ...], policy}`. A "
            "stream does not overwrite a field a stronger stream wrote; policy `overwrite` "
            "(default), `if_empty` (only fill an empty field) or `never` (only on creation).",
        ),
        th.Property(
            "default_phone_region",
            th.StringType,
            description="ISO 3166 region (e.g. US) used to read phone numbers written without "
            "a country code.",
        ),
        *writer_properties(),
        *http_properties(),
    ).to_dict()

    @override
    def check_settings(self) -> None:
        """Refuse a bad configuration before any request."""
        check_auth_settings(self.config)
        require_safe_url(str(self.config.get("api_url") or ""), "api_url")
        if not str(self.config.get("location_id") or "").strip():
            raise ConfigError("`location_id` must not be empty")
        if self.config.get("tags_mode", DEFAULT_TAGS_MODE) not in TAGS_MODES:
            raise ConfigError("`tags_mode` must be `add` or `replace`")
        parse_precedence(self.config.get("field_precedence"))
        region = self.config.get("default_phone_region")
        if region and str(region).upper() not in phonenumbers.SUPPORTED_REGIONS:
            raise ConfigError(
                "`default_phone_region` must be an ISO 3166 alpha-2 region such as US or GB"
            )

    @override
    def build_client(self) -> ApiClient:
        """The GHL-configured HTTP client (`check_settings` has vetted `api_url`)."""
        return build_api_client(self.config)

    @override
    def build_services(self, run: WriterRun) -> GhlServices:
        """The location's client, custom fields and field precedence, shared by every sink."""
        return GhlServices(
            GhlClient(run.client, str(self.config["location_id"]).strip()),
            precedence=Precedence(parse_precedence(self.config.get("field_precedence"))),
        )


def main() -> None:
    """The `target-ghl` console script."""
    run_cli(TargetGHL)


if __name__ == "__main__":
    main()
