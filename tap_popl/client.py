"""The base stream for every Popl Open API endpoint: auth header, base URL, cursor pages."""

from __future__ import annotations

from pathlib import Path

import requests
from singer_sdk import SchemaDirectory, StreamSchema
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.helpers.jsonpath import extract_jsonpath
from singer_sdk.pagination import JSONPathPaginator
from typing_extensions import override

from leadkit.responses import json_body
from leadkit.tapstream import VendorRESTStream

DEFAULT_API_URL = "https://api.popl.co/api/pub/v2"
SCHEMAS = Path(__file__).parent / "schemas"


class NextCursorPaginator(JSONPathPaginator):
    """Follows `data.nextCursor` until it is null or absent."""

    def __init__(self) -> None:
        super().__init__("$.data.nextCursor")

    @override
    def get_next(self, response: requests.Response) -> str | None:
        """The next cursor, read from the body already parsed during validation."""
        return next(extract_jsonpath(self._jsonpath, json_body(response)), None)


class PoplStream(VendorRESTStream["str | None"]):
    """A Popl v2 endpoint: `Authorization` carries the key, raw or as a Bearer token."""

    vendor = "Popl"
    auth_setting = "api_key"
    #: Records are decoded JSON already: there is nothing to convert, and the schemas keep
    #: unknown properties, so the SDK's per-field pass would only cost time.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    #: `schemas/<stream name>.json`.
    schema = StreamSchema(SchemaDirectory(SCHEMAS))

    @property
    @override
    def http_headers(self) -> dict[str, str]:
        """The SDK's headers plus the credential in the configured scheme."""
        headers = dict(super().http_headers)
        key = str(self.config["api_key"])
        bearer = self.config.get("auth_scheme") == "bearer"
        headers["Authorization"] = f"Bearer {key}" if bearer else key
        return headers

    @override
    def get_new_paginator(self) -> NextCursorPaginator:
        """Popl pages with an opaque cursor in the body."""
        return NextCursorPaginator()
