"""One tenant's `meltano run` in a working directory of its own, with that tenant's variables."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from orchestration.pipelines import Pipeline
from orchestration.tenants import Tenant

#: The repository holding meltano.yml, when the package runs from a checkout.
CHECKOUT = Path(__file__).resolve().parents[1]
SUMMARY = re.compile(
    r"Run summary(?: \(the run stopped early\))?: (?P<stream>[\w-]+): (?P<rest>.*)"
)
COUNT = re.compile(r"(?:^|; )(?P<name>[a-z_]+)=(?P<n>\d+)")
MASK = "[redacted]"


class MissingSecretError(RuntimeError):
    """A variable the tenants file names is not set; the message names it, never a value."""


@dataclass(frozen=True)
class RunFiles:
    """Where one run works: its own directory, and the tenant's lasting ledgers."""

    tenant_home: Path
    run_id: str

    @property
    def workdir(self) -> Path:
        """The run's own directory (its .meltano, rejects and complete log)."""
        return self.tenant_home / "runs" / self.run_id

    @property
    def log(self) -> Path:
        """Meltano's complete output."""
        return self.workdir / "meltano.log"


@dataclass
class RunOutcome:
    """A finished run: exit code, the targets' summary counts and the closing line."""

    returncode: int
    counts: dict[str, int] = field(default_factory=dict)
    summary_lines: list[str] = field(default_factory=list)
    closing_line: str = ""
    log: Path | None = None


def parse_summary(output: str) -> tuple[dict[str, int], list[str]]:
    """`<stream>.<outcome>` counts from the targets' run summary lines, and the lines' streams.

    Only counts are kept: reject reasons carry record keys and names carry field labels.
    """
    counts: dict[str, int] = {}
    lines = []
    for line in output.splitlines():
        found = SUMMARY.search(line)
        if not found:
            continue
        # Meltano appends its own `key=value` context after two spaces or more.
        rest = re.split(r"\s{2,}", found["rest"], maxsplit=1)[0]
        lines.append(found["stream"])
        for count in COUNT.finditer(rest):
            key = f"{found['stream']}.{count['name']}"
            counts[key] = counts.get(key, 0) + int(count["n"])
    return counts, lines


def secret_values(tenant: Tenant, environ: Mapping[str, str]) -> dict[str, str]:
    """The tenant's secrets as Meltano variables, read from the variables the file names."""
    missing = sorted(name for name in tenant.secrets.values() if not environ.get(name))
    if missing:
        raise MissingSecretError(
            f"tenant {tenant.id}: environment variable {', '.join(missing)} is not set "
            "(named under secrets in the tenants file)"
        )
    return {variable: environ[name] for variable, name in tenant.secrets.items()}


def link_plugins(project_dir: Path, sys_dir: Path) -> None:
    """A .meltano of the run's own whose plugin folders are the project's installed ones.

    Meltano writes each plugin's config and catalog under `.meltano/run/<plugin>/`, so two
    runs of one plugin sharing a .meltano overwrite each other's files.
    """
    sys_dir.mkdir(parents=True, exist_ok=True)
    for kind in ("extractors", "loaders", "mappers"):
        link = sys_dir / kind
        if not link.exists():
            link.symlink_to(project_dir / ".meltano" / kind, target_is_directory=True)


def run_environment(
    tenant: Tenant,
    files: RunFiles,
    project_dir: Path,
    meltano_environment: str,
    environ: Mapping[str, str],
) -> dict[str, str]:
    """The subprocess environment: the orchestrator's (state backend included) without any
    connector variable, then this tenant's settings, secrets, location and files."""
    env = {k: v for k, v in environ.items() if not k.startswith(("TAP_", "TARGET_"))}
    env.update(tenant.settings)
    env.update(secret_values(tenant, environ))
    home, work = files.tenant_home, files.workdir
    env.update(
        {
            "MELTANO_PROJECT_ROOT": str(project_dir),
            "MELTANO_SYS_DIR_ROOT": str(work / ".meltano"),
            "MELTANO_ENVIRONMENT": meltano_environment,
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "NO_COLOR": "1",
            "TARGET_GHL_LOCATION_ID": tenant.ghl_location,
            # The ledgers outlive a run: they make the next run's notes and bookings idempotent.
            "TARGET_GHL_LEDGER_PATH": str(home / "ledgers" / "target-ghl.sqlite"),
            "TARGET_POPIN_LEDGER_PATH": str(home / "ledgers" / "target-popin.sqlite"),
            "TARGET_GHL_REJECT_FILE": str(work / "rejects" / "target-ghl.jsonl"),
            "TARGET_POPIN_REJECT_FILE": str(work / "rejects" / "target-popin.jsonl"),
        }
    )
    return env


def meltano_command(
    meltano: str, pipeline: Pipeline, tenant: Tenant, *, full_refresh: bool
) -> list[str]:
    """`meltano run --state-id-suffix=<tenant> [--full-refresh] <blocks>`."""
    refresh = ["--full-refresh"] if full_refresh else []
    return [meltano, "run", f"--state-id-suffix={tenant.id}", *refresh, *pipeline.blocks]


def run_meltano(
    command: list[str], env: dict[str, str], files: RunFiles, secrets: list[str], timeout: float
) -> RunOutcome:
    """Run to the end with the output in the run's log file; summarise it."""
    files.workdir.mkdir(parents=True, exist_ok=True)
    (files.tenant_home / "ledgers").mkdir(parents=True, exist_ok=True)
    link_plugins(Path(env["MELTANO_PROJECT_ROOT"]), Path(env["MELTANO_SYS_DIR_ROOT"]))
    with files.log.open("wb") as handle:
        completed = subprocess.run(
            command,
            cwd=files.workdir,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
        )
    output = files.log.read_text(errors="replace")
    counts, lines = parse_summary(output)
    closing = next((line for line in reversed(output.splitlines()) if line.strip()), "")
    for secret in secrets:
        closing = closing.replace(secret, MASK)
    return RunOutcome(completed.returncode, counts, lines, closing.strip(), files.log)


def default_meltano() -> str:
    """The project's own Meltano (`make meltano`), else `meltano` on the PATH."""
    local = CHECKOUT / ".venv" / "meltano" / "bin" / "meltano"
    return os.environ.get("MELTANO_BIN") or (str(local) if local.exists() else "meltano")
