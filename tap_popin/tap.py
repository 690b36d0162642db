"""tap-popin: Popin's webhook call events, read from the relay's spool (`lead-relay serve`)."""

from __future__ import annotations

import typing as t
from pathlib import Path

from singer_sdk import Stream
from singer_sdk import typing as th
from typing_extensions import override

from leadkit.cli import run as run_cli
from leadkit.errors import ConfigError
from leadkit.tap import VendorTap
from tap_popin.streams import CallEventsStream


def check_spool_settings(config: t.Mapping[str, t.Any]) -> None:
    """`webhook_spool` names an existing spool and `webhook_source` a relay source."""
    location = config.get("webhook_spool")
    if not isinstance(location, str) or not location.strip():
        raise ConfigError("`webhook_spool` is required: the relay's spool (a SQLite file path)")
    path = location.removeprefix("sqlite:///")
    if "://" not in path and not Path(path).is_file():
        raise ConfigError("`webhook_spool` names no file: start `lead-relay serve` with it first")
    source = config.get("webhook_source")
    if not isinstance(source, str) or not source.strip():
        raise ConfigError("`webhook_source` is required: the relay source NAME (`--source`)")


class TapPopin(VendorTap):
    """Reads the Popin events that `lead-relay` stored for one source."""

    name = "tap-popin"
    # The spool's location holds no credential (a SQLite path); nothing else is secret.
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
    ).to_dict()

    @override
    def discover_streams(self) -> list[Stream]:
        """One stream: the call events."""
        return [CallEventsStream(self)]

    @staticmethod
    @override
    def check_settings(config: t.Mapping[str, t.Any]) -> None:
        """Refuse a spool or source that cannot be read; runs before the spool is opened."""
        check_spool_settings(config)


def main() -> None:
    """The `tap-popin` console script."""
    run_cli(TapPopin)


if __name__ == "__main__":
    main()
