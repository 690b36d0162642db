"""The REST stream base both taps build on: safe errors, Retry-After, call accounting."""

from __future__ import annotations

import decimal
import json
import typing as t
from functools import cached_property
from http import HTTPStatus
from urllib.parse import urlsplit

import requests
from singer_sdk.exceptions import RetriableAPIError
from singer_sdk.streams import RESTStream

from leadkit.errors import auth_failure, describe_response
from leadkit.retry import RetryPolicy, is_retriable_status
from leadkit.settings import request_timeout, retry_policy

if t.TYPE_CHECKING:
    from backoff.types import Details

_TToken = t.TypeVar("_TToken")
_PARSED = "_leadkit_json"


def json_body(response: requests.Response) -> t.Any:
    """The decoded body, parsed once per response (validation parses it first)."""
    cached = response.__dict__.get(_PARSED)
    if cached is None:
        cached = json.loads(response.content, parse_float=decimal.Decimal)
        response.__dict__[_PARSED] = cached
    return cached


class VendorRESTStream(RESTStream[_TToken], t.Generic[_TToken]):
    """A vendor API stream whose failures never leak keys or record contents."""

    #: Vendor name used in messages.
    vendor: t.ClassVar[str] = "the API"
    #: The setting to fix when the vendor answers 401 or 403.
    auth_setting: t.ClassVar[str] = "api_key"

    @cached_property
    def retry(self) -> RetryPolicy:
        """The retry policy from the connector's settings."""
        return retry_policy(dict(self.config))

    @property
    def timeout(self) -> float:  # type: ignore[override]
        """Seconds before a silent server counts as a failed, retriable call.

        A float: numbers read from a JSON config file arrive as Decimal.
        """
        return request_timeout(self.config)

    @property
    def url_base(self) -> str:
        """The configured `api_url` (checked once, when the tap started)."""
        return str(self.config["api_url"]).rstrip("/")

    def validate_response(self, response: requests.Response) -> None:
        """Classify a response: fatal auth error, retriable, fatal, or good JSON."""
        status = response.status_code
        if status in {HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN}:
            raise auth_failure(self.vendor, response, self.auth_setting)
        if is_retriable_status(status):
            raise RetriableAPIError(self.response_error_message(response), response)
        super().validate_response(response)
        try:
            json_body(response)
        except ValueError as exc:
            msg = f"{describe_response(self.vendor, response)}: body is not valid JSON (truncated?)"
            raise RetriableAPIError(msg, response) from exc

    def response_error_message(self, response: requests.Response) -> str:
        """Status and path only: the SDK's default would echo the body."""
        return describe_response(self.vendor, response)

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        """Records from the already-validated JSON body."""
        from singer_sdk.helpers.jsonpath import extract_jsonpath

        yield from extract_jsonpath(self.records_jsonpath, input=json_body(response))

    def backoff_wait_generator(self) -> t.Generator[float, t.Any, None]:
        """Wait what Retry-After asks (capped), else back off exponentially."""
        attempt = 0
        exception = yield  # type: ignore[misc]
        while True:
            attempt += 1
            response = getattr(exception, "response", None)
            exception = yield self.retry.wait(attempt, response)

    def backoff_max_tries(self) -> int:
        """Tries per request, from `max_retries`."""
        return self.retry.max_tries

    def backoff_jitter(self, value: float) -> float:
        """No jitter on top: the policy already jitters exponential waits only."""
        return value

    def backoff_handler(self, details: Details) -> None:
        """Log the retry without URLs' query strings, bodies or headers."""
        exception = details.get("exception")
        response = getattr(exception, "response", None)
        if isinstance(response, requests.Response):
            reason = f"HTTP {response.status_code}"
        else:
            reason = type(exception).__name__
        self.logger.warning(
            "%s %s: retry %d of %d in %.2f s after %s",
            self.vendor,
            urlsplit(self.path or "").path,
            details.get("tries", 0),
            self.retry.max_tries - 1,
            details.get("wait", 0.0),
            reason,
        )
