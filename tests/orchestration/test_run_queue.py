"""The run queue of orchestration/dagster.yaml, driven by Dagster's own daemon: runs sharing a
Wisepops website or a GHL location never overlap. Op pools alone cannot promise the first:
sync-wisepops-to-ghl reads a website but holds its location's pool."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from orchestration.definitions import DATA_DIR_VARIABLE, ENVIRONMENT_VARIABLE
from orchestration.jobs import run_tags
from orchestration.pipelines import PIPELINES
from orchestration.tenants import TENANTS_FILE_VARIABLE, Tenant
from sandbox.control import running_sandbox
from tests.e2e.harness import ROOT
from tests.orchestration.three_tenants import SandboxTenant, write_tenants_file

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.xdist_group("orchestration-run-queue"),
    # The first test builds the world: a daemon and three `meltano run`s, one after another.
    pytest.mark.timeout(600),
]

BIN = ROOT / ".venv" / "bin"
POPL_TO_GHL = "sync-popl-to-ghl"
WISEPOPS_TO_GHL = "sync-wisepops-to-ghl"
WISEPOPS_TO_POPIN = "sync-wisepops-to-popin"


@dataclass
class QueuedRuns:
    """Each pipeline's run: its final status and when it started and ended."""

    statuses: dict[str, str]
    windows: dict[str, tuple[float, float]]


def _launch(pipeline: str, tenant: Tenant, env: dict[str, str]) -> subprocess.Popen[str]:
    """`dagster job launch` of one tenant's partition, with the tags its partition gives."""
    tags = {"dagster/partition": tenant.id, **run_tags(PIPELINES[pipeline], tenant)}
    command = [str(BIN / "dagster"), "job", "launch", "-m", "orchestration"]
    command += ["-j", PIPELINES[pipeline].job_name, "--tags", json.dumps(tags)]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def _finished_runs(
    instance: dg.DagsterInstance, count: int, timeout: float
) -> Sequence[dg.RunRecord]:
    deadline = time.monotonic() + timeout
    while True:
        records = instance.get_run_records()
        if len(records) == count and all(r.dagster_run.is_finished for r in records):
            return records
        assert time.monotonic() < deadline, [
            (r.dagster_run.job_name, r.dagster_run.status) for r in records
        ]
        time.sleep(1)


@pytest.fixture(scope="module")
def queued_runs(meltano_installed: Path, tmp_path_factory: pytest.TempPathFactory) -> QueuedRuns:
    home = tmp_path_factory.mktemp("run-queue")
    dagster_home = home / "dagster"
    dagster_home.mkdir()
    # The shipped file, with Dagster's telemetry off: the tests have no network to send it to.
    shipped = (ROOT / "orchestration" / "dagster.yaml").read_text()
    (dagster_home / "dagster.yaml").write_text(f"{shipped}telemetry:\n  enabled: false\n")
    with running_sandbox() as sandbox:
        tenant = SandboxTenant("tenant-q", sandbox)
        tenant.provision()
        [loaded] = write_tenants_file(home / "tenants.yml", [tenant])
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_", "TARGET_"))}
        env.update(
            {
                "DAGSTER_HOME": str(dagster_home),
                TENANTS_FILE_VARIABLE: str(home / "tenants.yml"),
                ENVIRONMENT_VARIABLE: "sandbox",
                DATA_DIR_VARIABLE: str(home / "data"),
                "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
                "MELTANO_STATE_BACKEND_URI": (home / "state").as_uri(),
                **tenant.secrets,
            }
        )
        # The instance's storage is made once, here: three first launches at once would race
        # to create its SQLite tables. All three runs are queued before the daemon starts, so
        # that only the queue's limits can keep them apart.
        with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
            for pipeline in (POPL_TO_GHL, WISEPOPS_TO_GHL, WISEPOPS_TO_POPIN):
                launch = _launch(pipeline, loaded, env)
                output, _ = launch.communicate(timeout=120)
                assert launch.returncode == 0, output[-3000:]
            with (home / "daemon.log").open("wb") as log:
                daemon = subprocess.Popen(
                    [str(BIN / "dagster-daemon"), "run", "-m", "orchestration"],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            try:
                records = _finished_runs(instance, count=3, timeout=400)
            finally:
                os.killpg(daemon.pid, signal.SIGTERM)
                try:
                    daemon.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(daemon.pid, signal.SIGKILL)
                    daemon.wait()
    by_job = {p.job_name: name for name, p in PIPELINES.items()}
    return QueuedRuns(
        statuses={by_job[r.dagster_run.job_name]: r.dagster_run.status.value for r in records},
        windows={
            by_job[r.dagster_run.job_name]: (r.start_time or 0.0, r.end_time or 0.0)
            for r in records
        },
    )


def _apart(first: tuple[float, float], second: tuple[float, float]) -> bool:
    return first[1] <= second[0] or second[1] <= first[0]


def test_every_queued_run_succeeds(queued_runs: QueuedRuns) -> None:
    assert queued_runs.statuses == {
        POPL_TO_GHL: "SUCCESS",
        WISEPOPS_TO_GHL: "SUCCESS",
        WISEPOPS_TO_POPIN: "SUCCESS",
    }


def test_two_runs_reading_one_wisepops_website_never_overlap(queued_runs: QueuedRuns) -> None:
    windows = queued_runs.windows
    assert _apart(windows[WISEPOPS_TO_GHL], windows[WISEPOPS_TO_POPIN]), windows


def test_two_runs_writing_one_ghl_location_never_overlap(queued_runs: QueuedRuns) -> None:
    windows = queued_runs.windows
    assert _apart(windows[POPL_TO_GHL], windows[WISEPOPS_TO_GHL]), windows
