"""Requests/s the sandbox serves for small GETs through a vendor API's full stack.

Run: `.venv/bin/python -m benchmarks.sandbox_throughput [--seconds 10] [--connections 32]`.
The load comes from keep-alive asyncio connections in this process; the sandbox runs in its
own process, so the two share the machine's cores the way a connector and the sandbox do.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from sandbox.control import DEMO_KEYS, running_sandbox

# A small authenticated GET that passes the fault gate, routing and the emulator's handler.
PATH = "/popin/api/v1/external/slots"


async def _worker(port: int, request: bytes, deadline: float, counts: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < deadline:
            writer.write(request)
            await writer.drain()
            length = 0
            status = b""
            while True:
                line = await reader.readline()
                if not status:
                    status = line.split(b" ", 2)[1]
                if line in (b"\r\n", b""):
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            counts[0 if status == b"200" else 1] += 1
    finally:
        writer.close()


async def _load(port: int, seconds: float, connections: int) -> tuple[int, int, float]:
    request = (
        f"GET {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n"
        f"X-API-KEY: {DEMO_KEYS['popin_api_key']}\r\nX-TOKEN: {DEMO_KEYS['popin_token']}\r\n\r\n"
    ).encode()
    counts = [0, 0]
    start = time.perf_counter()
    deadline = start + seconds
    await asyncio.gather(*(_worker(port, request, deadline, counts) for _ in range(connections)))
    return counts[0], counts[1], time.perf_counter() - start


def main() -> None:
    """Measure and print requests/s."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    with running_sandbox() as sandbox:
        port = int(sandbox.base_url.rsplit(":", 1)[1])
        asyncio.run(_load(port, 1.0, args.connections))  # warm-up
        ok, other, elapsed = asyncio.run(_load(port, args.seconds, args.connections))
    print(f"GET {PATH}: {ok} x 200, {other} other, in {elapsed:.1f} s")
    print(f"throughput: {ok / elapsed:,.0f} requests/s over {args.connections} connections")


if __name__ == "__main__":
    main()
