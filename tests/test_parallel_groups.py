"""`make test` runs on several workers: tests sharing an expensive fixture must share one."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.xdist_group("grouping_check")


def test_a_grouped_test_is_scheduled_as_part_of_its_group(request: pytest.FixtureRequest) -> None:
    # Worker-side, pytest-xdist sets `loadgroup` and tags grouped node ids with `@<group>`;
    # a pytest it cannot tag would silently split every module fixture across workers.
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("not running under `--dist loadgroup`")
    assert request.node.nodeid.endswith("@grouping_check")
