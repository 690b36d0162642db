"""The new Popin event paths log no phone, name, remark, agent or key, even at DEBUG."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from leadkit.spool import open_spool
from sandbox.control import SandboxClient
from tests.popin_events.relay import HOOK_KEY, SOURCE, popin_relay, send_events_to
from tests.writer.harness import BIN, popin_config, run_target, singer_lines

PHONE, NATIONAL = "+919876512345", "9876512345"
PERSONAL = [PHONE, NATIONAL, "Zelda Quixote", "zelda.quixote@example.com"]
EVENT_DETAILS = ["Ananya Rao", "agent210@seller.example", "Call Zelda after six"]


def test_tap_popin_logs_nothing_personal_at_debug(tmp_path: Path) -> None:
    spool = tmp_path / "spool.sqlite"
    with open_spool(str(spool)) as store:
        store.append(
            SOURCE,
            "popin",
            [
                {
                    "event": "popin_remark_added",
                    "user_id": 315,
                    "phone": PHONE,
                    "agent": {"id": 210, "name": "Ananya Rao", "email": "agent210@seller.example"},
                    "remark": "Call Zelda after six",
                    "timestamp": "not a time",
                }
            ],
        )
        store.append(SOURCE, "wisepops", [{"email": "zelda.quixote@example.com"}])
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"webhook_spool": str(spool), "webhook_source": SOURCE}))
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"bookmarks": {"call_events": {"spool_seqs": {SOURCE: "x"}}}}))
    finished = subprocess.run(
        [str(BIN / "tap-popin"), "--config", str(config), "--state", str(state)],
        capture_output=True,
        text=True,
        env={**os.environ, "LOGLEVEL": "DEBUG"},
        timeout=60,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert PHONE in finished.stdout  # the record itself carries it, as it should
    assert "not a seq of this spool" in finished.stderr
    for value in [*PERSONAL, *EVENT_DETAILS]:
        assert value not in finished.stderr


def test_settling_a_capture_from_events_logs_nothing_personal_at_debug(
    sandbox: SandboxClient, tmp_path: Path
) -> None:
    lead = {"seq": 1, "name": "Zelda Quixote", "mobile": NATIONAL}
    lead["email"] = "zelda.quixote@example.com"
    with popin_relay(tmp_path / "relay") as relay:
        send_events_to(sandbox, relay, webhook_duplicate_rate=0)
        sandbox.faults("popin", queue=["truncate"], paths="POST /api/v1/external/capture")
        config = popin_config(
            sandbox, tmp_path, webhook_spool=str(relay.spool), webhook_source=SOURCE
        )
        finished = run_target(
            "target-popin", config, tmp_path, singer_lines([lead]), env={"LOGLEVEL": "DEBUG"}
        )
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert "settled_from_events=1" in finished.stderr
    for value in [*PERSONAL, HOOK_KEY]:
        assert value not in finished.stdout + finished.stderr
