"""A contact whose `collected_at` does not parse is emitted and never stops or moves anything."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from sandbox.control import SandboxClient
from tests.wisepops.conftest import contact_calls, run_tap

MALFORMED = pytest.mark.parametrize(
    "shown", ["garbage", None, "2025-03-01 08:08:20"], ids=["junk", "null", "space"]
)


def seed_seconds_apart(sandbox: SandboxClient, count: int) -> list[dict[str, Any]]:
    """Only `count` contacts, each with a form session, a second apart from 08:08:00.

    The 21st is truly collected at 2025-03-01T08:08:20Z, the instant `2025-03-01 08:08:20`
    (no `T`, no zone) stands for.
    """
    added = sandbox.seed(
        "wisepops",
        contacts=count,
        collected_at="2025-03-01T08:08:00.000Z",
        step_ms=1000,
        form_session=True,
        replace=True,
    )
    return list(added["contacts"])


def serve_malformed(sandbox: SandboxClient, contacts: list[dict[str, Any]], shown: Any) -> None:
    """The API prints `shown` as these contacts' collected_at; it still sorts by true time."""
    rules = {c["collected_at"]: shown for c in contacts}
    sandbox.settings("wisepops", malformed_collected_at=rules)


def sessions(records: list[dict[str, Any]]) -> list[str]:
    return [r["form_session"] for r in records]


@MALFORMED
def test_contacts_after_a_malformed_collected_at_arrive(
    sandbox: SandboxClient, config: dict[str, Any], shown: Any
) -> None:
    seeded = seed_seconds_apart(sandbox, 30)
    serve_malformed(sandbox, [seeded[20]], shown)
    run = run_tap(config)
    assert sessions(run.records()) == sessions(seeded)


@MALFORMED
def test_a_malformed_contact_is_emitted_with_collected_at_null_and_the_value_as_sent(
    sandbox: SandboxClient, config: dict[str, Any], shown: Any
) -> None:
    seeded = seed_seconds_apart(sandbox, 22)
    serve_malformed(sandbox, [seeded[20]], shown)
    bad = run_tap(config).records()[20]
    assert (bad["form_session"], bad["collected_at"]) == (seeded[20]["form_session"], None)
    assert bad["collected_at_raw"] == shown


@MALFORMED
def test_the_bookmark_is_the_newest_parseable_collected_at(
    sandbox: SandboxClient, config: dict[str, Any], shown: Any
) -> None:
    seeded = seed_seconds_apart(sandbox, 30)
    serve_malformed(sandbox, [seeded[20], seeded[29]], shown)
    bookmark = run_tap(config).state["bookmarks"]["contacts"]
    assert bookmark["replication_key_value"] == seeded[28]["collected_at"]
    assert bookmark["bookmark_complete"] is True


@MALFORMED
def test_a_second_run_after_a_malformed_contact_repeats_nothing_and_reads_new_ones(
    sandbox: SandboxClient, config: dict[str, Any], mode: str, shown: Any
) -> None:
    seeded = seed_seconds_apart(sandbox, 30)
    serve_malformed(sandbox, [seeded[20], seeded[29]], shown)
    first = run_tap(config)
    second = run_tap(config, state=first.state)
    added = sandbox.seed("wisepops", contacts=2, form_session=True)["contacts"]
    third = run_tap(config, state=second.state)
    assert second.records() == []
    assert sessions(third.records()) == sessions(added)
    assert (
        third.state["bookmarks"]["contacts"]["replication_key_value"] == (added[-1]["collected_at"])
    )


@pytest.mark.parametrize("page_size", [3, 10])
def test_paging_works_when_the_last_contact_of_full_pages_is_malformed(
    sandbox: SandboxClient, config: dict[str, Any], mode: str, page_size: int
) -> None:
    seeded = seed_seconds_apart(sandbox, 40)
    ends = [seeded[i] for i in range(page_size - 1, 40, page_size - 1)]
    serve_malformed(sandbox, ends, "garbage")
    run = run_tap({**config, "page_size": page_size})
    assert sessions(run.records()) == sessions(seeded)


def test_a_page_of_nothing_but_malformed_contacts_is_paged_through(
    sandbox: SandboxClient, config: dict[str, Any], mode: str
) -> None:
    seeded = seed_seconds_apart(sandbox, 30)
    serve_malformed(sandbox, seeded[5:25], None)
    run = run_tap({**config, "page_size": 10})
    assert sessions(run.records()) == sessions(seeded)


def test_malformed_contacts_are_counted_and_named_in_one_warning_per_run(
    sandbox: SandboxClient, config: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    seeded = seed_seconds_apart(sandbox, 30)
    serve_malformed(sandbox, [seeded[3], seeded[17]], "garbage")
    with caplog.at_level(logging.WARNING):
        run = run_tap({**config, "page_size": 10})
    bad = [r["contact_key"] for r in run.records() if r["collected_at"] is None]
    warnings = [r.getMessage() for r in caplog.records if "collected_at_raw" in r.getMessage()]
    assert len(warnings) == 1
    assert "2 contact(s)" in warnings[0]
    assert all(key in warnings[0] for key in bad)


@pytest.mark.parametrize("bookmark", ["garbage", "2025-03-01 08:08:20", "", 1740816500])
def test_a_bad_bookmark_in_the_incoming_state_reads_again_from_start_date(
    sandbox: SandboxClient, config: dict[str, Any], bookmark: Any
) -> None:
    seeded = seed_seconds_apart(sandbox, 5)
    state = {
        "bookmarks": {
            "contacts": {
                "replication_key": "collected_at",
                "replication_key_value": bookmark,
                "bookmark_complete": True,
            }
        }
    }
    run = run_tap({**config, "start_date": "2025-03-01T08:08:00Z"}, state=state)
    assert sessions(run.records()) == sessions(seeded)
    assert (
        run.state["bookmarks"]["contacts"]["replication_key_value"] == (seeded[-1]["collected_at"])
    )


def test_a_malformed_contact_costs_no_extra_call(
    sandbox: SandboxClient, config: dict[str, Any]
) -> None:
    seeded = seed_seconds_apart(sandbox, 30)
    serve_malformed(sandbox, [seeded[9]], None)
    run_tap({**config, "page_size": 10})
    assert contact_calls(sandbox) == 4  # 10 + 9 + 9 + 2, as with no malformed contact


def test_a_parseable_collected_at_is_emitted_in_the_api_form_without_a_raw_copy(
    sandbox: SandboxClient, config: dict[str, Any]
) -> None:
    seeded = seed_seconds_apart(sandbox, 2)
    record = run_tap(config).records()[0]
    assert (record["collected_at"], record["collected_at_raw"]) == (
        seeded[0]["collected_at"],
        None,
    )
