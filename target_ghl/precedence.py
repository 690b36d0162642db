"""Which stream may write which contact field: per field (or `*`) an ordered list of streams,
and a policy for a field GHL already holds (`overwrite`, `if_empty`, `never`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from leadkit.errors import ConfigError
from leadkit.writer.ledger import content_hash

OVERWRITE = "overwrite"
IF_EMPTY = "if_empty"
NEVER = "never"
POLICIES = (OVERWRITE, IF_EMPTY, NEVER)
ANY_FIELD = "*"


@dataclass(frozen=True)
class Rule:
    """Streams from the strongest down, and what may happen to a value GHL already holds."""

    streams: tuple[str, ...] = ()
    policy: str = OVERWRITE

    def rank(self, stream: str) -> int:
        """0 for the strongest stream; streams not listed all share the weakest rank."""
        return self.streams.index(stream) if stream in self.streams else len(self.streams)


def parse_precedence(setting: object) -> dict[str, Rule]:
    """`field_precedence` as rules by field; ConfigError for a malformed one."""
    if setting is None:
        return {}
    if not isinstance(setting, Mapping):
        raise ConfigError("`field_precedence` must map field names to rules")
    rules = {}
    for name, raw in setting.items():
        where = f"field_precedence.{name}"
        if isinstance(raw, list):
            raw = {"streams": raw}
        if not isinstance(raw, Mapping) or set(raw) - {"streams", "policy"}:
            raise ConfigError(f"`{where}` must be a list of streams or {{streams, policy}}")
        streams = raw.get("streams") or []
        if not isinstance(streams, list) or not all(isinstance(s, str) for s in streams):
            raise ConfigError(f"`{where}.streams` must be a list of stream names")
        policy = raw.get("policy") or OVERWRITE
        if policy not in POLICIES:
            raise ConfigError(f"`{where}.policy` must be one of {', '.join(POLICIES)}")
        rules[str(name)] = Rule(tuple(streams), str(policy))
    return rules


def digest(value: Any) -> str:
    """What the ledger keeps of a value sent: enough to tell a change, no personal data."""
    return content_hash(value)[:16]


@dataclass
class Known:
    """What the ledger knows of a contact: per field the digest of the value last sent and
    the stream that sent it, the fields GHL held a value for, and the contact's tags."""

    contact_id: str
    written: dict[str, list[str]] = field(default_factory=dict)
    filled: set[str] = field(default_factory=set)
    tags: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, entry: Mapping[str, Any] | None) -> Known | None:
        """From a contact's ledger entry; None for a contact the ledger never saw written."""
        if not entry or not entry.get("id"):
            return None
        return cls(
            str(entry["id"]),
            written={k: list(v) for k, v in (entry.get("written") or {}).items()},
            filled=set(entry.get("filled") or []),
            tags=set(entry.get("tags") or []),
        )

    def writer(self, name: str) -> str | None:
        """The stream that last sent the field."""
        held = self.written.get(name)
        return held[1] if held is not None else None

    def holds(self, name: str, value: Any) -> bool:
        """Whether the value is the one last sent for the field."""
        held = self.written.get(name)
        return held is not None and held[0] == digest(value)

    def record(self, values: Mapping[str, Any], stream: str) -> None:
        """The values were sent by `stream`."""
        for name, value in values.items():
            self.written[name] = [digest(value), stream]

    def to_entry(self) -> dict[str, Any]:
        """The ledger entry's members for this knowledge."""
        return {
            "written": self.written,
            "filled": sorted(self.filled),
            "tags": sorted(self.tags),
        }


class Precedence:
    """The rules of `field_precedence`, applied to one record's values."""

    def __init__(self, rules: Mapping[str, Rule]) -> None:
        self.rules = dict(rules)

    def rule(self, name: str) -> Rule | None:
        """The field's own rule, else the `*` rule, else None (overwrite, any stream)."""
        return self.rules.get(name) or self.rules.get(ANY_FIELD)

    def allows(self, name: str, stream: str, known: Known | None) -> bool:
        """Whether `stream` may send the field of a contact the ledger knows as `known`."""
        rule = self.rule(name)
        if rule is None or known is None:
            # Nothing written before by this target: GHL's values are not known to compete.
            return True
        if rule.policy == NEVER:
            return False
        if rule.policy == IF_EMPTY and (name in known.filled or name in known.written):
            return False
        writer = known.writer(name)
        return writer is None or rule.rank(writer) >= rule.rank(stream)

    def allowed(
        self, values: Mapping[str, Any], stream: str, known: Known | None
    ) -> dict[str, Any]:
        """The values `stream` may send."""
        return {k: v for k, v in values.items() if self.allows(k, stream, known)}
