"""The relay over HTTP: signed deliveries stored once, everything else refused, before any 2xx."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from lead_relay.wisepops import sign
from leadkit.spool import Spool, content_key, open_spool
from tests.relay.harness import SECRET, SOURCE, contact, deliver
from tests.relay.running import RelayProcess, running_relay

pytestmark = pytest.mark.xdist_group("relay-intake")


@pytest.fixture
def spool(spool_path: Path, relay: RelayProcess) -> Iterator[Spool]:
    """A reader of the relay's spool."""
    with open_spool(str(spool_path)) as reader:
        yield reader


def test_a_signed_delivery_is_stored_before_the_2xx(relay: RelayProcess, spool: Spool) -> None:
    before = spool.last_seq(SOURCE)
    contacts = [contact(1), contact(2)]
    response = deliver(relay, contacts)
    assert response.status_code == 200
    assert response.json() == {"stored": 2, "duplicates": 0}
    entries = spool.read(SOURCE, after=before)
    assert [entry.payload for entry in entries] == contacts
    assert {entry.kind for entry in entries} == {"wisepops"}


def test_a_bad_signature_is_refused_and_nothing_stored(relay: RelayProcess, spool: Spool) -> None:
    before = spool.last_seq(SOURCE)
    response = deliver(relay, [contact(3)], secret="another-website-key")
    assert response.status_code == 401
    assert spool.last_seq(SOURCE) == before


def test_a_missing_signature_is_refused(relay: RelayProcess, spool: Spool) -> None:
    before = spool.last_seq(SOURCE)
    assert deliver(relay, [contact(4)], secret=None).status_code == 401
    assert spool.last_seq(SOURCE) == before


def test_a_signature_of_another_body_is_refused(relay: RelayProcess, spool: Spool) -> None:
    before = spool.last_seq(SOURCE)
    signature = sign(json.dumps([contact(5)]).encode(), SECRET)
    response = deliver(
        relay, [contact(6)], secret=None, headers={"X-Wisepops-Signature": signature}
    )
    assert response.status_code == 401
    assert spool.last_seq(SOURCE) == before


def test_a_duplicate_delivery_is_stored_once(relay: RelayProcess, spool: Spool) -> None:
    before = spool.last_seq(SOURCE)
    assert deliver(relay, [contact(7), contact(8)]).json() == {"stored": 2, "duplicates": 0}
    assert deliver(relay, [contact(7), contact(8)]).json() == {"stored": 0, "duplicates": 2}
    assert deliver(relay, [contact(8), contact(9)]).json() == {"stored": 1, "duplicates": 1}
    keys = [entry.key for entry in spool.read(SOURCE, after=before)]
    assert keys == [content_key(contact(n)) for n in (7, 8, 9)]


def test_a_body_over_the_default_limit_gets_413(relay: RelayProcess, spool: Spool) -> None:
    before = spool.last_seq(SOURCE)
    padded = [contact(10, padding="x" * (1024 * 1024))]
    assert deliver(relay, padded).status_code == 413
    assert spool.last_seq(SOURCE) == before


def test_a_chunked_body_over_the_limit_gets_413(relay: RelayProcess, spool: Spool) -> None:
    before = spool.last_seq(SOURCE)

    def chunks() -> Iterator[bytes]:
        # No Content-Length: the relay must stop reading at the limit by itself.
        yield b"["
        for _ in range(300):
            yield b'"' + b"y" * 8190 + b'",'
        yield b"1]"

    response = requests.post(
        relay.hook_url("wisepops", SOURCE),
        data=chunks(),
        headers={"X-Wisepops-Signature": "0" * 64},
        timeout=30,
    )
    assert response.status_code == 413
    assert spool.last_seq(SOURCE) == before


@pytest.mark.parametrize(
    "body",
    [b"[{", b'{"collected_at": "2026-01-01T00:00:00.000Z"}', b"[1, 2]", b'[{"fields": []}]'],
    ids=["truncated-json", "object-not-array", "not-contacts", "fields-not-object"],
)
def test_a_malformed_delivery_gets_400(relay: RelayProcess, spool: Spool, body: bytes) -> None:
    before = spool.last_seq(SOURCE)
    assert deliver(relay, body).status_code == 400
    assert spool.last_seq(SOURCE) == before


def test_an_unknown_source_gets_404(relay: RelayProcess) -> None:
    assert deliver(relay, [contact(11)], source="shop-de").status_code == 404
    response = requests.post(f"{relay.url}/hooks/unknown/{SOURCE}", data=b"[]", timeout=30)
    assert response.status_code == 404


def test_health_answers(relay: RelayProcess) -> None:
    response = requests.get(f"{relay.url}/health", timeout=30)
    assert response.json() == {"ok": True, "sources": [f"wisepops/{SOURCE}"]}


def test_metrics_count_deliveries_by_outcome(relay: RelayProcess) -> None:
    deliver(relay, [contact(12)])
    deliver(relay, [contact(12)])
    deliver(relay, [contact(13)], secret="wrong")
    text = relay.metrics()
    lines = {
        line.rsplit(" ", 1)[0]: int(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if not line.startswith("#")
    }
    assert lines[f'lead_relay_deliveries_accepted_total{{source="{SOURCE}"}}'] >= 1
    assert lines[f'lead_relay_deliveries_duplicate_total{{source="{SOURCE}"}}'] >= 1
    assert (
        lines[f'lead_relay_deliveries_refused_total{{reason="signature",source="{SOURCE}"}}'] >= 1
    )
    assert "# TYPE lead_relay_items_stored_total counter" in text


def leaks(relay: RelayProcess, log_path: Path) -> list[str]:
    """Send good, forged and malformed deliveries; what of them the relay's log repeats."""
    sent = [contact(14), contact(15)]
    raw = json.dumps(sent).encode()
    deliver(relay, raw)
    deliver(relay, raw, secret="wrong-website-key")
    deliver(relay, b"[{bad json " + b"lead99@relay.example.com")
    log = log_path.read_text()
    assert "delivery stored" in log
    forbidden = {SECRET, "wrong-website-key", "lead99@relay.example.com", "relay.example.com"}
    forbidden |= {value for c in sent for value in c["fields"].values()}
    forbidden |= {sign(raw, SECRET)}
    return [value for value in forbidden if value in log]


def test_the_log_holds_no_contact_data_nor_signature(relay: RelayProcess, relay_log: Path) -> None:
    assert leaks(relay, relay_log) == []


def test_the_debug_log_holds_no_contact_data_nor_signature(tmp_path: Path) -> None:
    log_path = tmp_path / "relay.log"
    with (
        log_path.open("wb") as log,
        running_relay(
            tmp_path / "spool.db",
            {SOURCE: ("wisepops", SECRET)},
            log=log,
            extra=("--log-level", "debug"),
        ) as relay,
    ):
        assert leaks(relay, log_path) == []
