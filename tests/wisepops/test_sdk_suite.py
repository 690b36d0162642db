"""The singer-sdk built-in tap test suite, run against a sandbox of its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from singer_sdk.testing import get_tap_test_class

from sandbox.control import API_PATHS, DEMO_KEYS, free_port, running_sandbox
from tap_wisepops.tap import TapWisepops

# Its module-scoped fixtures are built once, on one worker, under `--dist loadgroup`.
pytestmark = pytest.mark.xdist_group("wisepops_test_sdk_suite")

# The suite builds its tap while collecting, so the sandbox address is fixed up front.
PORT = free_port()
CONFIG = {
    "api_key": DEMO_KEYS["wisepops"],
    "api_url": f"http://127.0.0.1:{PORT}{API_PATHS['wisepops']}",
    "request_timeout": 10,
}


@pytest.fixture(scope="module", autouse=True)
def suite_sandbox() -> Iterator[None]:
    """A sandbox on PORT for this module only (the suite syncs once per class)."""
    with running_sandbox(port=PORT):
        yield


TestTapWisepops = get_tap_test_class(TapWisepops, config=CONFIG)
