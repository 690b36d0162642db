"""tap-wisepops (stub until its issue lands)."""

from __future__ import annotations

from singer_sdk import Stream, Tap
from singer_sdk import typing as th


class TapWisepops(Tap):
    """tap-wisepops."""

    name = "tap-wisepops"
    config_jsonschema = th.PropertiesList(
        th.Property("api_key", th.StringType, required=True, secret=True),
    ).to_dict()

    def discover_streams(self) -> list[Stream]:
        """No streams yet."""
        return []
