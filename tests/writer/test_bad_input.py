"""A line that cannot become a record is one reject with a reason; the run goes on, and a
re-run does not stop at the same place. A SCHEMA the target cannot use is one clear error."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from sandbox.control import SandboxClient
from tests.writer.harness import (
    ghl_config,
    ghl_contacts_by_email,
    ghl_lead,
    popin_config,
    popin_lead,
    rejected,
    run_target,
    singer_lines,
)


def _around(bad: bytes) -> bytes:
    """Leads 1-3, the bad line, then leads 4-6 and a final STATE."""
    good = singer_lines([ghl_lead(seq) for seq in range(1, 4)], state_every=100)
    rest = singer_lines([ghl_lead(seq) for seq in range(4, 7)], state_every=100)
    return good + bad + b"\n" + rest.split(b"\n", 1)[1]


def _record_line(record: object) -> bytes:
    return json.dumps({"type": "RECORD", "stream": "leads", "record": record}).encode()


BAD_LINES = {
    "invalid_utf8": (
        b'{"type": "RECORD", "stream": "leads", "record": {"name": "Ren\xe9", '
        b'"email": "rene@example.com"}}',
        "text is not valid UTF-8",
    ),
    "nested_too_deep": (
        b'{"type": "RECORD", "stream": "leads", "record": {"name": '
        + b"[" * 2000
        + b"]" * 2000
        + b"}}",
        "record is nested deeper than 100 levels",
    ),
    "record_is_a_list": (_record_line(["lead7@example.com"]), "record is not a JSON object"),
    "cut_off_line": (
        b'{"type": "RECORD", "stream": "leads", "record": {"name": "Ann Lee", "email": "ann.l',
        "line is not valid JSON (cut off?)",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_LINES))
def test_a_bad_line_is_one_reject_and_every_good_record_is_written(
    case: str, sandbox: SandboxClient, tmp_path: Path
) -> None:
    line, reason = BAD_LINES[case]
    run = run_target("target-ghl", ghl_config(sandbox, tmp_path), tmp_path, _around(line))
    assert run.returncode == 0, run.stderr[-2000:]
    assert sorted(ghl_contacts_by_email(sandbox)) == sorted(
        f"lead{seq}@example.com" for seq in range(1, 7)
    )
    assert [r["reason"] for r in rejected(tmp_path)] == [reason]
    assert run.states[-1] == {"done": 6}


@pytest.mark.parametrize("case", sorted(BAD_LINES))
def test_a_bad_line_never_reaches_the_log(
    case: str, sandbox: SandboxClient, tmp_path: Path
) -> None:
    line, _ = BAD_LINES[case]
    run = run_target(
        "target-ghl",
        ghl_config(sandbox, tmp_path),
        tmp_path,
        _around(line),
        env={"LOGLEVEL": "DEBUG"},
    )
    for fragment in ("Ren", "Ann Lee", "ann.l", "rene@", "lead7@"):
        assert fragment not in run.stderr


def test_a_rerun_over_the_same_bad_line_goes_through_again(
    sandbox: SandboxClient, tmp_path: Path
) -> None:
    line, _ = BAD_LINES["invalid_utf8"]
    config = ghl_config(sandbox, tmp_path)
    run_target("target-ghl", config, tmp_path, _around(line))
    again = run_target("target-ghl", config, tmp_path, _around(line))
    assert again.returncode == 0
    assert again.states[-1] == {"done": 6}


def test_a_schema_that_is_not_a_json_schema_fails_naming_the_stream(
    sandbox: SandboxClient, tmp_path: Path
) -> None:
    schema = {"type": "SCHEMA", "stream": "leads", "key_properties": []}
    schema["schema"] = {"type": "object", "properties": {"mobile": 5}}
    payload = json.dumps(schema).encode() + b"\n" + _record_line(popin_lead(1)) + b"\n"
    run = run_target("target-popin", popin_config(sandbox, tmp_path), tmp_path, payload)
    assert run.returncode == 1
    errors = [line for line in run.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1
    assert "SCHEMA message for stream 'leads' is not a valid JSON schema" in errors[0]
    assert "Traceback" not in run.stderr


def test_records_from_a_batch_message_are_counted_as_received(
    sandbox: SandboxClient, tmp_path: Path
) -> None:
    batch = tmp_path / "leads.jsonl.gz"
    with gzip.open(batch, "wt") as handle:
        for seq in range(1, 5):
            handle.write(json.dumps(ghl_lead(seq)) + "\n")
    message = {
        "type": "BATCH",
        "stream": "leads",
        "encoding": {"format": "jsonl", "compression": "gzip"},
        "manifest": [batch.as_uri()],
    }
    payload = singer_lines([ghl_lead(5)]) + json.dumps(message).encode() + b"\n"
    run = run_target("target-ghl", ghl_config(sandbox, tmp_path), tmp_path, payload)
    assert run.returncode == 0, run.stderr[-2000:]
    assert len(ghl_contacts_by_email(sandbox)) == 5
    assert "received=5; created=5" in run.stderr
