"""Notes and tasks land once, however often the same input is replayed or a run crashes."""

from __future__ import annotations

from leadkit.writer import Ledger
from leadkit.writer.ledger import content_hash
from sandbox.control import SandboxClient
from target_ghl.sinks import CONTACTS, NOTES, TASKS
from tests.ghl.conftest import RunTarget, contacts, messages

TASK = {"title": "Call back", "dueDate": "2025-03-04T09:00:00+01:00", "body": "About pricing"}
RECORD = {"email": "ada@example.com", "notes": ["Met at booth 12", "Wants a demo"], "tasks": [TASK]}


def _crash_after_posting(ledger_path: str, namespace: str) -> None:
    """Leave the ledger as a crash right after the POST would: pending, record not done."""
    ledger = Ledger(ledger_path)
    for key in ledger.keys(namespace):
        ledger.put(namespace, key, {"state": "pending"})
    for key in ledger.keys(CONTACTS):
        ledger.delete(CONTACTS, key)
    ledger.close()


def test_notes_and_tasks_are_attached_to_the_contact(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    run = run_target(messages([RECORD]))
    [contact] = contacts(sandbox)
    assert sorted(n["body"] for n in contact["notes"]) == ["Met at booth 12", "Wants a demo"]
    [task] = contact["tasks"]
    assert (task["title"], task["dueDate"], task["completed"]) == (
        "Call back",
        "2025-03-04T08:00:00Z",
        False,
    )
    assert "notes_posted=2" in run.summary
    assert "tasks_posted=1" in run.summary


def test_a_single_note_string_is_one_note(sandbox: SandboxClient, run_target: RunTarget) -> None:
    run_target(messages([{"email": "ada@example.com", "notes": "Met at booth 12"}]))
    [contact] = contacts(sandbox)
    assert [n["body"] for n in contact["notes"]] == ["Met at booth 12"]


def test_a_rerun_posts_no_note_or_task_twice(sandbox: SandboxClient, run_target: RunTarget) -> None:
    run_target(messages([RECORD]))
    run_target(messages([RECORD, {**RECORD, "city": "London"}]))
    [contact] = contacts(sandbox)
    assert len(contact["notes"]) == 2
    assert len(contact["tasks"]) == 1
    assert contact["city"] == "London"


def test_a_new_note_for_a_known_contact_is_added_beside_the_old_ones(
    sandbox: SandboxClient, run_target: RunTarget
) -> None:
    run_target(messages([RECORD]))
    run_target(messages([{**RECORD, "notes": ["Met at booth 12", "Signed up"]}]))
    [contact] = contacts(sandbox)
    assert sorted(n["body"] for n in contact["notes"]) == [
        "Met at booth 12",
        "Signed up",
        "Wants a demo",
    ]


def test_a_crash_between_a_note_post_and_the_ledger_update_is_reconciled_on_rerun(
    sandbox: SandboxClient, run_target: RunTarget, ghl_config: dict
) -> None:
    run_target(messages([RECORD]))
    _crash_after_posting(ghl_config["ledger_path"], NOTES)
    rerun = run_target(messages([RECORD]))
    [contact] = contacts(sandbox)
    assert len(contact["notes"]) == 2
    assert "notes_reconciled=2" in rerun.summary


def test_a_crash_between_a_task_post_and_the_ledger_update_is_reconciled_on_rerun(
    sandbox: SandboxClient, run_target: RunTarget, ghl_config: dict
) -> None:
    run_target(messages([RECORD]))
    _crash_after_posting(ghl_config["ledger_path"], TASKS)
    rerun = run_target(messages([RECORD]))
    [contact] = contacts(sandbox)
    assert len(contact["tasks"]) == 1
    assert "tasks_reconciled=1" in rerun.summary


def test_a_note_marked_pending_but_never_sent_is_posted_on_rerun(
    sandbox: SandboxClient, run_target: RunTarget, ghl_config: dict
) -> None:
    run_target(messages([{**RECORD, "notes": [], "tasks": []}]))
    [contact] = contacts(sandbox)
    ledger = Ledger(ghl_config["ledger_path"])
    location = ghl_config["location_id"]

    ledger.put(
        NOTES, f"{location}:{contact['id']}:{content_hash('Late note')}", {"state": "pending"}
    )
    ledger.close()
    run_target(messages([{**RECORD, "notes": ["Late note"], "tasks": []}]))
    [contact] = contacts(sandbox)
    assert [n["body"] for n in contact["notes"]] == ["Late note"]
