"""The singer-sdk built-in tap test suite, run against a sandbox of its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from singer_sdk.testing import get_tap_test_class

from sandbox.control import API_PATHS, DEMO_KEYS, free_port, running_sandbox
from tap_ghl.tap import TapGhl

# The suite builds its tap while collecting, so the sandbox address is fixed up front.
PORT = free_port()
CONFIG = {
    "access_token": DEMO_KEYS["ghl"],
    "location_id": DEMO_KEYS["ghl_location"],
    "api_url": f"http://127.0.0.1:{PORT}{API_PATHS['ghl']}",
    "business_ids": ["biz-1"],
    "request_timeout": 10,
}


@pytest.fixture(scope="module", autouse=True)
def suite_sandbox() -> Iterator[None]:
    """A sandbox on PORT for this module only, with a few contacts and their children."""
    with running_sandbox(port=PORT) as sandbox:
        sandbox.seed(
            "ghl",
            contacts=[
                {
                    "email": f"suite{i}@example.com",
                    "dateUpdated": f"2025-01-0{i + 1}T10:00:00.000Z",
                    "businessId": "biz-1",
                    "notes": [{"body": "note"}],
                    "tasks": [{"title": "task", "completed": False}],
                    "appointments": [{"title": "demo"}],
                }
                for i in range(3)
            ],
        )
        yield


TestTapGhl = get_tap_test_class(TapGhl, config=CONFIG)
