"""`meltano run export-ghl`: tap-ghl into the export loader (target-duckdb), one row per
record however often the job runs."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import yaml

from leadkit.timestamps import format_instant
from sandbox.control import SandboxClient
from tests.e2e.harness import ROOT, MeltanoProject


def test_the_ghl_export_job_loads_tap_ghl_into_target_duckdb() -> None:
    meltano_yml = yaml.safe_load((ROOT / "meltano.yml").read_text())
    job = next(job for job in meltano_yml["jobs"] if job["name"] == "export-ghl")
    assert job["tasks"] == ["tap-ghl target-duckdb"]


def test_two_runs_of_export_ghl_hold_every_contact_and_note_once(
    meltano_installed: Path, sandbox: SandboxClient, tmp_path: Path
) -> None:
    hour_ago = format_instant(datetime.now(timezone.utc) - timedelta(hours=1))
    seeded = sandbox.seed(
        "ghl",
        contacts=[
            {"email": f"e2e{i}@example.com", "dateUpdated": hour_ago, "notes": [{"body": "hi"}]}
            for i in range(5)
        ],
    )["contacts"]
    database = tmp_path / "export.duckdb"
    project = MeltanoProject(
        sandbox,
        tmp_path,
        extra_env={
            "TAP_GHL_API_URL": sandbox.api_url("ghl"),
            "TARGET_DUCKDB_FILEPATH": str(database),
        },
    )
    project.run("export-ghl").check()
    project.run("export-ghl").check()  # re-reads the contacts at the bookmark
    with duckdb.connect(str(database), read_only=True) as db:
        contacts = [row[0] for row in db.sql("SELECT id FROM tap_ghl.contacts").fetchall()]
        notes = db.sql("SELECT count(*) FROM tap_ghl.notes").fetchone()
    assert sorted(contacts) == sorted(c["id"] for c in seeded)
    assert notes == (5,)
