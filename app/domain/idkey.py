"""Keyed hash of an ID number: the only form in which health feeds keep a person.

The city's test feed covers millions of people who are not registered staff, so feed
records never store the plain ID number (nor a name). They keep ``id_key(number,
secret)``: HMAC-SHA256 of the *normalised* number (``identity.validate_id_number``)
under a secret from the configuration (``ID_HASH_KEY``), encoded base64url without
padding (43 characters). Staff carry the same key, computed from their stored
number, and matching is an equality join on it. Without the secret the key cannot be
reversed by enumerating ID numbers (a plain SHA-256 could: an ID number has only about
10^11 plausible values).

Key rotation (chosen approach: a keyring, no per-record version)
-----------------------------------------------------------------
* Feed records cannot be re-keyed: they hold no plain numbers. Staff can: they keep
  their number, so their keys are recomputed from it.
* To rotate, configure the new secret as the current one and keep the old one as
  "previous" (e.g. ``ID_HASH_KEY_PREVIOUS``) for one retention window (14 days by
  default). Ingest keys new records with the current secret only; staff carry a key per
  configured secret (``id_keys(number, [current, previous])``, e.g. a small
  ``(staff_id, key)`` table, or two columns while at most two secrets are configured).
  Matching joins on the key whatever secret made it: keys under different secrets
  collide with probability 2^-256, so records need no ``key_version`` column.
* Old-key records age out with the retention purge; after the window the previous
  secret and the staff keys made with it are removed. Nothing is ever unmatched by the
  rotation itself (a rotation without the keyring would leave up to 14 days of history
  unmatched until it aged out).
* ``key_fingerprint(secret)`` names a secret without revealing it, so the app can notice
  a changed ``ID_HASH_KEY`` (staff keys stale: recompute) instead of silently matching
  nothing.
* A record identity derived from a key (feeds without ``record_id``) changes with the
  secret: a batch re-sent across a rotation may be stored twice; the duplicates age out
  with the window and do not change buckets or rules (same sampling time).

Phones (staff)
--------------
Staff phones are stored sealed (``app.domain.sealing``) and found by the same kind of
keyed hash: ``keyer(phone_secret(secret))`` of the normalised 11-digit phone. The
phone secret is derived from the ID hash secret for that purpose alone, so one secret
(and one re-keying) governs every blind index, while a phone and an ID number of the
same characters never share a key.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from functools import lru_cache
from typing import Callable, Iterable

KEY_LENGTH = 43  # base64url of 32 bytes, no padding
_URLSAFE = bytes.maketrans(b"+/", b"-_")
_BLOCK = 64  # SHA-256 block size (RFC 2104)


def _secret_bytes(secret: bytes | str) -> bytes:
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    if not isinstance(secret, (bytes, bytearray)) or len(secret) < 16:
        raise ValueError("ID hash secret must be at least 16 bytes")
    return bytes(secret)


@lru_cache(maxsize=8)
def _base_mac(secret: bytes) -> "hmac.HMAC":
    # Keyed once; each call copies the state (about twice as fast as hmac.digest).
    return hmac.new(secret, digestmod=hashlib.sha256)


def id_key(normalised_id_number: str, secret: bytes | str) -> str:
    """HMAC-SHA256 of the normalised ID number, base64url without padding (43 chars).

    The caller normalises first (same number, same key; "44…765x" and "44…765X" must be
    normalised to one form before hashing). Raises ValueError for an empty number or a
    secret shorter than 16 bytes.
    """
    if not normalised_id_number:
        raise ValueError("empty ID number")
    mac = _base_mac(_secret_bytes(secret)).copy()
    mac.update(normalised_id_number.encode("utf-8"))
    return base64.urlsafe_b64encode(mac.digest())[:KEY_LENGTH].decode("ascii")


@lru_cache(maxsize=8)
def _pads(secret: bytes) -> tuple["hashlib._Hash", "hashlib._Hash"]:
    """SHA-256 states after the inner and outer padded key blocks of HMAC (RFC 2104)."""
    block = hashlib.sha256(secret).digest() if len(secret) > _BLOCK else secret
    block = block.ljust(_BLOCK, b"\0")
    return (hashlib.sha256(bytes(b ^ 0x36 for b in block)), hashlib.sha256(bytes(b ^ 0x5C for b in block)))


def keyer(secret: bytes | str) -> Callable[[str], str]:
    """``id_key`` with the secret bound, for bulk ingest: the same HMAC-SHA256, computed
    from the pre-hashed pad blocks (half the time of ``hmac`` per call)."""
    inner, outer = _pads(_secret_bytes(secret))
    inner_copy, outer_copy, b2a = inner.copy, outer.copy, binascii.b2a_base64

    def key(normalised_id_number: str) -> str:
        if not normalised_id_number:
            raise ValueError("empty ID number")
        mac = inner_copy()
        mac.update(normalised_id_number.encode("utf-8"))
        out = outer_copy()
        out.update(mac.digest())
        return b2a(out.digest(), newline=False)[:KEY_LENGTH].translate(_URLSAFE).decode("ascii")

    return key


def id_keys(normalised_id_number: str, secrets: Iterable[bytes | str]) -> tuple[str, ...]:
    """The key of one number under every configured secret (current first), for staff
    during a rotation; secrets that are None or empty are skipped."""
    return tuple(id_key(normalised_id_number, s) for s in secrets if s)


def phone_secret(secret: bytes | str) -> bytes:
    """The secret phones are keyed with: HMAC-SHA256 of a fixed label under the ID
    hash secret (32 bytes; raises ValueError for a secret shorter than 16 bytes)."""
    return hmac.new(_secret_bytes(secret), b"sentinel-phone-key", hashlib.sha256).digest()


def key_fingerprint(secret: bytes | str) -> str:
    """A short, non-reversible name of a secret (12 hex chars), to detect a changed key."""
    digest = hmac.new(_secret_bytes(secret), b"sentinel-id-key-fingerprint", hashlib.sha256)
    return digest.hexdigest()[:12]
