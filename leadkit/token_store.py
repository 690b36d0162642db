"""Where an OAuth token pair lives between runs: replaced atomically, locked across processes.

A refresh token that the vendor rotates is good for one use: the pair it is exchanged for
must be on disk before anything uses it, or a crash locks the connector out.
"""

from __future__ import annotations

import abc
import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from typing_extensions import override

from leadkit.errors import ConfigError


@dataclass(frozen=True)
class TokenPair:
    """An access token, the refresh token that replaces it, and when the access token dies.

    `seed` fingerprints the configured `refresh_token` the chain started from, so that a new
    one set after re-authorising replaces the chain; it is not the token itself.
    """

    access_token: str
    refresh_token: str
    #: Epoch seconds after which the access token is refused.
    expires_at: float
    #: Seconds the access token was issued for.
    lifetime: float
    seed: str
    location_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The stored form."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TokenPair:
        """Read the stored form; ValueError when a field is missing or of the wrong kind."""
        try:
            pair = cls(
                access_token=str(data["access_token"]),
                refresh_token=str(data["refresh_token"]),
                expires_at=float(data["expires_at"]),
                lifetime=float(data["lifetime"]),
                seed=str(data["seed"]),
                location_id=data.get("location_id"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError("a token pair needs tokens, expiry, lifetime and seed") from exc
        return pair


class TokenStore(abc.ABC):
    """Somewhere to keep one token pair; implement these three to plug in another store."""

    @abc.abstractmethod
    def load(self) -> TokenPair | None:
        """The stored pair, or None when nothing was stored yet."""

    @abc.abstractmethod
    def save(self, pair: TokenPair) -> None:
        """Replace the stored pair durably and atomically (all or nothing, even on a crash)."""

    @abc.abstractmethod
    def locked(self) -> contextlib.AbstractContextManager[None]:
        """Hold the store exclusively, against other processes too, while refreshing."""


class FileTokenStore(TokenStore):
    """A JSON file readable by its owner only, replaced with write-temp, fsync, rename."""

    def __init__(self, path: str | os.PathLike[str], setting: str = "token_store") -> None:
        self.path = Path(path).expanduser()
        self.setting = setting

    @property
    def lock_path(self) -> Path:
        """The sibling file `flock` is taken on (the store itself is replaced, not edited)."""
        return self.path.with_name(self.path.name + ".lock")

    @override
    def load(self) -> TokenPair | None:
        """The pair on disk; ConfigError naming the setting when the file is unusable."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ConfigError(
                f"`{self.setting}` cannot be read ({type(exc).__name__}); check the path "
                "and its permissions"
            ) from exc
        try:
            return TokenPair.from_json(json.loads(text))
        except (ValueError, AttributeError) as exc:
            raise ConfigError(
                f"`{self.setting}` does not hold a token pair written by this connector; "
                "remove the file and set `refresh_token` to a freshly authorised one"
            ) from exc

    @override
    def save(self, pair: TokenPair) -> None:
        """Write a temp file beside the store (mode 0600), fsync it, rename it over the store,
        then fsync the folder so that the rename itself survives a power cut."""
        folder = self.path.parent
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor, temp = tempfile.mkstemp(dir=folder, prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump(pair.to_json(), handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temp, 0o600)
            os.replace(temp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
        folder_descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(folder_descriptor)
        finally:
            os.close(folder_descriptor)

    @override
    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """`flock` on the sibling lock file: one refresh at a time across processes."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(descriptor, fcntl.LOCK_UN)
        finally:
            os.close(descriptor)
