"""A client of the sandbox's control API, and a context manager that runs a sandbox."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests

# Credentials the sandbox accepts after a reset; they guard nothing real.
DEMO_KEYS = {
    "popl": "sandbox-popl-key",
    "wisepops": "sandbox-wisepops-key",
    "ghl": "pit-sandbox-ghl-token",
    "ghl_location": "loc-sandbox-1",
    "popin_api_key": "sandbox-popin-key",
    "popin_token": "sandbox-popin-token",
}

# The path after the sandbox's address that stands for each vendor's production base URL.
API_PATHS = {
    "popl": "/popl/api/pub/v2",
    "wisepops": "/wisepops/api2",
    "ghl": "/ghl",
    "popin": "/popin/api/v1/external",
}


@dataclass
class SandboxClient:
    """Drives a running sandbox: reset, seed, inspect, faults, counters."""

    base_url: str

    def __post_init__(self) -> None:
        self.session = requests.Session()

    def api_url(self, api: str) -> str:
        """The URL a connector's `api_url` setting takes for this sandbox."""
        return self.base_url + API_PATHS[api]

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.session.request(
            method, f"{self.base_url}/_sandbox{path}", json=body, timeout=30
        )
        if response.status_code >= 400:
            raise RuntimeError(f"sandbox control {method} {path}: {response.text}")
        return response.json()

    def health(self) -> dict[str, Any]:
        """Liveness and the APIs served."""
        return self._call("GET", "/health")

    def reset(self, seed: int | None = None, apis: list[str] | None = None) -> None:
        """Restore seeded data, keys and settings; clear faults and counters."""
        body: dict[str, Any] = {"apis": apis} if apis else {}
        if seed is not None:
            body["seed"] = seed
        self._call("POST", "/reset", body)

    def seed(self, api: str, **spec: Any) -> Any:
        """Add records to an API's store (the spec's shape is the API's own)."""
        return self._call("POST", f"/{api}/seed", spec)

    def records(self, api: str, kind: str) -> Any:
        """What an API's store holds of one kind."""
        return self._call("GET", f"/{api}/records/{kind}")

    def settings(self, api: str, **changes: Any) -> dict[str, Any]:
        """Read, or change, an API's behaviour switches."""
        if changes:
            return self._call("PATCH", f"/{api}/settings", changes)
        return self._call("GET", f"/{api}/settings")

    def faults(self, api: str, **plan: Any) -> dict[str, Any]:
        """Replace an API's fault plan (rate, kinds, queue, paths, retry_after, slow_seconds)."""
        return self._call("PUT", f"/{api}/faults", plan)

    def latency(self, api: str, latency_ms: float) -> None:
        """Delay every answer of an API."""
        self._call("PUT", f"/{api}/latency", {"latency_ms": latency_ms})

    def revoke(self, api: str, keys: list[str] | None = None) -> None:
        """Revoke credentials (all of the API's by default): later calls get 401."""
        self._call("POST", f"/{api}/keys/revoke", {"keys": keys} if keys else {})

    def grant(self, api: str, keys: list[str]) -> None:
        """Accept more credentials."""
        self._call("POST", f"/{api}/keys/grant", {"keys": keys})

    def action(self, api: str, name: str, **body: Any) -> Any:
        """An API-specific control action."""
        return self._call("POST", f"/{api}/actions/{name}", body)

    def counters(self, api: str | None = None) -> Any:
        """Requests seen, per API: total, by status, by route, faults."""
        data = self._call("GET", "/counters")
        return data[api] if api else data


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_answering(
    process: subprocess.Popen[Any], url: str, name: str, timeout: float = 30
) -> None:
    """Return once the server `process` started answers `url`; RuntimeError naming it if it
    exits first, the last ConnectionError once `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}")
        try:
            requests.get(url, timeout=5).raise_for_status()
            return
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@contextmanager
def running_sandbox(
    *args: str, port: int | None = None, log: Any = None
) -> Iterator[SandboxClient]:
    """Start `lead-sandbox serve` in a child process; stop it, whatever happens."""
    port = port or free_port()
    command = [sys.executable, "-m", "sandbox", "serve", "--port", str(port), *args]
    process = subprocess.Popen(
        command, stdout=log or subprocess.DEVNULL, stderr=log or subprocess.DEVNULL
    )
    client = SandboxClient(f"http://127.0.0.1:{port}")
    try:
        wait_until_answering(process, f"{client.base_url}/_sandbox/health", "sandbox")
        yield client
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT if os.name != "nt" else signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
