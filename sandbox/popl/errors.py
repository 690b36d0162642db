"""Popl's error answers."""

from __future__ import annotations


class PoplError(Exception):
    """An error answer of the API."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def bad_request(message: str) -> PoplError:
    """400 with `message`."""
    return PoplError(400, message)
