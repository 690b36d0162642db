"""Records/s tap-wisepops emits to /dev/null for 100k contacts, per Singer message writer.

Run: `.venv/bin/python -m benchmarks.tap_wisepops [--contacts 100000] [--rounds 3]`.
The sandbox runs in its own process at zero latency; each round runs the real CLI once per
writer (alternating, so machine noise hits both alike) and the best round counts. Calls are
read from the sandbox's counters.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sandbox.control import DEMO_KEYS, SandboxClient, running_sandbox

WRITERS = {
    "SingerWriter (SDK default)": "singer_sdk.io_base:SingerWriter",
    "MsgSpecWriter": "singer_sdk.contrib.msgspec:MsgSpecWriter",
}
CONTACTS_ROUTE = "GET /api2/contacts"


def run_with_writer(writer: str, config_path: str) -> None:
    """Child process: the CLI with the chosen writer class."""
    from importlib import import_module

    from tap_wisepops.tap import TapWisepops

    module, name = writer.split(":")
    TapWisepops.message_writer_class = getattr(import_module(module), name)
    sys.argv = ["tap-wisepops", "--config", config_path]
    TapWisepops.cli()


def one_run(writer: str, config_path: str, sandbox: SandboxClient) -> tuple[float, int]:
    """Seconds for a whole CLI run, and the /contacts calls it made."""
    before = sandbox.counters("wisepops")["by_route"].get(CONTACTS_ROUTE, 0)
    command = [sys.executable, "-m", "benchmarks.tap_wisepops", "--child", writer, config_path]
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    elapsed = time.perf_counter() - start
    calls = sandbox.counters("wisepops")["by_route"].get(CONTACTS_ROUTE, 0) - before
    return elapsed, calls


def main() -> None:
    """Seed, run each writer `rounds` times, print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_with_writer(*args.child)
        return
    with running_sandbox() as sandbox, tempfile.TemporaryDirectory() as folder:
        sandbox.seed("wisepops", contacts=args.contacts, replace=True, summary_only=True)
        # Benchmarks may spend more than a month of real quota.
        sandbox.settings("wisepops", monthly_call_budget=1_000_000)
        config_path = str(Path(folder) / "config.json")
        config = {"api_key": DEMO_KEYS["wisepops"], "api_url": sandbox.api_url("wisepops")}
        Path(config_path).write_text(json.dumps(config))
        best: dict[str, tuple[float, int]] = {}
        for _ in range(args.rounds):
            for label, writer in WRITERS.items():
                elapsed, calls = one_run(writer, config_path, sandbox)
                if label not in best or elapsed < best[label][0]:
                    best[label] = (elapsed, calls)
    baseline = best["SingerWriter (SDK default)"][0]
    print(f"{args.contacts} contacts, page_size 1000, best of {args.rounds} CLI runs\n")
    print("| writer | seconds | records/s | /contacts calls | speed-up |")
    print("|---|---:|---:|---:|---:|")
    for label, (elapsed, calls) in best.items():
        print(
            f"| {label} | {elapsed:.2f} | {args.contacts / elapsed:,.0f} | {calls} "
            f"| {baseline / elapsed:.2f}x |"
        )


if __name__ == "__main__":
    main()
