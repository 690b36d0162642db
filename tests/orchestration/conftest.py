"""Fixtures of the orchestration tests: a local S3 on loopback, Meltano installed."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from sandbox.control import free_port, wait_until_answering
from tests.e2e.harness import MELTANO, ROOT

BUCKET = "lead-connectors-state"
#: moto accepts any credentials; these only have to be the same on both sides.
S3_KEYS = {"aws_access_key_id": "test-access-key", "aws_secret_access_key": "test-secret-key"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The three-tenant tests share one module fixture: they run on one worker, as the
    e2e suite's `history` users do."""
    for item in items:
        if Path(str(item.fspath)).name == "test_three_tenants.py":
            item.add_marker(pytest.mark.xdist_group("orchestration-three-tenants"))


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server (`moto_server`) in a process of its own on a free loopback port,
    with one empty bucket."""
    port = free_port()
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(server, endpoint, "moto_server")
        s3_client(endpoint).create_bucket(Bucket=BUCKET)  # type: ignore[attr-defined]
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)


def s3_client(endpoint: str) -> object:
    """A boto3 S3 client of the local server."""
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **S3_KEYS)


def state_backend_environment(endpoint: str, prefix: str) -> dict[str, str]:
    """What Meltano's S3 state backend reads: the bucket, the endpoint, the credentials."""
    return {
        "MELTANO_STATE_BACKEND_URI": f"s3://{BUCKET}/{prefix}",
        "MELTANO_STATE_BACKEND_S3_ENDPOINT_URL": endpoint,
        "MELTANO_STATE_BACKEND_S3_AWS_ACCESS_KEY_ID": S3_KEYS["aws_access_key_id"],
        "MELTANO_STATE_BACKEND_S3_AWS_SECRET_ACCESS_KEY": S3_KEYS["aws_secret_access_key"],
        "AWS_DEFAULT_REGION": "us-east-1",
    }


@pytest.fixture(scope="session")
def meltano_installed() -> Path:
    """Meltano and the project's plugins, installed by `make meltano` when missing."""
    subprocess.run(["make", "--no-print-directory", "-s", "meltano"], cwd=ROOT, check=True)
    assert MELTANO.exists(), f"{MELTANO} is missing after `make meltano`"
    return MELTANO
