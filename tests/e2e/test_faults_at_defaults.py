"""Each pipeline under 10% faults that answer fast (429s in all three forms, 5xx, dropped
connections, truncated bodies), with every timeout, retry and backoff at its default:
the run succeeds and every person arrives once."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.control import SandboxClient
from tests.e2e.harness import (
    POPL_TO_GHL,
    WISEPOPS_TO_GHL,
    WISEPOPS_TO_POPIN,
    MeltanoProject,
    duplicates,
    ghl_contacts,
    popin_customers,
    popin_key_of,
    popl_people,
    small_sources,
    wisepops_people,
)

FAST_FAULTS = {
    "rate": 0.1,
    "kinds": ["429", "429-date", "429-bare", "500", "502", "503", "drop", "truncate"],
    "retry_after": 1,
    "seed": 11,
}


def _faulty_project(sandbox: SandboxClient, home: Path) -> MeltanoProject:
    sandbox.reset()
    small_sources(sandbox, popl_leads=30, contacts=40)
    for api in ("popl", "wisepops", "ghl", "popin"):
        # The queued faults make sure even an API called once or twice meets some.
        sandbox.faults(api, **FAST_FAULTS, queue=["503", "429-bare"])
    return MeltanoProject(sandbox, home, fast_retries=False)


def _ghl_identities(people: list) -> set[str]:
    return {p.ghl_identity for p in people if p.ghl_identity}


@pytest.mark.parametrize("blocks", [POPL_TO_GHL, WISEPOPS_TO_GHL], ids=["popl", "wisepops"])
def test_a_pipeline_into_ghl_delivers_everyone_once_under_faults_at_default_settings(
    blocks: tuple[str, ...], meltano_installed: Path, sandbox: SandboxClient, tmp_path: Path
) -> None:
    project = _faulty_project(sandbox, tmp_path)
    project.run(*blocks).check()
    people = popl_people(sandbox) if blocks == POPL_TO_GHL else wisepops_people(sandbox)
    contacts = ghl_contacts(sandbox)
    assert duplicates([c["email"] for c in contacts if c.get("email")]) == []
    assert _ghl_identities(people) <= {
        i
        for i in _ghl_identities(people)
        for c in contacts
        if i in (c.get("email"), c.get("phone"))
    }
    for contact in contacts:
        assert duplicates([n["body"] for n in contact["notes"]]) == [], contact["id"]
    assert sum(sandbox.counters("ghl")["faults"].values()) > 0


def test_wisepops_to_popin_captures_everyone_once_under_faults_at_default_settings(
    meltano_installed: Path, sandbox: SandboxClient, tmp_path: Path
) -> None:
    project = _faulty_project(sandbox, tmp_path)
    project.run(*WISEPOPS_TO_POPIN).check()
    held = [popin_key_of(c) for c in popin_customers(sandbox)]
    assert duplicates(held) == []
    unknown = {
        r["record"]["contact_key"]
        for r in project.rejects("popin")
        if r["reason"] == "capture outcome unknown"
    }
    for person in wisepops_people(sandbox):
        if person.popin_key:
            assert person.popin_key in held or person.key in unknown
    assert sum(sandbox.counters("popin")["faults"].values()) > 0
