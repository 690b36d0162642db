"""The reject file: one JSON line per record that could not be written, with why."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any


class RejectFile:
    """Appends rejected records to a JSON-lines file; with no path they are only counted.

    A dry run writes to the same file, where the operator already looks, but marks each of
    its lines `"dry_run": true`: it sent nothing, so the real run will meet those records
    again and must not be blamed for rejects that are only a trial's.
    """

    def __init__(self, path: str | Path | None, *, dry_run: bool = False) -> None:
        self.path = Path(path) if path else None
        self.dry_run = dry_run
        self.count = 0
        self._lock = threading.Lock()

    def write(
        self,
        *,
        stream: str,
        key: str,
        reason: str,
        record: dict[str, Any],
        detail: str | None = None,
    ) -> None:
        """Record one rejected record (the file is the user's: it may hold the record)."""
        entry: dict[str, Any] = {
            "stream": stream,
            "key": key,
            "reason": reason,
            "detail": detail,
            "rejected_at": datetime.now(timezone.utc).isoformat(),
        }
        if self.dry_run:
            entry["dry_run"] = True
        entry["record"] = record
        line = json.dumps(entry, default=str, ensure_ascii=False)
        with self._lock:
            self.count += 1
            if self.path is None:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")

    def read(self) -> list[dict[str, Any]]:
        """Every line written so far (handy for tests and reports)."""
        if self.path is None or not self.path.exists():
            return []
        with self.path.open(encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]
