"""target-popin (stub until its issue lands)."""

from __future__ import annotations

from singer_sdk import Target
from singer_sdk import typing as th
from singer_sdk.sinks import BatchSink


class _NullSink(BatchSink):
    def process_batch(self, context: dict) -> None:
        """Nothing yet."""


class TargetPopin(Target):
    """target-popin."""

    name = "target-popin"
    config_jsonschema = th.PropertiesList(
        th.Property("api_key", th.StringType, required=True, secret=True),
    ).to_dict()
    default_sink_class = _NullSink
