"""The singer-sdk standard target tests, curated: every left-out test is named with why."""

from __future__ import annotations

from typing import Any

import pytest
from singer_sdk.testing import get_target_test_class
from singer_sdk.testing.suites import SingerTestSuite, target_tests
from singer_sdk.testing.target_tests import (
    TargetArrayData,
    TargetCamelcaseComplexSchema,
    TargetCamelcaseTest,
    TargetCliPrintsTest,
    TargetDuplicateRecords,
    TargetEncodedStringData,
    TargetInvalidSchemaTest,
    TargetMultipleStateMessages,
    TargetNoPrimaryKeys,
    TargetOptionalAttributes,
    TargetPrimaryKeyUpdates,
    TargetRecordBeforeSchemaTest,
    TargetRecordMissingKeyProperty,
    TargetRecordMissingOptionalFields,
    TargetRecordMissingRequiredProperty,
    TargetSchemaNoProperties,
    TargetSchemaUpdates,
    TargetSpecialCharsInAttributes,
)

from sandbox.control import SandboxClient
from target_ghl.target import TargetGHL

# The SDK suite shares class-scoped fixtures: one worker runs it under `--dist loadgroup`.
pytestmark = pytest.mark.xdist_group("ghl_test_sdk_suite")

# The SDK's default suite runs in full, plus TargetRecordMissingRequiredProperty (such a
# record must go to the reject file, not stop the run). Left out, with why:
# - TargetMultipleStateMessages (opt-in in the SDK): expects a STATE echoed after every few
#   records, which the SDK only does when it drains; this target drains per batch (500
#   records) or per minute, so it emits the latest STATE after the batch, which the failure
#   tests check instead (no STATE past unwritten records).
EXCLUDED = {TargetMultipleStateMessages: "STATE cadence follows batches, not input STATEs"}

# The SDK sample streams have no email or phone: every record goes to the reject file, and
# the run must still go through (or fail exactly where the SDK says it must).
CURATED = SingerTestSuite(
    kind="target",
    tests=[
        TargetArrayData,
        TargetCamelcaseComplexSchema,
        TargetCamelcaseTest,
        TargetCliPrintsTest,
        TargetDuplicateRecords,
        TargetEncodedStringData,
        TargetInvalidSchemaTest,
        TargetNoPrimaryKeys,
        TargetOptionalAttributes,
        TargetPrimaryKeyUpdates,
        TargetRecordBeforeSchemaTest,
        TargetRecordMissingKeyProperty,
        TargetRecordMissingOptionalFields,
        TargetRecordMissingRequiredProperty,
        TargetSchemaNoProperties,
        TargetSchemaUpdates,
        TargetSpecialCharsInAttributes,
    ],
)

#: Filled per test (the sandbox's port is only known at run time); the SDK keeps a reference.
SUITE_CONFIG: dict[str, Any] = {}

_Base = get_target_test_class(
    TargetGHL, config=SUITE_CONFIG, custom_suites=[CURATED], include_target_tests=False
)


class TestTargetGHLStandard(_Base):
    """SDK standard tests against the sandbox."""

    @pytest.fixture(autouse=True)
    def _aim_at_sandbox(self, ghl_config: dict, sandbox: SandboxClient) -> None:
        SUITE_CONFIG.clear()
        SUITE_CONFIG.update(ghl_config)


def test_every_sdk_target_test_is_either_run_or_left_out_with_a_reason() -> None:
    assert set(target_tests.tests) <= set(CURATED.tests) | set(EXCLUDED)
    assert not set(CURATED.tests) & set(EXCLUDED)
