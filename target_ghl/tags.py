"""Tags added in bulk: a batch's contacts grouped by the tags they lack, one bulk request per
group and chunk; the contacts a bulk request did not tag are sent one by one."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from leadkit.writer import Reject
from target_ghl.client import BulkAnswer, GhlClient

#: Contacts per bulk request at first. GHL documents no maximum; a 422 naming one lowers it.
FIRST_CHUNK = 50


class ChunkSize:
    """How many contacts one bulk request may name, as learned from 422s during the run."""

    def __init__(self, start: int = FIRST_CHUNK) -> None:
        self._lock = threading.Lock()
        self._value = max(1, start)

    def get(self) -> int:
        """The current size."""
        with self._lock:
            return self._value

    def refused(self, sent: int, limit: int | None) -> None:
        """A request naming `sent` contacts was refused as too large (`limit`: the maximum
        the refusal named, if any)."""
        with self._lock:
            smaller = limit if limit is not None and limit < sent else sent // 2
            self._value = max(1, min(self._value, smaller))


@dataclass(eq=False)
class TagWrite:
    """Tags one record waits for; `rejected` is set when GHL refused them for its contact."""

    contact_id: str
    tags: tuple[str, ...]
    rejected: Reject | None = None
    #: Called when GHL refused the tags (e.g. the contact is gone).
    on_refused: Callable[[], None] | None = None


#: Tags and the writes waiting for them, sent together.
Group = tuple[tuple[str, ...], list[TagWrite]]

#: Adds `n` to a summary outcome of the sink's stream.
Count = Callable[[str, int], None]


class TagBook:
    """One sink's tag additions in waiting, until their group is full or the batch ends."""

    def __init__(
        self,
        ghl: GhlClient,
        chunk: ChunkSize,
        *,
        label: str,
        workers: int,
        count: Count,
    ) -> None:
        self.ghl = ghl
        self.chunk = chunk
        self.label = label
        self._workers = max(1, workers)
        self._count = count
        self._lock = threading.Lock()
        self._groups: dict[tuple[str, ...], list[TagWrite]] = {}

    def add(
        self, contact_id: str, tags: list[str], on_refused: Callable[[], None] | None = None
    ) -> TagWrite:
        """Wait for the tags with the contacts lacking the same ones; a full group is sent at
        once, by the caller."""
        write = TagWrite(contact_id, tuple(sorted(tags)), on_refused=on_refused)
        with self._lock:
            group = self._groups.setdefault(write.tags, [])
            group.append(write)
            full = len({item.contact_id for item in group}) >= self.chunk.get()
            if full:
                del self._groups[write.tags]
        if full:
            self._send(write.tags, group)
        return write

    def flush(self) -> None:
        """Send every group still waiting (a few at once); raise the first fatal error."""
        with self._lock:
            groups = self._plan(list(self._groups.items()))
            self._groups.clear()
        if len(groups) <= 1:
            for tags, writes in groups:
                self._send_attributed(tags, writes)
            return
        with ThreadPoolExecutor(min(self._workers, len(groups))) as pool:
            futures = [pool.submit(self._send_attributed, tags, writes) for tags, writes in groups]
        for future in futures:
            future.result()

    def _plan(self, groups: list[Group]) -> list[Group]:
        """The groups as they are, or one group per tag when that takes fewer requests: many
        small tag sets sharing most of their tags (`popl` and a campaign, say) do."""
        size = self.chunk.get()
        by_tag: dict[str, list[TagWrite]] = {}
        for tags, writes in groups:
            for tag in tags:
                by_tag.setdefault(tag, []).extend(writes)
        per_tag: list[Group] = [((tag,), writes) for tag, writes in by_tag.items()]
        if _requests(per_tag, size) < _requests(groups, size):
            return per_tag
        return groups

    def abandon(self) -> None:
        """The batch failed: its records stay open, and their tags are sent again next run."""
        with self._lock:
            self._groups.clear()

    def _send_attributed(self, tags: tuple[str, ...], writes: list[TagWrite]) -> None:
        with self.ghl.api.attribute_to(self.label):
            self._send(tags, writes)

    def _send(self, tags: tuple[str, ...], writes: list[TagWrite]) -> None:
        contact_ids = list(dict.fromkeys(write.contact_id for write in writes))
        one_by_one: list[str] = []
        start = 0
        while start < len(contact_ids):
            part = contact_ids[start : start + self.chunk.get()]
            try:
                answer = self.ghl.bulk_add_tags(part, list(tags))
            except Reject as reject:
                answer = BulkAnswer(refused=reject.reason)
            if answer.refused is not None and len(part) > 1 and _about_size(answer.refused):
                self.chunk.refused(len(part), answer.limit)
                continue
            # Refused for another reason: the single endpoint gives each contact its own answer.
            missed = part if answer.refused is not None else answer.failed
            one_by_one += missed
            self._count("bulk_tag_requests", 1)
            start += len(part)
        for contact_id in one_by_one:
            try:
                self.ghl.add_tags(contact_id, list(tags))
            except Reject as reject:
                for write in writes:
                    if write.contact_id == contact_id:
                        write.rejected = reject
                        if write.on_refused is not None:
                            write.on_refused()
                continue
            self._count("single_tag_requests", 1)


def _requests(groups: list[Group], size: int) -> int:
    """Bulk requests the groups take in chunks of `size` contacts."""
    return sum(-(-len({write.contact_id for write in writes}) // size) for _, writes in groups)


def _about_size(reason: str) -> bool:
    return "contacts" in reason.lower()
