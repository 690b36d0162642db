"""`lead-sandbox serve`: run the four emulated APIs on loopback."""

from __future__ import annotations

import argparse
import contextlib
import socket
from pathlib import Path

import uvicorn
from typing_extensions import override

from sandbox.app import SandboxOptions, build_app
from sandbox.control import API_PATHS, DEMO_KEYS
from sandbox.popl.leads import TEAM_ID

#: (API, label, what a connector's config needs besides `api_url`).
APIS = (
    ("popl", "Popl", f"api_key={DEMO_KEYS['popl']} team_id={TEAM_ID}"),
    ("wisepops", "Wisepops", f"api_key={DEMO_KEYS['wisepops']}"),
    (
        "ghl",
        "GHL",
        f"access_token={DEMO_KEYS['ghl']} location_id={DEMO_KEYS['ghl_location']}",
    ),
    (
        "popin",
        "Popin",
        f"api_key={DEMO_KEYS['popin_api_key']} seller_token={DEMO_KEYS['popin_token']}",
    ),
)


MELTANO_PORT = 8765  # where meltano.yml's `sandbox` environment looks


def banner(base_url: str, port: int) -> str:
    """What a newcomer needs to point a connector here: URLs and the demo credentials."""
    urls = {api: base_url + path for api, path in API_PATHS.items()}
    width = max(map(len, urls.values()))
    lines = [
        f"lead-sandbox: serving on {base_url}",
        f"  {'API':<9} {'api_url':<{width}}  demo credentials",
        *(f"  {label:<9} {urls[api]:<{width}}  {creds}" for api, label, creds in APIS),
        f"  {'control':<9} {base_url}/_sandbox",
    ]
    if port != MELTANO_PORT:
        lines.append(
            f"meltano.yml's `sandbox` environment expects port {MELTANO_PORT}: point the "
            "plugins here with TAP_POPL_API_URL, TAP_WISEPOPS_API_URL, TARGET_GHL_API_URL "
            "and TARGET_POPIN_API_URL."
        )
    lines.append("Ctrl-C stops it.")
    return "\n".join(lines)


class _Server(uvicorn.Server):
    """Says where it is once it listens (not before: the port may turn out to be taken)."""

    @override
    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            host, port = self.servers[0].sockets[0].getsockname()[:2]
            print(banner(f"http://{host}:{port}", port), flush=True)


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="lead-sandbox", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the emulated APIs")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    serve.add_argument("--seed", type=int, default=42, help="seed of the generated data")
    serve.add_argument("--latency-ms", type=float, default=0.0, help="delay before each answer")
    serve.add_argument("--fault-rate", type=float, default=0.0, help="share of requests that fail")
    serve.add_argument("--data-dir", type=Path, default=None, help="persist stores here on exit")
    args = parser.parse_args(argv)
    options = SandboxOptions(args.seed, args.latency_ms, args.fault_rate, args.data_dir)
    config = uvicorn.Config(
        build_app(options),
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=2,
    )
    # Ctrl-C is how it is meant to stop: no traceback for it.
    with contextlib.suppress(KeyboardInterrupt):
        _Server(config).run()
