"""The tap-popin stream: Popin's call events, one record per event the relay stored."""

from __future__ import annotations

import typing as t

from singer_sdk.schema.source import StreamSchema
from typing_extensions import override

from leadkit.popin_events import customer_id_of, event_phone, user_number
from leadkit.timestamps import format_instant, parse_instant
from tap_popin.client import SCHEMAS, PopinSpoolStream

if t.TYPE_CHECKING:
    from leadkit.spool import SpoolEntry


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _whole(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return int(value) if isinstance(value, str) and value.strip().isdigit() else None


def _block(payload: dict[str, t.Any], name: str) -> dict[str, t.Any]:
    value = payload.get(name)
    return value if isinstance(value, dict) else {}


def _instant(value: object) -> str | None:
    moment = parse_instant(value)
    return None if moment is None else format_instant(moment)


class CallEventsStream(PopinSpoolStream):
    """`popin_user_captured`, `popin_scheduled_created`, `popin_call_*`, `popin_remark_added`
    and any other event Popin sends, keyed by the content key the relay de-duplicated on."""

    name = "call_events"
    primary_keys = ("event_key",)
    schema = StreamSchema(SCHEMAS)

    @override
    def record_of(self, entry: SpoolEntry) -> dict[str, t.Any]:
        """The event's fields in one flat, typed shape; the payload as sent is kept too."""
        payload = entry.payload
        agent, call, schedule = (_block(payload, name) for name in ("agent", "call", "schedule"))
        number = user_number(payload.get("user_id"))
        stamp = payload.get("timestamp")
        occurred_at = _instant(stamp)
        return {
            "event_key": entry.key,
            "spool_seq": entry.seq,
            "source": entry.source,
            "received_at": entry.received_at,
            "payload": payload,
            "event": _text(payload.get("event")),
            "user_id": number,
            "customer_id": None if number is None else customer_id_of(number),
            "phone": event_phone(payload),
            "agent_id": _whole(agent.get("id")),
            "agent_name": _text(agent.get("name")),
            "agent_email": _text(agent.get("email")),
            "call_duration": _whole(call.get("duration")),
            "call_started_at": _instant(call.get("started_at")),
            "remark": _text(payload.get("remark")),
            "schedule_time": _text(schedule.get("time")),
            "occurred_at": occurred_at,
            # A time that does not parse is kept as sent, never guessed at.
            "occurred_at_raw": None if occurred_at is not None or stamp is None else str(stamp),
        }
