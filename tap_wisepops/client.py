"""The base stream for Wisepops api2: its auth header and a per-run call budget."""

from __future__ import annotations

import typing as t
from http import HTTPStatus
from pathlib import Path

from singer_sdk.schema.source import SchemaDirectory
from typing_extensions import override

from leadkit.budget import RequestCap, RequestCapReached
from leadkit.tapstream import VendorRESTStream

if t.TYPE_CHECKING:
    import requests
    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context, RequestFunc

SCHEMAS = SchemaDirectory(Path(__file__).parent / "schemas")
_TToken = t.TypeVar("_TToken")
#: The setting that caps a run's calls (Wisepops allows 1,500 a month).
MAX_API_CALLS = "max_api_calls"


def authorization(api_key: str) -> str:
    """The documented Authorization header, literally: the key in double quotes."""
    return f'WISEPOPS-API key="{api_key}"'


class WisepopsStream(VendorRESTStream[_TToken], t.Generic[_TToken]):
    """A Wisepops api2 endpoint: bare JSON arrays, one key per website."""

    vendor = "Wisepops"
    auth_setting = "api_key"
    records_jsonpath = "$[*]"

    #: Calls this stream sent in this run, retries included.
    calls_sent: int = 0
    #: Whether `max_api_calls` stopped this stream.
    stopped_by_budget: bool = False

    def __init__(self, tap: Tap, *, budget: RequestCap | None = None) -> None:
        super().__init__(tap)
        #: The call budget shared by every stream of this tap run.
        self.budget = budget if budget is not None else RequestCap(MAX_API_CALLS, None)

    @property
    @override
    def http_headers(self) -> dict[str, str]:
        """The documented Authorization header, and JSON."""
        return {
            "Authorization": authorization(self.config["api_key"]),
            "Accept": "application/json",
        }

    @override
    def response_error_message(self, response: requests.Response) -> str:
        """Status and path, plus what a 429 from Wisepops usually means."""
        message = super().response_error_message(response)
        if response.status_code == HTTPStatus.TOO_MANY_REQUESTS:
            wait = response.headers.get("Retry-After")
            message += (
                ": rate limited, or the plan's call budget (1,500 calls per 30 days) is "
                "spent" + (f"; the API asks to wait {wait}" if wait else "")
            )
        return message

    @override
    def request_decorator(self, func: RequestFunc) -> RequestFunc:
        """Retry as the base does, but count (and cap) every attempt, retries included."""

        def budgeted(prepared: requests.PreparedRequest, context: Context | None) -> t.Any:
            self.budget.spend()
            self.calls_sent += 1
            return func(prepared, context)

        return super().request_decorator(budgeted)

    @override
    def request_records(self, context: Context | None) -> t.Iterable[dict]:
        """Records of every page; stop cleanly when the call budget is spent."""
        self.stopped_by_budget = False
        try:
            yield from super().request_records(context)
        except RequestCapReached as exc:
            self.stopped_by_budget = True
            self.logger.warning("%s: %s", self.name, exc)
        finally:
            self.logger.info(
                "%s: %d API call(s) spent (retries included); %d so far in this run",
                self.name,
                self.calls_sent,
                self.budget.spent,
            )
