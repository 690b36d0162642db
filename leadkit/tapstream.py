"""The REST stream base both taps build on: safe errors, Retry-After, call accounting."""

from __future__ import annotations

import logging
import time
import typing as t
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from http import HTTPStatus
from urllib.parse import urlsplit

import requests
from singer_sdk.exceptions import RetriableAPIError
from singer_sdk.streams import RESTStream
from singer_sdk.streams.rest import HTTPRequest
from typing_extensions import override

from leadkit.errors import QuotaExhausted, auth_failure, describe_response
from leadkit.responses import json_body
from leadkit.retry import (
    TRANSIENT_ERRORS,
    Attempts,
    RetryPolicy,
    describe_failure,
    is_retriable_status,
    parse_retry_after,
)
from leadkit.settings import request_timeout, retry_policy

if t.TYPE_CHECKING:
    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context, RequestFunc
    from singer_sdk.streams.rest import PageContext

_TToken = t.TypeVar("_TToken")
#: A Retry-After longer than this means a budget for a whole period is spent, not a burst.
QUOTA_WAIT_SECONDS = 3600
_NULL_REPLICATION_VALUE = "New replication value is null"


class _DropNullReplicationWarnings(logging.Filter):
    @override
    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != _NULL_REPLICATION_VALUE


@contextmanager
def null_replication_values_reported_by_caller() -> Iterator[None]:
    """Silence the SDK's warning per record whose replication value is null.

    For streams that null an unparseable replication value on purpose and report such
    records themselves, once per run.
    """
    sdk_logger = logging.getLogger("singer_sdk")
    quiet = _DropNullReplicationWarnings()
    sdk_logger.addFilter(quiet)
    try:
        yield
    finally:
        sdk_logger.removeFilter(quiet)


class VendorRESTStream(RESTStream[_TToken], t.Generic[_TToken]):
    """A vendor API stream whose failures never leak keys or record contents."""

    #: Vendor name used in messages.
    vendor: t.ClassVar[str] = "the API"
    #: The setting to fix when the vendor answers 401 or 403.
    auth_setting: t.ClassVar[str] = "api_key"
    #: Emit STATE before each page request, so a run that fails mid-way resumes where it
    #: stopped. Only for streams whose records come sorted by the replication key, read
    #: from the bookmark minus a lookback.
    state_before_each_page: t.ClassVar[bool] = False

    def __init__(self, tap: Tap, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(tap, *args, **kwargs)
        self.vendor_tap = tap

    @property
    @override
    def is_sorted(self) -> bool:
        """Streams saving STATE before each page come sorted by the replication key."""
        return self.state_before_each_page

    @property
    @override
    def check_sorted(self) -> bool:
        """No sort check for sorted streams: their lookback starts below the old bookmark by
        design. The bookmark follows the last emitted record, so it never passes one not
        yet emitted, even if the run stops half-way."""
        return not self.state_before_each_page

    def posted(self, page: PageContext, body: dict[str, t.Any]) -> HTTPRequest:
        """The page's request as a POST of `body`, for searches whose body carries the
        cursor."""
        return HTTPRequest(
            url=self.get_url(page.stream_context),
            method="POST",
            headers=self.http_headers,
            data=body,
        )

    def save_progress(self) -> None:
        """Emit STATE for every record emitted so far, once it holds a bookmark.

        The tap's state writer skips a state equal to the last one written.
        """
        if self.replication_key and self.stream_state.get("replication_key_value") is None:
            return
        self.vendor_tap.state_writer.write_state(self.tap_state)

    @override
    def request_decorator(self, func: RequestFunc) -> RequestFunc:
        """The retrying request, saving progress first if the stream asks for it.

        A page is requested only once the records of the page before were all emitted.
        """
        decorated = self.retrying(func)
        if not self.state_before_each_page:
            return decorated

        def request(prepared_request: requests.PreparedRequest, context: t.Any) -> t.Any:
            self.save_progress()
            return decorated(prepared_request, context)

        return request

    @cached_property
    def retry(self) -> RetryPolicy:
        """The retry policy from the connector's settings."""
        return retry_policy(dict(self.config))

    @property
    @override
    def timeout(self) -> float:  # type: ignore[override]
        """Seconds before a silent server counts as a failed, retriable call.

        A float: numbers read from a JSON config file arrive as Decimal.
        """
        return request_timeout(self.config)

    @property
    @override
    def url_base(self) -> str:
        """The configured `api_url` (checked once, when the tap started)."""
        return str(self.config["api_url"]).rstrip("/")

    @override
    def validate_response(self, response: requests.Response) -> None:
        """Classify a response: fatal auth error, retriable, fatal, or good JSON."""
        status = response.status_code
        if status in {HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN}:
            raise auth_failure(self.vendor, response, self.auth_setting)
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            wait = parse_retry_after(response.headers.get("Retry-After"))
            if wait is not None and wait > QUOTA_WAIT_SECONDS:
                # A budget for the period (Wisepops: 30 days) is spent: waiting within
                # the run cannot help, and retrying would only spend more calls.
                raise QuotaExhausted(
                    f"{self.response_error_message(response)}. The run stopped, as no "
                    "retry can succeed before then; re-run it after that wait, and it "
                    "resumes from its last STATE."
                )
        if is_retriable_status(status):
            raise RetriableAPIError(self.response_error_message(response), response)
        super().validate_response(response)
        try:
            json_body(response)
        except ValueError as exc:
            msg = f"{describe_response(self.vendor, response)}: body is not valid JSON (truncated?)"
            raise RetriableAPIError(msg, response) from exc

    @override
    def response_error_message(self, response: requests.Response) -> str:
        """Status and path only: the SDK's default would echo the body."""
        return describe_response(self.vendor, response)

    @override
    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        """Records from the already-validated JSON body."""
        from singer_sdk.helpers.jsonpath import extract_jsonpath

        progress = getattr(self.vendor_tap, "progress", None)
        for record in extract_jsonpath(self.records_jsonpath, input=json_body(response)):
            if progress is not None:
                progress.add()
            yield record

    def _count(self, counter: str) -> None:
        """Add one to a run-wide counter of the tap (requests sent, 429s met)."""
        if hasattr(self.vendor_tap, counter):
            setattr(self.vendor_tap, counter, getattr(self.vendor_tap, counter) + 1)

    def retrying(self, func: RequestFunc) -> RequestFunc:
        """Retry with the policy targets use too: failures spend tries, 429s spend time."""

        def retried(prepared: requests.PreparedRequest, context: Context | None) -> t.Any:
            attempts = Attempts(self.retry)
            where = f"{self.vendor} {urlsplit(self.path or '').path}"
            while True:
                try:
                    self._count("requests_sent")
                    return func(prepared, context)
                except (RetriableAPIError, *TRANSIENT_ERRORS) as exc:
                    response = getattr(exc, "response", None)
                    if not isinstance(response, requests.Response):
                        response = None
                    if response is not None and response.status_code == 429:
                        self._count("throttled")
                        reason = "HTTP 429"
                        hinted = parse_retry_after(response.headers.get("Retry-After"))
                        wait = attempts.throttled(hinted)
                    else:
                        if response is None:
                            reason = describe_failure(exc)
                        elif response.ok:
                            reason = f"HTTP {response.status_code} with a truncated body"
                        else:
                            reason = f"HTTP {response.status_code}"
                        wait = attempts.failed(response)
                    if wait is None:
                        raise
                attempts.log_retry(self.logger, where, wait, reason)
                time.sleep(wait)

        return retried
