"""The Dagster definitions of the example tenants file: jobs, partitions, pools, schedules."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

import orchestration
from orchestration.jobs import run_tags
from orchestration.meltano import MissingSecretError, parse_summary, secret_values
from orchestration.pipelines import PIPELINES
from orchestration.tenants import EXAMPLE, load_tenants

ROOT = Path(__file__).resolve().parents[2]
DAGSTER = Path(sys.executable).with_name("dagster")
SUMMARY_LINES = """\
2026-11-30T10:02:15.855666Z [info     ] target-ghl   Run summary: popl_leads: received=20; \
created=20; updated=0; unchanged=0; rejected=1 [no valid email or phone: 1 (e.g. r-fc61)]; \
notes_posted=10; api_calls=50; throttled=0; unknown custom fields: Company Industry
2026-11-30T10:02:17.650111Z [info     ] target-popin Run summary (the run stopped early): \
wisepops_captures: received=16; created=0; updated=0; unchanged=0; rejected=0; api_calls=1
"""


def test_dagster_validates_the_definitions() -> None:
    checked = subprocess.run(
        [str(DAGSTER), "definitions", "validate", "-m", "orchestration"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr[-3000:]


def test_there_is_one_job_per_pipeline_partitioned_by_its_tenants() -> None:
    jobs = {job.name: job for job in orchestration.defs.resolve_all_job_defs()}
    assert set(jobs) == {"sync_popl_to_ghl", "sync_wisepops_to_ghl", "sync_wisepops_to_popin"}
    partitions = jobs["sync_popl_to_ghl"].partitions_def
    assert partitions is not None
    assert partitions.get_partition_keys() == ["acme", "globex"]


def test_each_ghl_writer_holds_its_locations_pool_and_each_reader_its_websites() -> None:
    jobs = {job.name: job for job in orchestration.defs.resolve_all_job_defs()}
    pools = {name: {op.pool for op in job.all_node_defs if op.pool} for name, job in jobs.items()}
    assert pools == {
        "sync_popl_to_ghl": {
            "ghl-location-ve9EPM428h8vShlRW1KT",
            "ghl-location-3xKq1vZbN7mRtYw2PcLd",
        },
        "sync_wisepops_to_ghl": {"ghl-location-ve9EPM428h8vShlRW1KT"},
        "sync_wisepops_to_popin": {"wisepops-website-acme.example.com"},
    }


def test_each_run_is_tagged_with_the_accounts_it_touches_for_the_run_queue() -> None:
    [acme, _] = load_tenants(EXAMPLE)
    assert run_tags(PIPELINES["sync-wisepops-to-ghl"], acme) == {
        "lead-connectors/tenant": "acme",
        "lead-connectors/ghl-location": "ve9EPM428h8vShlRW1KT",
        "lead-connectors/wisepops-website": "acme.example.com",
    }
    assert run_tags(PIPELINES["sync-wisepops-to-popin"], acme) == {
        "lead-connectors/tenant": "acme",
        "lead-connectors/wisepops-website": "acme.example.com",
    }


def test_schedules_come_from_the_tenants_file_with_a_reconcile_run() -> None:
    schedules = {s.name: s for s in list(orchestration.defs.schedules or [])}
    assert schedules["sync__sync_wisepops_to_ghl__acme"].cron_schedule == "0 * * * *"
    assert schedules["reconcile__sync_popl_to_ghl__globex"].cron_schedule == "0 3 * * 0"
    run = schedules["reconcile__sync_popl_to_ghl__globex"](dg.build_schedule_context())
    assert isinstance(run, dg.RunRequest)
    assert run.partition_key == "globex"
    assert run.run_config == {
        "ops": {"sync_popl_to_ghl__pick_account": {"config": {"full_refresh": True}}}
    }


def test_a_missing_secret_variable_is_named_without_any_value() -> None:
    [acme, _] = load_tenants(EXAMPLE)
    environ = {"ACME_POPL_API_KEY": "popl-live-0f2c9"}
    with pytest.raises(MissingSecretError) as caught:
        secret_values(acme, environ)
    assert "ACME_GHL_ACCESS_TOKEN" in str(caught.value)
    assert "popl-live-0f2c9" not in str(caught.value)


def test_the_run_summary_becomes_counts_per_stream_without_keys_or_names() -> None:
    counts, streams = parse_summary(SUMMARY_LINES)
    assert streams == ["popl_leads", "wisepops_captures"]
    assert counts["popl_leads.created"] == 20
    assert counts["popl_leads.rejected"] == 1
    assert counts["popl_leads.notes_posted"] == 10
    assert counts["wisepops_captures.received"] == 16
    assert not [k for k in counts if "fc61" in k or "Industry" in k]
