"""`lead-sandbox serve`: run the four emulated APIs on loopback."""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn

from sandbox.app import SandboxOptions, build_app


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="lead-sandbox", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the emulated APIs")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--seed", type=int, default=42, help="seed of the generated data")
    serve.add_argument("--latency-ms", type=float, default=0.0, help="delay before each answer")
    serve.add_argument("--fault-rate", type=float, default=0.0, help="share of requests that fail")
    serve.add_argument("--data-dir", type=Path, default=None, help="persist stores here on exit")
    args = parser.parse_args(argv)
    options = SandboxOptions(args.seed, args.latency_ms, args.fault_rate, args.data_dir)
    uvicorn.run(
        build_app(options),
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=2,
    )
