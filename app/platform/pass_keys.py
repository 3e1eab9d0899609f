"""The app's pass keyring (``app.domain.pass_tokens.PassKeyring``), built once per app
from the configuration on first use:

* ``PASS_SIGNING_KEY`` — the current signing key: an Ed25519 private key in PEM, or a
  secret of at least 32 characters the key is derived from; unset, one is generated once
  into the instance folder (``.pass_signing_key``) like ``SECRET_KEY`` and ``DATA_KEY``;
* ``PASS_SIGNING_KEY_PREVIOUS`` — earlier signing keys (comma-separated), and
  ``PASS_VERIFY_KEYS`` — earlier public keys (base64url, comma-separated): passes signed
  with them still verify until they expire (rotation by key id).
"""
from __future__ import annotations

from flask import current_app

from app.domain.pass_tokens import PassKeyring

_EXTENSION = "sentinel.pass_keys"


def keyring() -> PassKeyring:
    """The current app's pass keyring. :raise RuntimeError: outside an app context."""
    found = current_app.extensions.get(_EXTENSION)
    if found is None:
        config = current_app.config
        found = PassKeyring.from_config(config["PASS_SIGNING_KEY"], config.get("PASS_SIGNING_KEY_PREVIOUS", ""),
                                        config.get("PASS_VERIFY_KEYS", ""))
        current_app.extensions[_EXTENSION] = found
    return found
