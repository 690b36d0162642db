"""What every target-ghl sink of a run shares: the location's client, its custom fields, the
field precedence and the bulk tag chunk size learned so far."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from target_ghl.client import GhlClient
from target_ghl.custom_fields import CustomFieldCatalog
from target_ghl.precedence import Precedence
from target_ghl.tags import ChunkSize


class CustomFieldsOnce:
    """The location's definitions, fetched on first need and shared by every sink."""

    def __init__(self, client: GhlClient) -> None:
        self._client = client
        self._lock = threading.Lock()
        self._catalog: CustomFieldCatalog | None = None

    def get(self) -> CustomFieldCatalog:
        """The catalog (one GET per run)."""
        with self._lock:
            if self._catalog is None:
                self._catalog = CustomFieldCatalog(self._client.custom_fields())
            return self._catalog


@dataclass
class GhlServices:
    """Built once per run by TargetGHL and handed to each of its sinks."""

    ghl: GhlClient
    precedence: Precedence = field(default_factory=lambda: Precedence({}))
    chunk: ChunkSize = field(default_factory=ChunkSize)
    custom_fields: CustomFieldsOnce = field(init=False)

    def __post_init__(self) -> None:
        self.custom_fields = CustomFieldsOnce(self.ghl)
