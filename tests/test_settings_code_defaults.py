"""Code that falls back to a setting's default when it is unset uses the schema's default."""

from __future__ import annotations

from typing import Any

import pytest
from singer_sdk import typing as th

from leadkit.settings import http_properties, request_timeout, retry_policy
from leadkit.writer.settings import max_concurrency, shutdown_grace, writer_properties
from tap_popl.tap import TapPopl
from tap_wisepops.tap import TapWisepops
from target_ghl.target import TargetGHL
from target_popin.target import TargetPopin


def defaults(properties: list[th.Property]) -> dict[str, Any]:
    """Each property's schema default, by name."""
    schema = th.PropertiesList(*properties).to_dict()["properties"]
    return {name: s["default"] for name, s in schema.items() if "default" in s}


def test_http_fallbacks_are_the_schema_defaults() -> None:
    given = defaults(http_properties())
    assert request_timeout({}) == request_timeout(given) == given["request_timeout"]
    assert retry_policy({}) == retry_policy(given)
    assert retry_policy({name: None for name in given}) == retry_policy(given)


def test_writer_fallbacks_are_the_schema_defaults() -> None:
    given = defaults(writer_properties())
    assert max_concurrency({}) == max_concurrency(given) == given["max_concurrency"]
    assert shutdown_grace({}) == shutdown_grace(given) == given["shutdown_timeout"]


@pytest.mark.parametrize("plugin", [TapPopl, TapWisepops, TargetGHL, TargetPopin])
def test_every_connector_declares_the_shared_settings_unchanged(plugin: Any) -> None:
    properties = plugin.config_jsonschema["properties"]
    shared = th.PropertiesList(*http_properties()).to_dict()["properties"]
    if plugin in (TargetGHL, TargetPopin):
        shared |= th.PropertiesList(*writer_properties()).to_dict()["properties"]
    assert {name: properties.get(name) for name in shared} == shared
