"""One sink for every stream: capture each person once, then book their call once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

import requests
from typing_extensions import override

from leadkit.popin_events import SCHEDULED_CREATED, USER_CAPTURED
from leadkit.responses import safe_reason
from leadkit.writer import AmbiguousWrite, ApiBatchSink, ApiClient, Ledger, Reject
from leadkit.writer.ledger import Bracket, EarlierTry
from leadkit.writer.sink import TEST_STREAM
from target_popin.client import names_the_customer, success_body
from target_popin.events import PopinEvents, Seen, sent_now
from target_popin.mapping import CONTRACT, Lead, to_lead
from target_popin.settling import Abandoned, Settling
from target_popin.slots import Slots

if TYPE_CHECKING:
    pass


#: Ledger namespaces, keyed by the person (`+<calling code><national mobile>`).
CAPTURES = "popin.capture"
BOOKINGS = "popin.schedule"
#: Slots Popin may refuse one person before they are rejected (`max_slot_refusals`).
MAX_SLOT_REFUSALS = 3
CAPTURE_UNKNOWN = "capture outcome unknown"
CAPTURE_UNKNOWN_EARLIER = "capture outcome unknown from an earlier run"
#: Seconds a capture or booking whose answer was lost waits for its event.
DEFAULT_WEBHOOK_WAIT_SECONDS = 10
SCHEDULE_UNKNOWN = "schedule outcome unknown"
SCHEDULE_UNKNOWN_EARLIER = "schedule outcome unknown from an earlier run"


@dataclass
class PopinServices:
    """What every sink of a run shares: the slot book, and Popin's capture events if set."""

    slots: Slots
    events: PopinEvents | None


class SetAside(Exception):
    """The record was set aside to settle from Popin's event, off the writer thread."""


class PopinSink(ApiBatchSink[PopinServices]):
    """Captures records with Popin and, when asked, books each one a distinct free slot."""

    @override
    def setup(self) -> None:
        """Here, on the main thread: the sink's own pool settling captures and bookings in
        doubt from Popin's events while the batch goes on."""
        self.settling = Settling(self.max_concurrency)

    @property
    def client(self) -> ApiClient:
        """The run's Popin client."""
        return self.run.client

    @property
    def slots(self) -> Slots:
        """The run's one slot book, shared by every worker."""
        return self.services.slots

    @override
    def ordering_key(self, record: dict[str, Any]) -> str | None:
        """The same person twice in a batch is written in order, so the ledger sees both."""
        try:
            return to_lead(record, dict(self.config)).key
        except Reject:
            return None

    def wants_call(self, lead: Lead) -> bool:
        """Book a call for every record (`schedule: next_available`) or when it asks for one."""
        return self.config.get("schedule") == "next_available" or lead.schedule_at is not None

    @override
    def write_record(self, record: dict[str, Any]) -> None:
        """Capture (once per person, ever), then schedule (once per person, ever)."""
        if self.stream_name == TEST_STREAM:
            self.run.summary.count(self.stream_name, "skipped")
            return
        self.note_ignored(name for name in record if name not in CONTRACT)
        lead = to_lead(record, dict(self.config))
        if self.settling.busy(lead.key):
            # An earlier record of this person is set aside: this one is written after it.
            self.settling.submit(lead.key, self.defer(), lambda: self._write_lead(lead))
            return
        # SetAside: settled off this thread, once Popin's event came or the wait ended.
        with suppress(SetAside):
            self._write_lead(lead)

    def _write_lead(self, lead: Lead) -> None:
        customer_id = self._capture(lead)
        if self.wants_call(lead):
            self._schedule(lead, customer_id)

    def _capture(self, lead: Lead) -> str | None:
        """The person's customer_id, capturing them only if the ledger has never seen them."""
        summary = self.run.summary
        capture = self.run.ledger.bracket(CAPTURES, lead.key, earlier=self._earlier_capture(lead))
        known = capture.settled()
        if known is not None:
            if capture.in_doubt:
                # A capture in doubt (this run's or an earlier one's), settled from its event.
                summary.count(self.stream_name, "settled_from_events")
                self.run.written_this_run.add(lead.key)
                return str(known["customer_id"])
            self.count_unchanged(lead.key)
            return str(known["customer_id"])
        if self.dry_run:
            summary.count(self.stream_name, "would_capture")
            return None
        sent_at = sent_now()
        try:
            response = self._post(capture, "capture", lead.body, sent_at=sent_at)
        except Reject as lost:
            # The answer was lost: Popin's event, if it comes, says what happened.
            return self._settle_lost_answer(capture, lead, sent_at, lost)
        body = success_body(response)
        if body is None:
            capture.forget()
            raise Reject(f"capture refused (HTTP {response.status_code})", safe_reason(response))
        if not body.get("customer_id"):
            return self._settle_lost_answer(
                capture, lead, sent_at, Reject(CAPTURE_UNKNOWN, "no customer_id")
            )
        customer_id = str(body["customer_id"])
        capture.done(customer_id=customer_id, url=body.get("url"))
        summary.count(self.stream_name, "created")
        self.run.written_this_run.add(lead.key)
        return customer_id

    def _settle_lost_answer(
        self, capture: Bracket, lead: Lead, sent_at: str, unknown: Reject
    ) -> str:
        """The customer_id from Popin's capture event for this person; else the reject.

        On a writer thread the wait is set aside (SetAside): the settling pool waits, then
        books the call with the settled id, and the writer moves on to the next record.
        """
        if self.services.events is None:
            raise unknown
        deadline = self._event_deadline()
        if not self.settling.on_pool():

            def settle_then_book() -> None:
                customer_id = self._await_capture(capture, lead, sent_at, unknown, deadline)
                if self.wants_call(lead):
                    self._schedule(lead, customer_id)

            self.settling.submit(lead.key, self.defer(), settle_then_book)
            raise SetAside
        return self._await_capture(capture, lead, sent_at, unknown, deadline)

    def _await_capture(
        self, capture: Bracket, lead: Lead, sent_at: str, unknown: Reject, deadline: float
    ) -> str:
        found = self._wait_for_event(USER_CAPTURED, lead, sent_at, deadline)
        if found is None:
            raise unknown
        capture.done(customer_id=found.customer_id, url=None, settled_by=USER_CAPTURED)
        self.run.summary.count(self.stream_name, "settled_from_events")
        self.run.written_this_run.add(lead.key)
        return found.customer_id

    def _event_deadline(self) -> float:
        """When a capture or booking whose answer was just lost stops waiting for its event."""
        wait = self.config.get("webhook_wait_seconds")
        return time.monotonic() + float(DEFAULT_WEBHOOK_WAIT_SECONDS if wait is None else wait)

    def _wait_for_event(
        self, event: str, lead: Lead, sent_at: str, deadline: float, slot: str | None = None
    ) -> Seen | None:
        """Popin's `event` about this person since `sent_at`, waiting until `deadline` for it;
        None when it does not come. Raises Abandoned when the batch gives up meanwhile."""
        events = self.services.events
        if events is None:
            return None
        cancelled = self.settling.cancelled
        remaining = max(0.0, deadline - time.monotonic())
        found = events.wait_for(event, lead.key, sent_at, remaining, slot, cancelled=cancelled)
        if found is None and cancelled.is_set():
            raise Abandoned
        return found

    def _earlier_capture(self, lead: Lead) -> EarlierTry:
        """An earlier try's capture in doubt: settled by Popin's event for this person, if
        the spool holds one stored since it was sent; else rejected (Popin cannot be asked)."""
        refuse = _unknowable(CAPTURE_UNKNOWN, CAPTURE_UNKNOWN_EARLIER, self.run.ledger)
        events = self.services.events
        if events is None:
            return refuse

        def settle(pending: dict[str, Any]) -> dict[str, Any] | None:
            found = events.find(USER_CAPTURED, lead.key, pending.get("sent_at"))
            if found is None:
                return refuse(pending)
            return {"customer_id": found.customer_id, "url": None, "settled_by": USER_CAPTURED}

        return settle

    def _earlier_booking(self, lead: Lead) -> EarlierTry:
        """An earlier try's booking in doubt: settled by Popin's event naming its slot, if the
        spool holds one stored since it was sent; else rejected (Popin cannot be asked)."""
        refuse = _unknowable(SCHEDULE_UNKNOWN, SCHEDULE_UNKNOWN_EARLIER, self.run.ledger)
        events = self.services.events
        if events is None:
            return refuse

        def settle(pending: dict[str, Any]) -> dict[str, Any] | None:
            slot = pending.get("time")
            found = None
            if isinstance(slot, str):
                found = events.find(SCHEDULED_CREATED, lead.key, pending.get("sent_at"), slot)
            if found is None:
                return refuse(pending)
            return {"time": slot, "settled_by": SCHEDULED_CREATED}

        return settle

    def _post(
        self, write: Bracket, path: str, body: dict[str, Any], **pending: Any
    ) -> requests.Response:
        """POST a write that is not idempotent; the answer, whatever Popin made of it."""
        try:
            return self.client.request(
                "POST",
                path,
                json=body,
                retry_ambiguous=False,
                # Only once the request leaves: a write still waiting for its turn when the
                # run dies was never sent and must not be parked as an unknown outcome.
                on_send=lambda: write.pending(**pending),
            )
        except AmbiguousWrite as exc:
            raise Reject(f"{path} outcome unknown", f"the answer was lost ({exc})") from exc
        except Exception:
            # Refused credentials, every try throttled or failed server-side, or a halted
            # run: Popin wrote nothing, so a later run may send it again.
            write.forget()
            raise

    @property
    def max_slot_refusals(self) -> int:
        """Slots Popin may refuse one person before they are rejected."""
        value = self.config.get("max_slot_refusals")
        return MAX_SLOT_REFUSALS if value is None else int(value)

    def _schedule(self, lead: Lead, customer_id: str | None) -> None:
        """Book the first free slot at or after `schedule_at`, moving on past refused ones."""
        summary = self.run.summary
        booking = self.run.ledger.bracket(BOOKINGS, lead.key, earlier=self._earlier_booking(lead))
        if booking.settled() is not None:
            # An earlier try's booking in doubt may just have been settled from its event.
            outcome = "schedule_settled_from_events" if booking.in_doubt else "already_scheduled"
            summary.count(self.stream_name, outcome)
            return
        refusals = 0
        while refusals < self.max_slot_refusals:
            claimed = self.slots.claim(lead.schedule_at)
            if claimed is None:
                raise Reject("no free slot", f"after {refusals} refused" if refusals else None)
            moment, slot = claimed
            if self.dry_run or customer_id is None:
                summary.count(self.stream_name, "would_schedule")
                return
            sent_at = sent_now()
            try:
                response = self._send_schedule(booking, customer_id, moment, slot, sent_at)
            except Reject as lost:
                # The answer was lost: Popin's event, if it comes, says the slot is booked.
                if self.services.events is None:
                    raise
                deadline = self._event_deadline()
                settle = partial(
                    self._await_booking, booking, lead, (moment, slot), sent_at, deadline, lost
                )
                if self.settling.on_pool():
                    settle()
                    return
                self.settling.submit(lead.key, self.defer(), settle)
                raise SetAside from None
            if success_body(response) is not None:
                self.slots.booked(moment)
                booking.done(time=slot)
                summary.count(self.stream_name, "scheduled")
                return
            booking.forget()
            if not response.ok or names_the_customer(response):
                # Not about the slot: any other slot would be refused too.
                self.slots.release(moment)
                raise Reject(
                    f"schedule refused (HTTP {response.status_code})", safe_reason(response)
                )
            self.slots.refused(moment)
            refusals += 1
            summary.count(self.stream_name, "slots_refused")
        raise Reject(
            f"{refusals} slots refused", "raise `max_slot_refusals` or check the seller's calendar"
        )

    def _await_booking(
        self,
        booking: Bracket,
        lead: Lead,
        claimed: tuple[datetime, str],
        sent_at: str,
        deadline: float,
        unknown: Reject,
    ) -> None:
        moment, slot = claimed
        if self._wait_for_event(SCHEDULED_CREATED, lead, sent_at, deadline, slot) is None:
            raise unknown
        self.slots.booked(moment)
        booking.done(time=slot, settled_by=SCHEDULED_CREATED)
        self.run.summary.count(self.stream_name, "schedule_settled_from_events")

    @override
    def process_batch(self, context: dict) -> None:
        """Write the batch, then wait for the records set aside to settle: the STATE that
        follows covers only records written or rejected."""
        try:
            super().process_batch(context)
            self.settling.drain(self.run.stop_request)
        except BaseException as exc:
            # What still waits gives up; its records stay open, and the ledger's pending
            # entries let the next run settle them from the spool.
            self.run.client.halt(exc)
            self.settling.abandon()
            raise
        self.run.acks.emit()

    @override
    def clean_up(self) -> None:
        """Stop the settling pool's threads too."""
        self.settling.shutdown()
        super().clean_up()

    def _send_schedule(
        self, booking: Bracket, customer_id: str, moment: datetime, slot: str, sent_at: str
    ) -> requests.Response:
        """POST /schedule for a claimed slot (its `/schedule` string), kept in the ledger."""
        body = {"customer_id": customer_id, "time": slot}
        try:
            return self._post(booking, "schedule", body, time=slot, sent_at=sent_at)
        except Reject:
            # The answer was lost and the slot may now be this person's: it stays claimed,
            # so nobody else gets it.
            raise
        except Exception:
            self.slots.release(moment)
            raise


def _unknowable(reason: str, earlier_run_reason: str, ledger: Ledger) -> EarlierTry:
    """Popin's rule for a write sent earlier without hearing back: Popin cannot be asked
    whether it happened, and sending it again could make a second customer or booking.

    An earlier record of this run gets `reason`, the one that record got too; an earlier
    run's try gets `earlier_run_reason`."""

    def refuse(pending: dict[str, Any]) -> dict[str, Any] | None:
        if ledger.left_by_this_run(pending):
            raise Reject(
                reason,
                "an earlier record of this person lost its answer in this run;"
                " check Popin, then remove the ledger entry",
            )
        raise Reject(earlier_run_reason, "check Popin, then remove the ledger entry")

    return refuse


def booked_times(ledger: Ledger) -> Iterator[str]:
    """`/schedule` times of bookings made, or maybe made, by earlier runs."""
    for key in ledger.keys(BOOKINGS):
        entry = ledger.get(BOOKINGS, key)
        if entry is not None and isinstance(entry.get("time"), str):
            yield entry["time"]
