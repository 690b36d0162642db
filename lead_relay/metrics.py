"""Counters the relay exposes at `GET /metrics`, in the Prometheus text format."""

from __future__ import annotations

import threading
from collections import Counter

#: Name -> help text of every counter, in the order they are listed.
COUNTERS = {
    "lead_relay_deliveries_accepted_total": "Deliveries stored and acknowledged.",
    "lead_relay_deliveries_duplicate_total": "Accepted deliveries whose items were all "
    "stored already.",
    "lead_relay_deliveries_refused_total": "Deliveries refused, by reason.",
    "lead_relay_items_stored_total": "Items stored as new spool entries.",
    "lead_relay_items_duplicate_total": "Items already in the spool (not stored again).",
}


class Metrics:
    """Counters by name and labels; safe to update from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: Counter[tuple[str, tuple[tuple[str, str], ...]]] = Counter()

    def add(self, name: str, amount: int = 1, **labels: str) -> None:
        """Add `amount` to one counter."""
        if name not in COUNTERS:
            raise KeyError(name)
        with self._lock:
            self._values[(name, tuple(sorted(labels.items())))] += amount

    def value(self, name: str, **labels: str) -> int:
        """One counter's value (0 when never added to)."""
        with self._lock:
            return self._values[(name, tuple(sorted(labels.items())))]

    def render(self) -> str:
        """All counters in the Prometheus text exposition format (version 0.0.4)."""
        with self._lock:
            values = dict(self._values)
        lines: list[str] = []
        for name, help_text in COUNTERS.items():
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} counter"]
            for (counter, labels), value in sorted(values.items()):
                if counter == name:
                    lines.append(f"{name}{_labels(labels)} {value}")
        return "\n".join(lines) + "\n"


def _labels(labels: tuple[tuple[str, str], ...]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{key}="{_escape(value)}"' for key, value in labels) + "}"


def _escape(value: str) -> str:
    """A label value as the text format wants it: backslash, quote and newline escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
