"""The base stream of tap-popin: Popin's events of one relay source, read from the spool."""

from __future__ import annotations

import typing as t
from pathlib import Path

from singer_sdk.schema.source import SchemaDirectory

from leadkit.spooled import SpoolStream

SCHEMAS = SchemaDirectory(Path(__file__).parent / "schemas")


class PopinSpoolStream(SpoolStream):
    """Entries of Popin sources (the bookmark and follow mode: leadkit/spooled.py)."""

    kind: t.ClassVar[str] = "popin"
