"""`make demo`: the three pipelines against the local sandbox, twice, on one screen."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sandbox.control import SandboxClient, running_sandbox

ROOT = Path(__file__).resolve().parents[1]
MELTANO = ROOT / ".venv" / "meltano" / "bin" / "meltano"
WORK = ROOT / "output" / "demo"
PORT = 8765
PIPELINES = (
    ("Popl leads -> GHL", ("tap-popl", "popl-to-ghl", "target-ghl")),
    ("Wisepops contacts -> GHL", ("tap-wisepops", "wisepops-to-ghl", "target-ghl")),
    ("Wisepops contacts -> Popin", ("tap-wisepops", "wisepops-to-popin", "target-popin")),
)
WISEPOPS_CONTACTS = 400
SUMMARY = re.compile(r"Run summary: (?P<stream>\w+): (?P<body>.*)$")
COUNT = re.compile(r"(?P<name>\w+)=(?P<n>\d+)")


def port_is_free(port: int) -> bool:
    """Whether nothing listens on the loopback port."""
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def private_sys_dir() -> Path:
    """A .meltano of the demo's own, its plugin folders linked to the installed ones.

    Meltano writes each plugin's config, catalog and state files under
    `.meltano/run/<plugin>/`: a private one lets the demo run beside the test suite.
    """
    sys_dir = WORK / "meltano-sys"
    sys_dir.mkdir(parents=True, exist_ok=True)
    for kind in ("extractors", "loaders", "mappers"):
        link = sys_dir / kind
        if not link.exists():
            link.symlink_to(ROOT / ".meltano" / kind, target_is_directory=True)
    return sys_dir


def environment(sandbox: SandboxClient) -> dict[str, str]:
    """Meltano's environment: the sandbox's URLs and the demo's own state and files."""
    env = dict(os.environ)
    env.update(
        {
            "MELTANO_ENVIRONMENT": "sandbox",
            "MELTANO_SYS_DIR_ROOT": str(private_sys_dir()),
            "MELTANO_STATE_BACKEND_URI": (WORK / "state").as_uri(),
            "MELTANO_DATABASE_URI": f"sqlite:///{WORK / 'meltano.db'}",
            "NO_COLOR": "1",
            "TAP_POPL_API_URL": sandbox.api_url("popl"),
            "TAP_WISEPOPS_API_URL": sandbox.api_url("wisepops"),
            "TARGET_GHL_API_URL": sandbox.api_url("ghl"),
            "TARGET_POPIN_API_URL": sandbox.api_url("popin"),
            "TARGET_GHL_REJECT_FILE": str(WORK / "rejects-ghl.jsonl"),
            "TARGET_POPIN_REJECT_FILE": str(WORK / "rejects-popin.jsonl"),
            "TARGET_GHL_LEDGER_PATH": str(WORK / "ledger-ghl.sqlite"),
            "TARGET_POPIN_LEDGER_PATH": str(WORK / "ledger-popin.sqlite"),
        }
    )
    return env


def summaries(log: str) -> dict[str, dict[str, int]]:
    """The targets' end-of-run counts, per stream."""
    found: dict[str, dict[str, int]] = {}
    for line in log.splitlines():
        match = SUMMARY.search(line)
        if match:
            counts = {m["name"]: int(m["n"]) for m in COUNT.finditer(match["body"])}
            found[match["stream"]] = counts
    return found


def calls(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, int]:
    """Requests each vendor API received between two counter readings."""
    return {api: after[api]["requests"] - before[api]["requests"] for api in after}


def run_pipelines(sandbox: SandboxClient, env: dict[str, str], number: int) -> None:
    """One `meltano run` of the three pipelines; print what arrived, the calls, the time."""
    log_path = WORK / f"run-{number}.log"
    before = sandbox.counters()
    started = time.monotonic()
    blocks = [block for _, pipeline in PIPELINES for block in pipeline]
    with log_path.open("w") as log:
        code = subprocess.call(
            [str(MELTANO), "run", *blocks], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    elapsed = time.monotonic() - started
    if code != 0:
        print(f"  meltano run failed (exit {code}); its log: {log_path}")
        sys.exit(code)
    counts = summaries(log_path.read_text())
    print(
        f"  {'destination stream':<28}{'received':>9}{'created':>9}{'updated':>9}"
        f"{'unchanged':>10}{'rejected':>9}"
    )
    for stream in ("popl_leads", "wisepops_contacts", "wisepops_captures"):
        c = counts.get(stream, {})
        print(
            f"  {stream:<28}{c.get('received', 0):>9}{c.get('created', 0):>9}"
            f"{c.get('updated', 0):>9}{c.get('unchanged', 0):>10}{c.get('rejected', 0):>9}"
        )
    spent = calls(before, sandbox.counters())
    print("  API calls: " + ", ".join(f"{api} {n}" for api, n in spent.items()))
    print(f"  time: {elapsed:.0f} s   (full log: {log_path.relative_to(ROOT)})")


def destinations(sandbox: SandboxClient) -> str:
    """What GHL and Popin hold now, in one line."""
    contacts = sandbox.records("ghl", "contacts")
    notes = sum(len(c["notes"]) for c in contacts)
    tasks = sum(len(c["tasks"]) for c in contacts)
    customers = len(sandbox.records("popin", "customers"))
    bookings = len(sandbox.records("popin", "bookings"))
    return (
        f"GHL {len(contacts)} contacts, {notes} notes, {tasks} tasks; "
        f"Popin {customers} captures, {bookings} bookings"
    )


def main() -> None:
    """Start the sandbox, run the pipelines twice, stop the sandbox."""
    if not MELTANO.exists():
        sys.exit("Meltano is not installed: run `make demo` (it installs it first).")
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    port = PORT if port_is_free(PORT) else None
    with (
        (WORK / "sandbox.log").open("w") as sandbox_log,
        running_sandbox(port=port, log=sandbox_log) as sandbox,
    ):
        # GHL allows 100 requests per 10 s; the demo's sandbox allows 100 per second so
        # that the first run fits in a minute or two. Everything else is as in production.
        sandbox.settings("ghl", rate_limit_window_ms=1000)
        sandbox.seed("wisepops", replace=True, contacts=WISEPOPS_CONTACTS, summary_only=True)
        leads = len(sandbox.records("popl", "leads"))
        env = environment(sandbox)
        print(f"Sandbox at {sandbox.base_url} (GHL rate limit scaled to 100 requests/s)")
        print(f"Sources: Popl {leads} leads, Wisepops {WISEPOPS_CONTACTS} contacts")
        print("Pipelines: " + "; ".join(name for name, _ in PIPELINES))
        print("\nRun 1: everything is new")
        run_pipelines(sandbox, env, 1)
        print(f"  now: {destinations(sandbox)}")
        print("\nRun 2: incremental, nothing new at the sources")
        print("  (tap-popl re-reads its 24 h lookback window for late leads; GHL upserts")
        print("   make the re-sent leads harmless: no new contact, note or capture)")
        run_pipelines(sandbox, env, 2)
        print(f"  now: {destinations(sandbox)}")
    print("\nSandbox stopped. Rejected records and their reasons: output/demo/rejects-*.jsonl")
    # Someone who next runs a pipeline by hand meets GHL's real pace: say so before they do.
    print(
        "Against `lead-sandbox serve` as it starts (GHL's real 100 requests per 10 s, 3,114\n"
        "Wisepops contacts) the GHL pipelines take 3-10x longer: see docs/sandbox.md."
    )


if __name__ == "__main__":
    main()
