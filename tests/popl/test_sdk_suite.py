"""The singer-sdk built-in tap tests, run against a sandbox of their own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from singer_sdk.testing import get_tap_test_class

from sandbox.control import DEMO_KEYS, free_port, running_sandbox
from sandbox.popl import TEAM_ID
from tap_popl.tap import TapPopl

# Its module-scoped fixtures are built once, on one worker, under `--dist loadgroup`.
pytestmark = pytest.mark.xdist_group("popl_test_sdk_suite")

# The SDK builds its test class at import time, so the address is fixed here and the
# sandbox started on it below.
PORT = free_port()
CONFIG = {
    "api_key": DEMO_KEYS["popl"],
    "api_url": f"http://127.0.0.1:{PORT}/popl/api/pub/v2",
    "team_id": TEAM_ID,
    "start_date": "2025-01-01T00:00:00Z",
    "request_timeout": 5,
    "backoff_base_seconds": 0.01,
}


@pytest.fixture(scope="module", autouse=True)
def _sdk_sandbox() -> Iterator[None]:
    with running_sandbox(port=PORT):
        yield


TestTapPopl = get_tap_test_class(tap_class=TapPopl, config=CONFIG)
