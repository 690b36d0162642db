"""Fixtures of the end-to-end suite: Meltano and its plugins installed, a project per test."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from sandbox.control import SandboxClient
from tests.e2e.harness import MELTANO, ROOT, History, MeltanoProject


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder is an end-to-end test, run on one worker per module."""
    here = Path(__file__).parent
    for item in items:
        path = Path(str(item.fspath))
        if here not in path.parents:
            continue
        item.add_marker(pytest.mark.e2e)
        # Each module plays its `meltano run`s once in a module fixture (the recorded
        # `history` once for two modules): under `--dist loadgroup` a module split across
        # workers would play them once per worker.
        uses_history = "history" in getattr(item, "fixturenames", ())
        item.add_marker(pytest.mark.xdist_group("history" if uses_history else path.stem))


@pytest.fixture(scope="session")
def meltano_installed() -> Path:
    """Meltano and the project's plugins, installed by `make meltano` when missing."""
    subprocess.run(["make", "--no-print-directory", "-s", "meltano"], cwd=ROOT, check=True)
    assert MELTANO.exists(), f"{MELTANO} is missing after `make meltano`"
    return MELTANO


@pytest.fixture
def meltano(meltano_installed: Path, sandbox: SandboxClient, tmp_path: Path) -> MeltanoProject:
    """The project pointed at the freshly reset sandbox, with its own state and files."""
    return MeltanoProject(sandbox=sandbox, home=tmp_path)


@pytest.fixture(scope="session")
def history(
    meltano_installed: Path, sandbox_server: SandboxClient, tmp_path_factory: pytest.TempPathFactory
) -> History:
    """Three runs of the three pipelines, shared by the delivery and state tests."""
    return History(MeltanoProject(sandbox_server, tmp_path_factory.mktemp("history"))).play()
