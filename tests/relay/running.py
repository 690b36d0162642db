"""Run `lead-relay serve` in a child process, for the tests and the benchmarks (the relay
itself never needs this, and the sandbox it imports is an optional extra)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import requests

from sandbox.control import free_port, wait_until_answering


@dataclass
class RelayProcess:
    """A running relay: its base URL and its process."""

    url: str
    process: subprocess.Popen[bytes]

    def hook_url(self, kind: str, name: str) -> str:
        """Where the vendor delivers to for one source."""
        return f"{self.url}/hooks/{kind}/{name}"

    def metrics(self) -> str:
        """The Prometheus text of `GET /metrics`."""
        return requests.get(f"{self.url}/metrics", timeout=10).text


def start_relay(
    spool: str | Path,
    sources: Mapping[str, tuple[str, str | None]],
    *,
    port: int | None = None,
    log: IO[Any] | None = None,
    extra: tuple[str, ...] = (),
) -> RelayProcess:
    """Start a relay for `sources` (NAME -> (kind, secret)) and wait until it answers."""
    port = port or free_port()
    env = dict(os.environ)
    command = [sys.executable, "-m", "lead_relay", "serve", "--port", str(port)]
    command += ["--spool", str(spool), *extra]
    for number, (name, (kind, secret)) in enumerate(sources.items()):
        if secret is None:
            command += ["--source", f"{name}={kind}"]
        else:
            variable = f"LEAD_RELAY_SECRET_{number}"
            env[variable] = secret
            command += ["--source", f"{name}={kind}:{variable}"]
    process = subprocess.Popen(
        command, env=env, stdout=log or subprocess.DEVNULL, stderr=log or subprocess.DEVNULL
    )
    relay = RelayProcess(f"http://127.0.0.1:{port}", process)
    try:
        wait_until_answering(process, f"{relay.url}/health", "lead-relay")
    except BaseException:
        # Whatever ended the wait (no answer, an error answer, an interrupt): no stray relay.
        process.kill()
        raise
    return relay


def stop_relay(relay: RelayProcess) -> None:
    """SIGTERM (uvicorn finishes the requests in flight), SIGKILL if it lingers."""
    if relay.process.poll() is None:
        relay.process.send_signal(signal.SIGTERM)
        try:
            relay.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            relay.process.kill()
            relay.process.wait()


@contextmanager
def running_relay(
    spool: str | Path,
    sources: Mapping[str, tuple[str, str | None]],
    *,
    port: int | None = None,
    log: IO[Any] | None = None,
    extra: tuple[str, ...] = (),
) -> Iterator[RelayProcess]:
    """A relay for the duration of the block, stopped whatever happens."""
    relay = start_relay(spool, sources, port=port, log=log, extra=extra)
    try:
        yield relay
    finally:
        stop_relay(relay)
