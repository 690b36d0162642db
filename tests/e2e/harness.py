"""Drive the project's `meltano run` against a sandbox, with every path kept per test."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.control import SandboxClient

ROOT = Path(__file__).resolve().parents[2]
MELTANO = Path(os.environ.get("MELTANO_BIN", ROOT / ".venv" / "meltano" / "bin" / "meltano"))

#: The three pipelines of meltano.yml, as `meltano run` blocks.
POPL_TO_GHL = ("tap-popl", "popl-to-ghl", "target-ghl")
WISEPOPS_TO_GHL = ("tap-wisepops", "wisepops-to-ghl", "target-ghl")
WISEPOPS_TO_POPIN = ("tap-wisepops", "wisepops-to-popin", "target-popin")
ALL_PIPELINES = (*POPL_TO_GHL, *WISEPOPS_TO_GHL, *WISEPOPS_TO_POPIN)

#: Retries tuned so that faults cost milliseconds, not seconds.
FAST_RETRIES = {
    "REQUEST_TIMEOUT": "1",
    "MAX_RETRIES": "8",
    "BACKOFF_BASE_SECONDS": "0.01",
    "MAX_RETRY_WAIT_SECONDS": "0.2",
}
PLUGINS = ("TAP_POPL", "TAP_WISEPOPS", "TARGET_GHL", "TARGET_POPIN")


@dataclass
class RunResult:
    """One finished `meltano run`: its exit code and its whole output."""

    returncode: int
    output: str

    def check(self) -> RunResult:
        """Fail with the tail of the log unless the run succeeded."""
        assert self.returncode == 0, f"meltano run failed:\n{self.output[-6000:]}"
        return self


@dataclass
class MeltanoProject:
    """The repository's meltano.yml, pointed at one sandbox, with state and files under `home`."""

    sandbox: SandboxClient
    home: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    runs: int = 0

    @property
    def reject_files(self) -> dict[str, Path]:
        """Where each target writes its rejects."""
        return {
            "ghl": self.home / "rejects" / "target-ghl.jsonl",
            "popin": self.home / "rejects" / "target-popin.jsonl",
        }

    @property
    def log_dir(self) -> Path:
        """Every run's complete output, one file per run."""
        return self.home / "logs"

    def env(self) -> dict[str, str]:
        """The process environment: sandbox URLs, state, database and file paths."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_", "TARGET_"))}
        env.update(
            {
                "MELTANO_ENVIRONMENT": "sandbox",
                "MELTANO_STATE_BACKEND_URI": (self.home / "state").as_uri(),
                "MELTANO_DATABASE_URI": f"sqlite:///{self.home / 'meltano.db'}",
                "MELTANO_CLI_LOG_LEVEL": "info",
                "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
                "MELTANO_DISABLE_VERSION_CHECK": "true",
                "NO_COLOR": "1",
                "TAP_POPL_API_URL": self.sandbox.api_url("popl"),
                "TAP_WISEPOPS_API_URL": self.sandbox.api_url("wisepops"),
                "TARGET_GHL_API_URL": self.sandbox.api_url("ghl"),
                "TARGET_POPIN_API_URL": self.sandbox.api_url("popin"),
                "TARGET_GHL_REJECT_FILE": str(self.reject_files["ghl"]),
                "TARGET_POPIN_REJECT_FILE": str(self.reject_files["popin"]),
                "TARGET_GHL_LEDGER_PATH": str(self.home / "ledgers" / "target-ghl.sqlite"),
                "TARGET_POPIN_LEDGER_PATH": str(self.home / "ledgers" / "target-popin.sqlite"),
                "TARGET_JSONL_DESTINATION_PATH": str(self.home / "export"),
            }
        )
        for plugin in PLUGINS:
            env.update({f"{plugin}_{name}": value for name, value in FAST_RETRIES.items()})
        env.update(self.extra_env)
        return env

    def command(self, *blocks: str, state_id_suffix: str | None = None) -> list[str]:
        """The `meltano run` command line for these blocks."""
        suffix = [f"--state-id-suffix={state_id_suffix}"] if state_id_suffix else []
        return [str(MELTANO), "run", *suffix, *blocks]

    def start(
        self, *blocks: str, state_id_suffix: str | None = None
    ) -> tuple[subprocess.Popen[bytes], Path]:
        """Launch `meltano run` in the background; its output goes to a new log file."""
        self.runs += 1
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / f"run-{self.runs:02d}.log"
        with log.open("wb") as handle:
            process = subprocess.Popen(
                self.command(*blocks, state_id_suffix=state_id_suffix),
                cwd=ROOT,
                env=self.env(),
                stdout=handle,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        return process, log

    def run(
        self, *blocks: str, state_id_suffix: str | None = None, timeout: float = 240
    ) -> RunResult:
        """Run the blocks to the end (the process group is killed on timeout)."""
        process, log = self.start(*blocks, state_id_suffix=state_id_suffix)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        return RunResult(process.returncode, log.read_text(errors="replace"))

    def all_logs(self) -> str:
        """The output of every run so far."""
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.log_dir.glob("*")))

    def rejects(self, target: str) -> list[dict[str, Any]]:
        """The reject file of a target ("ghl" or "popin")."""
        path = self.reject_files[target]
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def state_ids(self) -> list[str]:
        """The state ids the file state backend holds."""
        listing = subprocess.run(
            [str(MELTANO), "state", "list"],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return sorted(line.strip() for line in listing.stdout.splitlines() if line.strip())


def descendants(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of every process below `pid`, read from /proc."""
    children: dict[int, list[int]] = {}
    commands: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
        commands[int(entry.name)] = cmdline
    found: list[tuple[int, str]] = []
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append((child, commands.get(child, "")))
            stack.append(child)
    return found


def kill_plugin_when(
    process: subprocess.Popen[bytes],
    executable: str,
    ready: Callable[[], bool],
    timeout: float = 120,
) -> bool:
    """SIGKILL the running plugin `executable` under `process` once `ready()` holds.

    Returns whether a plugin process was killed (False if the run ended first).
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if ready():
            victims = [
                pid
                for pid, cmd in descendants(process.pid)
                if f"/{executable} " in f"{cmd} " or cmd.startswith(f"{executable} ")
            ]
            for pid in victims:
                os.kill(pid, signal.SIGKILL)
            if victims:
                return True
        time.sleep(0.01)
    return False


def by_key(records: list[Mapping[str, Any]], key: str) -> dict[Any, Mapping[str, Any]]:
    """Index records by one field."""
    return {record.get(key): record for record in records}
