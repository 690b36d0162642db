"""Injected failures, per vendor API: what a flaky network and a busy vendor look like."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any

KINDS = (
    "429",  # Too Many Requests with Retry-After in seconds
    "429-date",  # ... with Retry-After as an HTTP-date
    "429-bare",  # ... with no Retry-After at all
    "500",
    "502",
    "503",
    "timeout",  # answers only after `slow_seconds`, later than a client's timeout
    "drop",  # closes the connection in the middle of the response
    "truncate",  # 200 with the JSON body cut in half
)


@dataclass
class FaultPlan:
    """Which requests fail and how: a queue of next faults, then a random rate."""

    rate: float = 0.0
    kinds: list[str] = field(default_factory=lambda: list(KINDS))
    queue: list[str] = field(default_factory=list)
    paths: str | None = None  # a regex on "METHOD /path"; only matching requests fail
    retry_after: float = 1.0
    slow_seconds: float = 5.0
    seed: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> FaultPlan:
        """Validate a control-API body into a plan."""
        unknown = set(body) - {
            "rate",
            "kinds",
            "queue",
            "paths",
            "retry_after",
            "slow_seconds",
            "seed",
        }
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}")
        plan = cls(**body)
        for kind in [*plan.kinds, *plan.queue]:
            if kind not in KINDS:
                raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(KINDS)}")
        if not 0.0 <= plan.rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        if plan.paths is not None:
            re.compile(plan.paths)
        plan._rng = random.Random(plan.seed)
        return plan

    def to_json(self) -> dict[str, Any]:
        """The plan as the control API shows it."""
        return {
            "rate": self.rate,
            "kinds": self.kinds,
            "queue": self.queue,
            "paths": self.paths,
            "retry_after": self.retry_after,
            "slow_seconds": self.slow_seconds,
            "seed": self.seed,
        }

    def draw(self, route: str) -> str | None:
        """The fault for this request, or None to let the emulator answer."""
        if self.paths is not None and not re.search(self.paths, route):
            return None
        if self.queue:
            return self.queue.pop(0)
        if self.rate and self.kinds and self._rng.random() < self.rate:
            return self._rng.choice(self.kinds)
        return None
