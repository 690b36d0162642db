"""docs/ tells the truth about each connector's settings, and its commands name what Meltano
needs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scripts.readme_about import CONNECTORS, DOCS, doc_path, render, sdk_settings

ROOT = DOCS.parent
PAGES = sorted([ROOT / "README.md", *DOCS.glob("*.md")])
CODE_BLOCK = re.compile(r"^```(?:bash|sh|shell)\n(.*?)^```", re.DOTALL | re.MULTILINE)


def table_rows(connector: str) -> list[str]:
    text = doc_path(connector).read_text()
    block = text.split(f"<!-- about:{connector}:start -->")[1].split("<!-- about:")[0]
    return [line for line in block.splitlines() if line.startswith("| `")]


def shell_lines(page: Path) -> list[str]:
    """Every line of the page's shell code blocks, comments and continuations joined."""
    found = []
    for block in CODE_BLOCK.findall(page.read_text()):
        for line in block.replace("\\\n", " ").splitlines():
            command = line.split(" #", 1)[0].strip()
            if command and not command.startswith("#"):
                found.append(command)
    return found


@pytest.mark.parametrize("connector", CONNECTORS)
def test_each_connector_page_has_a_generated_settings_table(connector: str) -> None:
    assert table_rows(connector), f"{doc_path(connector)} has no settings table: run `make docs`"


@pytest.mark.parametrize("connector", CONNECTORS)
def test_each_settings_table_matches_the_connectors_about(connector: str) -> None:
    text = doc_path(connector).read_text()
    assert render(text, connector) == text, "settings tables are stale: run `make docs`"


@pytest.mark.parametrize("connector", CONNECTORS)
def test_settings_tables_list_the_connectors_own_settings_not_the_sdks(connector: str) -> None:
    listed = {row.split("`")[1] for row in table_rows(connector)}
    assert listed & sdk_settings() == set()
    # tap-popin reads the relay's spool: it has no API to point at.
    assert "api_url" in listed or connector == "tap-popin"


def test_no_page_prints_a_default_as_a_python_enum() -> None:
    enums = [
        page.name for page in PAGES if re.search(r"\b[A-Z]\w+\.[A-Z_]{3,}\b", page.read_text())
    ]
    assert enums == []


def test_every_meltano_config_or_state_command_names_its_environment() -> None:
    # Both ignore `default_environment`: without --environment they see no credentials.
    unnamed = [
        f"{page.name}: {line}"
        for page in PAGES
        for line in shell_lines(page)
        if re.search(r"\bmeltano (config|state)\b", line) and "MELTANO_ENVIRONMENT=" not in line
    ]
    assert unnamed == []
