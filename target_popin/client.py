"""Popin's HTTP client: the shared ApiClient, plus writes that are never blindly repeated."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

from leadkit.writer import ApiClient

#: Both credentials go together and Popin's 401 does not say which one it refused.
AUTH_SETTINGS = "api_key` and `seller_token"


class OutcomeUnknown(Exception):
    """A write may have reached Popin but its answer was lost: repeating it could duplicate."""


def _never_sent(exc: requests.ConnectionError) -> bool:
    """True when the connection failed before the request left (retrying is harmless)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    cause = exc.args[0] if exc.args else None
    return isinstance(cause, MaxRetryError) and isinstance(
        cause.reason, (NewConnectionError, ConnectTimeoutError)
    )


class _GuardedSession(requests.Session):
    """A session that turns a lost answer to a guarded write into OutcomeUnknown."""

    def __init__(self) -> None:
        super().__init__()
        self.guard = threading.local()

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        """Send; when guarded, an answer lost after sending is not a retriable error."""
        if not getattr(self.guard, "on", False):
            return super().request(*args, **kwargs)
        try:
            response = super().request(*args, **kwargs)
        except requests.ConnectionError as exc:
            if _never_sent(exc):
                raise
            raise OutcomeUnknown(type(exc).__name__) from exc
        except (
            requests.ReadTimeout,
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError,
        ) as exc:
            raise OutcomeUnknown(type(exc).__name__) from exc
        if response.ok and not _parses(response):
            raise OutcomeUnknown("truncated body")
        return response


def _parses(response: requests.Response) -> bool:
    try:
        response.json()
    except ValueError:
        return False
    return True


class PopinClient(ApiClient):
    """ApiClient whose non-idempotent writes retry only what surely did not reach Popin.

    429 and 5xx answers and refused connections are retried as usual; a timeout, a
    connection cut mid-answer or a truncated 2xx body raise OutcomeUnknown instead, because
    Popin may have acted on the request and offers no way to read the result back.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        guarded = _GuardedSession()
        guarded.headers.update(self.session.headers)
        for prefix, adapter in self.session.adapters.items():
            guarded.mount(prefix, adapter)
        self.session = guarded
        self._guarded = guarded

    @contextmanager
    def _guard(self) -> Iterator[None]:
        self._guarded.guard.on = True
        try:
            yield
        finally:
            self._guarded.guard.on = False

    def write_once(self, path: str, body: dict[str, Any]) -> requests.Response:
        """POST a non-idempotent write; raise OutcomeUnknown when its answer was lost."""
        with self._guard():
            try:
                return self.request("POST", path, json=body)
            except OutcomeUnknown:
                self._tally("calls")
                raise


def popin_message(response: requests.Response) -> str | None:
    """Popin's `message`, if the body carries one (kept for the reject file only)."""
    try:
        body = response.json()
    except ValueError:
        return None
    message = body.get("message") if isinstance(body, dict) else None
    return str(message)[:300] if message is not None else None


def succeeded(response: requests.Response) -> dict[str, Any] | None:
    """The body when the HTTP status is 2xx and `status` is 1; None otherwise."""
    if not response.ok:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict) or body.get("status") != 1:
        return None
    return body
