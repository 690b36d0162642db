"""Fixtures for the shared target behaviours, run through both targets' console scripts."""

from __future__ import annotations

import pytest

from sandbox.control import SandboxClient

#: GHL allows 100 requests per 10 s. The sandbox is set to 100 per 1 s so that a run of a
#: few hundred records takes seconds; the targets keep every setting at its default.
SCALED_RATE = {"rate_limit_max": 100, "rate_limit_window_ms": 1000}


@pytest.fixture
def ghl_sandbox(sandbox: SandboxClient) -> SandboxClient:
    """The sandbox with GHL's rate limit scaled ten times up and 100 ms of latency."""
    sandbox.settings("ghl", **SCALED_RATE)
    sandbox.latency("ghl", 100)
    return sandbox
