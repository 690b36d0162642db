"""The registry of webhook source kinds the relay accepts, by the `{kind}` of its path.

A kind module imports `BadDelivery` and `SourceKind` from `lead_relay.delivery` (not from
here), so that importing it first never meets a half-built registry.
"""

from __future__ import annotations

from lead_relay.delivery import BadDelivery, SourceKind
from lead_relay.popin import POPIN
from lead_relay.wisepops import WISEPOPS

SOURCE_KINDS: dict[str, SourceKind] = {
    WISEPOPS.name: WISEPOPS,
    POPIN.name: POPIN,
}

__all__ = ["SOURCE_KINDS", "BadDelivery", "SourceKind"]
