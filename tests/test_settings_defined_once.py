"""Each setting is defined once, in its connector's schema: meltano.yml and hub/ repeat it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts.meltano_settings import (
    COMMAND,
    CONNECTORS,
    HUB,
    MELTANO_YML,
    ROOT,
    about,
    json_type,
    kind,
    targets,
)

# Its module-scoped fixture is built once, on one worker, under `--dist loadgroup`.
pytestmark = pytest.mark.xdist_group("test_settings_defined_once")


@pytest.fixture(scope="module")
def abouts() -> dict[str, dict[str, Any]]:
    """`--about` of every connector, read once."""
    return {connector: about(connector) for connector in CONNECTORS}


def meltano_settings(connector: str) -> list[dict[str, Any]]:
    """The settings meltano.yml defines for one of our plugins."""
    project = yaml.safe_load(MELTANO_YML.read_text())
    for plugins in project["plugins"].values():
        for plugin in plugins:
            if plugin["name"] == connector:
                return list(plugin.get("settings") or [])
    pytest.fail(f"meltano.yml defines no plugin `{connector}`")


def hub_settings(connector: str) -> list[dict[str, Any]]:
    """The settings hub/<connector>.yml defines."""
    return list(yaml.safe_load((HUB / f"{connector}.yml").read_text())["settings"])


def disagreements(
    connector: str, file: Path, settings: list[dict[str, Any]], info: dict[str, Any]
) -> list[str]:
    """One line per setting where `file` and the connector's `--about` differ."""
    where = f"{file.relative_to(ROOT)} ({connector})"
    fix = f"regenerate with `{COMMAND}`"
    properties: dict[str, Any] = info["settings"]["properties"]
    defined = {s["name"]: s for s in settings}
    problems = [
        f"{where}: `{name}` is a setting of the connector but is missing; {fix}"
        for name in properties
        if name not in defined
    ]
    problems += [
        f"{where}: `{name}` is not a setting of the connector; remove it or {fix}"
        for name in defined
        if name not in properties
    ]
    for name, schema in properties.items():
        setting = defined.get(name)
        if setting is None:
            continue
        expected: dict[str, Any] = {
            "kind": kind(schema),
            "default": schema.get("default"),
            "secret": bool(schema.get("secret")),
        }
        found: dict[str, Any] = {
            "kind": setting.get("kind", "string"),
            "default": setting.get("value"),
            "secret": bool(setting.get("sensitive")),
        }
        if expected["kind"] == "options":
            expected["options"] = list(schema["enum"])
            found["options"] = [o["value"] for o in setting.get("options") or []]
        for aspect, value in expected.items():
            # `==` alone would take 1 for True and 1.0 for 1.
            if found[aspect] != value or type(found[aspect]) is not type(value):
                problems.append(
                    f"{where}: `{name}` has {aspect} {found[aspect]!r}, the connector "
                    f"{value!r}; {fix}"
                )
    return problems


@pytest.mark.parametrize("connector", CONNECTORS)
def test_meltano_yml_settings_are_the_connector_settings(
    abouts: dict[str, dict[str, Any]], connector: str
) -> None:
    problems = disagreements(connector, MELTANO_YML, meltano_settings(connector), abouts[connector])
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("connector", CONNECTORS)
def test_hub_settings_are_the_connector_settings(
    abouts: dict[str, dict[str, Any]], connector: str
) -> None:
    path = HUB / f"{connector}.yml"
    problems = disagreements(connector, path, hub_settings(connector), abouts[connector])
    assert not problems, "\n".join(problems)


def test_generated_files_are_current(abouts: dict[str, dict[str, Any]]) -> None:
    stale = [
        str(path.relative_to(ROOT))
        for path, render in targets(abouts).items()
        if render(path.read_text()) != path.read_text()
    ]
    assert not stale, f"stale labels or descriptions in {', '.join(stale)}: run `{COMMAND}`"


@pytest.mark.parametrize("connector", CONNECTORS)
def test_number_defaults_are_whole(abouts: dict[str, dict[str, Any]], connector: str) -> None:
    """Meltano shows number settings as integers, so their defaults must be whole numbers."""
    properties = abouts[connector]["settings"]["properties"]
    fractional = {
        name: schema["default"]
        for name, schema in properties.items()
        if json_type(schema) == "number"
        and schema.get("default") is not None
        and (not isinstance(schema["default"], int) or isinstance(schema["default"], bool))
    }
    assert fractional == {}, f"{connector}: write these defaults as whole numbers"
