"""The base stream for HighLevel API v2 reads: bearer or OAuth auth, the Version header, the
location's pacing, and the run's request budget."""

from __future__ import annotations

import typing as t
from http import HTTPStatus
from pathlib import Path

import requests
from singer_sdk import SchemaDirectory, StreamSchema
from singer_sdk.helpers.conform import TypeConformanceLevel
from typing_extensions import override

from leadkit.errors import auth_failure
from leadkit.ghl import API_VERSION
from leadkit.oauth import BearerAuth
from leadkit.ratelimit import RateLimiter
from leadkit.tapstream import VendorRESTStream
from tap_ghl.budget import RequestBudget
from tap_ghl.registry import EmittedContacts

if t.TYPE_CHECKING:
    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context, RequestFunc

SCHEMAS = Path(__file__).parent / "schemas"
_TToken = t.TypeVar("_TToken")


class TokenRefused(Exception):
    """A 401 while authenticating with OAuth: one refresh may still help."""

    def __init__(self, response: requests.Response) -> None:
        super().__init__("the access token was refused")
        self.response = response


class RunServices(t.Protocol):
    """What every stream of one tap run shares (the tap provides it)."""

    auth: BearerAuth
    limiter: RateLimiter
    budget: RequestBudget
    emitted: EmittedContacts


class GhlStream(VendorRESTStream[_TToken], t.Generic[_TToken]):
    """A GHL API v2 endpoint read with the run's auth, pacing and request budget."""

    vendor = "GHL"
    auth_setting = "access_token"
    #: Records are decoded JSON already and the schemas keep unknown properties.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    #: `schemas/<stream name>.json`.
    schema = StreamSchema(SchemaDirectory(SCHEMAS))

    def __init__(self, tap: Tap, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(tap, *args, **kwargs)
        self.services = t.cast("RunServices", tap)

    @property
    @override
    def http_headers(self) -> dict[str, str]:
        """The SDK's headers plus the API version GHL requires on every call."""
        headers = dict(super().http_headers)
        headers["Version"] = str(self.config.get("api_version") or API_VERSION)
        headers["Accept"] = "application/json"
        return headers

    @property
    @override
    def authenticator(self) -> BearerAuth:
        """Sets `Authorization` on every try: OAuth tokens change during a run."""
        return self.services.auth

    @override
    def validate_response(self, response: requests.Response) -> None:
        """Learn the budgets from the headers, then classify; an OAuth 401 may be retried."""
        self.services.limiter.observe(response.headers)
        self.services.budget.observe(response.headers)
        if response.status_code == HTTPStatus.UNAUTHORIZED and self.services.auth.tokens:
            raise TokenRefused(response)
        super().validate_response(response)

    @override
    def request_decorator(self, func: RequestFunc) -> RequestFunc:
        """Budget and pacing before every try; one token refresh after an OAuth 401."""

        def paced(prepared: requests.PreparedRequest, context: Context | None) -> t.Any:
            self.services.budget.spend()
            self.services.limiter.acquire()
            return func(prepared, context)

        retried = super().request_decorator(paced)

        def renewing(prepared: requests.PreparedRequest, context: Context | None) -> t.Any:
            try:
                return retried(prepared, context)
            except TokenRefused as refused:
                self.services.auth.renew(refused.response)
            try:
                return retried(prepared, context)
            except TokenRefused as again:
                raise auth_failure(self.vendor, again.response, "refresh_token") from None

        return renewing
