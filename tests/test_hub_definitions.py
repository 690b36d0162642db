"""The Meltano Hub definitions in hub/ agree with what each connector says about itself."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from scripts.meltano_settings import CONNECTORS, HUB, about, kind

# Its module-scoped fixture is built once, on one worker, under `--dist loadgroup`.
pytestmark = pytest.mark.xdist_group("test_hub_definitions")


def hub(connector: str) -> dict[str, Any]:
    """The Hub definition kept in hub/<connector>.yml."""
    return yaml.safe_load((HUB / f"{connector}.yml").read_text())


@pytest.fixture(scope="module", params=CONNECTORS)
def pair(request: pytest.FixtureRequest) -> tuple[dict[str, Any], dict[str, Any]]:
    """(hub definition, --about) of one connector."""
    return hub(request.param), about(request.param)


def test_every_connector_has_a_hub_definition() -> None:
    assert sorted(p.stem for p in HUB.glob("*.yml")) == sorted(CONNECTORS)


def test_hub_definition_names_the_connector_and_its_executable(
    pair: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    definition, info = pair
    assert definition["name"] == info["name"]
    assert definition["executable"] == info["name"]
    assert definition["namespace"] == info["name"].replace("-", "_")
    assert definition["pip_url"]
    assert definition["variant"]


def test_hub_settings_are_the_connector_settings(
    pair: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    definition, info = pair
    assert sorted(s["name"] for s in definition["settings"]) == sorted(
        info["settings"]["properties"]
    )


def test_hub_marks_sensitive_exactly_the_connector_secrets(
    pair: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    definition, info = pair
    secrets = {n for n, s in info["settings"]["properties"].items() if s.get("secret")}
    sensitive = {s["name"] for s in definition["settings"] if s.get("sensitive")}
    # tap-popin reads the relay's local spool and calls no API, so it holds no credential.
    assert secrets or info["name"] == "tap-popin", "a connector without a secret is unexpected"
    assert sensitive == secrets


def test_hub_setting_kinds_are_the_connector_types(
    pair: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    definition, info = pair
    properties = info["settings"]["properties"]
    misfits = {
        s["name"]: (s.get("kind", "string"), kind(properties[s["name"]]))
        for s in definition["settings"]
        if s["name"] in properties and s.get("kind", "string") != kind(properties[s["name"]])
    }
    assert misfits == {}


def test_hub_required_settings_are_the_connector_required_settings(
    pair: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    definition, info = pair
    required = set(info["settings"].get("required", []))
    groups = definition.get("settings_group_validation") or [[]]
    assert required <= set(groups[0])
    assert all(required <= set(group) for group in groups)


def test_hub_capabilities_are_the_connector_capabilities(
    pair: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    definition, info = pair
    assert sorted(definition["capabilities"]) == sorted(info["capabilities"])
