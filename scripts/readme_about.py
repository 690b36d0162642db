"""Regenerate each connector's settings table in docs/<connector>.md from its `--about`.

Run `python -m scripts.readme_about` (or `make docs`). The table lists the connector's own
settings; the Singer SDK's common ones (stream maps, flattening, batch messages...) are named
in one line under it, with a pointer to the SDK's documentation, since they are the same in
every SDK connector.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from singer_sdk.helpers import capabilities

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CONNECTORS = ("tap-popl", "tap-wisepops", "tap-ghl", "tap-popin", "target-ghl", "target-popin")
SDK_DOCS = "https://sdk.meltano.com/en/latest/capabilities.html"
#: Prefixes under which several SDK settings are named as one.
SDK_GROUPS = ("flattening_", "batch_config")


def doc_path(connector: str) -> Path:
    """The page that holds a connector's settings table."""
    return DOCS / f"{connector}.md"


def sdk_settings() -> set[str]:
    """Every setting the Singer SDK adds to a connector's own, by capability."""
    names: set[str] = set()
    for value in vars(capabilities).values():
        if isinstance(value, dict) and isinstance(value.get("properties"), dict):
            names.update(value["properties"])
    return names


@cache
def about(executable: str) -> dict[str, Any]:
    """`<connector> --about --format=json`, from the project's own environment."""
    bin_dir = Path(sys.executable).parent
    text = subprocess.run(
        [str(bin_dir / executable), "--about", "--format=json"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return dict(json.loads(text))


def _kind(schema: Mapping[str, Any]) -> str:
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else list(types)
    kinds = [t for t in types if t != "null"]
    if "enum" in schema:
        return " \\| ".join(f"`{v}`" for v in schema["enum"] if v is not None)
    if kinds == ["string"] and schema.get("format") == "date-time":
        return "date-time"
    return " or ".join(kinds) or "any"


def _default(schema: Mapping[str, Any]) -> str:
    if "default" not in schema or schema["default"] is None:
        return ""
    return f"`{json.dumps(schema['default']).strip(chr(34))}`"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def settings_table(settings: Mapping[str, Any]) -> str:
    """The connector's own settings as a markdown table, then the SDK's in one line."""
    sdk = sdk_settings()
    required = set(settings.get("required", []))
    rows = [
        "| Setting | Type | Default | Description |",
        "|:--|:--|:--|:--|",
    ]
    common: list[str] = []
    for name, schema in settings["properties"].items():
        if name in sdk:
            group = next((g for g in SDK_GROUPS if name.startswith(g)), None)
            label = f"`{group}*`" if group and group.endswith("_") else f"`{name}`"
            default = _default(schema)
            if default:
                label += f" (default {default})"
            if label not in common:
                common.append(label)
            continue
        marks = [
            m for m, on in (("required", name in required), ("secret", schema.get("secret"))) if on
        ]
        setting = f"`{name}`" + (f" ({', '.join(marks)})" if marks else "")
        description = _cell(schema.get("description", ""))
        rows.append(f"| {setting} | {_kind(schema)} | {_default(schema)} | {description} |")
    lines = rows
    if common:
        lines += [
            "",
            "Also accepted, as in every Singer SDK connector: "
            + ", ".join(common)
            + f". See the SDK's [capabilities]({SDK_DOCS}).",
        ]
    return "\n".join(lines)


def render(text: str, connector: str) -> str:
    """A page with its marked settings table replaced by the connector's current one."""
    pattern = re.compile(
        rf"(<!-- about:{connector}:start -->\n).*?(<!-- about:{connector}:end -->)", re.DOTALL
    )
    table = settings_table(about(connector)["settings"])
    return pattern.sub(lambda m: f"{m.group(1)}{table}\n{m.group(2)}", text)


def main() -> None:
    """Rewrite each connector's page in place."""
    for connector in CONNECTORS:
        path = doc_path(connector)
        path.write_text(render(path.read_text(), connector))


if __name__ == "__main__":
    main()
