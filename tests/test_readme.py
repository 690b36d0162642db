"""Every command the README shows works as printed: `make` targets exist, the sandbox starts,
and each `meltano` command succeeds against a sandbox."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from sandbox.control import SandboxClient
from tests.e2e.harness import MeltanoProject, small_sources
from tests.test_docs import shell_lines

# Its module-scoped fixture is built once, on one worker, under `--dist loadgroup`.
pytestmark = pytest.mark.xdist_group("test_readme")

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
COMMANDS = shell_lines(README)
MELTANO_COMMANDS = [c for c in COMMANDS if shlex.split(c)[0] == ".venv/meltano/bin/meltano"]
MAKE_TARGETS = [shlex.split(c)[1] for c in COMMANDS if shlex.split(c)[0] == "make"]
MAX_LINES = 200


def test_the_readme_is_short() -> None:
    assert len(README.read_text().splitlines()) <= MAX_LINES


def test_the_readme_shows_the_two_commands() -> None:
    assert MAKE_TARGETS[:2] == ["demo", "test"]


def test_every_readme_command_is_one_this_module_checks() -> None:
    checked = {"make", ".venv/bin/lead-sandbox", ".venv/meltano/bin/meltano"}
    assert [c for c in COMMANDS if shlex.split(c)[0] not in checked] == []


@pytest.mark.parametrize("target", MAKE_TARGETS)
def test_every_make_target_the_readme_shows_exists(target: str) -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(rf"^{re.escape(target)}:", makefile, re.MULTILINE)


def test_the_readme_starts_the_sandbox_that_the_sandbox_environment_expects() -> None:
    assert ".venv/bin/lead-sandbox serve" in COMMANDS
    assert "http://127.0.0.1:8765/" in (ROOT / "meltano.yml").read_text()


@pytest.mark.e2e
@pytest.mark.parametrize("command", MELTANO_COMMANDS)
def test_every_meltano_command_in_the_readme_works_against_the_sandbox(
    command: str, meltano_installed: Path, sandbox: SandboxClient, tmp_path: Path
) -> None:
    small_sources(sandbox)
    env = MeltanoProject(sandbox, tmp_path).env()
    # As a user's shell has it: no environment chosen outside the command line.
    env.pop("MELTANO_ENVIRONMENT")
    env["TARGET_DUCKDB_FILEPATH"] = str(tmp_path / "export.duckdb")
    result = subprocess.run(
        shlex.split(command),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"`{command}` failed:\n{output[-4000:]}"
    assert "will be ignored" not in output, "Meltano ignored the default environment"


@pytest.fixture(scope="module")
def meltano_installed() -> Path:
    """Meltano and the project's plugins, installed by `make meltano` when missing."""
    subprocess.run(["make", "--no-print-directory", "-s", "meltano"], cwd=ROOT, check=True)
    meltano = ROOT / ".venv" / "meltano" / "bin" / "meltano"
    assert meltano.exists(), f"{meltano} is missing after `make meltano`"
    assert os.access(meltano, os.X_OK)
    return meltano
