"""The relay's Starlette app: signed deliveries in, spool entries stored before the 2xx."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from lead_relay.delivery import BadDelivery, SourceKind
from lead_relay.metrics import Metrics
from lead_relay.sources import SOURCE_KINDS
from leadkit.spool import Spool

logger = logging.getLogger("lead_relay")

#: Largest body accepted by default: a Wisepops delivery of a few contacts is a few kB.
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
REFUSED = "lead_relay_deliveries_refused_total"


@dataclass(frozen=True)
class Source:
    """One configured source: `/hooks/{kind}/{name}`, checked with `secret`."""

    name: str
    kind: SourceKind
    secret: str | None = field(repr=False)


class TooLarge(Exception):
    """The body is over the size limit."""


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, reading no more than `limit` bytes of it (TooLarge past that)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def build_app(
    spool: Spool, sources: list[Source], *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
) -> Starlette:
    """The relay over `spool`, accepting the given sources; it closes the spool on shutdown."""
    by_path = {(source.kind.name, source.name): source for source in sources}
    metrics = Metrics()

    def refuse(status: int, reason: str, source: str, message: str) -> JSONResponse:
        metrics.add(REFUSED, source=source, reason=reason)
        logger.warning("delivery refused: source=%s status=%d reason=%s", source, status, reason)
        return JSONResponse({"error": message}, status_code=status)

    async def hook(request: Request) -> Response:
        kind, name = request.path_params["kind"], request.path_params["name"]
        source = by_path.get((kind, name))
        if source is None:
            return refuse(404, "unknown_source", "-", "no such source")
        try:
            raw = await _read_body(request, max_body_bytes)
        except TooLarge:
            return refuse(413, "too_large", name, f"the body is over {max_body_bytes} bytes")
        except ClientDisconnect:
            metrics.add(REFUSED, source=name, reason="disconnected")
            return Response(status_code=400)
        if not source.kind.verify(request.headers, raw, source.secret):
            return refuse(401, "signature", name, "missing or invalid signature")
        try:
            items = source.kind.items(raw)
        except BadDelivery as error:
            return refuse(400, "malformed", name, str(error))
        try:
            seqs = await run_in_threadpool(spool.append, name, kind, items)
        except Exception:
            # No 2xx: the sender retries, and nothing was acknowledged that is not stored.
            logger.exception("delivery not stored: source=%s items=%d", name, len(items))
            return refuse(503, "spool_error", name, "the delivery could not be stored")
        stored = [seq for seq in seqs if seq is not None]
        duplicates = len(seqs) - len(stored)
        metrics.add("lead_relay_items_stored_total", len(stored), source=name)
        metrics.add("lead_relay_items_duplicate_total", duplicates, source=name)
        if stored or not seqs:
            metrics.add("lead_relay_deliveries_accepted_total", source=name)
        else:
            metrics.add("lead_relay_deliveries_duplicate_total", source=name)
        logger.info(
            "delivery stored: source=%s items=%d new=%d duplicates=%d seqs=%s",
            name,
            len(seqs),
            len(stored),
            duplicates,
            f"{stored[0]}..{stored[-1]}" if stored else "-",
        )
        return JSONResponse({"stored": len(stored), "duplicates": duplicates})

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True, "sources": sorted(f"{k}/{n}" for k, n in by_path)})

    async def prometheus(request: Request) -> Response:
        return PlainTextResponse(metrics.render(), media_type="text/plain; version=0.0.4")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        spool.close()

    app = Starlette(
        routes=[
            Route("/hooks/{kind}/{name}", hook, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
            Route("/metrics", prometheus, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.metrics = metrics
    return app


def known_kind(kind: str) -> SourceKind:
    """The registered kind named `kind`, or ValueError listing the known ones."""
    if kind not in SOURCE_KINDS:
        raise ValueError(f"unknown source kind {kind!r}; known: {', '.join(sorted(SOURCE_KINDS))}")
    return SOURCE_KINDS[kind]
