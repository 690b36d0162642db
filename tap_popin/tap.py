"""tap-popin: Popin's webhook call events, read from the relay's spool (`lead-relay serve`)."""

from __future__ import annotations

import typing as t

from singer_sdk import Stream
from singer_sdk import typing as th
from typing_extensions import override

from leadkit.cli import run as run_cli
from leadkit.spool import check_spool_settings
from leadkit.tap import VendorTap
from tap_popin.streams import CallEventsStream


class TapPopin(VendorTap):
    """Reads the Popin events that `lead-relay` stored for one source."""

    name = "tap-popin"
    # It reads a local spool and calls no API: no credential (as tap-wisepops' spool mode).
    secret_settings = ()
    config_jsonschema = th.PropertiesList(
        th.Property(
            "webhook_spool",
            th.StringType,
            required=True,
            description="The relay's spool: the path (or sqlite:///path) given to "
            "`lead-relay serve --spool`.",
        ),
        th.Property(
            "webhook_source",
            th.StringType,
            required=True,
            description="The relay source NAME whose events are read (`--source "
            "NAME=popin:ENV_VAR`, Popin posting to /hooks/popin/NAME).",
        ),
        th.Property(
            "follow",
            th.BooleanType,
            default=False,
            description="Keep running, emitting events and STATE as the relay stores them, "
            "until SIGTERM or SIGINT (exit 143 or 130).",
        ),
    ).to_dict()

    @override
    def discover_streams(self) -> list[Stream]:
        """One stream: the call events."""
        return [CallEventsStream(self)]

    @staticmethod
    @override
    def check_settings(config: t.Mapping[str, t.Any]) -> None:
        """Refuse a spool or source that cannot be read; runs before the spool is opened."""
        check_spool_settings(config, required=True)


def main() -> None:
    """The `tap-popin` console script."""
    run_cli(TapPopin)


if __name__ == "__main__":
    main()
