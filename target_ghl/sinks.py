"""One sink class for every stream: records become GHL contacts, tags, notes and tasks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from typing_extensions import override

from leadkit.writer import AmbiguousWrite, ApiBatchSink, ApiUnavailable, Reject
from leadkit.writer.ledger import DONE, Bracket, content_hash
from target_ghl.client import GhlClient
from target_ghl.custom_fields import Unusable
from target_ghl.doubts import Awaited, Doubt, DoubtBook
from target_ghl.normalise import (
    ContactWrite,
    Task,
    identity_of,
    normalise,
    same_task,
    split_kept,
)
from target_ghl.precedence import Known
from target_ghl.services import GhlServices
from target_ghl.tags import TagBook

CONTACTS = "ghl-contacts"
NOTES = "ghl-notes"
TASKS = "ghl-tasks"
SPLIT = "ghl kept a different email or phone"


class ContactsSink(ApiBatchSink[GhlServices]):
    """Upserts each record as a contact, then adds tags, notes and tasks once."""

    @property
    def ghl(self) -> GhlClient:
        """The target's GHL client."""
        return self.services.ghl

    @override
    def setup(self) -> None:
        """Nothing to create on the GHL side; here, on the main thread, the sink's own
        book of notes and tasks whose POST may have landed, read back as the batch goes on."""
        self.doubts = DoubtBook(
            self._resolve,
            settle_seconds=self.run.client.settle_seconds,
            workers=self.max_concurrency,
        )
        #: Tags the batch's contacts lack, sent in bulk by group of identical tags.
        self.tag_book = TagBook(
            self.ghl,
            self.services.chunk,
            label=self.stream_name,
            workers=self.max_concurrency,
            count=lambda outcome, n: self.run.summary.count(self.stream_name, outcome, n),
        )

    @property
    def region(self) -> str | None:
        """Region for local phone numbers."""
        value = self.config.get("default_phone_region")
        return str(value).upper() if value else None

    @property
    def replace_tags(self) -> bool:
        """Whether tags go in the upsert body (replacing all) rather than being added."""
        return self.config.get("tags_mode") == "replace"

    @override
    def ordering_key(self, record: dict[str, Any]) -> str | None:
        """Records of one person are written in input order."""
        return identity_of(record, self.region)

    @override
    def record_key(self, record: dict[str, Any]) -> str:
        """`c-` and a digest of the email (or phone): traceable in the reject file, no PII."""
        identity = identity_of(record, self.region)
        if identity is None:
            return "r-" + content_hash(record)[:10]
        return "c-" + content_hash(identity)[:10]

    # The write

    @override
    def write_record(self, record: dict[str, Any]) -> None:
        """Upsert what changed, then tags, notes and tasks; every step idempotent on a re-run."""
        summary, stream = self.run.summary, self.stream_name
        contact = normalise(record, stream=stream, region=self.region)
        self.note_ignored(contact.ignored)
        for name in contact.dropped:
            summary.name_once(stream, "unusable values left out", name)
        ledger_key = f"{self.ghl.location_id}:{contact.identity}"
        fingerprint = content_hash(
            [
                self._upsert_body(contact, contact.fields, contact.custom_values),
                contact.tags,
                self.replace_tags,
                contact.notes,
                [t.to_body() for t in contact.tasks],
            ]
        )
        entry = self.run.ledger.get(CONTACTS, ledger_key)
        if entry and entry.get("hash") == fingerprint and entry.get("state") == DONE:
            self.count_unchanged(ledger_key)
            return
        known = Known.of(entry) if entry and entry.get("state") == DONE else None
        fields = self._allowed(contact.fields, contact, known)
        custom = self._allowed(contact.custom_values, contact, known)
        if known is not None and self._nothing_but_tags(contact, fields, custom, known):
            missing = self._missing_tags(contact, known.tags)
            if not missing:
                self.count_unchanged(ledger_key)
                return
            if not self.dry_run:
                self._tag_only(ledger_key, fingerprint, known, missing)
                return
        if self.dry_run:
            self._rehearse(contact, entry)
            return
        upserted = self.ghl.upsert(self._upsert_body(contact, fields, custom))
        saved = upserted.contact
        contact_id = str(saved.get("id") or "")
        if not contact_id:
            raise Reject("ghl upsert answer had no contact id")
        if split_kept(fields, saved):
            summary.count(stream, "email_phone_split")
            raise Reject(SPLIT, f"contact {contact_id} kept its own email or phone")
        summary.count(stream, "created" if upserted.created else "updated")
        self.run.written_this_run.add(ledger_key)
        after = Known(contact_id, written=known.written if known else {})
        after.record({**fields, **custom}, stream)
        after.filled = {name for name, value in saved.items() if value not in (None, "", [], {})}
        after.tags = {str(tag).lower() for tag in saved.get("tags") or []}
        awaited: list[Awaited] = []
        missing = self._missing_tags(contact, after.tags)
        if missing:
            awaited.append(self.tag_book.add(contact_id, missing))
            after.tags.update(missing)
        doubts = [self._post_note_once(contact_id, note) for note in contact.notes]
        doubts += [self._post_task_once(contact_id, task) for task in contact.tasks]
        awaited += [doubt for doubt in doubts if doubt is not None]
        self._finish(ledger_key, fingerprint, after, awaited)

    def _tag_only(
        self, ledger_key: str, fingerprint: str, known: Known, missing: list[str]
    ) -> None:
        """Every value is in GHL already, only tags are missing: no upsert, the ledger's
        contact id goes to the bulk request."""

        def forget() -> None:
            # GHL no longer has that contact: the next run upserts the record in full.
            self.run.ledger.delete(CONTACTS, ledger_key)

        write = self.tag_book.add(known.contact_id, missing, on_refused=forget)
        self.run.summary.count(self.stream_name, "tagged_only")
        self.run.written_this_run.add(ledger_key)
        known.tags.update(missing)
        self._finish(ledger_key, fingerprint, known, [write])

    def _finish(
        self, ledger_key: str, fingerprint: str, after: Known, awaited: list[Awaited]
    ) -> None:
        """The ledger entry, now or once the record's awaited writes have landed."""

        def finish() -> None:
            entry = {"state": DONE, "hash": fingerprint, "id": after.contact_id}
            self.run.ledger.put(CONTACTS, ledger_key, {**entry, **after.to_entry()})

        # An earlier record of the same person may be waiting, so ask even when this one
        # awaits nothing.
        if self.doubts.waits_for(ledger_key) or awaited:
            # No STATE may cover the record before its tags are written and its writes in
            # doubt resolved.
            self.doubts.finish_later(ledger_key, self.defer(), awaited, finish)
        else:
            finish()

    def _allowed(
        self, values: dict[str, Any], contact: ContactWrite, known: Known | None
    ) -> dict[str, Any]:
        """The values this stream may send: GHL matches by the identity, so it always goes."""
        matched_by = "email" if contact.email else "phone"
        allowed = {
            name: value
            for name, value in values.items()
            if name == matched_by or self.services.precedence.allows(name, self.stream_name, known)
        }
        held_back = len(values) - len(allowed)
        if held_back:
            self.run.summary.count(self.stream_name, "fields_kept_by_precedence", held_back)
        return allowed

    def _missing_tags(self, contact: ContactWrite, held: set[str]) -> list[str]:
        """The record's tags the contact lacks, to add (none in replace mode: the upsert
        body carries them). Only those, so that contacts differing in tags they already
        hold still share one bulk request."""
        if self.replace_tags:
            return []
        return [tag for tag in contact.tags or [] if tag not in held]

    def _nothing_but_tags(
        self, contact: ContactWrite, fields: dict[str, Any], custom: dict[str, Any], known: Known
    ) -> bool:
        """Whether every value, note and task allowed is in GHL already, by the ledger (and
        the tags too, in replace mode)."""
        if not all(known.holds(name, value) for name, value in {**fields, **custom}.items()):
            return False
        if self.replace_tags and contact.tags is not None and set(contact.tags) != known.tags:
            return False
        return all(self._already(NOTES, known.contact_id, note) for note in contact.notes) and all(
            self._already(TASKS, known.contact_id, task.digest()) for task in contact.tasks
        )

    def _upsert_body(
        self, contact: ContactWrite, fields: dict[str, Any], custom_values: dict[str, Any]
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"locationId": self.ghl.location_id, **fields}
        if contact.tags is not None and self.replace_tags:
            body["tags"] = contact.tags
        custom = self._custom_fields(custom_values)
        if custom:
            body["customFields"] = custom
        return body

    def _custom_fields(self, custom_values: dict[str, Any]) -> list[dict[str, Any]]:
        if not custom_values:
            return []
        catalog = self.services.custom_fields.get()
        values = []
        for name, raw in custom_values.items():
            definition = catalog.find(str(name))
            if definition is None:
                if self.run.summary.name_once(self.stream_name, "unknown custom fields", name):
                    self.logger.warning("Custom field %r is not defined in the location", name)
                continue
            if raw is None:
                continue
            try:
                value = definition.coerce(raw)
            except Unusable:
                self.run.summary.name_once(
                    self.stream_name, "unusable custom field values", definition.name or name
                )
                continue
            values.append({"id": definition.id, "field_value": value})
        return values

    def _rehearse(self, contact: ContactWrite, known: dict[str, Any] | None) -> None:
        """Dry run: reads only, and count what a real run would write."""
        stream, summary = self.stream_name, self.run.summary
        existing = self.ghl.find_duplicate(email=contact.email, phone=contact.phone)
        summary.count(stream, "would_update" if existing else "would_create")
        contact_id = str(existing.get("id")) if existing else (known or {}).get("id")
        notes = [n for n in contact.notes if not self._already(NOTES, contact_id, n)]
        tasks = [t for t in contact.tasks if not self._already(TASKS, contact_id, t.digest())]
        summary.count(stream, "would_post_notes", len(notes))
        summary.count(stream, "would_post_tasks", len(tasks))

    def _already(self, namespace: str, contact_id: str | None, content: str) -> bool:
        if not contact_id:
            return False
        key = self._entry_key(contact_id, content)
        entry = self.run.ledger.get(namespace, key)
        return bool(entry and entry.get("state") == DONE)

    def _entry_key(self, contact_id: str, content: str) -> str:
        return f"{self.ghl.location_id}:{contact_id}:{content_hash(content)}"

    def _post_note_once(self, contact_id: str, note: str) -> Doubt | None:
        return self._post_once(
            NOTES,
            self._entry_key(contact_id, note),
            post=lambda: self.ghl.post_note(contact_id, note),
            find=lambda: next(
                (n for n in self.ghl.notes(contact_id) if n.get("body") == note), None
            ),
        )

    def _post_task_once(self, contact_id: str, task: Task) -> Doubt | None:
        return self._post_once(
            TASKS,
            self._entry_key(contact_id, task.digest()),
            post=lambda: self.ghl.post_task(contact_id, task.to_body()),
            find=lambda: next(
                (found for found in self.ghl.tasks(contact_id) if same_task(found, task)), None
            ),
        )

    def _post_once(
        self,
        namespace: str,
        key: str,
        *,
        post: Callable[[], dict[str, Any]],
        find: Callable[[], dict[str, Any] | None],
    ) -> Doubt | None:
        """A POST that is not idempotent, made once through the ledger; one in doubt is set
        aside (and returned), to be read back before any resend while the batch goes on."""
        write = self._bracket(namespace, key, find)
        held = self.doubts.get(namespace, key) if write.in_doubt else None
        if held is not None:
            # This run's own POST of it, still waiting to be read back.
            return held
        if write.settled() is not None:
            return None
        write.pending()
        try:
            created = post()
        except AmbiguousWrite:
            return self.doubts.add(Doubt(namespace, key, post, find))
        self._posted(write, created)
        return None

    def _bracket(
        self, namespace: str, key: str, find: Callable[[], dict[str, Any] | None]
    ) -> Bracket:
        """The ledger bracket of a note or task, whose earlier try in doubt is read back."""
        return self.run.ledger.bracket(
            namespace, key, earlier=lambda _pending: self._read_back(namespace, find)
        )

    def _posted(self, write: Bracket, created: dict[str, Any]) -> None:
        write.done(id=created.get("id"))
        self.run.summary.count(self.stream_name, f"{_plural(write.namespace)}_posted")

    def _read_back(
        self, namespace: str, find: Callable[[], dict[str, Any] | None]
    ) -> dict[str, Any] | None:
        """What the ledger keeps of a write in doubt that GHL has; None when GHL has not."""
        found = find()
        if found is None:
            return None
        self.run.summary.count(self.stream_name, f"{_plural(namespace)}_reconciled")
        return {"id": found.get("id")}

    # Writes in doubt

    @override
    def process_batch(self, context: dict) -> None:
        """Write the batch, send its tags in bulk and wait for its writes in doubt to be
        resolved: the SDK emits STATE once this returns, so every record is settled by then."""
        try:
            super().process_batch(context)
            self.tag_book.flush()
            self.doubts.drain()
        except BaseException as exc:
            # Records still waiting on tags or a doubt stay open: the next run sends them again.
            self.run.client.halt(exc)
            self.tag_book.abandon()
            self.doubts.abandon()
            raise
        for deferred, reject, finish in self.doubts.close():
            if reject is None:
                finish()
                deferred.written()
            else:
                deferred.rejected(reject)
        self.run.acks.emit()

    @override
    def clean_up(self) -> None:
        """Stop the read-back threads too."""
        self.doubts.shutdown()
        super().clean_up()

    def _resolve(self, doubt: Doubt) -> bool:
        """Read a write in doubt back; resend only if absent. True: in doubt again."""
        kind = _plural(doubt.namespace)[:-1]
        with self.run.client.attribute_to(self.stream_name):
            try:
                write = self._bracket(doubt.namespace, doubt.key, doubt.find)
                if write.settled() is not None:
                    return False
                if doubt.sends >= self.run.client.policy.max_tries:
                    raise ApiUnavailable(f"GHL kept failing to post a {kind}; stopping the run")
                created = doubt.post()
            except AmbiguousWrite:
                return True
            except Reject as reject:
                doubt.rejected = reject
                return False
            except BaseException as exc:
                # The writers stop at their next request rather than write on past it.
                self.run.client.halt(exc)
                raise
        self._posted(write, created)
        return False


def _plural(namespace: str) -> str:
    """`notes` or `tasks`: what a ledger namespace holds, as the summary counts it."""
    return namespace.split("-")[-1]
