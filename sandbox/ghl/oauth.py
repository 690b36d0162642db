"""GHL's OAuth app: `POST /oauth/token` refreshing a sub-account token pair.

The refresh token is replaced on every use [docs/Authorization.md]. Undocumented, so the
harsher reading by default: the old refresh token dies the moment it is used, even if the
answer never reaches the client (setting `refresh_token_grace_seconds` keeps it valid a
while, the lenient variant). Access tokens expire after `access_token_ttl_seconds` and then
answer 401 like any invalid token.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sandbox.vendor import SandboxError

#: The OAuth app's credentials the sandbox accepts; they guard nothing.
CLIENT_ID = "sandbox-ghl-client"
CLIENT_SECRET = "sandbox-ghl-client-secret"
INVALID_GRANT = {
    "error": "invalid_grant",
    "error_description": "Invalid grant: refresh token is invalid",
}
INVALID_CLIENT = {"error": "invalid_client", "error_description": "Invalid client credentials"}
UNSUPPORTED_GRANT = {"error": "unsupported_grant_type"}


class OAuthApp:
    """The token side of the GHL emulator (a mixin of `GhlApi`, which owns the state)."""

    store: dict[str, Any]
    settings: dict[str, Any]
    keys: set[str]

    def _oauth(self) -> dict[str, Any]:
        return self.store.setdefault("oauth", {"access": {}, "refresh": {}, "refreshes": 0})

    def oauth_access_expired(self, token: str | None) -> bool:
        """Whether `token` is an access token this app issued and it has expired."""
        issued = self._oauth()["access"].get(token) if token else None
        return issued is not None and issued[1] <= time.time()

    def authorize(self, location: str) -> dict[str, str]:
        """What the authorization-code flow ends with: a fresh refresh token for `location`."""
        if location not in self.store["locations"]:
            raise SandboxError(f"unknown location {location!r}; add it with add_location")
        token = "rt-" + secrets.token_urlsafe(24)
        self._oauth()["refresh"][token] = [location, None]
        return {"refresh_token": token, "locationId": location}

    def _issue(self, location: str) -> dict[str, Any]:
        oauth = self._oauth()
        access = "at-" + secrets.token_urlsafe(24)
        refresh = "rt-" + secrets.token_urlsafe(24)
        ttl = float(self.settings["access_token_ttl_seconds"])
        oauth["access"][access] = [location, time.time() + ttl]
        oauth["refresh"][refresh] = [location, None]
        oauth["refreshes"] += 1
        self.store["tokens"][access] = location
        self.keys.add(access)
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": int(ttl),
            "refresh_token": refresh,
            "scope": "contacts.readonly contacts.write locations/customFields.readonly",
            "userType": "Location",
            "locationId": location,
            "companyId": "sandbox-company",
            "userId": "sandbox-user",
        }

    def token_answer(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """The answer to one token request; the old refresh token is spent at once."""
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return 401, INVALID_CLIENT
        if form.get("grant_type") != "refresh_token":
            return 400, UNSUPPORTED_GRANT
        refresh = self._oauth()["refresh"].get(form.get("refresh_token", ""))
        now = time.time()
        if refresh is None or (refresh[1] is not None and refresh[1] <= now):
            return 400, INVALID_GRANT
        if refresh[1] is None:
            refresh[1] = now + float(self.settings["refresh_token_grace_seconds"])
        return 200, self._issue(refresh[0])

    async def token_endpoint(self, request: Request) -> Response:
        """POST /oauth/token, form-encoded; the answer may be delayed (after the rotation)."""
        raw = (await request.body()).decode("utf-8", "replace")
        form = {name: values[-1] for name, values in parse_qs(raw).items()}
        status, body = self.token_answer(form)
        delay = float(self.settings["oauth_token_delay_ms"]) / 1000
        if delay > 0:
            await asyncio.sleep(delay)
        return JSONResponse(body, status_code=status)
