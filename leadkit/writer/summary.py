"""End-of-run counts per stream, one log line each; record keys only, never contents."""

from __future__ import annotations

import logging
import threading
from collections import Counter, defaultdict

#: Outcomes shown first and in this order; any other outcome follows alphabetically.
LEADING = ("received", "created", "updated", "unchanged")
TRAILING = ("api_calls", "throttled")
KEYS_KEPT = 3


class RunSummary:
    """Thread-safe tallies of what a run did, per stream."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, Counter[str]] = defaultdict(Counter)
        self._rejects: dict[str, Counter[str]] = defaultdict(Counter)
        self._reject_keys: dict[tuple[str, str], list[str]] = defaultdict(list)
        self._named: dict[str, dict[str, list[str]]] = defaultdict(dict)
        self._logged = False

    def count(self, stream: str, outcome: str, n: int = 1) -> None:
        """Add `n` to an outcome (created, updated, unchanged, notes_posted, ...)."""
        with self._lock:
            self._counts[stream][outcome] += n

    def reject(self, stream: str, reason: str, key: str) -> None:
        """Count a reject under its reason and keep the first few record keys."""
        with self._lock:
            self._rejects[stream][reason] += 1
            keys = self._reject_keys[(stream, reason)]
            if len(keys) < KEYS_KEPT:
                keys.append(key)

    def name_once(self, stream: str, label: str, name: str) -> bool:
        """Remember a name under a label (e.g. "unknown custom fields"); True the first time."""
        with self._lock:
            names = self._named[stream].setdefault(label, [])
            if name in names:
                return False
            names.append(name)
            return True

    def ignored_property(self, stream: str, name: str) -> None:
        """A record property outside the input contract, named once in the summary."""
        self.name_once(stream, "ignored properties", name)

    def get(self, stream: str, outcome: str) -> int:
        """The current count of an outcome."""
        with self._lock:
            return self._counts[stream][outcome]

    def rejected(self, stream: str) -> dict[str, int]:
        """Rejects of a stream by reason."""
        with self._lock:
            return dict(self._rejects[stream])

    def named(self, stream: str, label: str) -> list[str]:
        """Names remembered under a label."""
        with self._lock:
            return list(self._named[stream].get(label, []))

    def streams(self) -> list[str]:
        """Every stream seen, sorted."""
        with self._lock:
            return sorted(set(self._counts) | set(self._rejects) | set(self._named))

    def line(self, stream: str) -> str:
        """One stream's line: counts, rejects by reason with sample keys, names."""
        with self._lock:
            counts = self._counts[stream]
            parts = [f"{name}={counts[name]}" for name in LEADING]
            rejects = self._rejects[stream]
            total = sum(rejects.values())
            detail = ", ".join(
                f"{reason}: {n} (e.g. {' '.join(self._reject_keys[(stream, reason)])})"
                for reason, n in sorted(rejects.items())
            )
            parts.append(f"rejected={total}" + (f" [{detail}]" if detail else ""))
            middle = sorted(set(counts) - set(LEADING) - set(TRAILING))
            parts += [f"{name}={counts[name]}" for name in middle if counts[name]]
            parts += [f"{name}={counts[name]}" for name in TRAILING]
            for label, names in self._named[stream].items():
                parts.append(f"{label}: {', '.join(names)}")
        return f"{stream}: " + "; ".join(parts)

    def lines(self) -> list[str]:
        """One line per stream for the end-of-run log."""
        return [self.line(stream) for stream in self.streams()]

    def log_once(self, logger: logging.Logger, *, complete: bool = True) -> None:
        """Log the lines the first time only; a run that ended early says so on each."""
        with self._lock:
            if self._logged:
                return
            self._logged = True
        label = "Run summary" if complete else "Run summary (the run stopped early)"
        for line in self.lines():
            logger.info("%s: %s", label, line)
