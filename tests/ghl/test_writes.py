"""What the sandbox GHL holds after the target ran: contacts, tags, custom fields."""

from __future__ import annotations

from sandbox.control import SandboxClient
from tests.ghl.conftest import RunTarget, by_email, contacts, messages, write_requests


def test_new_people_are_created_with_normalised_email_and_phone(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    run = run_target(
        messages(
            [
                {
                    "email": "  Ada.Lovelace@Example.COM ",
                    "firstName": "Ada",
                    "phone": "(415) 555-2671",
                },
                {"email": "grace@example.org", "lastName": "Hopper"},
            ]
        )
    )
    held = by_email(sandbox)
    assert set(held) == {"ada.lovelace@example.com", "grace@example.org"}
    assert held["ada.lovelace@example.com"]["phone"] == "+14155552671"
    assert held["ada.lovelace@example.com"]["source"] == "leads"
    assert "created=2" in run.summary


def test_a_known_person_is_updated_not_duplicated(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    sandbox.seed("ghl", contacts=[{"email": "ada@example.com", "firstName": "Ada"}])
    run = run_target(messages([{"email": "ADA@example.com", "companyName": "Analytical Engines"}]))
    [contact] = contacts(sandbox)
    assert (contact["firstName"], contact["companyName"]) == ("Ada", "Analytical Engines")
    assert "created=0; updated=1" in run.summary


def test_the_same_person_twice_in_the_input_ends_as_one_contact_with_the_later_values(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    run = run_target(
        messages(
            [
                {"email": "ada@example.com", "city": "London"},
                {"email": "ada@example.com", "city": "Paris"},
            ]
        )
    )
    [contact] = contacts(sandbox)
    assert contact["city"] == "Paris"
    assert "created=1; updated=1" in run.summary


def test_a_rerun_of_the_same_input_writes_nothing(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    lines = messages([{"email": "ada@example.com", "tags": ["vip"], "notes": "Met at booth"}])
    run_target(lines)
    sent = len(write_requests(sandbox))
    rerun = run_target(lines)
    assert len(write_requests(sandbox)) == sent
    assert "unchanged=1" in rerun.summary


def test_tags_are_added_to_the_existing_ones_by_default(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    sandbox.seed("ghl", contacts=[{"email": "ada@example.com", "tags": ["customer"]}])
    run_target(messages([{"email": "ada@example.com", "tags": ["Event-2025", "VIP"]}]))
    [contact] = contacts(sandbox)
    assert sorted(contact["tags"]) == ["customer", "event-2025", "vip"]
    tag_posts = [r for r in write_requests(sandbox) if "/tags" in r["path"]]
    assert len(tag_posts) == 1


def test_tags_replace_the_existing_ones_in_replace_mode(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    sandbox.seed("ghl", contacts=[{"email": "ada@example.com", "tags": ["customer"]}])
    run_target(messages([{"email": "ada@example.com", "tags": ["VIP"]}]), tags_mode="replace")
    [contact] = contacts(sandbox)
    assert contact["tags"] == ["vip"]
    assert not [r for r in write_requests(sandbox) if r["path"].endswith("/tags")]


def test_custom_fields_are_matched_by_field_key_bare_key_and_display_name(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    record = {
        "email": "ada@example.com",
        "customFields": {
            "contact.event_name": "Web Summit",
            "lead_score": "42",
            "Interests": "pricing, product demo",
            "met on": "2025-03-01T10:00:00Z",
            "company size": "11-50",
        },
    }
    run_target(messages([record]))
    [contact] = contacts(sandbox)
    assert contact["customFieldsByKey"] == {
        "contact.event_name": "Web Summit",
        "contact.lead_score": 42,
        "contact.interests": ["Pricing", "Product Demo"],
        "contact.met_on": "2025-03-01",
        "contact.company_size": "11-50",
    }


def test_custom_field_definitions_are_fetched_once_per_run(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    records = [
        {"email": f"p{n}@example.com", "customFields": {"campaign": "spring"}} for n in range(5)
    ]
    run_target(messages(records))
    routes = sandbox.counters("ghl")["by_route"]
    fetches = sum(n for route, n in routes.items() if route.endswith("/customFields"))
    assert fetches == 1


def test_an_unknown_custom_field_is_left_out_and_named_once_in_the_summary(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    records = [
        {"email": f"p{n}@example.com", "customFields": {"Shoe Size": "42", "campaign": "x"}}
        for n in range(3)
    ]
    run = run_target(messages(records))
    assert run.summary.count("Shoe Size") == 1
    assert all(c["customFieldsByKey"] == {"contact.campaign": "x"} for c in contacts(sandbox))


def test_properties_outside_the_contract_are_ignored_and_named_once(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    records = [{"email": f"p{n}@example.com", "favourite": "blue"} for n in range(3)]
    run = run_target(messages(records))
    assert "ignored properties: favourite" in run.summary
    assert len(contacts(sandbox)) == 3
