"""Capture times: the replication value of a lead, and the leads whose value is not a date."""

from __future__ import annotations

import logging
import typing as t
from collections import deque
from datetime import datetime, timedelta

from leadkit.text import as_text
from leadkit.timestamps import format_instant, parse_instant

# Ids named in the one warning per run; the count is always complete.
NAMED_AT_MOST = 50
# Popl shows capture times to the millisecond: leads closer than this may tie on the wire.
TICK = timedelta(milliseconds=1)


def sent_capture_time(lead: t.Mapping[str, t.Any]) -> object:
    """`systemFields.captureDatetime` exactly as Popl sent it."""
    system = lead.get("systemFields")
    return system.get("captureDatetime") if isinstance(system, dict) else None


def capture_instant(lead: t.Mapping[str, t.Any]) -> datetime | None:
    """The lead's capture time, or None when Popl sent no parseable ISO-8601 instant."""
    return parse_instant(sent_capture_time(lead))


class MalformedCaptureTimes:
    """Leads whose capture time did not parse: counted, and named once per run."""

    def __init__(self) -> None:
        self.lead_ids: list[str] = []
        self.count = 0

    def lift(self, row: dict[str, t.Any]) -> None:
        """Set `captured_at` (UTC, milliseconds) and, if it does not parse, `captured_at_raw`."""
        sent = sent_capture_time(row)
        moment = parse_instant(sent)
        row["captured_at"] = format_instant(moment) if moment else None
        row["captured_at_raw"] = None if moment else as_text(sent)
        if moment is None:
            self.count += 1
            if len(self.lead_ids) < NAMED_AT_MOST:
                self.lead_ids.append(str(row.get("leadId")))

    def report(self, logger: logging.Logger) -> None:
        """One warning for the whole run, naming the leads by id (never by their contents)."""
        if not self.count:
            return
        more = self.count - len(self.lead_ids)
        logger.warning(
            "%d lead(s) had a capture time that is not an ISO-8601 date and time: emitted with "
            "`captured_at` null and the value in `captured_at_raw`; they do not move the "
            "bookmark. leadId: %s%s",
            self.count,
            ", ".join(self.lead_ids),
            f" and {more} more" if more > 0 else "",
        )


class EmittedEdge:
    """Where a new search resumes: the last emitted capture time, and the leads emitted
    there (or with no parseable time), to drop when they are read again."""

    def __init__(self) -> None:
        self.latest: datetime | None = None
        self._recent: deque[tuple[datetime, str]] = deque()
        self._ids: set[str] = set()

    def seen(self, lead: t.Mapping[str, t.Any]) -> bool:
        """Whether this lead was emitted at or near the edge already in this run."""
        return str(lead.get("leadId")) in self._ids

    def emitted(self, lead: t.Mapping[str, t.Any]) -> None:
        """Note an emitted lead; forget those too old to be read again after a restart."""
        lead_id = str(lead.get("leadId"))
        self._ids.add(lead_id)
        moment = capture_instant(lead)
        if moment is None:
            # Sorted by a time we cannot see, so it may come back after any restart: kept.
            return
        self._recent.append((moment, lead_id))
        if self.latest is None or moment > self.latest:
            self.latest = moment
            while self._recent and self._recent[0][0] < moment - TICK:
                self._ids.discard(self._recent.popleft()[1])

    def restart_from(self) -> datetime | None:
        """The startTime of a search that re-reads from the last emitted capture time."""
        return None if self.latest is None else self.latest - TICK
