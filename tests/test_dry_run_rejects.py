"""A dry run's rejects share the real reject file, each line marked `"dry_run": true`."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

from leadkit.writer.target import ApiTarget
from sandbox.control import SandboxClient
from target_ghl.target import TargetGHL
from target_popin.target import TargetPopin
from tests.writer.harness import ghl_config, popin_config

STREAM = "leads"
#: One record each target can write and one it must reject, whatever the mode.
GHL_RECORDS = [{"email": "good.lead@example.org"}, {"email": "rejected@@example"}]
POPIN_RECORDS = [{"name": "Good Lead", "mobile": "+919544510895"}, {"name": "No Mobile"}]


def singer_lines(records: list[dict[str, Any]]) -> str:
    """SCHEMA, the records and a STATE, as a tap prints them."""
    schema = {"type": "object", "properties": {}}
    lines: list[dict[str, Any]] = [
        {"type": "SCHEMA", "stream": STREAM, "schema": schema, "key_properties": []}
    ]
    lines += [{"type": "RECORD", "stream": STREAM, "record": record} for record in records]
    lines.append({"type": "STATE", "value": {"done": len(records)}})
    return "".join(json.dumps(line) + "\n" for line in lines)


TARGETS = {
    "target-ghl": (TargetGHL, ghl_config, GHL_RECORDS),
    "target-popin": (TargetPopin, popin_config, POPIN_RECORDS),
}


def run(target: str, sandbox: SandboxClient, tmp_path: Path, **overrides: Any) -> Path:
    """Run one target in-process over its records; return its reject file."""
    target_class, make_config, records = TARGETS[target]
    config = {**make_config(sandbox, tmp_path), **overrides}
    instance: ApiTarget[Any] = target_class(config=config)
    with contextlib.redirect_stdout(io.StringIO()):
        instance.listen(io.StringIO(singer_lines(records)))
    return Path(config["reject_file"])


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_a_dry_run_marks_every_reject_as_a_dry_run(
    target: str, sandbox: SandboxClient, tmp_path: Path
) -> None:
    rejects = lines(run(target, sandbox, tmp_path, dry_run=True))
    assert len(rejects) == 1
    assert rejects[0]["dry_run"] is True


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_a_real_run_writes_its_rejects_unmarked(
    target: str, sandbox: SandboxClient, tmp_path: Path
) -> None:
    rejects = lines(run(target, sandbox, tmp_path))
    assert len(rejects) == 1
    assert "dry_run" not in rejects[0]


def test_a_dry_run_after_a_real_run_adds_marked_lines_and_keeps_the_real_ones(
    sandbox: SandboxClient, tmp_path: Path
) -> None:
    path = run("target-ghl", sandbox, tmp_path)
    real = path.read_text()
    run("target-ghl", sandbox, tmp_path, dry_run=True)
    assert path.read_text().startswith(real)
    assert [line.get("dry_run", False) for line in lines(path)] == [False, True]
