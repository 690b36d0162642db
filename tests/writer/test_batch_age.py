"""A batch is written and acknowledged once `max_batch_age_seconds` old, also when the input
goes quiet: what keeps a follow-mode pipeline within seconds of each lead."""

from __future__ import annotations

import json
import queue
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from leadkit.errors import ConfigError
from leadkit.writer.settings import DEFAULT_MAX_BATCH_AGE_SECONDS, check_writer_settings
from sandbox.control import SandboxClient
from tests.writer.harness import BIN, ghl_config, ghl_contacts_by_email, ghl_lead, singer_lines


def read_states(target: subprocess.Popen[bytes], states: queue.Queue[dict[str, Any]]) -> None:
    """Every STATE the target emits, as it emits it."""
    assert target.stdout is not None
    for line in target.stdout:
        states.put(json.loads(line))


def test_a_quiet_input_is_written_and_acknowledged_once_the_batch_is_old(
    ghl_sandbox: SandboxClient, tmp_path: Path
) -> None:
    # One second instead of the default minute: what a follow-mode pipeline sets.
    config = ghl_config(ghl_sandbox, tmp_path, max_batch_age_seconds=1)
    (tmp_path / "config.json").write_text(json.dumps(config))
    target = subprocess.Popen(
        [str(BIN / "target-ghl"), "--config", str(tmp_path / "config.json")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert target.stdin is not None
    states: queue.Queue[dict[str, Any]] = queue.Queue()
    threading.Thread(target=read_states, args=(target, states), daemon=True).start()
    try:
        # Three leads and a STATE, then nothing: the input stays open, as a following tap's.
        target.stdin.write(singer_lines([ghl_lead(seq) for seq in (1, 2, 3)]))
        target.stdin.flush()
        assert states.get(timeout=60) == {"done": 3}
        assert target.poll() is None
        assert sorted(ghl_contacts_by_email(ghl_sandbox)) == [
            f"lead{n}@example.com" for n in (1, 2, 3)
        ]
    finally:
        target.stdin.close()
        target.wait(timeout=60)
    assert target.returncode == 0


def test_the_default_batch_age_is_a_minute() -> None:
    assert DEFAULT_MAX_BATCH_AGE_SECONDS == 60


@pytest.mark.parametrize("age", [0, -1, "soon", True])
def test_a_batch_age_that_is_not_positive_seconds_is_refused(age: object) -> None:
    with pytest.raises(ConfigError, match="`max_batch_age_seconds`"):
        check_writer_settings({"max_batch_age_seconds": age}, ())
