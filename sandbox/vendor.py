"""What every emulated vendor API has: keys, settings, a store, counters and faults."""

from __future__ import annotations

import abc
import copy
from collections import Counter
from typing import Any, ClassVar

from starlette.routing import BaseRoute

from sandbox.faults import FaultPlan


class Counters:
    """Requests seen by one API, by status and by route, faults included."""

    def __init__(self) -> None:
        self.requests = 0
        self.by_status: Counter[str] = Counter()
        self.by_route: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()

    def record(self, route: str, status: int, fault: str | None) -> None:
        """Count one finished (or dropped) request."""
        self.requests += 1
        self.by_status[str(status)] += 1
        self.by_route[route] += 1
        if fault:
            self.faults[fault] += 1

    def to_json(self) -> dict[str, Any]:
        """The counters as the control API shows them."""
        return {
            "requests": self.requests,
            "by_status": dict(self.by_status),
            "by_route": dict(self.by_route),
            "faults": dict(self.faults),
        }


class SandboxError(ValueError):
    """A control-API request the emulator cannot honour (answered 400)."""


class VendorApi(abc.ABC):
    """One emulated API. Handlers are async and never await between reading and writing
    the store, so the single event loop makes every request atomic."""

    #: Path prefix under which the sandbox serves this API, e.g. "wisepops".
    name: ClassVar[str]
    #: Credentials accepted after a reset.
    default_keys: ClassVar[tuple[str, ...]]
    #: Behaviour switches the control API may change; unknown names are refused.
    default_settings: ClassVar[dict[str, Any]] = {}

    def __init__(self, seed: int = 42, latency_ms: float = 0.0, fault_rate: float = 0.0) -> None:
        self.seed = seed
        self.base_latency_ms = latency_ms
        self.base_fault_rate = fault_rate
        self.counters = Counters()
        self.reset(seed)

    def reset(self, seed: int | None = None) -> None:
        """Back to the seeded data, default keys and settings, no faults, zero counters."""
        if seed is not None:
            self.seed = seed
        self.keys: set[str] = set(self.default_keys)
        self.settings: dict[str, Any] = copy.deepcopy(self.default_settings)
        self.faults = FaultPlan.from_json({"rate": self.base_fault_rate, "seed": self.seed})
        self.latency_ms = self.base_latency_ms
        self.counters = Counters()
        self.store: dict[str, Any] = self.initial_store()
        self.restored()

    def update_settings(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Change behaviour switches; refuse names the API does not have."""
        unknown = set(changes) - set(self.default_settings)
        if unknown:
            raise SandboxError(f"unknown {self.name} settings: {sorted(unknown)}")
        self.settings.update(changes)
        return self.settings

    def key_ok(self, key: str | None) -> bool:
        """Whether a credential is currently accepted (revoked keys are not)."""
        return key is not None and key in self.keys

    def dump(self) -> dict[str, Any]:
        """JSON-able state for `--data-dir` persistence."""
        return {"store": self.store, "settings": self.settings, "keys": sorted(self.keys)}

    def load(self, data: dict[str, Any]) -> None:
        """Restore what `dump` produced."""
        self.store = data["store"]
        self.settings.update(data.get("settings", {}))
        self.keys = set(data.get("keys", self.default_keys))
        self.restored()

    def restored(self) -> None:
        """Called once the store was replaced (reset or load): rebuild derived indexes."""
        return  # most emulators derive nothing from their store

    def inspect(self, kind: str) -> Any:
        """Records of one kind held by the emulator (what a destination now contains)."""
        if kind not in self.store:
            raise SandboxError(f"{self.name} holds no {kind!r}; it has {sorted(self.store)}")
        return self.store[kind]

    def action(self, name: str, body: dict[str, Any]) -> Any:
        """API-specific control actions (POST /_sandbox/{api}/actions/{name})."""
        raise SandboxError(f"{self.name} has no action {name!r}")

    @abc.abstractmethod
    def initial_store(self) -> dict[str, Any]:
        """The deterministic data for `self.seed`."""

    @abc.abstractmethod
    def seed_records(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Add records described by `spec`; return what was added."""

    @abc.abstractmethod
    def routes(self) -> list[BaseRoute]:
        """The vendor's own paths, relative to the API's prefix."""
