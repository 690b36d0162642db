"""`validate_records`: the stream's SCHEMA is checked first when set, as on target-ghl."""

from __future__ import annotations

from typing import Any

from leadkit.writer.sink import OFF_SCHEMA
from sandbox.control import SandboxClient
from tests.popin.conftest import RunTarget, person

PROPERTIES: dict[str, Any] = {
    "name": {"type": "string"},
    "mobile": {"type": "string"},
    "email": {"type": "string"},
    "pincode": {"type": "string"},
    "agent": {"type": "integer"},
}


def _mobiles(sandbox: SandboxClient) -> list[str]:
    return sorted(c["mobile"] for c in sandbox.records("popin", "customers"))


def test_an_off_schema_record_is_rejected_with_the_reason_and_the_rest_are_captured(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    records = [person(1), person(2, agent="seven"), person(3)]
    run = run_target(records, properties=PROPERTIES, validate_records=True)
    [reject] = run.rejects
    assert reject["reason"] == OFF_SCHEMA
    assert reject["record"]["mobile"] == "9876500002"
    assert _mobiles(sandbox) == ["9876500001", "9876500003"]


def test_validate_records_is_on_unless_set_off(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    run = run_target([person(1, agent="seven")], properties=PROPERTIES)
    assert [r["reason"] for r in run.rejects] == [OFF_SCHEMA]


def test_without_validate_records_only_the_input_contract_is_checked(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    records = [person(1, pincode=560001), person(2, agent="seven")]
    run = run_target(records, properties=PROPERTIES, validate_records=False)
    # A numeric pin code breaks the SCHEMA, not the contract; a word for an agent breaks both.
    assert [r["reason"] for r in run.rejects] == ["invalid agent"]
    assert _mobiles(sandbox) == ["9876500001"]
