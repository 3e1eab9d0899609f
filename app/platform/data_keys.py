"""The app's data keyring: ``DATA_KEY`` (current) and ``DATA_KEY_PREVIOUS`` (during a
rotation), which sealed columns (``models.sealed``) encrypt and decrypt with.

``init_app`` builds it once at app creation (a secret shorter than 16 bytes stops the
app); ``keyring()`` is the current app's. Key ids name keys in logs and commands
without revealing them (``app.domain.sealing.key_id``).
"""
from __future__ import annotations

from flask import Flask

from app.domain.sealing import Keyring
from models.sealed import KEYRING, current_keyring


def init_app(app: Flask) -> None:
    app.extensions[KEYRING] = Keyring(app.config["DATA_KEY"], [app.config.get("DATA_KEY_PREVIOUS") or None])


def keyring() -> Keyring:
    """The current app's keyring. :raise RuntimeError: outside an app context."""
    return current_keyring()


def key_ids() -> dict:
    """``{"current": id, "previous": id or None}`` of the configured data keys."""
    ids = keyring().key_ids
    return {"current": ids[0], "previous": ids[1] if len(ids) > 1 else None}
