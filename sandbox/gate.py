"""ASGI middleware in front of each emulated API: latency, counters and injected faults."""

from __future__ import annotations

import asyncio
import json
import logging
from email.utils import formatdate
from time import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from typing_extensions import override

from sandbox.vendor import VendorApi


class DroppedConnection(Exception):
    """Raised mid-response so that the server closes the connection."""


class _QuietDrops(logging.Filter):
    @override
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, DroppedConnection)


logging.getLogger("uvicorn.error").addFilter(_QuietDrops())


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> tuple[Message, Message]:
    payload = json.dumps(body).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    return (
        {"type": "http.response.start", "status": status, "headers": raw},
        {"type": "http.response.body", "body": payload},
    )


class VendorGate:
    """Wraps one API's app; every vendor request passes here exactly once."""

    def __init__(self, app: ASGIApp, api: VendorApi) -> None:
        self.app = app
        self.api = api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api = self.api
        path = scope["path"][len(scope.get("root_path", "")) :] or "/"
        route = f"{scope['method']} {path}"
        fault = api.faults.draw(route)
        status = {"code": 0}

        async def counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            if api.latency_ms:
                await asyncio.sleep(api.latency_ms / 1000)
            if fault is None:
                await self.app(scope, receive, counted)
            else:
                await self._inject(fault, scope, receive, counted)
        finally:
            api.counters.record(route, status["code"], fault)

    async def _inject(self, fault: str, scope: Scope, receive: Receive, send: Send) -> None:
        plan = self.api.faults
        if fault.startswith("429"):
            headers = {}
            if fault == "429":
                headers["Retry-After"] = f"{plan.retry_after:g}"
            elif fault == "429-date":
                headers["Retry-After"] = formatdate(time() + plan.retry_after, usegmt=True)
            for message in _json(429, {"message": "Too Many Requests"}, headers):
                await send(message)
        elif fault in {"500", "502", "503"}:
            for message in _json(int(fault), {"message": "Injected server error"}):
                await send(message)
        elif fault == "timeout":
            await asyncio.sleep(plan.slow_seconds)
            await self.app(scope, receive, send)
        elif fault == "drop":
            start, _ = _json(200, {})
            start["headers"] = [
                (b"content-type", b"application/json"),
                (b"content-length", b"4096"),
            ]
            await send(start)
            await send({"type": "http.response.body", "body": b'{"', "more_body": True})
            raise DroppedConnection
        elif fault == "truncate":
            await self._truncated(scope, receive, send)

    async def _truncated(self, scope: Scope, receive: Receive, send: Send) -> None:
        captured: list[Message] = []

        async def capture(message: Message) -> None:
            captured.append(message)

        await self.app(scope, receive, capture)
        start = next(m for m in captured if m["type"] == "http.response.start")
        body = b"".join(m.get("body", b"") for m in captured if m["type"] == "http.response.body")
        cut = body[: max(1, len(body) // 2)]
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(cut)).encode()))
        await send({"type": "http.response.start", "status": start["status"], "headers": headers})
        await send({"type": "http.response.body", "body": cut})
