"""A small SQLite ledger of writes already made, so that re-runs duplicate nothing."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

PENDING = "pending"
DONE = "done"


def content_hash(value: Any) -> str:
    """A stable SHA-256 of a JSON-able value: ledger keys of content, and record keys."""
    raw = json.dumps(value, sort_keys=True, default=str, ensure_ascii=False).encode()
    return hashlib.sha256(raw).hexdigest()


#: A vendor's rule for a pending entry found before a write (an earlier try whose outcome is
#: unknown): the fields to keep as done if that try landed, None to send the write again. It
#: may raise instead, when the vendor cannot be asked.
EarlierTry = Callable[[dict[str, Any]], dict[str, Any] | None]


class Ledger:
    """Local SQLite record of what was already written, for idempotent re-runs.

    A write that is not idempotent goes through a `Bracket`, so that no run repeats it.
    """

    def __init__(self, path: str | Path | None) -> None:
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = str(path) if path else ":memory:"
        #: This opening's id: pending entries carry it, so a doubt left by an earlier record
        #: of the same run is told apart from one an earlier run left.
        self.run = uuid.uuid4().hex
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL" if path else "PRAGMA journal_mode=MEMORY")
            # WAL with NORMAL sync survives a crash of this process (what re-runs need)
            # without an fsync per write, which would serialise the writer threads.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS ledger ("
                " namespace TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"
                " updated_at TEXT NOT NULL, PRIMARY KEY (namespace, key))"
            )

    def get(self, namespace: str, key: str) -> dict[str, Any] | None:
        """The value stored for a key, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT value FROM ledger WHERE namespace = ? AND key = ?", (namespace, key)
            ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def put(self, namespace: str, key: str, value: dict[str, Any]) -> None:
        """Store a value durably (committed before returning)."""
        stamp = datetime.now(timezone.utc).isoformat()
        with self._lock:
            self._db.execute(
                "INSERT INTO ledger (namespace, key, value, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value,"
                " updated_at = excluded.updated_at",
                (namespace, key, json.dumps(value, default=str), stamp),
            )

    def delete(self, namespace: str, key: str) -> None:
        """Forget a key."""
        with self._lock:
            self._db.execute("DELETE FROM ledger WHERE namespace = ? AND key = ?", (namespace, key))

    def left_by_this_run(self, entry: dict[str, Any]) -> bool:
        """Whether a pending entry was left by this run (an earlier record's try)."""
        return entry.get("run") == self.run

    def bracket(self, namespace: str, key: str, *, earlier: EarlierTry) -> Bracket:
        """The bracket of one write that is not idempotent, as the ledger holds it now."""
        return Bracket(self, namespace, key, earlier)

    def keys(self, namespace: str) -> list[str]:
        """Every key of a namespace, sorted."""
        with self._lock:
            rows = self._db.execute(
                "SELECT key FROM ledger WHERE namespace = ? ORDER BY key", (namespace,)
            ).fetchall()
        return [str(row[0]) for row in rows]

    def close(self) -> None:
        """Release the database."""
        with self._lock:
            self._db.close()


class Bracket:
    """One write that is not idempotent: marked pending before it may apply, done once it did.

    A pending entry found before writing means an earlier try stopped in between, with an
    outcome nobody knows; the vendor's `earlier` rule says what to make of it.
    """

    def __init__(self, ledger: Ledger, namespace: str, key: str, earlier: EarlierTry) -> None:
        self.ledger = ledger
        self.namespace = namespace
        self.key = key
        self._earlier = earlier
        #: The entry before this write: None, an earlier try in doubt, or done.
        self.found = ledger.get(namespace, key)

    @property
    def in_doubt(self) -> bool:
        """Whether an earlier try was marked pending and never settled."""
        return self.found is not None and self.found.get("state") == PENDING

    def settled(self) -> dict[str, Any] | None:
        """The done entry when the write must not be sent: done already, or an earlier try
        that the vendor's rule finds landed. None: send it."""
        if self.found is None:
            return None
        if self.found.get("state") == DONE:
            return self.found
        landed = self._earlier(self.found)
        return None if landed is None else self.done(**landed)

    def pending(self, **fields: Any) -> None:
        """Mark the write as possibly applied, just before it may be."""
        self.ledger.put(
            self.namespace, self.key, {"state": PENDING, "run": self.ledger.run, **fields}
        )

    def done(self, **fields: Any) -> dict[str, Any]:
        """Mark the write as applied, with what to remember of it; return the entry."""
        entry = {"state": DONE, **fields}
        self.ledger.put(self.namespace, self.key, entry)
        return entry

    def forget(self) -> None:
        """The write certainly did not apply (refused, or never sent): a later run may send it."""
        self.ledger.delete(self.namespace, self.key)
