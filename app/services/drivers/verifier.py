"""The identity check of a booking (实名认证), behind a pluggable verifier.

``IDENTITY_VERIFIER`` (configuration) names the implementation by dotted path
(``package.module:Class`` or ``package.module.Class``); it is built once per app with
the app's config. The built-in :class:`FormatVerifier` checks the ID number's checksum
and birth date and the name's form; a real real-name service (微警认证 …) is plugged by
writing a class with the same ``verify`` method that calls it.
"""
from __future__ import annotations

from typing import Mapping, Protocol


class IdentityVerifier(Protocol):
    def verify(self, name: str, id_type: str, id_number: str, phone: str) -> bool:
        """True when the person named ``name`` holds ``id_number`` (and may book)."""


class FormatVerifier:
    """The built-in check: a 居民身份证 whose checksum and birth date are valid, and a
    name of 2–30 characters (Chinese names, or letters with spaces and dots)."""

    def __init__(self, config: Mapping | None = None) -> None:
        raise NotImplementedError

    def verify(self, name: str, id_type: str, id_number: str, phone: str) -> bool:
        raise NotImplementedError


def get_verifier() -> IdentityVerifier:
    """The app's verifier (``IDENTITY_VERIFIER``), built once per app."""
    raise NotImplementedError
