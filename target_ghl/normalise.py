"""Turn one input record into what GHL is sent: E.164 phones, clean emails, valid dates."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from typing import Any

from leadkit.emails import clean_email
from leadkit.phones import to_e164
from leadkit.text import clean_text
from leadkit.timestamps import parse_instant
from leadkit.writer import Reject
from leadkit.writer.ledger import content_hash
from target_ghl.contract import CONTRACT_FIELDS, TEXT_FIELDS

#: The birth-date formats UpsertContactDto documents, besides ISO.
BIRTH_DATE = re.compile(r"^(\d{4}([/.\-_])\d{2}\2\d{2}|\d{2}([/.\-_])\d{2}\3\d{4})$")
NO_CONTACT_POINT = "no valid email or phone"
INVALID_TASK = "invalid task"


@dataclass(frozen=True)
class Task:
    """A task to attach to the contact."""

    title: str
    due_date: str
    body: str | None = None

    def to_body(self) -> dict[str, Any]:
        """The CreateTaskParams body."""
        payload: dict[str, Any] = {"title": self.title, "dueDate": self.due_date}
        if self.body:
            payload["body"] = self.body
        payload["completed"] = False
        return payload

    def digest(self) -> str:
        """Content hash that identifies the task for the ledger."""
        return content_hash({"title": self.title, "dueDate": self.due_date, "body": self.body})


@dataclass
class ContactWrite:
    """A normalised record: the upsert fields, tags, custom values, notes and tasks."""

    identity: str
    fields: dict[str, Any]
    tags: list[str] | None
    custom_values: dict[str, Any]
    notes: list[str]
    tasks: list[Task]
    ignored: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)

    @property
    def email(self) -> str | None:
        """The email sent, if any."""
        return self.fields.get("email")

    @property
    def phone(self) -> str | None:
        """The E.164 phone sent, if any."""
        return self.fields.get("phone")


def identity_of(record: dict[str, Any], region: str | None) -> str | None:
    """The email (else the E.164 phone) that GHL matches the record by."""
    return clean_email(record.get("email")) or to_e164(record.get("phone"), region)


def _birth_date(value: object) -> str | None:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = clean_text(value)
    if text is None:
        return None
    if re.match(r"^\d{4}-\d{2}-\d{2}T", text):
        text = text[:10]
    return text if BIRTH_DATE.match(text) else None


def due_date(value: object) -> str | None:
    """An ISO 8601 UTC timestamp (`2025-03-01T09:00:00Z`), or None when unreadable."""
    moment: datetime | None = None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time(0), tzinfo=timezone.utc)
    elif isinstance(value, str):
        moment = parse_instant(value) or _midnight(value)
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _midnight(text: str) -> datetime | None:
    """Midnight UTC of an ISO date without a time (`2025-03-01`), else None."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        return None
    return datetime.combine(day, time(0), tzinfo=timezone.utc)


def _tags(value: object) -> list[str]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list):
        return []
    tags: list[str] = []
    for item in items:
        text = clean_text(item)
        # GHL lower-cases tags on save; doing it first keeps re-runs identical.
        if text and text.lower() not in tags:
            tags.append(text.lower())
    return tags


def _notes(value: object) -> list[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        return []
    return [text for item in items if (text := clean_text(item))]


def _tasks(value: object) -> list[Task]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise Reject(INVALID_TASK, "tasks must be a list of {title, dueDate, body}")
    tasks = []
    for item in value:
        if not isinstance(item, dict):
            raise Reject(INVALID_TASK, "each task must be an object")
        title = clean_text(item.get("title"))
        due = due_date(item.get("dueDate"))
        if title is None or due is None:
            raise Reject(INVALID_TASK, "a task needs a title and an ISO 8601 dueDate")
        tasks.append(Task(title=title, due_date=due, body=clean_text(item.get("body"))))
    return tasks


def normalise(record: dict[str, Any], *, stream: str, region: str | None) -> ContactWrite:
    """The write for one record; raise Reject when it cannot be written at all."""
    fields: dict[str, Any] = {}
    dropped: list[str] = []
    email = clean_email(record.get("email"))
    phone = to_e164(record.get("phone"), region)
    if email is None and phone is None:
        raise Reject(NO_CONTACT_POINT)
    if email is not None:
        fields["email"] = email
    elif clean_text(record.get("email")):
        dropped.append("email")
    if phone is not None:
        fields["phone"] = phone
    elif clean_text(record.get("phone")):
        dropped.append("phone")
    for name in TEXT_FIELDS:
        text = clean_text(record.get(name))
        if text is not None:
            fields[name] = text
    fields.setdefault("source", stream)
    country = clean_text(record.get("country"))
    if country is not None:
        if len(country) == 2 and country.isalpha():
            fields["country"] = country.upper()
        else:
            dropped.append("country")
    if record.get("dateOfBirth") is not None:
        birth = _birth_date(record["dateOfBirth"])
        if birth is None:
            dropped.append("dateOfBirth")
        else:
            fields["dateOfBirth"] = birth
    custom = record.get("customFields")
    ignored = sorted(
        name for name in record if name not in CONTRACT_FIELDS and not name.startswith("_sdc_")
    )
    return ContactWrite(
        identity=email or str(phone),
        fields=fields,
        tags=_tags(record["tags"]) if record.get("tags") is not None else None,
        custom_values=dict(custom) if isinstance(custom, dict) else {},
        notes=_notes(record.get("notes")),
        tasks=_tasks(record.get("tasks")),
        ignored=ignored,
        dropped=dropped,
    )


def same_task(found: dict[str, Any], task: Task) -> bool:
    """Whether a task GHL holds is this one (read back after a POST in doubt)."""
    return (
        found.get("title") == task.title
        and due_date(found.get("dueDate")) == task.due_date
        and (found.get("body") or None) == task.body
    )


def split_kept(sent: dict[str, Any], saved: dict[str, Any]) -> bool:
    """GHL matched by one of email/phone and kept the other as it was (ghl.md)."""
    kept_email = str(saved.get("email") or "").strip().lower()
    kept_phone = str(saved.get("phone") or "").strip()
    email, phone = sent.get("email"), sent.get("phone")
    return bool((email and kept_email != email) or (phone and kept_phone != phone))
