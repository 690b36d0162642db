"""A small SQLite ledger of writes already made, so that re-runs duplicate nothing."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

PENDING = "pending"
DONE = "done"


def content_hash(value: Any) -> str:
    """A stable SHA-256 of a JSON-able value: ledger keys of content, and record keys."""
    raw = json.dumps(value, sort_keys=True, default=str, ensure_ascii=False).encode()
    return hashlib.sha256(raw).hexdigest()


class Ledger:
    """Local SQLite record of what was already written, for idempotent re-runs.

    A write that is not idempotent is bracketed: `put(..., {"state": "pending"})` before the
    request and `put(..., {"state": "done", ...})` after it. A pending entry found later means
    the run stopped in between and the write must be reconciled by reading the vendor back.
    """

    def __init__(self, path: str | Path | None) -> None:
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = str(path) if path else ":memory:"
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
