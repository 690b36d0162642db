"""OAuth with rotating refresh tokens: refreshed before expiry, one refresh at a time (threads
and processes sharing a store), and every new pair stored before it is used."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import typing as t
from collections.abc import Callable, Mapping
from http import HTTPStatus

import requests
from requests.auth import AuthBase
from singer_sdk import typing as th
from typing_extensions import override

from leadkit import redact
from leadkit.errors import AuthFailure, ConfigError
from leadkit.responses import safe_reason
from leadkit.retry import TRANSIENT_ERRORS, Attempts, RetryPolicy, describe_failure
from leadkit.token_store import FileTokenStore, TokenPair, TokenStore

logger = logging.getLogger(__name__)

#: Refresh this long before the access token expires (a tenth of its life when shorter).
REFRESH_MARGIN_SECONDS = 300.0
#: Settings that hold credentials, masked in every log line.
OAUTH_SECRETS = ("client_secret", "refresh_token")
OAUTH_SETTINGS = ("client_id", "client_secret", "refresh_token", "token_store")


def oauth_properties() -> list[th.Property]:
    """The OAuth settings, the alternative to a static `access_token`."""
    return [
        th.Property(
            "client_id",
            th.StringType,
            description="OAuth app client id (Marketplace app > Advanced Settings > Auth). "
            "Use with `client_secret` and `token_store` instead of `access_token`.",
        ),
        th.Property(
            "client_secret",
            th.StringType,
            secret=True,
            description="OAuth app client secret.",
        ),
        th.Property(
            "refresh_token",
            th.StringType,
            secret=True,
            description="Refresh token from authorising the app for the location. It only "
            "seeds the token store: every refresh replaces it there. Set a new one (after "
            "re-authorising) and the store starts again from it.",
        ),
        th.Property(
            "token_store",
            th.StringType,
            description="File holding the current token pair (created mode 0600, replaced "
            "atomically, locked while refreshing). Keep it on persistent storage, one per "
            "location, shared by every process using the same authorisation.",
        ),
    ]


def uses_oauth(config: Mapping[str, t.Any]) -> bool:
    """Whether the OAuth settings, rather than a static token, authenticate the connector."""
    return any(config.get(name) for name in OAUTH_SETTINGS)


#: The setting holding a static token (a Private Integration Token for GHL).
TOKEN_SETTING = "access_token"  # noqa: S105 (a setting name, not a secret)
#: Where the refresh grant is posted, relative to the API root.
TOKEN_PATH = "/oauth/token"  # noqa: S105 (a path, not a secret)


def check_auth_settings(config: Mapping[str, t.Any]) -> None:
    """Either a static token or the OAuth settings, complete; ConfigError naming them."""
    token_setting = TOKEN_SETTING
    static = str(config.get(token_setting) or "").strip()
    if static and uses_oauth(config):
        raise ConfigError(
            f"set either `{token_setting}` (a Private Integration Token) or the OAuth settings "
            "`client_id`, `client_secret`, `token_store` (and `refresh_token` for the first "
            "run), not both"
        )
    if static:
        return
    if not uses_oauth(config):
        raise ConfigError(
            f"set `{token_setting}` (a Private Integration Token), or the OAuth settings "
            "`client_id`, `client_secret`, `token_store` and `refresh_token`"
        )
    missing = [
        name for name in ("client_id", "client_secret", "token_store") if not config.get(name)
    ]
    if missing:
        names = ", ".join(f"`{name}`" for name in missing)
        raise ConfigError(f"OAuth needs {names} as well")
    if not config.get("refresh_token") and FileTokenStore(config["token_store"]).load() is None:
        raise ConfigError(
            "`token_store` holds no token pair yet: set `refresh_token` to the refresh token "
            "from authorising the app, to seed it"
        )


def fingerprint(refresh_token: str) -> str:
    """A short one-way digest naming the refresh token a chain started from."""
    return hashlib.sha256(refresh_token.encode()).hexdigest()[:16]


class OAuthTokens:
    """The access token of one authorisation: refreshed proactively, single-flight, and
    stored before use."""

    def __init__(
        self,
        *,
        token_url: str,
        client_id: str,
        client_secret: str,
        store: TokenStore,
        seed_refresh_token: str | None,
        policy: RetryPolicy,
        timeout: float,
        vendor: str = "GHL",
        location_id: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.store = store
        self.seed_refresh_token = seed_refresh_token or None
        self.policy = policy
        self.timeout = timeout
        self.vendor = vendor
        self.location_id = location_id
        self.clock = clock
        #: Refreshes this process made.
        self.refreshes = 0
        self._lock = threading.Lock()
        self._pair: TokenPair | None = None
        self._session = requests.Session()
        redact.register_secrets([client_secret, seed_refresh_token])

    def _fresh(self, pair: TokenPair | None) -> bool:
        if pair is None or not pair.access_token:
            return False
        margin = min(REFRESH_MARGIN_SECONDS, pair.lifetime / 10)
        return self.clock() < pair.expires_at - margin

    def access_token(self) -> str:
        """A token good for a while yet; refreshes first when it is near expiry."""
        with self._lock:
            if self._pair is None:
                self._pair = self._stored()
            if not self._fresh(self._pair):
                self._pair = self._refresh(stale=self._pair, forced=False)
            return self._pair.access_token

    def after_unauthorized(self, rejected: str) -> str:
        """A new token after `rejected` met a 401 (expired early, or revoked): refreshed once,
        unless another thread or process has already replaced it."""
        with self._lock:
            if self._pair is not None and self._pair.access_token != rejected:
                return self._pair.access_token
            self._pair = self._refresh(stale=self._pair, forced=True)
            return self._pair.access_token

    def _stored(self) -> TokenPair:
        """The stored pair, or a pair to start from the configured `refresh_token`."""
        stored = self.store.load()
        seed = fingerprint(self.seed_refresh_token) if self.seed_refresh_token else None
        if stored is not None and (seed is None or stored.seed == seed):
            redact.register_secrets([stored.access_token, stored.refresh_token])
            return stored
        if self.seed_refresh_token is None or seed is None:
            raise ConfigError("`token_store` holds no token pair: set `refresh_token` to seed it")
        # A new (or first) refresh token was configured: the chain starts again from it.
        return TokenPair("", self.seed_refresh_token, 0.0, 0.0, seed, self.location_id)

    def _refresh(self, *, stale: TokenPair | None, forced: bool) -> TokenPair:
        """Exchange the stored refresh token, holding the store's lock; the new pair is
        stored before it is returned. Another process may have refreshed meanwhile."""
        with self.store.locked():
            current = self._stored()
            if forced:
                # Another thread or process may have replaced the refused token already.
                stale_token = stale.access_token if stale is not None else ""
                if current.access_token and current.access_token != stale_token:
                    return current
            elif self._fresh(current):
                return current
            pair = self._exchange(current)
            self.store.save(pair)
            self.refreshes += 1
            logger.info("%s OAuth access token refreshed; the new pair is stored", self.vendor)
            return pair

    def _exchange(self, current: TokenPair) -> TokenPair:
        """POST the refresh grant; retried on transient failures only."""
        form = {
            "grant_type": "refresh_token",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "refresh_token": current.refresh_token,
        }
        attempts = Attempts(self.policy)
        while True:
            try:
                response = self._session.post(self.token_url, data=form, timeout=self.timeout)
            except TRANSIENT_ERRORS as exc:
                wait = attempts.failed()
                if wait is None:
                    raise AuthFailure(
                        f"{self.vendor} OAuth token endpoint failed ({describe_failure(exc)}) "
                        "after every retry; the stored token pair is unchanged"
                    ) from exc
                attempts.log_retry(logger, f"{self.vendor} POST /oauth/token", wait, "no answer")
                time.sleep(wait)
                continue
            if response.status_code >= HTTPStatus.INTERNAL_SERVER_ERROR or (
                response.status_code == HTTPStatus.TOO_MANY_REQUESTS
            ):
                wait = attempts.failed(response)
                if wait is not None:
                    attempts.log_retry(
                        logger,
                        f"{self.vendor} POST /oauth/token",
                        wait,
                        f"HTTP {response.status_code}",
                    )
                    time.sleep(wait)
                    continue
            return self._pair_from(response, current)

    def _pair_from(self, response: requests.Response, current: TokenPair) -> TokenPair:
        try:
            body = response.json() if response.ok else {}
        except ValueError:
            body = {}
        if not response.ok:
            raise self._refused(response)
        access, refresh = body.get("access_token"), body.get("refresh_token")
        expires_in = body.get("expires_in")
        if not (isinstance(access, str) and access and isinstance(refresh, str) and refresh):
            raise AuthFailure(f"{self.vendor} OAuth token answer lacks the new token pair")
        # Masked before anything else can log them.
        redact.register_secrets([access, refresh])
        lifetime = float(expires_in) if isinstance(expires_in, (int, float)) else 86_399.0
        location = body.get("locationId") or current.location_id
        if self.location_id and location and location != self.location_id:
            raise AuthFailure(
                "the OAuth token is for another location than `location_id`; authorise the "
                "app for that location, or fix `location_id`"
            )
        return TokenPair(access, refresh, self.clock() + lifetime, lifetime, current.seed, location)

    def _refused(self, response: requests.Response) -> AuthFailure:
        """What to do when the token endpoint says no (never quoting a token)."""
        reason = safe_reason(response) or ""
        if "invalid_client" in reason or response.status_code == HTTPStatus.UNAUTHORIZED:
            return AuthFailure(
                f"HTTP {response.status_code} from {self.vendor} POST /oauth/token: the client "
                "credentials were refused; check `client_id` and `client_secret`"
            )
        return AuthFailure(
            f"HTTP {response.status_code} from {self.vendor} POST /oauth/token: the stored "
            "refresh token was refused (already used or revoked; a run stopped between "
            "refreshing and storing the new pair leaves it so). Nothing was read or written. "
            "Re-authorise the app for this location and set `refresh_token` to the new "
            "refresh token: the token store (`token_store`) starts again from it."
        )


class BearerAuth(AuthBase):
    """`Authorization: Bearer` with a static token, or the current OAuth access token."""

    def __init__(self, static: str | None = None, tokens: OAuthTokens | None = None) -> None:
        self.static = static
        self.tokens = tokens

    @property
    def setting(self) -> str:
        """The setting to fix when the token is refused."""
        return "refresh_token" if self.tokens is not None else "access_token"

    @override
    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        token = self.tokens.access_token() if self.tokens is not None else self.static
        request.headers["Authorization"] = f"Bearer {token}"
        return request

    def renew(self, response: requests.Response) -> bool:
        """After a 401: whether a fresh token was obtained, so one more try makes sense."""
        if self.tokens is None or response.status_code != HTTPStatus.UNAUTHORIZED:
            return False
        sent = response.request.headers.get("Authorization", "") if response.request else ""
        self.tokens.after_unauthorized(str(sent).removeprefix("Bearer "))
        return True


def build_auth(
    config: Mapping[str, t.Any],
    *,
    base_url: str,
    policy: RetryPolicy,
    timeout: float,
    vendor: str = "GHL",
) -> BearerAuth:
    """The auth the settings describe (checked already by `check_auth_settings`)."""
    if not uses_oauth(config):
        return BearerAuth(static=str(config["access_token"]).strip())
    tokens = OAuthTokens(
        token_url=base_url.rstrip("/") + TOKEN_PATH,
        client_id=str(config["client_id"]),
        client_secret=str(config["client_secret"]),
        store=FileTokenStore(str(config["token_store"])),
        seed_refresh_token=config.get("refresh_token"),
        policy=policy,
        timeout=timeout,
        vendor=vendor,
        location_id=config.get("location_id"),
    )
    return BearerAuth(tokens=tokens)
