"""Which input STATE a stopped run may still acknowledge: the newest one whose records
were all written or rejected."""

from __future__ import annotations

import json
import sys
import threading
from collections import Counter, deque
from typing import Any


class Acknowledgements:
    """Input positions of records and STATE messages, and which records are still open.

    Each RECORD line gets a sequence number as it is read. A record a sink stages is open
    until it is written or rejected. A STATE message read after record N may be emitted once
    no record numbered N or lower is open.
    """

    #: STATE messages kept before the ones every later one supersedes are dropped.
    KEPT_STATES = 64

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._read = 0
        self._open: Counter[int] = Counter()
        self._states: deque[tuple[int, dict[str, Any]]] = deque()
        self._emit_lock = threading.Lock()
        self._emitted = 0

    @property
    def current(self) -> int:
        """The sequence number of the record being read (0 before the first)."""
        return self._read

    @property
    def records_read(self) -> int:
        """RECORD lines read so far."""
        return self._read

    def record_read(self) -> int:
        """Number the next RECORD line."""
        with self._lock:
            self._read += 1
            return self._read

    def state_read(self, state: dict[str, Any]) -> None:
        """Remember a STATE message and the records it follows."""
        with self._lock:
            self._states.append((self._read, state))
            if len(self._states) > self.KEPT_STATES:
                self._forget_superseded()

    def opened(self, seq: int) -> None:
        """A sink staged a record of input line `seq` (a mapping may stage it twice)."""
        with self._lock:
            self._open[seq] += 1

    def settled(self, seq: int) -> None:
        """One staged record of line `seq` was written or rejected."""
        with self._lock:
            self._open[seq] -= 1
            if self._open[seq] <= 0:
                del self._open[seq]

    def _lowest_open(self) -> int:
        return min(self._open) if self._open else self._read + 1

    def _forget_superseded(self) -> None:
        lowest_open = self._lowest_open()
        while len(self._states) > 1 and self._states[1][0] < lowest_open:
            self._states.popleft()

    def emit(self) -> int:
        """Write the acknowledgeable STATE to stdout unless it was written already; return
        how many records it covers. Sink threads and the main thread may call it at once."""
        with self._emit_lock:
            state, covered = self.acknowledgeable()
            if state is not None and covered > self._emitted:
                sys.stdout.write(json.dumps(state) + "\n")
                sys.stdout.flush()
                self._emitted = covered
            return covered

    def acknowledgeable(self) -> tuple[dict[str, Any] | None, int]:
        """The newest STATE all of whose records are settled, and how many records it covers."""
        with self._lock:
            lowest_open = self._lowest_open()
            best: dict[str, Any] | None = None
            covered = 0
            for position, state in self._states:
                if position >= lowest_open:
                    break
                best, covered = state, position
            return best, covered
