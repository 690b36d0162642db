"""Fixtures and helpers for driving target-ghl against the sandbox's GHL."""

from __future__ import annotations

import contextlib
import io
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from sandbox.control import SandboxClient
from target_ghl.target import TargetGHL
from tests.writer import harness

STREAM = "leads"
SCHEMA = {
    "type": "object",
    "properties": {
        "firstName": {"type": ["string", "null"]},
        "lastName": {"type": ["string", "null"]},
        "name": {"type": ["string", "null"]},
        "email": {"type": ["string", "null"]},
        "phone": {"type": ["string", "null"]},
        "companyName": {"type": ["string", "null"]},
        "city": {"type": ["string", "null"]},
        "country": {"type": ["string", "null"]},
        "source": {"type": ["string", "null"]},
        "dateOfBirth": {"type": ["string", "null"]},
        "tags": {"type": ["array", "null"], "items": {"type": "string"}},
        "customFields": {"type": ["object", "null"]},
        "notes": {},
        "tasks": {"type": ["array", "null"]},
        "favourite": {"type": ["string", "null"]},
    },
}


def messages(
    records: Iterable[dict[str, Any]],
    *,
    stream: str = STREAM,
    state_every: int | None = None,
) -> str:
    """Singer lines: SCHEMA, the RECORDs and a STATE (after every n records, and at the end)."""
    lines = [{"type": "SCHEMA", "stream": stream, "schema": SCHEMA, "key_properties": []}]
    count = 0
    for count, record in enumerate(records, start=1):
        lines.append({"type": "RECORD", "stream": stream, "record": record})
        if state_every and count % state_every == 0:
            lines.append({"type": "STATE", "value": {"done": count}})
    lines.append({"type": "STATE", "value": {"done": count}})
    return "\n".join(json.dumps(line) for line in lines) + "\n"


@dataclass
class Run:
    """What one in-process run of the target produced."""

    states: list[dict[str, Any]]
    target: TargetGHL | None
    error: BaseException | None = None
    logs: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """The summary lines, joined."""
        return "\n".join(line for line in self.logs if "Run summary" in line)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


RunTarget = Callable[..., Run]


@pytest.fixture
def ghl_config(sandbox: SandboxClient, demo_keys: dict[str, str], tmp_path: Path) -> dict:
    """A configuration aimed at the sandbox, with fast retries and a ledger in tmp_path."""
    return {
        "access_token": demo_keys["ghl"],
        "location_id": demo_keys["ghl_location"],
        "api_url": sandbox.api_url("ghl"),
        "default_phone_region": "US",
        "ledger_path": str(tmp_path / "ledger.sqlite"),
        "reject_file": str(tmp_path / "rejects.jsonl"),
        "backoff_base_seconds": 0.01,
        "max_retry_wait_seconds": 2,
        "request_timeout": 2,
    }


@pytest.fixture
def default_config(sandbox: SandboxClient, tmp_path: Path) -> dict:
    """Only what a user must give (credentials, URL, region, files): every timeout, retry
    bound and backoff at its default."""
    return harness.ghl_config(sandbox, tmp_path)


@pytest.fixture
def run_target(ghl_config: dict) -> RunTarget:
    """Run the target in-process on Singer lines; expected errors are returned, not raised."""
    return _runner(ghl_config)


@pytest.fixture
def run_with_defaults(default_config: dict) -> RunTarget:
    """`run_target` with default timeouts, retries and backoff."""
    return _runner(default_config)


def _runner(base: dict) -> RunTarget:
    def run(lines: str, *, expect_error: bool = False, **overrides: Any) -> Run:
        config = {**base, **overrides}
        collect = _Collect()
        root = logging.getLogger()
        root.addHandler(collect)
        previous = root.level
        root.setLevel(logging.INFO)
        stdout = io.StringIO()
        target: TargetGHL | None = None
        error: BaseException | None = None
        try:
            with contextlib.redirect_stdout(stdout):
                target = TargetGHL(config=config)
                target.listen(io.StringIO(lines))
        except Exception as exc:
            if not expect_error:
                raise
            error = exc
        finally:
            root.removeHandler(collect)
            root.setLevel(previous)
        if expect_error and error is None:
            pytest.fail("the run was expected to fail")
        states = [json.loads(line) for line in stdout.getvalue().splitlines() if line.strip()]
        return Run(states=states, target=target, error=error, logs=collect.lines)

    return run


def contacts(sandbox: SandboxClient) -> list[dict[str, Any]]:
    """The contacts the sandbox GHL holds."""
    return list(sandbox.records("ghl", "contacts"))


def by_email(sandbox: SandboxClient) -> dict[str, dict[str, Any]]:
    """Contacts keyed by lower-cased email."""
    return {c["email"].lower(): c for c in contacts(sandbox) if c.get("email")}


def write_requests(sandbox: SandboxClient) -> list[dict[str, Any]]:
    """Every write request (method, path, template, body, status) the sandbox received."""
    return list(sandbox.records("ghl", "requests"))


def rejects(path: str | Path) -> list[dict[str, Any]]:
    """Lines of a reject file."""
    file = Path(path)
    if not file.exists():
        return []
    return [json.loads(line) for line in file.read_text().splitlines() if line.strip()]
