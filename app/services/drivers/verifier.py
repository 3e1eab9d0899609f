"""The identity check of a booking (实名认证), behind a pluggable verifier.

``IDENTITY_VERIFIER`` (configuration) names the implementation by dotted path
(``package.module:Class`` or ``package.module.Class``); it is built once per app with
the app's config (``Class(config)``). The built-in :class:`FormatVerifier` checks the
ID number's checksum and birth date and the name's form. A real real-name service
(微警认证 …) is plugged by a class with the same ``verify`` method that calls it (see the
README, *Identity check of bookings*). A verifier that raises is a failed check.
"""
from __future__ import annotations

import importlib
import logging
from datetime import date
from typing import Any, Mapping, Protocol

from flask import current_app

from app.domain.checkpoint import name_ok
from app.domain.identity import DEFAULT_ID_TYPE, id_card_ok

log = logging.getLogger(__name__)
_EXTENSION = "sentinel.identity_verifier"


class IdentityVerifier(Protocol):
    def verify(self, name: str, id_type: str, id_number: str, phone: str) -> bool:
        """True when the person named ``name`` holds ``id_number`` (normalised) and may
        book with ``phone``; False (or an exception) refuses the booking."""


class FormatVerifier:
    """The built-in check: a 居民身份证 number whose checksum and birth date are valid
    (``app.domain.identity.id_card_ok``) and a name of the right form
    (``app.domain.checkpoint.name_ok``). It cannot know whether the number is the
    person's own: that takes a real-name service."""

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self.config = config or {}

    def verify(self, name: str, id_type: str, id_number: str, phone: str) -> bool:
        return id_type == DEFAULT_ID_TYPE and id_card_ok(id_number, date.today()) and name_ok(name)


def load(path: str, config: Mapping[str, Any]) -> IdentityVerifier:
    """The verifier class at ``path`` (``module:Class`` or ``module.Class``), built with ``config``."""
    module_name, _, attr = path.partition(":") if ":" in path else path.rpartition(".")
    cls = getattr(importlib.import_module(module_name), attr)
    verifier = cls(config)
    if not callable(getattr(verifier, "verify", None)):
        raise TypeError(f"IDENTITY_VERIFIER {path!r} has no verify()")
    return verifier


def get_verifier() -> IdentityVerifier:
    """The app's verifier (``IDENTITY_VERIFIER``), built once per app."""
    found = current_app.extensions.get(_EXTENSION)
    if found is None:
        found = load(current_app.config["IDENTITY_VERIFIER"], current_app.config)
        current_app.extensions[_EXTENSION] = found
    return found


def verified(name: str, id_type: str, id_number: str, phone: str) -> bool:
    """Whether the app's verifier accepts the person (an error in it is a refusal)."""
    try:
        return bool(get_verifier().verify(name, id_type, id_number, phone))
    except Exception:  # a remote service down or answering nonsense: no booking, logged
        log.exception("identity verifier failed")
        return False
