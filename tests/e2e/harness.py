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

import yaml

from leadkit.emails import clean_email
from leadkit.phones import split_calling_code, to_e164
from sandbox.control import SandboxClient
from sandbox.wisepops import _is_phone_label as is_phone_label
from tap_wisepops.streams import contact_key

ROOT = Path(__file__).resolve().parents[2]
MELTANO = Path(os.environ.get("MELTANO_BIN", ROOT / ".venv" / "meltano" / "bin" / "meltano"))

#: The three pipelines of meltano.yml, as `meltano run` blocks.
POPL_TO_GHL = ("tap-popl", "popl-to-ghl", "target-ghl")
WISEPOPS_TO_GHL = ("tap-wisepops", "wisepops-to-ghl", "target-ghl")
WISEPOPS_TO_POPIN = ("tap-wisepops", "wisepops-to-popin", "target-popin")
ALL_PIPELINES = (*POPL_TO_GHL, *WISEPOPS_TO_GHL, *WISEPOPS_TO_POPIN)

#: Retries tuned so that faults cost milliseconds, not seconds (whole seconds only: Meltano
#: 4.4 cannot pass a `decimal` setting set from the environment to a plugin).
FAST_RETRIES = {
    "REQUEST_TIMEOUT": "1",
    "MAX_RETRIES": "8",
    "BACKOFF_BASE_SECONDS": "0",
    "MAX_RETRY_WAIT_SECONDS": "1",
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
    state_dir: Path | None = None  # shared by several projects to model one remote backend
    own_sys_dir: bool = True  # a private .meltano (runs in parallel), plugins shared
    fast_retries: bool = True  # False: every timeout, retry and backoff at its default
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
                "MELTANO_STATE_BACKEND_URI": (self.state_dir or self.home / "state").as_uri(),
                "MELTANO_DATABASE_URI": f"sqlite:///{self.home / 'meltano.db'}",
                "MELTANO_CLI_LOG_LEVEL": "info",
                "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
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
                "TARGET_POPIN_SCHEDULE": "next_available",
            }
        )
        for plugin in PLUGINS if self.fast_retries else ():
            env.update({f"{plugin}_{name}": value for name, value in FAST_RETRIES.items()})
        if self.own_sys_dir:
            env["MELTANO_SYS_DIR_ROOT"] = str(self.private_sys_dir())
        env.update(self.extra_env)
        return env

    def private_sys_dir(self) -> Path:
        """A .meltano of this project's own whose plugin folders link to the installed ones.

        Meltano writes each plugin's config and catalog under `.meltano/run/<plugin>/`, so
        two runs of one plugin at once in one project overwrite each other's files.
        """
        sys_dir = self.home / "meltano-sys"
        for kind in ("extractors", "loaders", "mappers"):
            link = sys_dir / kind
            if not link.exists():
                sys_dir.mkdir(parents=True, exist_ok=True)
                link.symlink_to(ROOT / ".meltano" / kind, target_is_directory=True)
        return sys_dir

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


# What the sources hold and what the destinations received, in comparable shapes.

MELTANO_YML = yaml.safe_load((ROOT / "meltano.yml").read_text())
FIRST_NAME_LABELS = {"prénom", "first name", "first_name", "firstname"}
LAST_NAME_LABELS = {"nom", "last name", "last_name", "surname"}
GHL_REGION = "US"
POPIN_DEFAULT_CALLING_CODE = "91"


def mapping_config(name: str) -> dict[str, Any]:
    """The `stream_map_config` of one mapping in meltano.yml."""
    mapper = MELTANO_YML["plugins"]["mappers"][0]
    mapping = next(m for m in mapper["mappings"] if m["name"] == name)
    return dict(mapping["config"].get("stream_map_config", {}))


@dataclass(frozen=True)
class SourcePerson:
    """One source record reduced to what the destinations are asked to hold."""

    source: str  # "popl" or "wisepops"
    key: str  # leadId, or the Wisepops contact key the tap gives
    email: Any
    phone: Any
    first_name: Any
    last_name: Any
    country: str | None = None
    wisepop_id: int | None = None
    note: str | None = None
    lead: Mapping[str, Any] | None = None

    @property
    def ghl_identity(self) -> str | None:
        """The email, else the E.164 phone, that GHL matches this person by."""
        return clean_email(self.email) or to_e164(self.phone, GHL_REGION)

    @property
    def popin_key(self) -> str | None:
        """`+<calling code><national number>` as Popin would hold the phone."""
        if not isinstance(self.phone, str) or not self.phone.strip():
            return None
        codes = mapping_config("wisepops-to-popin")["calling_codes"]
        hint = None if self.phone.strip().startswith("+") else codes.get(self.country or "")
        split = split_calling_code(self.phone, hint or POPIN_DEFAULT_CALLING_CODE)
        return f"+{split[0]}{split[1]}" if split else None


def popl_people(sandbox: SandboxClient) -> list[SourcePerson]:
    """Every visible Popl lead."""
    found = []
    for lead in sandbox.records("popl", "leads"):
        system = lead["systemFields"]
        phones = lead.get("phones") or []
        found.append(
            SourcePerson(
                source="popl",
                key=lead["leadId"],
                email=system.get("email"),
                phone=phones[0].get("number") if phones else None,
                first_name=system.get("firstName"),
                last_name=system.get("lastName"),
                note=system.get("note"),
                lead=lead,
            )
        )
    return found


def _field(fields: Mapping[str, Any], test: Callable[[str], bool]) -> Any:
    return next((value for label, value in fields.items() if test(str(label).casefold())), None)


def wisepops_people(sandbox: SandboxClient) -> list[SourcePerson]:
    """Every Wisepops contact, its form fields read the way the tap lifts them."""
    found = []
    for contact in sandbox.records("wisepops", "contacts"):
        fields = contact.get("fields") or {}
        found.append(
            SourcePerson(
                source="wisepops",
                key=contact_key(contact),
                email=_field(fields, lambda label: "mail" in label),
                phone=_field(fields, is_phone_label),
                first_name=_field(fields, FIRST_NAME_LABELS.__contains__),
                last_name=_field(fields, LAST_NAME_LABELS.__contains__),
                country=contact.get("country_code"),
                wisepop_id=contact.get("wisepop_id"),
            )
        )
    return found


def ghl_contacts(sandbox: SandboxClient) -> list[dict[str, Any]]:
    """What the GHL location holds, notes and tasks included."""
    return list(sandbox.records("ghl", "contacts"))


def popin_customers(sandbox: SandboxClient) -> list[dict[str, Any]]:
    """Everyone captured in Popin."""
    return list(sandbox.records("popin", "customers"))


def popin_key_of(customer: Mapping[str, Any]) -> str:
    """`+<country><mobile>` of a Popin customer."""
    return f"+{customer.get('country')}{customer.get('mobile')}"


def duplicates(values: list[Any]) -> list[Any]:
    """Values present more than once."""
    return sorted({v for v in values if values.count(v) > 1}, key=str)


def small_sources(sandbox: SandboxClient, popl_leads: int = 40, contacts: int = 60) -> None:
    """Sources small enough for a quick run, and a GHL rate limit that does not pace it."""
    sandbox.settings("ghl", rate_limit_max=5000, rate_limit_window_ms=1000)
    sandbox.settings("popin", free_slots=500)
    sandbox.seed("popl", replace=True, count=popl_leads, tie_every=4)
    sandbox.seed("wisepops", replace=True, contacts=contacts, summary_only=True)


@dataclass
class History:
    """Small sources, then destinations and request counts after each of three runs of the
    three pipelines: the first, one with nothing new, one after a contact was added."""

    project: MeltanoProject
    popl: list[SourcePerson] = field(default_factory=list)
    wisepops: list[SourcePerson] = field(default_factory=list)
    contacts: list[list[dict[str, Any]]] = field(default_factory=list)
    customers: list[list[dict[str, Any]]] = field(default_factory=list)
    bookings: list[list[dict[str, Any]]] = field(default_factory=list)
    counters: list[dict[str, Any]] = field(default_factory=list)
    added_email: str = "late.visitor@example.org"
    added_phone: str = "+447400123456"

    def run_and_snapshot(self) -> None:
        """One run of the three pipelines; what it changed is recorded."""
        sandbox = self.project.sandbox
        before = sandbox.counters()
        self.project.run(*ALL_PIPELINES).check()
        after = sandbox.counters()
        self.counters.append({api: _delta(before[api], after[api]) for api in after})
        self.contacts.append(ghl_contacts(sandbox))
        self.customers.append(popin_customers(sandbox))
        self.bookings.append(list(sandbox.records("popin", "bookings")))

    def play(self) -> History:
        """Seed, run, run again, add a contact, run a third time."""
        sandbox = self.project.sandbox
        sandbox.reset()
        small_sources(sandbox)
        self.popl, self.wisepops = popl_people(sandbox), wisepops_people(sandbox)
        self.run_and_snapshot()
        self.run_and_snapshot()
        sandbox.seed(
            "wisepops",
            contacts=1,
            wisepop_id=34567,
            fields={
                "Email address": self.added_email,
                "First name": "Late",
                "Last name": "Visitor",
                "Phone number": self.added_phone,
            },
        )
        self.run_and_snapshot()
        return self


def _delta(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    routes = {
        route: n - before["by_route"].get(route, 0)
        for route, n in after["by_route"].items()
        if n - before["by_route"].get(route, 0)
    }
    return {"requests": after["requests"] - before["requests"], "by_route": routes}
