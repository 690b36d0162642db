"""What Dagster spends on one tenant's run as the tenants file grows, the pipeline itself aside.

Run: `.venv/bin/python -m benchmarks.orchestration_overhead [--tenants 3 100 300 1000]`.
Each job has a routing op and one op per tenant's pool (`orchestration/jobs.py`), so a run
skips every other tenant's op. Here `meltano` is replaced by `true`, and the run executes in
process against a temporary SQLite instance, so the figures are the orchestration's own cost:
definitions built, the run's wall time, its event-log entries and skipped steps.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from typing import Any

import dagster as dg

from orchestration.definitions import build_jobs
from orchestration.jobs import MeltanoProject
from orchestration.tenants import parse_tenants

PIPELINE = "sync-popl-to-ghl"
SECRET_VARIABLE = "BENCH_SECRET"


def tenants_file(count: int) -> dict[str, Any]:
    """`count` tenants of one pipeline, each with a GHL location of its own."""
    secrets = {"TAP_POPL_API_KEY": SECRET_VARIABLE, "TARGET_GHL_ACCESS_TOKEN": SECRET_VARIABLE}
    return {
        "tenants": [
            {
                "id": f"t{i:04d}",
                "pipelines": [PIPELINE],
                "ghl_location": f"loc{i:04d}",
                "secrets": secrets,
            }
            for i in range(count)
        ]
    }


def measure(count: int, meltano: str) -> dict[str, Any]:
    """Build the definitions for `count` tenants and run one tenant's partition once."""
    started = time.perf_counter()
    job = build_jobs(parse_tenants(tenants_file(count), "benchmark"))[PIPELINE]
    built = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as data, dg.instance_for_test() as instance:
        started = time.perf_counter()
        result = job.execute_in_process(
            partition_key="t0001",
            instance=instance,
            resources={"meltano": MeltanoProject(meltano=meltano, data_dir=data)},
        )
        ran = time.perf_counter() - started
        events = len(instance.all_logs(result.run_id))
    skipped = sum(1 for e in result.all_events if e.event_type_value == "STEP_SKIPPED")
    return {
        "tenants": count,
        "ops": len(job.graph.node_defs),
        "build_s": built,
        "run_s": ran,
        "events": events,
        "skipped": skipped,
        "success": result.success,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tenants", type=int, nargs="+", default=[3, 100, 300, 1000])
    args = parser.parse_args()
    os.environ.setdefault(SECRET_VARIABLE, "not-a-secret")
    meltano = shutil.which("true") or "/bin/true"
    columns = ("tenants", "ops in the job", "definitions built (s)", "one run (s)")
    print("| " + " | ".join((*columns, "event-log entries", "steps skipped")) + " |")
    print("|---:|---:|---:|---:|---:|---:|")
    for count in args.tenants:
        row = measure(count, meltano)
        assert row["success"], row
        print(
            f"| {row['tenants']:,} | {row['ops']:,} | {row['build_s']:.2f} | {row['run_s']:.2f} "
            f"| {row['events']:,} | {row['skipped']:,} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
