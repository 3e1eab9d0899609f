"""Sealing short personal values at rest: AES-256-GCM under a keyring with rotation.

Staff ID numbers and phones are stored *sealed*: encrypted and authenticated with
AES-GCM (``cryptography``'s ``AESGCM``), a fresh random 96-bit nonce per value, and
the column's name as associated data, so a sealed value copied into another column
(an ID number pasted over a phone) no longer opens. The stored text is

    gcm1:<key id>:<base64(nonce ‖ ciphertext ‖ tag)>

``key id`` names the key that sealed the value (8 characters derived from the key, see
``key_id``), so a keyring holding the current key and the previous ones opens every
value whichever key sealed it, and new values are always sealed with the current key.
A 18-character ID number becomes 76 characters; nothing of the plain value shows.

The AES key is derived from a configured secret (``DATA_KEY``, any text of at least 16
bytes) with HKDF-SHA256, so operators set strings like the other secrets.

Equal plain values give different sealed values (random nonces): a sealed column can
be neither compared nor indexed. Exact lookups go through a keyed hash of the plain
value stored beside it (``app.domain.idkey``: the blind index).

Rotation: configure the new secret as current and the old one as previous; values are
opened with the key they name, and re-sealing (``app.services.reencrypt``) moves them to
the current key in batches; after that the previous secret can be removed.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from typing import Callable, Iterable, Optional

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SCHEME = "gcm1"
NONCE_BYTES = 12
KEY_ID_LENGTH = 8
_INFO = b"sentinel personal data at rest v1"


class SealError(ValueError):
    """A stored value that cannot be opened: not sealed, sealed by a key the keyring
    lacks (``unknown_key`` names its id), or altered (wrong key, column or bytes)."""

    def __init__(self, message: str, unknown_key: Optional[str] = None):
        super().__init__(message)
        self.unknown_key = unknown_key


def _secret_bytes(secret: bytes | str) -> bytes:
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    if not isinstance(secret, (bytes, bytearray)) or len(secret) < 16:
        raise ValueError("data key secret must be at least 16 bytes")
    return bytes(secret)


def derive_key(secret: bytes | str) -> bytes:
    """The 256-bit AES key of a configured secret (HKDF-SHA256, fixed context)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(_secret_bytes(secret))


def key_id(secret: bytes | str) -> str:
    """A short, non-reversible name of a secret's key (8 base64url characters), stored
    with every value it seals; also what the operator sees to tell keys apart."""
    digest = hmac.new(derive_key(secret), b"sentinel-data-key-id", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:6]).decode("ascii")


def key_id_of(sealed: str) -> str:
    """The key id a sealed value names (without opening it). :raise SealError: not sealed."""
    parts = sealed.split(":", 2) if isinstance(sealed, str) else ()
    if len(parts) != 3 or parts[0] != SCHEME or len(parts[1]) != KEY_ID_LENGTH:
        raise SealError("not a sealed value")
    return parts[1]


class Keyring:
    """The current data key and the previous ones (during a rotation).

    ``sealer(aad)`` / ``opener(aad)`` return functions bound to one column (its
    associated data) for bulk use: None passes through as None; any str (the empty one
    too) is sealed. ``seal`` / ``open`` are the one-value forms.
    """

    def __init__(self, current: bytes | str, previous: Iterable[bytes | str | None] = ()):
        self.current_id = key_id(current)
        self._current = AESGCM(derive_key(current))
        self._keys = {self.current_id: self._current}
        for secret in previous:
            if secret:
                self._keys.setdefault(key_id(secret), AESGCM(derive_key(secret)))

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Ids of every key that can open values, current first."""
        return tuple(self._keys)

    def sealer(self, aad: bytes) -> Callable[[Optional[str]], Optional[str]]:
        encrypt, urandom, b2a = self._current.encrypt, os.urandom, binascii.b2a_base64
        prefix = f"{SCHEME}:{self.current_id}:"

        def seal(value: Optional[str]) -> Optional[str]:
            if value is None:
                return None
            nonce = urandom(NONCE_BYTES)
            return prefix + b2a(nonce + encrypt(nonce, value.encode("utf-8"), aad), newline=False).decode("ascii")

        return seal

    def opener(self, aad: bytes) -> Callable[[Optional[str]], Optional[str]]:
        keys, a2b = self._keys, binascii.a2b_base64
        head = len(SCHEME) + 1 + KEY_ID_LENGTH + 1

        def open_(sealed: Optional[str]) -> Optional[str]:
            if sealed is None:
                return None
            kid = key_id_of(sealed)
            key = keys.get(kid)
            if key is None:
                raise SealError(f"sealed with data key {kid}, which is not configured (DATA_KEY_PREVIOUS?)",
                                unknown_key=kid)
            try:
                raw = a2b(sealed[head:], strict_mode=True)
                return key.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], aad).decode("utf-8")
            except (InvalidTag, binascii.Error, ValueError):
                raise SealError("sealed value altered or not of this column") from None

        return open_

    def seal(self, value: Optional[str], aad: bytes) -> Optional[str]:
        return self.sealer(aad)(value)

    def open(self, sealed: Optional[str], aad: bytes) -> Optional[str]:
        return self.opener(aad)(sealed)
