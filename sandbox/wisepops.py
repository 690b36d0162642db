"""Emulator of the wisepops API (to be filled in from ../shared/api/wisepops.md)."""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute

from sandbox.vendor import VendorApi


class WisepopsApi(VendorApi):
    """Placeholder until the emulator is written."""

    name = "wisepops"
    default_keys = ()

    def initial_store(self) -> dict[str, Any]:
        """Nothing yet."""
        return {}

    def seed_records(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Nothing yet."""
        return {}

    def routes(self) -> list[BaseRoute]:
        """Nothing yet."""
        return []
