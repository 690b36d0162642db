"""Regenerate each connector's settings table in README.md from `--about --format=markdown`."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
CONNECTORS = ("tap-popl", "tap-wisepops", "target-ghl", "target-popin")


def about_settings(executable: str) -> str:
    """The settings section of a connector's markdown about, headings demoted to fit."""
    bin_dir = Path(sys.executable).parent
    text = subprocess.run(
        [str(bin_dir / executable), "--about", "--format=markdown"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    start = text.index("## Settings")
    end = text.find("\n## ", start + 1)
    section = text[start : end if end != -1 else len(text)].strip()
    return re.sub(r"^## Settings", "#### Settings", section, flags=re.MULTILINE)


def render(readme: str) -> str:
    """README text with every marked table replaced by the connector's current one."""
    for name in CONNECTORS:
        pattern = re.compile(
            rf"(<!-- about:{name}:start -->\n).*?(<!-- about:{name}:end -->)", re.DOTALL
        )
        if pattern.search(readme):
            table = about_settings(name)
            readme = pattern.sub(lambda m, t=table: f"{m.group(1)}{t}\n{m.group(2)}", readme)
    return readme


def main() -> None:
    """Rewrite README.md in place."""
    README.write_text(render(README.read_text()))


if __name__ == "__main__":
    main()
