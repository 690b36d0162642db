"""tap-wisepops in spool mode: contacts the relay stored, read without spending API calls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from leadkit.errors import ConfigError
from leadkit.spool import open_spool
from leadkit.spooled import SPOOL_SEQS
from sandbox.control import DEMO_KEYS, SandboxClient
from tap_wisepops.tap import TapWisepops
from tests.relay.harness import contact
from tests.wisepops.conftest import CONTACTS_ROUTE, run_tap

SOURCE = "shop"


def spool_config(spool: Path, **extra: Any) -> dict[str, Any]:
    """Spool mode, with the API settings a reconcile run would also use."""
    return {
        "api_key": DEMO_KEYS["wisepops"],
        "api_url": "http://127.0.0.1:9/wisepops/api2",  # never called
        "webhook_spool": str(spool),
        "webhook_source": SOURCE,
        **extra,
    }


def spooled(path: Path, contacts: list[dict[str, Any]], source: str = SOURCE) -> list[int | None]:
    with open_spool(str(path)) as spool:
        return spool.append(source, "wisepops", contacts)


def test_spool_mode_emits_what_the_api_mode_emits_for_the_same_contacts(
    sandbox: SandboxClient, config: dict[str, Any], tmp_path: Path
) -> None:
    collected = sandbox.action("wisepops", "collect", contacts=12)
    spooled(tmp_path / "spool.db", collected["contacts"])
    from_spool = run_tap(spool_config(tmp_path / "spool.db"))
    from_api = run_tap({**config, "start_date": collected["first_collected_at"]})
    assert from_spool.records() == from_api.records()
    assert from_spool.calls == 0
    schemas = {m["stream"]: m for m in from_spool.messages if m["type"] == "SCHEMA"}
    api_schemas = {m["stream"]: m for m in from_api.messages if m["type"] == "SCHEMA"}
    assert schemas["contacts"]["schema"] == api_schemas["contacts"]["schema"]
    assert schemas["contacts"]["key_properties"] == ["contact_key"]


def test_spool_mode_spends_no_api_call(sandbox: SandboxClient, tmp_path: Path) -> None:
    collected = sandbox.action("wisepops", "collect", contacts=3)
    spooled(tmp_path / "spool.db", collected["contacts"])
    config = spool_config(tmp_path / "spool.db", api_url=sandbox.api_url("wisepops"))
    run = run_tap(config, streams=("contacts", "wisepops", "hooks"))
    assert len(run.records()) == 3
    assert sandbox.counters("wisepops")["requests"] == 0
    assert CONTACTS_ROUTE not in sandbox.counters("wisepops")["by_route"]


def test_the_bookmark_is_the_spool_seq_and_a_rerun_reads_only_new_entries(
    tmp_path: Path,
) -> None:
    path = tmp_path / "spool.db"
    seqs = spooled(path, [contact(1), contact(2)])
    first = run_tap(spool_config(path))
    assert first.state["bookmarks"]["contacts"][SPOOL_SEQS] == {SOURCE: seqs[-1]}
    assert run_tap(spool_config(path), state=first.state).records() == []
    spooled(path, [contact(2), contact(3)])
    again = run_tap(spool_config(path), state=first.state)
    assert [r["email"] for r in again.records()] == ["lead3@relay.example.com"]


def test_spool_and_api_bookmarks_never_mix(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    spooled(path, [contact(1)])
    api_state = {
        "bookmarks": {
            "contacts": {
                "replication_key": "collected_at",
                "replication_key_value": "2024-03-01T00:00:00.000Z",
                "keys_at_bookmark": ["k"],
            }
        }
    }
    run = run_tap(spool_config(path), state=api_state)
    saved = run.state["bookmarks"]["contacts"]
    # The API bookmark is kept as it was, for the next reconcile run.
    assert saved["replication_key_value"] == "2024-03-01T00:00:00.000Z"
    assert saved["keys_at_bookmark"] == ["k"]
    assert saved[SPOOL_SEQS] == {SOURCE: 1}


def test_each_source_has_its_own_bookmark(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    spooled(path, [contact(1)], source="other")
    spooled(path, [contact(2)])
    run = run_tap(spool_config(path))
    assert [r["email"] for r in run.records()] == ["lead2@relay.example.com"]
    assert run.state["bookmarks"]["contacts"][SPOOL_SEQS] == {SOURCE: 2}


def test_wisepop_ids_select_popups_as_in_api_mode(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    seqs = spooled(path, [contact(1, wisepop_id=12345), contact(2, wisepop_id=23456)])
    run = run_tap(spool_config(path, wisepop_ids=[23456]))
    assert [r["wisepop_id"] for r in run.records()] == [23456]
    # The bookmark passes the contact of the other popup too: it is never wanted.
    assert run.state["bookmarks"]["contacts"][SPOOL_SEQS] == {SOURCE: seqs[-1]}


def test_a_bookmark_past_the_spool_end_rereads_the_spool(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "spool.db"
    spooled(path, [contact(1)])
    state = {"bookmarks": {"contacts": {SPOOL_SEQS: {SOURCE: 500}}}}
    run = run_tap(spool_config(path), state=state)
    assert len(run.records()) == 1
    assert "not a seq of this spool" in caplog.text


def test_a_malformed_collected_at_is_emitted_null_with_the_raw_value(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    spooled(path, [contact(1, collected_at="yesterday")])
    (record,) = run_tap(spool_config(path)).records()
    assert record["collected_at"] is None
    assert record["collected_at_raw"] == "yesterday"


@pytest.mark.parametrize(
    ("changes", "setting"),
    [
        ({"webhook_source": None}, "webhook_source"),
        ({"webhook_spool": "does/not/exist.db"}, "webhook_spool"),
        ({"webhook_spool": "postgresql://host/db"}, "webhook_spool"),
        ({"webhook_spool": None, "webhook_source": None, "follow": True}, "follow"),
        ({"webhook_spool": None}, "webhook_source"),
    ],
)
def test_bad_spool_settings_are_refused_naming_the_setting(
    tmp_path: Path, changes: dict[str, Any], setting: str
) -> None:
    spooled(tmp_path / "spool.db", [])
    config = {
        k: v for k, v in {**spool_config(tmp_path / "spool.db"), **changes}.items() if v is not None
    }
    with pytest.raises(ConfigError, match=f"`{setting}`"):
        TapWisepops(config=config)
