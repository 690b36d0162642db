"""The README tells the truth about each connector's settings."""

from __future__ import annotations

from scripts.readme_about import CONNECTORS, README, render


def test_readme_has_a_settings_table_for_every_connector() -> None:
    text = README.read_text()
    for name in CONNECTORS:
        assert f"<!-- about:{name}:start -->\n#### Settings" in text


def test_readme_settings_tables_match_each_connectors_about() -> None:
    text = README.read_text()
    assert render(text) == text, "README settings tables are stale: run `make docs`"
