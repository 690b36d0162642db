"""Checks on configured endpoint URLs."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from leadkit.errors import ConfigError

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def is_loopback_host(host: str) -> bool:
    """True for localhost names and 127.0.0.0/8 or ::1 addresses."""
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_safe_url(url: str, setting: str) -> str:
    """Return the URL without a trailing slash, or raise when it is not HTTPS off loopback.

    Plain HTTP would send the credential in clear text, so it is only allowed for the
    local sandbox.
    """
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        msg = f"`{setting}` must be an absolute http(s) URL"
        raise ConfigError(msg)
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        msg = f"`{setting}` must use https (plain http is only allowed for loopback hosts)"
        raise ConfigError(msg)
    return url.rstrip("/")
