"""Popl's search cursors: opaque, signed, bound to the query they came from, and refused
by the expiry rules the settings switch on."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from typing import Any

from sandbox.popl.errors import PoplError, bad_request
from sandbox.popl.query import SearchQuery

# What a cursor whose last lead was deleted gets: 400 (harsh) or a page after where it was.
ANCHOR_POLICIES = ("refuse", "skip")


class CursorRules:
    """Issues and checks cursors (a mixin of `PoplApi`, which owns the state)."""

    store: dict[str, Any]
    settings: dict[str, Any]
    _secret: bytes
    _cursor_uses: dict[str, int]
    _cursors_issued: int

    def _encode_cursor(self, query: SearchQuery, position: tuple[str, str], page: int) -> str:
        # Issue time and a serial make every cursor unique, so uses are counted per cursor.
        self._cursors_issued += 1
        payload = json.dumps(
            {
                "p": list(position),
                "q": query.fingerprint,
                "n": page,
                "t": time.time(),
                "s": self._cursors_issued,
            }
        ).encode()
        signature = hmac.new(self._secret, payload, hashlib.sha256).hexdigest()[:24]
        return base64.urlsafe_b64encode(payload).decode().rstrip("=") + "." + signature

    def _decode_cursor(self, query: SearchQuery) -> tuple[tuple[str, str], int]:
        """The position after which the page starts, and its page number; 4xx if refused."""
        data = self._verify_cursor(query)
        self._refuse_expired(str(query.cursor), int(data["n"]), float(data["t"]))
        ts, lead_id = data["p"]
        if lead_id in self.store["deleted"] and self.settings["deleted_anchor"] == "refuse":
            raise bad_request(
                "Cursor is no longer valid: its position was deleted. Start a new search."
            )
        return (str(ts), str(lead_id)), int(data["n"])

    def _refuse_expired(self, cursor: str, page: int, issued: float) -> None:
        settings = self.settings
        uses = self._cursor_uses[cursor] = self._cursor_uses.get(cursor, 0) + 1
        ttl, max_uses = settings["cursor_ttl_seconds"], settings["cursor_max_uses"]
        expired = (
            (ttl is not None and time.time() - issued > float(ttl))
            or (max_uses is not None and uses > int(max_uses))
            or page == settings["cursor_expire_at_page"]
        )
        budget = settings["cursor_refusals"]
        if not expired or budget == 0:
            return
        if budget is not None:
            settings["cursor_refusals"] = int(budget) - 1
        raise PoplError(int(settings["cursor_refusal_status"]), settings["cursor_refusal_message"])

    def _verify_cursor(self, query: SearchQuery) -> dict[str, Any]:
        cursor = query.cursor
        try:
            encoded, signature = str(cursor).split(".")
            payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except (ValueError, binascii.Error) as exc:
            raise bad_request("Invalid cursor") from exc
        expected = hmac.new(self._secret, payload, hashlib.sha256).hexdigest()[:24]
        if not hmac.compare_digest(signature, expected):
            raise bad_request("Invalid cursor")
        data: dict[str, Any] = json.loads(payload)
        if data["q"] != query.fingerprint:
            raise bad_request("Cursor does not belong to this search")
        return data
