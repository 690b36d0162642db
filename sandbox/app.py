"""One Starlette app serving the four APIs under their prefixes, plus the control API."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from sandbox.faults import FaultPlan
from sandbox.gate import VendorGate
from sandbox.ghl import GhlApi
from sandbox.popin import PopinApi
from sandbox.popl import PoplApi
from sandbox.vendor import SandboxError, VendorApi
from sandbox.wisepops import WisepopsApi

API_CLASSES: tuple[type[VendorApi], ...] = (PoplApi, WisepopsApi, GhlApi, PopinApi)


@dataclass
class SandboxOptions:
    """Server-wide options, as given on the command line."""

    seed: int = 42
    latency_ms: float = 0.0
    fault_rate: float = 0.0
    data_dir: Path | None = None


Handler = Callable[[Request], Any]


def _control(apis: dict[str, VendorApi], options: SandboxOptions) -> list[Route]:
    def api_of(request: Request) -> VendorApi:
        name = request.path_params["api"]
        if name not in apis:
            raise SandboxError(f"unknown api {name!r}; known: {sorted(apis)}")
        return apis[name]

    async def body(request: Request) -> dict[str, Any]:
        raw = await request.body()
        data = json.loads(raw) if raw else {}
        if not isinstance(data, dict):
            raise SandboxError("body must be a JSON object")
        return data

    def handled(handler: Handler) -> Handler:
        async def wrapper(request: Request) -> JSONResponse:
            try:
                return JSONResponse(await handler(request))
            except (SandboxError, ValueError, TypeError) as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)

        return wrapper

    async def health(request: Request) -> dict[str, Any]:
        return {"ok": True, "apis": sorted(apis)}

    async def reset(request: Request) -> dict[str, Any]:
        data = await body(request)
        chosen = data.get("apis") or sorted(apis)
        for name in chosen:
            apis[name].reset(data.get("seed", options.seed))
        return {"reset": chosen}

    async def counters(request: Request) -> dict[str, Any]:
        return {name: api.counters.to_json() for name, api in apis.items()}

    async def faults(request: Request) -> dict[str, Any]:
        api = api_of(request)
        if request.method == "PUT":
            api.faults = FaultPlan.from_json(await body(request))
        return api.faults.to_json()

    async def latency(request: Request) -> dict[str, Any]:
        api = api_of(request)
        api.latency_ms = float((await body(request))["latency_ms"])
        return {"latency_ms": api.latency_ms}

    async def settings(request: Request) -> dict[str, Any]:
        api = api_of(request)
        if request.method == "PATCH":
            return api.update_settings(await body(request))
        return api.settings

    async def seed(request: Request) -> dict[str, Any]:
        return api_of(request).seed_records(await body(request))

    async def records(request: Request) -> Any:
        return api_of(request).inspect(request.path_params["kind"])

    async def keys(request: Request) -> dict[str, Any]:
        api = api_of(request)
        data = await body(request)
        if request.path_params["op"] == "revoke":
            api.keys -= set(data.get("keys") or api.keys)
        else:
            api.keys |= set(data["keys"])
        return {"keys": len(api.keys)}

    async def action(request: Request) -> Any:
        return api_of(request).action(request.path_params["name"], await body(request))

    async def save(request: Request) -> dict[str, Any]:
        return {"saved": _save(apis, options)}

    return [
        Route("/health", handled(health)),
        Route("/reset", handled(reset), methods=["POST"]),
        Route("/counters", handled(counters)),
        Route("/save", handled(save), methods=["POST"]),
        Route("/{api}/faults", handled(faults), methods=["GET", "PUT"]),
        Route("/{api}/latency", handled(latency), methods=["PUT"]),
        Route("/{api}/settings", handled(settings), methods=["GET", "PATCH"]),
        Route("/{api}/seed", handled(seed), methods=["POST"]),
        Route("/{api}/records/{kind}", handled(records)),
        Route("/{api}/keys/{op:str}", handled(keys), methods=["POST"]),
        Route("/{api}/actions/{name}", handled(action), methods=["POST"]),
    ]


def _save(apis: dict[str, VendorApi], options: SandboxOptions) -> list[str]:
    if options.data_dir is None:
        return []
    options.data_dir.mkdir(parents=True, exist_ok=True)
    for name, api in apis.items():
        (options.data_dir / f"{name}.json").write_text(json.dumps(api.dump()))
    return sorted(apis)


def _load(apis: dict[str, VendorApi], options: SandboxOptions) -> None:
    if options.data_dir is None:
        return
    for name, api in apis.items():
        saved = options.data_dir / f"{name}.json"
        if saved.exists():
            api.load(json.loads(saved.read_text()))


def build_app(options: SandboxOptions | None = None) -> Starlette:
    """The sandbox: `/popl`, `/wisepops`, `/ghl`, `/popin` and `/_sandbox`."""
    options = options or SandboxOptions()
    apis = {
        cls.name: cls(
            seed=options.seed, latency_ms=options.latency_ms, fault_rate=options.fault_rate
        )
        for cls in API_CLASSES
    }

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        _load(apis, options)
        yield
        _save(apis, options)

    mounts = [
        Mount(f"/{name}", app=VendorGate(Starlette(routes=api.routes()), api))
        for name, api in apis.items()
    ]
    app = Starlette(
        routes=[Mount("/_sandbox", routes=_control(apis, options)), *mounts], lifespan=lifespan
    )
    app.state.apis = apis
    return app
