"""Every error path, at INFO and at DEBUG, through each connector's console script: the
complete output holds no key, email, phone or name that the run used."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sandbox.control import DEMO_KEYS, SandboxClient
from sandbox.popl import TEAM_ID
from tests.writer.harness import (
    BIN,
    ghl_config,
    popin_config,
    run_target,
    singer_lines,
    wait_until_handling,
)

WRONG_KEY = "wrong-key-7f3a9c41d2"
PEOPLE = [
    {
        "seq": 1,
        "name": "Zelda Quixote",
        "email": "zelda.quixote@example.com",
        "phone": "+1 415 555 2671",
        "mobile": "9876512345",
    },
    {
        "seq": 2,
        "name": "Ysolde Varga",
        "email": "ysolde.varga@example.org",
        "phone": "(415) 555-2672",
        "mobile": "98765 12346",
    },
    # Unwritable on purpose, so that the reject paths run too.
    {
        "seq": 3,
        "name": "Xavier Umbridge",
        "email": "xavier.umbridge@@example",
        "phone": "12",
        "mobile": "12",
    },
]
#: Slow connector paths are not what is tested here: fewer, quicker retries.
QUICK_RETRIES = {"max_retries": 2, "backoff_base_seconds": 0.01, "max_retry_wait_seconds": 0.1}


@dataclass
class Case:
    """One error path: how to provoke it and run the connector."""

    prepare: Callable[[SandboxClient], None]
    run: Callable[[SandboxClient, Path, dict[str, str]], str]


def _lines(records: list[dict[str, Any]], extra: bytes = b"") -> bytes:
    return singer_lines(records) + extra


def _run_target(
    script: str,
    settings: dict[str, Any],
    payload: bytes | None = None,
    signal_after: float | None = None,
) -> Callable[[SandboxClient, Path, dict[str, str]], str]:
    def run(sandbox: SandboxClient, folder: Path, env: dict[str, str]) -> str:
        configure = ghl_config if script == "target-ghl" else popin_config
        config = configure(sandbox, folder, **settings)
        if script == "target-popin":
            config.pop("reject_file")
        finished = run_target(
            script,
            config,
            folder,
            payload if payload is not None else _lines(PEOPLE),
            signal_after=signal_after,
            env=env,
        )
        return finished.output

    return run


def _run_tap(
    script: str, settings: dict[str, Any], signal_after: float | None = None
) -> Callable[[SandboxClient, Path, dict[str, str]], str]:
    def run(sandbox: SandboxClient, folder: Path, env: dict[str, str]) -> str:
        if script == "tap-popl":
            config = {
                "api_key": DEMO_KEYS["popl"],
                "team_id": TEAM_ID,
                "api_url": sandbox.api_url("popl"),
            }
        else:
            config = {"api_key": DEMO_KEYS["wisepops"], "api_url": sandbox.api_url("wisepops")}
        config.update(settings)
        path = folder / "config.json"
        path.write_text(json.dumps(config))
        process = subprocess.Popen(
            [str(BIN / script), "--config", str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, **env},
        )
        if signal_after is not None:
            wait_until_handling(process)
            time.sleep(signal_after)
            process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=120)
        assert process.returncode != 0, "the error path did not run"
        # Records on stdout carry people's data by design; the logs must not.
        return stderr.decode(errors="replace")

    return run


CUT_OFF = b'{"type": "RECORD", "stream": "leads", "record": {"name": "Zelda Quixote", "em'
BAD_SCHEMA = (
    json.dumps(
        {
            "type": "SCHEMA",
            "stream": "leads",
            "key_properties": [],
            "schema": {"properties": {"email": 5}},
        }
    ).encode()
    + b"\n"
)


def _nothing(sandbox: SandboxClient) -> None:
    """No change to the sandbox."""


CASES: dict[str, Case] = {
    "target-ghl refused key": Case(
        _nothing, _run_target("target-ghl", {"access_token": WRONG_KEY})
    ),
    "target-ghl vendor down": Case(
        lambda s: s.faults("ghl", rate=1.0, kinds=["503"]),
        _run_target("target-ghl", QUICK_RETRIES),
    ),
    "target-ghl daily budget": Case(
        lambda s: s.settings("ghl", daily_limit=2), _run_target("target-ghl", {})
    ),
    "target-ghl rejects": Case(_nothing, _run_target("target-ghl", {})),
    "target-ghl cut-off line": Case(
        _nothing, _run_target("target-ghl", {}, _lines(PEOPLE, CUT_OFF))
    ),
    "target-ghl sigterm": Case(
        lambda s: s.latency("ghl", 1500),
        _run_target("target-ghl", {}, signal_after=2.5),
    ),
    "target-popin refused key": Case(_nothing, _run_target("target-popin", {"api_key": WRONG_KEY})),
    "target-popin vendor down": Case(
        lambda s: s.faults("popin", rate=1.0, kinds=["503"]),
        _run_target("target-popin", QUICK_RETRIES),
    ),
    "target-popin rejects": Case(_nothing, _run_target("target-popin", {})),
    "target-popin cut-off line": Case(
        _nothing, _run_target("target-popin", {}, _lines(PEOPLE, CUT_OFF))
    ),
    "target-popin bad schema": Case(
        _nothing, _run_target("target-popin", {}, BAD_SCHEMA + _lines(PEOPLE))
    ),
    "tap-popl refused key": Case(_nothing, _run_tap("tap-popl", {"api_key": WRONG_KEY})),
    "tap-popl vendor down": Case(
        lambda s: s.faults("popl", rate=1.0, kinds=["503"]), _run_tap("tap-popl", QUICK_RETRIES)
    ),
    "tap-popl refused cursor quoting a person": Case(
        lambda s: s.settings(
            "popl",
            cursor_expire_at_page=2,
            cursor_refusal_message="Cursor for zelda.quixote@example.com (+14155552671) expired",
        ),
        _run_tap("tap-popl", {"cursor_restarts": 0}),
    ),
    "tap-popl sigterm": Case(lambda s: s.latency("popl", 1500), _run_tap("tap-popl", {}, 2.5)),
    "tap-wisepops refused key": Case(_nothing, _run_tap("tap-wisepops", {"api_key": WRONG_KEY})),
    "tap-wisepops quota spent": Case(
        lambda s: s.settings("wisepops", monthly_call_budget=0), _run_tap("tap-wisepops", {})
    ),
    "tap-wisepops vendor down": Case(
        lambda s: s.faults("wisepops", rate=1.0, kinds=["503"]),
        _run_tap("tap-wisepops", QUICK_RETRIES),
    ),
}


def _personal_values(sandbox: SandboxClient) -> Iterator[str]:
    """Every email, phone and name the run could have seen: ours and the sandbox's."""
    for person in PEOPLE:
        yield person["name"]
        yield person["email"]
        yield person["mobile"]
        yield person["phone"]
        yield "14155552671"
    for api, kind in (("popl", "leads"), ("wisepops", "contacts")):
        for item in sandbox.records(api, kind):
            yield from _strings(item)


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, dict):
        for key, child in value.items():
            if isinstance(child, str) and re.search(r"name|email|phone|mobile", key, re.I):
                yield child
            else:
                yield from _strings(child)
    elif isinstance(value, list):
        for child in value:
            yield from _strings(child)
    elif isinstance(value, str) and ("@" in value or re.fullmatch(r"\+?[\d ()-]{7,}", value)):
        yield value


def _forms(value: str) -> set[str]:
    """A value as it might be printed: as is, URL-encoded, and a phone's bare digits."""
    forms = {value, value.replace("@", "%40"), value.replace("+", "%2B")}
    digits = re.sub(r"\D", "", value)
    if len(digits) >= 7 and not re.search(r"[a-z]", value, re.I):
        forms |= {digits, "%2B" + digits, "+" + digits}
    return {form for form in forms if len(form) >= 5}


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_error_output_holds_no_key_email_phone_or_name(
    name: str, level: str, sandbox: SandboxClient, tmp_path: Path
) -> None:
    case = CASES[name]
    case.prepare(sandbox)
    output = case.run(sandbox, tmp_path, {"LOGLEVEL": level})
    secrets = [*DEMO_KEYS.values(), WRONG_KEY]
    leaked = sorted(
        form
        for value in {*secrets, *_personal_values(sandbox)}
        for form in _forms(value)
        # Whole words only: a first name such as "Maxim" must not match "Maximum".
        if form in output and re.search(rf"(?<![\w%]){re.escape(form)}(?!\w)", output)
    )
    assert not leaked, f"{name} at {level} printed {leaked[:5]}"
