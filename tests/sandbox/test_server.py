"""The sandbox process: control API, faults and counters, over real HTTP."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest
import requests

from sandbox.control import API_PATHS, DEMO_KEYS, SandboxClient, free_port

# Its module-scoped fixture is built once, on one worker, under `--dist loadgroup`.
pytestmark = pytest.mark.xdist_group("test_server")


def test_health_lists_the_four_apis(sandbox: SandboxClient) -> None:
    assert sandbox.health()["apis"] == ["ghl", "popin", "popl", "wisepops"]


def test_unknown_api_in_control_call_is_a_400(sandbox: SandboxClient) -> None:
    response = requests.get(f"{sandbox.base_url}/_sandbox/nope/settings", timeout=5)
    assert response.status_code == 400


def test_unknown_fault_kind_is_refused(sandbox: SandboxClient) -> None:
    with pytest.raises(RuntimeError, match="unknown fault kind"):
        sandbox.faults("popl", queue=["explode"])


@pytest.mark.parametrize("status", ["500", "502", "503"])
def test_queued_server_error_is_served_then_cleared(sandbox: SandboxClient, status: str) -> None:
    sandbox.faults("popl", queue=[status])
    url = f"{sandbox.base_url}/popl/anything"
    assert requests.get(url, timeout=5).status_code == int(status)
    assert requests.get(url, timeout=5).status_code == 404


def test_429_carries_retry_after_in_seconds(sandbox: SandboxClient) -> None:
    sandbox.faults("popl", queue=["429"], retry_after=7)
    response = requests.get(f"{sandbox.base_url}/popl/x", timeout=5)
    assert (response.status_code, response.headers["Retry-After"]) == (429, "7")


def test_429_date_carries_an_http_date(sandbox: SandboxClient) -> None:
    sandbox.faults("popl", queue=["429-date"])
    response = requests.get(f"{sandbox.base_url}/popl/x", timeout=5)
    assert response.status_code == 429
    assert response.headers["Retry-After"].endswith("GMT")


def test_bare_429_has_no_retry_after(sandbox: SandboxClient) -> None:
    sandbox.faults("popl", queue=["429-bare"])
    response = requests.get(f"{sandbox.base_url}/popl/x", timeout=5)
    assert response.status_code == 429
    assert "Retry-After" not in response.headers


def test_drop_breaks_the_connection_mid_response(sandbox: SandboxClient) -> None:
    sandbox.faults("popl", queue=["drop"])
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(f"{sandbox.base_url}/popl/x", timeout=5)


def test_timeout_fault_answers_later_than_the_client_waits(sandbox: SandboxClient) -> None:
    sandbox.faults("popl", queue=["timeout"], slow_seconds=1.0)
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(f"{sandbox.base_url}/popl/x", timeout=0.3)


def test_faults_can_target_one_route(sandbox: SandboxClient) -> None:
    sandbox.faults("popl", rate=1.0, kinds=["503"], paths="^GET /only")
    assert requests.get(f"{sandbox.base_url}/popl/other", timeout=5).status_code == 404
    assert requests.get(f"{sandbox.base_url}/popl/only", timeout=5).status_code == 503


def test_counters_count_per_api_status_and_fault(sandbox: SandboxClient) -> None:
    sandbox.faults("popin", queue=["500"])
    requests.get(f"{sandbox.base_url}/popin/x", timeout=5)
    requests.get(f"{sandbox.base_url}/popin/x", timeout=5)
    counters = sandbox.counters("popin")
    assert counters["requests"] == 2
    assert counters["by_status"] == {"500": 1, "404": 1}
    assert counters["faults"] == {"500": 1}
    assert sandbox.counters("ghl")["requests"] == 0


def test_reset_clears_faults_and_counters(sandbox: SandboxClient) -> None:
    sandbox.faults("wisepops", rate=1.0, kinds=["500"])
    requests.get(f"{sandbox.base_url}/wisepops/x", timeout=5)
    sandbox.reset()
    assert sandbox.counters("wisepops")["requests"] == 0
    assert sandbox.faults("wisepops", rate=0.0)["rate"] == 0.0


@pytest.fixture(scope="module")
def serve_output() -> Iterator[list[str]]:
    """What `lead-sandbox serve` printed by the time it listens, then it is stopped."""
    command = [sys.executable, "-m", "sandbox", "serve", "--port", str(free_port())]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        printed = []
        for line in process.stdout:
            printed.append(line.rstrip("\n"))
            if line.startswith("Ctrl-C"):
                break
        try:
            yield printed
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=10)


def served_url(printed: list[str]) -> str:
    return printed[0].rsplit(" ", 1)[-1]


def test_serve_prints_the_url_it_listens_on(serve_output: list[str]) -> None:
    url = served_url(serve_output)
    assert requests.get(f"{url}/_sandbox/health", timeout=5).json()["ok"] is True


@pytest.mark.parametrize("api", sorted(API_PATHS))
def test_serve_prints_each_apis_base_url(serve_output: list[str], api: str) -> None:
    base_url = SandboxClient(served_url(serve_output)).api_url(api)
    assert any(base_url in line.split() for line in serve_output)


def test_serve_prints_the_demo_credentials(serve_output: list[str]) -> None:
    printed = "\n".join(serve_output)
    assert [key for key in DEMO_KEYS.values() if key not in printed] == []


def test_the_printed_popl_url_and_key_read_leads(serve_output: list[str]) -> None:
    popl = next(line for line in serve_output if line.split()[0] == "Popl").split()
    credentials = dict(word.split("=", 1) for word in popl[2:])
    response = requests.post(
        f"{popl[1]}/leads/search",
        headers={"Authorization": credentials["api_key"]},
        json={"filters": {"teamId": int(credentials["team_id"])}},
        timeout=5,
    )
    assert response.status_code == 200
