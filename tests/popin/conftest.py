"""Running target-popin against the sandbox: in process, or as the real CLI."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Callable, Iterable
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sandbox.control import DEMO_KEYS, SandboxClient
from target_popin.target import TargetPopin

STREAM = "leads"


def singer_lines(
    records: Iterable[dict[str, Any]],
    stream: str = STREAM,
    properties: dict[str, Any] | None = None,
) -> str:
    """SCHEMA (with `properties`, else none), the records, then a STATE, as a tap prints them."""
    messages: list[dict[str, Any]] = [
        {
            "type": "SCHEMA",
            "stream": stream,
            "schema": {"type": "object", "properties": properties or {}},
            "key_properties": [],
        }
    ]
    messages += [{"type": "RECORD", "stream": stream, "record": r} for r in records]
    messages.append({"type": "STATE", "value": {"bookmarks": {stream: {"done": True}}}})
    return "".join(json.dumps(m) + "\n" for m in messages)


@dataclass
class Run:
    """What one run printed and what it kept aside."""

    stdout: str
    target: TargetPopin
    reject_file: Path

    @property
    def states(self) -> list[dict[str, Any]]:
        """States emitted (the SDK prints each state's value, one per line)."""
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]

    @property
    def rejects(self) -> list[dict[str, Any]]:
        """Lines of the reject file."""
        if not self.reject_file.exists():
            return []
        return [json.loads(line) for line in self.reject_file.read_text().splitlines()]

    def count(self, outcome: str, stream: str = STREAM) -> int:
        """An outcome from the run summary."""
        return self.target.writer_run.summary.get(stream, outcome)


@pytest.fixture
def popin_config(sandbox: SandboxClient, tmp_path: Path) -> dict[str, Any]:
    """Settings pointing at the sandbox, with fast retries and a ledger on disk."""
    return {
        "api_key": DEMO_KEYS["popin_api_key"],
        "seller_token": DEMO_KEYS["popin_token"],
        "api_url": sandbox.api_url("popin"),
        "default_country_code": "91",
        "ledger_path": str(tmp_path / "ledger.sqlite"),
        "reject_file": str(tmp_path / "rejects.jsonl"),
        "backoff_base_seconds": 0.01,
        "max_retry_wait_seconds": 0.2,
        "request_timeout": 2,
        "max_retries": 4,
        "max_concurrency": 4,
    }


RunTarget = Callable[..., Run]


@pytest.fixture
def run_target(popin_config: dict[str, Any]) -> RunTarget:
    """Run the target in this process over `records` (the SCHEMA declaring `properties`);
    settings override `popin_config`."""

    def run(
        records: Iterable[dict[str, Any]],
        stream: str = STREAM,
        prepare: Callable[[TargetPopin], None] | None = None,
        properties: dict[str, Any] | None = None,
        **settings: Any,
    ) -> Run:
        config = {**popin_config, **settings}
        target = TargetPopin(config=config)
        if prepare is not None:
            prepare(target)
        out = io.StringIO()
        with redirect_stdout(out):
            target.process_lines(io.StringIO(singer_lines(records, stream, properties)))
            target.process_endofpipe()
        return Run(out.getvalue(), target, Path(config["reject_file"]))

    return run


def start_cli(
    config: dict[str, Any], tmp_path: Path, records: list[dict[str, Any]]
) -> subprocess.Popen[bytes]:
    """The `target-popin` CLI as a child process reading `records`; output to a log file."""
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    input_path = tmp_path / "input.singer"
    input_path.write_text(singer_lines(records))
    with input_path.open() as stdin, (tmp_path / "run.log").open("w") as log:
        # The child keeps its own copies of both files.
        return subprocess.Popen(
            [sys.executable, "-m", "target_popin.target", "--config", str(config_path)],
            stdin=stdin,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def person(index: int, **fields: Any) -> dict[str, Any]:
    """A distinct Indian lead (valid mobile) with an email."""
    return {
        "name": f"Lead {index}",
        "mobile": f"98765{index:05d}",
        "email": f"lead{index}@example.com",
        **fields,
    }
