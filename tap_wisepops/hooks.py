"""`tap-wisepops-hooks`: register the relay's URL as a Wisepops webhook, once.

Run by Meltano as `meltano invoke tap-wisepops:register-hook`, which passes the tap's
settings as `TAP_WISEPOPS_API_KEY` and `TAP_WISEPOPS_API_URL`. Every call counts against the
website's 1,500 calls a month: `register` lists the hooks once, then adds only the missing
ones, so running it again spends one call and changes nothing.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from singer_sdk.exceptions import FatalAPIError

from leadkit import redact
from leadkit.errors import AuthFailure, ConfigError, describe_response
from leadkit.retry import RetryPolicy
from leadkit.urls import require_safe_url
from leadkit.writer.client import ApiClient
from tap_wisepops.client import authorization
from tap_wisepops.tap import DEFAULT_API_URL

logger = logging.getLogger("tap-wisepops-hooks")
EVENTS = ("email", "phone", "survey")
#: A contact fires `email` if its form has an email, `phone` if it has a phone: both
#: together cover every lead (the relay stores a contact delivered twice once).
DEFAULT_EVENTS = ("email", "phone")
TIMEOUT_SECONDS = 30.0


class HookError(Exception):
    """A refusal or failure worth one line, naming what to fix; never a key or a body."""


@dataclass
class HooksClient:
    """GET, POST and DELETE /hooks, with the shared retry policy."""

    api_key: str
    api_url: str = DEFAULT_API_URL

    def __post_init__(self) -> None:
        self.client = ApiClient(
            vendor="Wisepops",
            base_url=self.api_url,
            headers={"Authorization": authorization(self.api_key)},
            auth_setting="api_key",
            policy=RetryPolicy(),
            timeout=TIMEOUT_SECONDS,
        )

    @property
    def calls(self) -> int:
        """API calls spent, retries included."""
        return self.client.calls

    def call(
        self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None
    ) -> Any:
        """One API call with the connectors' shared retries (leadkit's ApiClient): 401/403
        raise AuthFailure, tries or 429 waits spent ApiUnavailable, another refusal
        HookError."""
        response = self.client.request(method, path, json=json, params=params)
        if not response.ok:
            raise HookError(describe_response("Wisepops", response))
        return response.json() if response.content else None

    def hooks(self) -> list[dict[str, Any]]:
        """The website's webhooks."""
        listed = self.call("GET", "/hooks")
        return (
            [hook for hook in listed if isinstance(hook, dict)] if isinstance(listed, list) else []
        )

    def register(self, url: str, events: Sequence[str], wisepop_id: int | None) -> list[str]:
        """Add a hook per event unless one with the same URL, event and popup exists."""
        existing = {
            (hook.get("event"), hook.get("target_url"), hook.get("wisepop_id"))
            for hook in self.hooks()
        }
        lines = []
        for event in events:
            if (event, url, wisepop_id) in existing:
                lines.append(f"{event}: already registered")
                continue
            body: dict[str, Any] = {"event": event, "target_url": url}
            if wisepop_id is not None:
                body["wisepop_id"] = wisepop_id
            created = self.call("POST", "/hooks", json=body)
            lines.append(f"{event}: registered as hook {created.get('id')}")
        return lines


def parser() -> argparse.ArgumentParser:
    """The command line."""
    cli = argparse.ArgumentParser(prog="tap-wisepops-hooks", description=__doc__)
    commands = cli.add_subparsers(dest="command", required=True)
    register = commands.add_parser("register", help="register the relay's URL (idempotent)")
    register.add_argument(
        "--url",
        default=os.environ.get("WISEPOPS_HOOK_URL"),
        help="the relay's public https URL, …/hooks/wisepops/NAME (default: $WISEPOPS_HOOK_URL)",
    )
    register.add_argument("--event", action="append", choices=EVENTS, dest="events")
    register.add_argument("--wisepop-id", type=int, help="only this popup's contacts")
    commands.add_parser("list", help="list the website's hooks")
    delete = commands.add_parser("delete", help="delete one hook")
    delete.add_argument("--id", type=int, required=True)
    return cli


def hook_url(url: str | None) -> str:
    """The relay's public URL, checked: https (http only on loopback), ending in the path."""
    if not url:
        raise ConfigError("give the relay's public URL with --url or WISEPOPS_HOOK_URL")
    checked = require_safe_url(url, "--url")
    if "/hooks/wisepops/" not in (urlsplit(checked).path or ""):
        raise ConfigError("--url must end in /hooks/wisepops/NAME (the relay source NAME)")
    return checked


def main(argv: Sequence[str] | None = None) -> None:
    """The `tap-wisepops-hooks` console script."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    args = parser().parse_args(argv)
    api_key = os.environ.get("TAP_WISEPOPS_API_KEY", "")
    redact.install([api_key])
    try:
        if not api_key.strip():
            raise ConfigError("set the tap's `api_key` (TAP_WISEPOPS_API_KEY)")
        api_url = os.environ.get("TAP_WISEPOPS_API_URL") or DEFAULT_API_URL
        client = HooksClient(api_key, require_safe_url(api_url, "api_url"))
        if args.command == "register":
            url = hook_url(args.url)
            lines = client.register(url, args.events or DEFAULT_EVENTS, args.wisepop_id)
        elif args.command == "list":
            lines = [
                f"hook {h.get('id')}: {h.get('event')} -> {h.get('target_url')}"
                + (f" (popup {h['wisepop_id']})" if "wisepop_id" in h else "")
                for h in client.hooks()
            ]
        else:
            client.call("DELETE", "/hooks", params={"hook_id": args.id})
            lines = [f"hook {args.id} deleted"]
    except AuthFailure as error:
        logger.error("%s (TAP_WISEPOPS_API_KEY)", error)
        sys.exit(1)
    except (ConfigError, HookError, FatalAPIError) as error:
        logger.error("%s", error)
        sys.exit(1)
    for line in lines:
        logger.info("%s", line)
    logger.info("%d Wisepops API call(s) spent", client.calls)


if __name__ == "__main__":
    main()
