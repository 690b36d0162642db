"""Each connector reports the project's version, read from the installed distribution."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
CONNECTORS = ("tap-popl", "tap-wisepops", "target-ghl", "target-popin")


@pytest.mark.parametrize("connector", CONNECTORS)
def test_version_is_the_distributions(connector: str) -> None:
    printed = subprocess.run(
        [str(BIN / connector), "--version"], check=True, capture_output=True, text=True
    ).stdout
    assert printed.startswith(f"{connector} v{version('lead-connectors')},")
    assert "could not be detected" not in printed
