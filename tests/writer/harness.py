"""Both targets as users run them: the console script, a config file, Singer lines on stdin."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.control import DEMO_KEYS, SandboxClient

BIN = Path(__file__).resolve().parents[2] / ".venv" / "bin"
STREAM = "leads"
SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": ["string", "null"]},
        "email": {"type": ["string", "null"]},
        "phone": {"type": ["string", "null"]},
        "mobile": {"type": ["string", "null"]},
        "notes": {},
        "seq": {"type": ["integer", "null"]},
    },
}


def ghl_config(sandbox: SandboxClient, folder: Path, **overrides: Any) -> dict[str, Any]:
    """Only what a user must give target-ghl: every timeout, retry and bound at its default."""
    return {
        "access_token": DEMO_KEYS["ghl"],
        "location_id": DEMO_KEYS["ghl_location"],
        "api_url": sandbox.api_url("ghl"),
        "default_phone_region": "US",
        "ledger_path": str(folder / "ledger.sqlite"),
        "reject_file": str(folder / "rejects.jsonl"),
        **overrides,
    }


def popin_config(sandbox: SandboxClient, folder: Path, **overrides: Any) -> dict[str, Any]:
    """Only what a user must give target-popin: every timeout, retry and bound at its default."""
    return {
        "api_key": DEMO_KEYS["popin_api_key"],
        "seller_token": DEMO_KEYS["popin_token"],
        "api_url": sandbox.api_url("popin"),
        "default_country_code": "91",
        "ledger_path": str(folder / "ledger.sqlite"),
        "reject_file": str(folder / "rejects.jsonl"),
        **overrides,
    }


def ghl_lead(seq: int) -> dict[str, Any]:
    """A distinct GHL lead; every fourth has a note."""
    lead: dict[str, Any] = {"seq": seq, "name": f"Lead {seq}", "email": f"lead{seq}@example.com"}
    if seq % 4 == 0:
        lead["notes"] = f"Met at booth {seq}"
    return lead


def popin_lead(seq: int) -> dict[str, Any]:
    """A distinct Popin lead with a valid Indian mobile."""
    return {"seq": seq, "name": f"Lead {seq}", "mobile": f"98765{seq:05d}"}


def singer_lines(
    records: list[dict[str, Any]],
    *,
    state_every: int = 5,
    stream: str = STREAM,
    key_properties: list[str] | None = None,
) -> bytes:
    """SCHEMA, the records, and a STATE `{"done": seq}` after every `state_every` records."""
    schema = {"type": "SCHEMA", "stream": stream, "schema": SCHEMA}
    lines = [{**schema, "key_properties": key_properties or []}]
    for count, record in enumerate(records, start=1):
        lines.append({"type": "RECORD", "stream": stream, "record": record})
        if count % state_every == 0 or count == len(records):
            lines.append({"type": "STATE", "value": {"done": record["seq"]}})
    return b"".join(json.dumps(line).encode() + b"\n" for line in lines)


@dataclass
class Finished:
    """One run of a target's console script."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float
    states: list[dict[str, Any]] = field(default_factory=list)

    @property
    def acknowledged(self) -> int:
        """The highest `done` any emitted STATE reached (0 when none was emitted)."""
        return max((int(state.get("done", 0)) for state in self.states), default=0)

    @property
    def output(self) -> str:
        """Everything the run printed."""
        return self.stdout + self.stderr


def wait_until_handling(process: subprocess.Popen[Any], timeout: float = 60) -> None:
    """Block until `process` has its stop handlers (Linux /proc), so a signal tests them.

    A signal sent while the interpreter is still importing would kill the process outright,
    which tests nothing of ours; on a loaded machine that can take seconds. SIGTERM tells:
    Python catches SIGINT from the start, SIGTERM only once the connector installs both.
    """
    deadline = time.monotonic() + timeout
    status = Path(f"/proc/{process.pid}/status")
    while time.monotonic() < deadline and process.poll() is None:
        caught = next(
            (
                line.split()[1]
                for line in status.read_text().splitlines()
                if line.startswith("SigCgt")
            ),
            "0",
        )
        if int(caught, 16) >> (signal.SIGTERM - 1) & 1:
            # The SDK installs its handlers just before ours replace them.
            time.sleep(0.3)
            return
        time.sleep(0.02)


def run_target(
    script: str,
    config: dict[str, Any],
    folder: Path,
    payload: bytes,
    *,
    signal_after: float | None = None,
    signum: int = signal.SIGTERM,
    env: dict[str, str] | None = None,
    timeout: float = 240,
) -> Finished:
    """Run `script` on `payload`, optionally signalling it `signal_after` seconds after it
    started handling signals."""
    config_path = folder / "config.json"
    config_path.write_text(json.dumps(config))
    input_path = folder / "input.singer"
    input_path.write_bytes(payload)
    out_path, err_path = folder / "stdout.txt", folder / "stderr.txt"
    started = time.monotonic()
    with input_path.open("rb") as stdin, out_path.open("wb") as out, err_path.open("wb") as err:
        process = subprocess.Popen(
            [str(BIN / script), "--config", str(config_path)],
            stdin=stdin,
            stdout=out,
            stderr=err,
            env={**os.environ, **(env or {})},
        )
        if signal_after is not None:
            wait_until_handling(process)
            try:
                process.wait(timeout=signal_after)
            except subprocess.TimeoutExpired:
                process.send_signal(signum)
        returncode = process.wait(timeout=timeout)
    stdout = out_path.read_text(errors="replace")
    states = []
    for line in stdout.splitlines():
        try:
            states.append(json.loads(line))
        except ValueError:
            # A SIGKILL can cut the last line short; the orchestrator ignores it too.
            continue
    return Finished(
        returncode=returncode,
        stdout=stdout,
        stderr=err_path.read_text(errors="replace"),
        seconds=time.monotonic() - started,
        states=[s for s in states if isinstance(s, dict)],
    )


def rejected(folder: Path) -> list[dict[str, Any]]:
    """Lines of the run's reject file."""
    path = folder / "rejects.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def ghl_contacts_by_email(sandbox: SandboxClient) -> dict[str, list[dict[str, Any]]]:
    """The sandbox's GHL contacts grouped by email (a duplicate shows as two)."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for contact in sandbox.records("ghl", "contacts"):
        if contact.get("email"):
            grouped.setdefault(contact["email"].lower(), []).append(contact)
    return grouped


def ghl_notes_by_contact(sandbox: SandboxClient) -> dict[str, list[str]]:
    """Note bodies per contact id."""
    grouped: dict[str, list[str]] = {}
    for note in sandbox.records("ghl", "notes"):
        grouped.setdefault(note["contactId"], []).append(note["body"])
    return grouped


def popin_customers_by_mobile(sandbox: SandboxClient) -> dict[str, int]:
    """How many Popin customers each mobile number became."""
    counts: dict[str, int] = {}
    for customer in sandbox.records("popin", "customers"):
        mobile = str(customer.get("mobile") or customer.get("phone") or "")
        counts[mobile[-10:]] = counts.get(mobile[-10:], 0) + 1
    return counts
