"""The relay's append-only spool of webhook deliveries, read by the taps in spool mode.

One entry per delivered item (a Wisepops contact, a Popin event), de-duplicated per source by
a content key, numbered by an increasing `seq` that the taps use as their bookmark.
"""

from __future__ import annotations

import abc
import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from typing_extensions import override

from leadkit.errors import ConfigError

#: How often `wait` looks for entries another process appended.
POLL_SECONDS = 0.05


@dataclass(frozen=True)
class SpoolEntry:
    """One stored item of one delivery."""

    seq: int  # increasing per spool; the tap's bookmark
    source: str  # the relay source NAME (e.g. "shop-fr")
    kind: str  # "wisepops" or "popin"
    key: str  # content key (hex SHA-256 of the canonical JSON of one item): de-duplication
    received_at: str  # ISO-8601 UTC, when the relay stored it
    payload: dict[str, Any]  # one Wisepops contact, or one Popin event


class SpoolError(Exception):
    """The spool cannot be opened or used; the message names the location, never contents."""


class Spool(abc.ABC):
    """Durable, append-only, de-duplicating storage of webhook deliveries."""

    @abc.abstractmethod
    def append(self, source: str, kind: str, items: Sequence[dict[str, Any]]) -> list[int | None]:
        """Store one delivery in one transaction, durable before returning; an item whose
        (source, key) is already stored gets None instead of a new seq."""

    @abc.abstractmethod
    def read(self, source: str, after: int, limit: int = 1000) -> list[SpoolEntry]:
        """Entries of `source` with seq > `after`, in seq order, at most `limit`."""

    @abc.abstractmethod
    def wait(self, source: str, after: int, timeout: float) -> bool:
        """Block until an entry with seq > after exists for source (True) or timeout (False)."""

    @abc.abstractmethod
    def last_seq(self, source: str) -> int:
        """The highest seq stored for `source`, 0 when none."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the connection."""

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def canonical_json(item: Mapping[str, Any]) -> str:
    """The item as JSON with sorted keys and no spaces: equal items give equal text."""
    return json.dumps(item, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_key(item: Mapping[str, Any]) -> str:
    """Hex SHA-256 of the item's canonical JSON: the same content is the same delivery."""
    return hashlib.sha256(canonical_json(item).encode("utf-8")).hexdigest()


def utc_now() -> str:
    """The current time as ISO-8601 UTC with microseconds."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


_SCHEMA = """
CREATE TABLE IF NOT EXISTS spool (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    received_at TEXT NOT NULL,
    payload TEXT NOT NULL,
    UNIQUE (source, key)
);
CREATE INDEX IF NOT EXISTS spool_source_seq ON spool (source, seq);
"""


class SqliteSpool(Spool):
    """SQLite in WAL mode with synchronous=FULL: a committed append survives a crash.

    Appends take the write lock (BEGIN IMMEDIATE), so seqs are committed in order and a
    reader that has seen seq N has seen every entry below it. AUTOINCREMENT never reuses a
    seq, even one of a rolled-back transaction; seqs may skip (a duplicate uses one up).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # One connection shared by the threads of this process, under a lock.
            self._db = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=30.0
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA busy_timeout=30000")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as error:
            raise SpoolError(f"cannot open the spool at {self.path}: {error}") from error
        self._lock = threading.Lock()
        self._appended = threading.Condition(self._lock)

    @override
    def append(self, source: str, kind: str, items: Sequence[dict[str, Any]]) -> list[int | None]:
        received_at = utc_now()
        rows = [(content_key(item), canonical_json(item)) for item in items]
        seqs: list[int | None] = []
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for key, payload in rows:
                    cursor = self._db.execute(
                        "INSERT OR IGNORE INTO spool (source, kind, key, received_at, payload)"
                        " VALUES (?, ?, ?, ?, ?)",
                        (source, kind, key, received_at, payload),
                    )
                    seqs.append(cursor.lastrowid if cursor.rowcount == 1 else None)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._appended.notify_all()
        return seqs

    @override
    def read(self, source: str, after: int, limit: int = 1000) -> list[SpoolEntry]:
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, source, kind, key, received_at, payload FROM spool"
                " WHERE source = ? AND seq > ? ORDER BY seq LIMIT ?",
                (source, after, limit),
            ).fetchall()
        return [
            SpoolEntry(seq, src, kind, key, received_at, json.loads(payload))
            for seq, src, kind, key, received_at, payload in rows
        ]

    @override
    def wait(self, source: str, after: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            if self.last_seq(source) > after:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            # An append in this process wakes the wait at once; one in another process is
            # seen at the next poll.
            with self._appended:
                self._appended.wait(min(POLL_SECONDS, remaining))

    @override
    def last_seq(self, source: str) -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT MAX(seq) FROM spool WHERE source = ?", (source,)
            ).fetchone()
        return int(row[0] or 0)

    @override
    def close(self) -> None:
        with self._lock:
            self._db.close()


def spool_file(location: str) -> str:
    """The SQLite file a spool location names: a file path or sqlite:///path (SpoolError
    for any other scheme, postgresql:// included, and for an empty location)."""
    if location.startswith(("postgresql://", "postgres://")):
        raise SpoolError("a postgresql:// spool is not supported yet: use a SQLite file path")
    if location.startswith("sqlite:///"):
        location = location[len("sqlite:///") :]
    elif "://" in location:
        raise SpoolError("the spool location must be a file path, sqlite:///path or postgresql://")
    if not location:
        raise SpoolError("the spool location is empty")
    return location


def open_spool(location: str) -> Spool:
    """A file path or sqlite:///path (SQLite, WAL, synchronous=FULL), or postgresql://... ."""
    return SqliteSpool(spool_file(location))


def check_spool_settings(config: Mapping[str, Any], *, required: bool = False) -> None:
    """`webhook_spool` names an existing SQLite spool and `webhook_source` a relay source;
    without a spool (allowed unless `required`) neither `webhook_source` nor `follow` is set."""
    spool, source = config.get("webhook_spool"), config.get("webhook_source")
    if not spool:
        if required:
            raise ConfigError("`webhook_spool` is required: the relay's spool (a file path)")
        for name in ("webhook_source", "follow"):
            if config.get(name):
                raise ConfigError(f"`{name}` needs `webhook_spool` (the relay's spool)")
        return
    try:
        path = spool_file(spool) if isinstance(spool, str) else ""
    except SpoolError:
        path = ""
    if not path:
        raise ConfigError("`webhook_spool` must be a file path or sqlite:///path")
    if not Path(path).is_file():
        raise ConfigError(
            "`webhook_spool` names no file: start `lead-relay serve --spool` with it first"
        )
    if not isinstance(source, str) or not source.strip():
        raise ConfigError(
            "`webhook_source` is required with `webhook_spool`: the relay source NAME "
            "(`lead-relay serve --source NAME=KIND:ENV_VAR`)"
        )
