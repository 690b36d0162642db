"""What `pip install lead-connectors` brings, and that every install follows uv.lock."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from scripts.meltano_settings import CONNECTORS as PLUGINS

ROOT = Path(__file__).resolve().parents[1]
UV = Path(sys.executable).parent / "uv"
CONNECTORS = (
    "tap_popl.tap",
    "tap_wisepops.tap",
    "tap_ghl.tap",
    "target_ghl.target",
    "target_popin.target",
    "tap_popin.tap",
)
SANDBOX_ONLY = ("starlette", "uvicorn", "faker")


def test_the_connectors_install_without_the_sandbox_server(tmp_path: Path) -> None:
    # uv rather than pip: the same resolution of `.`, from the cache `make install` filled.
    venv = tmp_path / "venv"
    subprocess.run([str(UV), "venv", "--quiet", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [
            str(UV),
            "pip",
            "install",
            "--quiet",
            "--python",
            str(python),
            "--constraint",
            str(ROOT / "constraints.txt"),
            str(ROOT),
        ],
        check=True,
    )
    imports = "; ".join(f"import {module}" for module in CONNECTORS)
    subprocess.run([str(python), "-c", imports], check=True)
    listed = subprocess.run(
        [str(UV), "pip", "list", "--python", str(python)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.lower()
    assert [name for name in SANDBOX_ONLY if name in listed] == []


def test_constraints_txt_is_uv_lock_exported() -> None:
    exported = subprocess.run(
        [
            str(UV),
            "export",
            "--quiet",
            "--frozen",
            "--no-hashes",
            "--no-emit-project",
            "--no-header",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert (ROOT / "constraints.txt").read_text() == exported, "run `make constraints`"


def test_every_meltano_plugin_of_ours_installs_with_the_constraints() -> None:
    meltano_yml = (ROOT / "meltano.yml").read_text()
    assert meltano_yml.count("pip_url: -e . --constraint constraints.txt") == len(PLUGINS)
