"""Field precedence between streams: the ledger remembers which stream last wrote each field,
and a weaker stream does not overwrite it, so two pipelines stop undoing each other."""

from __future__ import annotations

from typing import Any

import pytest

from leadkit.errors import ConfigError
from sandbox.control import SandboxClient
from tests.ghl.conftest import RunTarget, by_email, messages, write_requests

POPL, WISEPOPS = "popl_leads", "wisepops_contacts"
NAMES_FROM_POPL = {
    name: {"streams": [POPL, WISEPOPS]} for name in ("firstName", "lastName", "companyName")
}
SHIPPED = {**NAMES_FROM_POPL, "source": {"policy": "if_empty"}}
SCANNED = {
    "email": "ada@example.com",
    "firstName": "Ada",
    "lastName": "Lovelace",
    "companyName": "Analytical Engines",
    "source": "Popl",
    "tags": ["popl"],
}
TYPED = {
    "email": "ADA@example.com",
    "firstName": "ada",
    "lastName": "LOVELACE",
    "companyName": "analytical engines ltd",
    "source": "Wisepops",
    "tags": ["wisepops"],
}


def test_two_pipelines_writing_one_person_update_nothing_once_both_ran(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    runs = [
        run_target(messages([record], stream=stream), field_precedence=SHIPPED)
        for record, stream in [(SCANNED, POPL), (TYPED, WISEPOPS)] * 2
    ]
    assert ["updated=0" in run.summary for run in runs] == [True] * 4
    contact = by_email(sandbox)["ada@example.com"]
    assert (contact["firstName"], contact["lastName"]) == ("Ada", "Lovelace")
    assert (contact["companyName"], contact["source"]) == ("Analytical Engines", "Popl")
    assert sorted(contact["tags"]) == ["popl", "wisepops"]


def test_the_repeat_of_both_pipelines_sends_no_request(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    for record, stream in [(SCANNED, POPL), (TYPED, WISEPOPS)]:
        run_target(messages([record], stream=stream), field_precedence=SHIPPED)
    sent = len(write_requests(sandbox))
    for record, stream in [(SCANNED, POPL), (TYPED, WISEPOPS)]:
        repeat = run_target(messages([record], stream=stream), field_precedence=SHIPPED)
        assert "unchanged=1" in repeat.summary
    assert len(write_requests(sandbox)) == sent


def test_a_weaker_stream_only_adds_its_tags_without_an_upsert(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    run_target(messages([SCANNED], stream=POPL), field_precedence=SHIPPED)
    run = run_target(messages([TYPED], stream=WISEPOPS), field_precedence=SHIPPED)
    templates = [r["template"] for r in write_requests(sandbox)]
    assert templates.count("/contacts/upsert") == 1
    assert "tagged_only=1" in run.summary


def test_without_precedence_the_later_stream_overwrites(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    run_target(messages([SCANNED], stream=POPL))
    run = run_target(messages([TYPED], stream=WISEPOPS))
    assert by_email(sandbox)["ada@example.com"]["firstName"] == "ada"
    assert "updated=1" in run.summary


def test_a_stronger_stream_overwrites_a_weaker_ones_value(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    run_target(messages([TYPED], stream=WISEPOPS), field_precedence=NAMES_FROM_POPL)
    run_target(messages([SCANNED], stream=POPL), field_precedence=NAMES_FROM_POPL)
    assert by_email(sandbox)["ada@example.com"]["firstName"] == "Ada"


def test_a_weaker_stream_still_writes_fields_no_stronger_stream_wrote(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    run_target(messages([SCANNED], stream=POPL), field_precedence=NAMES_FROM_POPL)
    run_target(
        messages([{**TYPED, "city": "London"}], stream=WISEPOPS), field_precedence=NAMES_FROM_POPL
    )
    contact = by_email(sandbox)["ada@example.com"]
    assert (contact["firstName"], contact["city"]) == ("Ada", "London")


def test_the_same_stream_overwrites_its_own_value(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    run_target(messages([SCANNED], stream=POPL), field_precedence=NAMES_FROM_POPL)
    run_target(
        messages([{**SCANNED, "firstName": "Augusta"}], stream=POPL),
        field_precedence=NAMES_FROM_POPL,
    )
    assert by_email(sandbox)["ada@example.com"]["firstName"] == "Augusta"


def test_a_star_rule_covers_every_field_without_its_own(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    star = {"*": [POPL, WISEPOPS]}
    run_target(messages([{**SCANNED, "city": "London"}], stream=POPL), field_precedence=star)
    run_target(messages([{**TYPED, "city": "Paris"}], stream=WISEPOPS), field_precedence=star)
    assert by_email(sandbox)["ada@example.com"]["city"] == "London"


def test_if_empty_fills_a_field_ghl_holds_no_value_for(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    rule = {"city": {"policy": "if_empty"}}
    run_target(messages([SCANNED], stream=POPL), field_precedence=rule)
    run_target(messages([{**TYPED, "city": "Paris"}], stream=WISEPOPS), field_precedence=rule)
    assert by_email(sandbox)["ada@example.com"]["city"] == "Paris"


def test_if_empty_leaves_a_field_ghl_holds_a_value_for(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    rule = {"city": {"policy": "if_empty"}}
    run_target(messages([{**SCANNED, "city": "London"}], stream=POPL), field_precedence=rule)
    run_target(messages([{**SCANNED, "city": "Paris"}], stream=POPL), field_precedence=rule)
    assert by_email(sandbox)["ada@example.com"]["city"] == "London"


def test_never_writes_a_field_only_when_the_contact_is_new_to_the_target(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    rule = {"companyName": {"policy": "never"}}
    run_target(messages([SCANNED], stream=POPL), field_precedence=rule)
    run_target(
        messages([{**SCANNED, "companyName": "Babbage & Co"}], stream=POPL), field_precedence=rule
    )
    assert by_email(sandbox)["ada@example.com"]["companyName"] == "Analytical Engines"


@pytest.mark.parametrize(
    "setting",
    [
        ["popl_leads"],
        {"firstName": {"policy": "sometimes"}},
        {"firstName": {"streams": "popl_leads"}},
        {"firstName": {"order": ["popl_leads"]}},
    ],
    ids=["not a mapping", "unknown policy", "streams not a list", "unknown key"],
)
def test_a_malformed_precedence_is_refused_before_any_request(
    sandbox: SandboxClient, run_target: RunTarget, setting: Any
) -> None:
    run = run_target(messages([SCANNED]), expect_error=True, field_precedence=setting)
    assert isinstance(run.error, ConfigError)
    assert "`field_precedence" in str(run.error)
    assert write_requests(sandbox) == []
