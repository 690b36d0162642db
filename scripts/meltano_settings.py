"""Write each connector's settings into meltano.yml and hub/<connector>.yml from its `--about`.

Run `python -m scripts.meltano_settings` (or `make docs`); `--check` only reports stale files.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
MELTANO_YML = ROOT / "meltano.yml"
HUB = ROOT / "hub"
CONNECTORS = ("tap-popl", "tap-wisepops", "tap-ghl", "tap-popin", "target-ghl", "target-popin")
COMMAND = "python -m scripts.meltano_settings"

# JSON Schema type -> Meltano setting kind, for both meltano.yml and hub/.
# `number` is shown as `integer`, not `decimal`: Meltano 4.4.1 reads a `decimal` setting given
# by an environment variable (or `meltano config set`) as a Python Decimal, then fails to write
# the connector's config file ("TypeError: Object of type Decimal is not JSON serializable").
# As `integer` the value is parsed by int(), so whole seconds work from every source;
# fractions still reach the connector when written as YAML numbers (a plugin's `config:`),
# since Meltano only converts strings. The connectors keep accepting any number.
KINDS = {
    "string": "string",
    "integer": "integer",
    "number": "integer",
    "boolean": "boolean",
    "array": "array",
    "object": "object",
}

# Presentation only: labels where the one derived from the name reads badly.
LABELS = {
    "auth_scheme": "Authorization scheme",
    "lookback_window_minutes": "Lookback window (minutes)",
    "wisepop_ids": "Popup IDs",
    "max_api_calls": "Max API calls per run",
    "native": "Native join link",
    "validate_records": "Validate records against the stream schema",
}
OPTION_LABELS = {
    "auth_scheme": {"raw": "Raw key", "bearer": "Bearer token"},
    "schedule": {"next_available": "Next available slot"},
}
_WORDS = {"api": "API", "url": "URL", "id": "ID", "ids": "IDs"}


def about(connector: str) -> dict[str, Any]:
    """`<connector> --about --format=json`, run from the project's own environment."""
    executable = Path(sys.executable).parent / connector
    output = subprocess.run(
        [str(executable), "--about", "--format=json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    return dict(json.loads(output))


def json_type(schema: Mapping[str, Any]) -> str:
    """The main non-null JSON type of a setting's schema."""
    types = schema.get("type")
    if types is None:
        for option in schema.get("anyOf", []):
            if isinstance(option, dict) and option.get("type") not in (None, "null"):
                return json_type(option)
        return "object"
    if isinstance(types, str):
        return types
    return str(next(t for t in types if t != "null"))


def kind(schema: Mapping[str, Any]) -> str:
    """The Meltano kind of a setting with this JSON schema."""
    if schema.get("enum"):
        return "options"
    if schema.get("format") == "date-time":
        return "date_iso8601"
    return KINDS[json_type(schema)]


def label(name: str, schema: Mapping[str, Any]) -> str:
    """The setting's label: the table's, else the SDK's title, else one made from the name."""
    if name in LABELS:
        return LABELS[name]
    if schema.get("title"):
        return str(schema["title"])
    words = [_WORDS.get(word, word) for word in name.split("_")]
    text = " ".join(words)
    return text[0].upper() + text[1:]


def option_label(name: str, value: str) -> str:
    """The label of one allowed value of an `options` setting."""
    custom = OPTION_LABELS.get(name, {})
    if value in custom:
        return custom[value]
    text = re.sub(r"[-_]+", " ", value)
    return text[0].upper() + text[1:]


def scalar(value: Any) -> str:
    """One YAML value on one line (flow style for lists and mappings)."""
    text = yaml.safe_dump(value, default_flow_style=True, width=1 << 20, allow_unicode=True)
    return text.removesuffix("\n").removesuffix("\n...").strip()


def setting_lines(name: str, schema: Mapping[str, Any]) -> list[str]:
    """One setting as YAML sequence-item lines, at indent 0."""
    lines = [f"- name: {name}", f"  label: {scalar(label(name, schema))}"]
    lines.append(f"  kind: {kind(schema)}")
    if schema.get("enum"):
        lines.append("  options:")
        lines.extend(
            f"  - {{label: {scalar(option_label(name, v))}, value: {scalar(v)}}}"
            for v in schema["enum"]
        )
    if "default" in schema:
        lines.append(f"  value: {scalar(schema['default'])}")
    if schema.get("secret"):
        lines.append("  sensitive: true")
    if schema.get("description"):
        lines.append(f"  description: {scalar(schema['description'])}")
    return lines


def settings_lines(info: Mapping[str, Any]) -> list[str]:
    """Every setting of a connector, in `--about` order."""
    properties: Mapping[str, Any] = info["settings"]["properties"]
    return [line for name, schema in properties.items() for line in setting_lines(name, schema)]


def replace_block(text: str, header: str, indent: int, body: list[str]) -> str:
    """`text` with the block under the line `header` (at `indent`) replaced by `body`.

    The block runs while lines are deeper than `indent` or are sequence items at it.
    """
    lines = text.split("\n")
    pad = " " * indent
    start = lines.index(pad + header) + 1
    end = start
    while end < len(lines):
        line = lines[end]
        if not line.strip() or not line.startswith(pad):
            break
        rest = line[indent:]
        if not (rest.startswith(" ") or rest.startswith("- ")):
            break
        end += 1
    return "\n".join([*lines[:start], *(pad + line for line in body), *lines[end:]])


def plugin_span(text: str, connector: str) -> tuple[int, int]:
    """Character span of one plugin's entry in meltano.yml (to the next plugin or section)."""
    match = re.search(rf"^  - name: {re.escape(connector)}\n", text, flags=re.MULTILINE)
    if match is None:
        msg = f"meltano.yml defines no plugin `{connector}`"
        raise LookupError(msg)
    following = re.compile(r"^(  - name: |  [a-z_]+:|[a-z_]+:)", flags=re.MULTILINE)
    end = following.search(text, match.end())
    return match.start(), end.start() if end else len(text)


def render_meltano(text: str, abouts: Mapping[str, Mapping[str, Any]]) -> str:
    """meltano.yml with the settings of each of our plugins regenerated."""
    for connector, info in abouts.items():
        start, end = plugin_span(text, connector)
        entry = replace_block(text[start:end], "settings:", 4, settings_lines(info))
        text = text[:start] + entry + text[end:]
    return text


def render_hub(text: str, info: Mapping[str, Any]) -> str:
    """A hub/ definition with its capabilities and settings regenerated."""
    capabilities = [f"- {c}" for c in sorted(info["capabilities"])]
    text = replace_block(text, "capabilities:", 0, capabilities)
    return replace_block(text, "settings:", 0, settings_lines(info))


def targets(abouts: Mapping[str, Mapping[str, Any]]) -> dict[Path, Callable[[str], str]]:
    """Each generated file and how to regenerate its text."""
    renderers: dict[Path, Callable[[str], str]] = {
        MELTANO_YML: partial(render_meltano, abouts=abouts)
    }
    for connector, info in abouts.items():
        renderers[HUB / f"{connector}.yml"] = partial(render_hub, info=info)
    return renderers


def main(argv: list[str] | None = None) -> int:
    """Rewrite the files in place, or with `--check` name the stale ones and exit 1."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    args = parser.parse_args(argv)
    abouts = {connector: about(connector) for connector in CONNECTORS}
    stale = []
    for path, render in targets(abouts).items():
        text = path.read_text()
        new = render(text)
        if new != text:
            stale.append(path.relative_to(ROOT))
            if not args.check:
                path.write_text(new)
    for path in stale:
        print(f"{'stale' if args.check else 'rewrote'}: {path}")
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
