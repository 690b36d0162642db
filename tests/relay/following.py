"""A tap in follow mode run as a child process, read message by message, then signalled."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent


class FollowingTap:
    """A tap's console script run with `config` (follow mode), its stdout read line by line."""

    def __init__(self, tap: str, config: dict[str, Any], folder: Path) -> None:
        (folder / "config.json").write_text(json.dumps(config))
        self.stderr = folder / "stderr.txt"
        with self.stderr.open("wb") as err:
            self.process = subprocess.Popen(
                [str(BIN / tap), "--config", str(folder / "config.json")],
                stdout=subprocess.PIPE,
                stderr=err,
            )
        self.lines: queue.Queue[bytes] = queue.Queue()
        self.messages: list[dict[str, Any]] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def until(self, records: int, timeout: float = 60) -> None:
        """Read messages until `records` RECORDs and a STATE after the last of them."""
        while True:
            message = json.loads(self.lines.get(timeout=timeout))
            self.messages.append(message)
            if message["type"] == "STATE" and len(self.records()) >= records:
                return

    def records(self) -> list[dict[str, Any]]:
        return [m["record"] for m in self.messages if m["type"] == "RECORD"]

    def last_state(self) -> dict[str, Any]:
        return [m["value"] for m in self.messages if m["type"] == "STATE"][-1]

    def stop(self, signum: int) -> tuple[int, str]:
        """Signal the tap; its exit code and stderr once it is gone, and the rest of stdout."""
        self.process.send_signal(signum)
        self.process.wait(timeout=60)
        self.reader.join(timeout=60)
        while not self.lines.empty():
            # Every line is whole: the stop was noticed between messages.
            self.messages.append(json.loads(self.lines.get()))
        return self.process.returncode, self.stderr.read_text()
