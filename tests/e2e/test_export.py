"""`meltano run export-leads`: the raw source records in DuckDB, one row per record, however
often the job runs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from sandbox.control import SandboxClient
from tap_wisepops.streams import contact_key
from tests.e2e.harness import ROOT, MeltanoProject, RunResult

#: Each extractor's namespace is its schema (`default_target_schema` in meltano.yml).
KEYS_OF = {
    "leads": "SELECT leadid FROM tap_popl.leads",
    "contacts": "SELECT contact_key FROM tap_wisepops.contacts",
}
EDITED_NOTE = "Edited after the first export"
LOADED = re.compile(r"Loading (\d+) rows into '\"\w+\"\.\"tap_popl\"\.\"leads\"'")


@dataclass
class Export:
    """Two runs of the export job; between them a lead is edited and a late one syncs."""

    database: Path
    runs: list[RunResult] = field(default_factory=list)
    #: Per run: the leads Popl held, and the lead ids of the table's rows afterwards.
    leads: list[list[dict[str, Any]]] = field(default_factory=list)
    lead_rows: list[list[str]] = field(default_factory=list)
    contact_keys: list[str] = field(default_factory=list)
    contact_rows: list[str] = field(default_factory=list)
    edited_lead: str = ""
    late_lead: str = ""

    def rows(self, stream: str) -> list[Any]:
        """The key of every row of a stream's table."""
        with duckdb.connect(str(self.database), read_only=True) as db:
            return [row[0] for row in db.sql(KEYS_OF[stream]).fetchall()]

    def run(self, project: MeltanoProject) -> None:
        self.runs.append(project.run("export-leads").check())
        self.leads.append(list(project.sandbox.records("popl", "leads")))
        self.lead_rows.append(self.rows("leads"))

    def note_of(self, lead_id: str) -> str | None:
        with duckdb.connect(str(self.database), read_only=True) as db:
            found = db.execute(
                "SELECT json_extract_string(systemfields, '$.note') FROM tap_popl.leads "
                "WHERE leadid = ?",
                [lead_id],
            ).fetchone()
        return None if found is None else found[0]


@pytest.fixture(scope="module")
def export(
    meltano_installed: Path, sandbox_server: SandboxClient, tmp_path_factory: pytest.TempPathFactory
) -> Export:
    sandbox = sandbox_server
    sandbox.reset()
    home = tmp_path_factory.mktemp("export")
    database = home / "export.duckdb"
    project = MeltanoProject(sandbox, home, extra_env={"TARGET_DUCKDB_FILEPATH": str(database)})
    result = Export(database)
    result.run(project)
    result.contact_keys = [contact_key(c) for c in sandbox.records("wisepops", "contacts")]
    result.contact_rows = result.rows("contacts")
    newest = max(result.leads[0], key=lambda lead: lead["systemFields"]["captureDatetime"])
    result.edited_lead = newest["leadId"]
    sandbox.action("popl", "edit_lead", leadId=newest["leadId"], note=EDITED_NOTE)
    # Captured an hour before the bookmark: only the lookback window finds it.
    result.late_lead = sandbox.action("popl", "late_lead", minutes_before_latest=60)["leadId"]
    result.run(project)
    return result


def test_the_export_job_loads_into_target_duckdb() -> None:
    meltano_yml = yaml.safe_load((ROOT / "meltano.yml").read_text())
    job = next(job for job in meltano_yml["jobs"] if job["name"] == "export-leads")
    assert job["tasks"] == ["tap-popl target-duckdb", "tap-wisepops target-duckdb"]


def test_the_loader_writes_with_the_duckdb_the_tests_read_with() -> None:
    meltano_yml = yaml.safe_load((ROOT / "meltano.yml").read_text())
    loader = next(p for p in meltano_yml["plugins"]["loaders"] if p["name"] == "target-duckdb")
    assert f"duckdb=={duckdb.__version__}" in loader["pip_url"].split()


def test_the_first_export_holds_every_lead_once(export: Export) -> None:
    assert sorted(export.lead_rows[0]) == sorted(lead["leadId"] for lead in export.leads[0])


def test_the_export_holds_every_wisepops_contact_once(export: Export) -> None:
    assert sorted(export.contact_rows) == sorted(set(export.contact_keys))


def test_the_second_export_re_reads_the_lookback_window(export: Export) -> None:
    resent = [int(n) for n in LOADED.findall(export.runs[1].output)]
    assert sum(resent) > 1, "tap-popl re-sent no lead: the test would prove nothing"


def test_re_read_leads_update_their_rows_instead_of_adding_rows(export: Export) -> None:
    assert sorted(export.lead_rows[1]) == sorted(lead["leadId"] for lead in export.leads[1])


def test_a_lead_edited_within_the_lookback_window_is_updated_in_place(export: Export) -> None:
    assert export.note_of(export.edited_lead) == EDITED_NOTE


def test_a_late_lead_found_by_the_lookback_window_is_added_once(export: Export) -> None:
    assert export.late_lead not in export.lead_rows[0]
    assert export.lead_rows[1].count(export.late_lead) == 1
